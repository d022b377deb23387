"""Run the notebooks with papermill and strip what varies, so re-runs leave files unchanged."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import nbformat

from .._core.paths import FIGURES_DIR, NOTEBOOKS_DIR, resolve_path

__all__ = ["list_notebooks", "run_notebooks", "strip_volatile"]

KERNEL = "python3"
_VOLATILE_CELL_KEYS = ("papermill", "execution", "collapsed", "scrolled")


def list_notebooks(notebooks_dir: Path = NOTEBOOKS_DIR, only: Sequence[str] = ()) -> list[Path]:
    """The notebooks in run order (``NN-topic.ipynb``), optionally those whose name starts with one
    of ``only`` (``"01"`` or ``"01-message-length-decay"``)."""
    books = sorted(p for p in Path(notebooks_dir).glob("[0-9][0-9]-*.ipynb"))
    if only:
        books = [p for p in books if any(p.stem.startswith(o) for o in only)]
        if not books:
            raise ValueError(f"only={list(only)!r} matches no notebook in {notebooks_dir}")
    return books


def strip_volatile(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop papermill's timestamps and durations and per-cell execution times, in place."""
    nb.metadata.pop("papermill", None)
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        for key in _VOLATILE_CELL_KEYS:
            cell.metadata.pop(key, None)
    return nb


def run_notebooks(
    *, corpus: str | os.PathLike[str] | None = None, out: str | os.PathLike[str] | None = None,
    only: Sequence[str] = (), notebooks_dir: Path = NOTEBOOKS_DIR,
) -> list[Path]:
    """Execute every notebook in order and return the executed notebooks' paths.

    With neither ``corpus`` nor ``out``, the canonical run: each notebook runs on its default
    parameters and is rewritten in place, its figures going to ``figures/``. Otherwise each runs
    with ``corpus`` (default ``data/raw``) and writes the executed notebook to ``out`` and its
    figures to ``out/figures``, leaving the committed notebooks untouched.
    """
    import papermill as pm

    books = list_notebooks(notebooks_dir, only)
    canonical = corpus is None and out is None
    params: dict[str, str] = {}
    target_dir = Path(notebooks_dir)
    if not canonical:
        target_dir = resolve_path(out if out is not None else "runs/latest")
        # A corpus given on the command line is relative to where the command runs.
        params = {"corpus": str(Path(corpus).resolve()) if corpus else "data/raw",
                  "output_dir": str(target_dir / "figures")}
        target_dir.mkdir(parents=True, exist_ok=True)
    else:
        FIGURES_DIR.mkdir(parents=True, exist_ok=True)
    os.environ["Q7X2_PROGRESS"] = "0"  # no progress bars in executed notebooks
    written = []
    for book in books:
        target = target_dir / book.name
        with tempfile.TemporaryDirectory() as tmp:
            scratch = Path(tmp) / book.name
            print(f"running {book.name}", flush=True)
            pm.execute_notebook(
                str(book), str(scratch), parameters=params, kernel_name=KERNEL,
                cwd=str(book.parent), progress_bar=False, log_output=False,
            )
            nb = strip_volatile(nbformat.read(scratch, as_version=4))
            nbformat.write(nb, scratch)
            shutil.copyfile(scratch, target)
        written.append(target)
    return written

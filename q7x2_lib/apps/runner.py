"""Run the notebooks with papermill and strip what varies, so re-runs leave files unchanged."""

from __future__ import annotations

import glob
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import nbformat

from .._core.paths import FIGURES_DIR, NOTEBOOKS_DIR, PROJECT_ROOT
from .lab import normalise

__all__ = ["PROTECTED", "list_notebooks", "output_folder", "run_notebooks", "strip_volatile"]

KERNEL = "python3"
#: Folders of the project a run may never write into: what is committed, and the environment.
PROTECTED = ("notebooks", "figures", "data", "q7x2_lib", "tests", "benchmarks", ".ci", ".git",
             ".venv")
DEFAULT_OUT = "runs/latest"


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
    """Drop papermill's timestamps and durations and per-cell execution times, in place, and
    set the kernelspec JupyterLab writes: :func:`q7x2_lib.apps.lab.normalise`, the same
    function JupyterLab's pre-save hook applies, so the two writers agree byte for byte."""
    return normalise(nb)


def output_folder(out: str | os.PathLike[str] | None) -> Path:
    """The folder a run on another corpus writes to, absolute; refused if it is unsafe.

    A relative ``out`` is relative to the working directory, as in a shell (``None``: the
    project's ``runs/latest``). Refused, with the reason: an empty name, the project folder
    itself (a run there would write over the committed ``figures/``), and any folder in or
    under one of ``PROTECTED`` (committed notebooks, figures, data, code, the environment).
    """
    if out is None:
        return PROJECT_ROOT / DEFAULT_OUT
    if not str(out).strip():
        raise ValueError("out: got an empty folder name; expected a folder for the run, e.g. "
                         "runs/mine (an empty name would be the working directory)")
    target = Path(out).expanduser().resolve()
    root = PROJECT_ROOT.resolve()
    if target == root:
        raise ValueError(f"out: got {str(out)!r}, the project folder itself: a run there would "
                         "write over the committed figures/; choose e.g. runs/mine")
    for name in PROTECTED:
        folder = root / name
        if target == folder or folder in target.parents:
            raise ValueError(f"out: got {str(out)!r}, inside the project's {name}/, which a run "
                             "must not write over; choose a folder such as runs/mine")
    return target


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
    if corpus is not None and not os.path.lexists(corpus) and not glob.glob(str(corpus),
                                                                             recursive=True):
        raise FileNotFoundError(f"corpus: {str(corpus)!r} is not a file, folder or matching "
                                "pattern (a relative path is relative to the working directory)")
    if not canonical:
        target_dir = output_folder(out)
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

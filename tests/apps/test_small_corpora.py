"""Every notebook runs to the end on any corpus that reads, however small."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from golden import FIXTURES

from q7x2_lib._core.paths import RAW_DIR
from q7x2_lib.apps.runner import list_notebooks, run_notebooks

SEED_ONLY = ("# A ↔ B\n\n**Started:** 2025-10-26 13:04:23\n**Messages:** 1\n\n---\n\n"
             "### A\n\n \n\n---\n")


def _corpus(tmp_path: Path, kind: str) -> Path:
    folder = tmp_path / kind
    folder.mkdir()
    if kind == "one failed run":
        (folder / "run.md").write_text(SEED_ONLY)
    elif kind == "letters only":
        shutil.copy(RAW_DIR / "004_036c2c114749dfaf.txt", folder / "letter.txt")
    else:  # every file unreadable
        shutil.copy(FIXTURES / "invalid" / "latin1.md", folder / "latin1.md")
        shutil.copy(FIXTURES / "invalid" / "bad_json.json", folder / "bad.json")
    return folder


@pytest.mark.parametrize("kind", ["one failed run", "letters only", "every file unreadable"])
def test_every_notebook_runs_on_a_tiny_corpus(tmp_path: Path, kind: str) -> None:
    out = tmp_path / "out"
    written = run_notebooks(corpus=_corpus(tmp_path, kind), out=out)
    assert [p.name for p in written] == [p.name for p in list_notebooks()]
    for book in written:
        nb = nbformat.read(book, as_version=4)
        errors = [o for c in nb.cells for o in c.get("outputs", []) if o["output_type"] == "error"]
        assert not errors, f"{book.name}: {errors[0]['ename']}"
    assert len(list((out / "figures").glob("*.png"))) == len(list((out / "figures").glob("*.svg")))

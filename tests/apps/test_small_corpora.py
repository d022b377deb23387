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


VALID = FIXTURES / "valid"


def _corpus(tmp_path: Path, kind: str) -> Path:
    folder = tmp_path / kind
    folder.mkdir()
    if kind == "one failed run":
        (folder / "run.md").write_text(SEED_ONLY)
    elif kind == "a letter and a failed run":  # readable, but no two-speaker conversation
        shutil.copy(RAW_DIR / "004_036c2c114749dfaf.txt", folder / "letter.txt")
        (folder / "run.md").write_text(SEED_ONLY)
    elif kind == "one conversation":
        shutil.copy(RAW_DIR / "003_2a5d800b9c1eedf9.txt", folder)
    elif kind == "a mixed folder":  # every format, a failed run and a broken file, nested
        for name in ("backrooms_cli.txt", "backrooms_max_turns.txt", "chat_sharegpt.json",
                     "basic.md", "export.json"):
            shutil.copy(VALID / name, folder / name)
        (folder / "seeds").mkdir()
        shutil.copy(RAW_DIR / "001_3c735b3d862d374e.txt", folder / "seeds")
        shutil.copy(RAW_DIR / "004_036c2c114749dfaf.txt", folder / "seeds")
        (folder / "failed.md").write_text(SEED_ONLY)
        shutil.copy(FIXTURES / "invalid" / "bad_json.json", folder / "bad.json")
    else:  # every file unreadable
        shutil.copy(FIXTURES / "invalid" / "latin1.md", folder / "latin1.md")
        shutil.copy(FIXTURES / "invalid" / "bad_json.json", folder / "bad.json")
    return folder


#: What each corpus must make the notebooks say (notebook prefix, words in a Markdown output).
SAYS = {
    "one failed run": [("00", "1 failed run"), ("02", "No two-speaker conversation")],
    "a letter and a failed run": [("01", "Too few messages"),
                                  ("02", "No two-speaker conversation"),
                                  ("04", "too short to judge")],
    "one conversation": [("00", "1 conversation"), ("02", "In 1 two-speaker conversation"),
                         ("04", "With 1 conversation these are counts, not rates")],
    "a mixed folder": [("00", "1 unreadable file"), ("00", "backrooms"),
                       ("00", "1 failed run"), ("03", "**In short**, on this corpus")],
    "every file unreadable": [("00", "holds no readable conversation")],
}


def _markdown(book: Path) -> str:
    nb = nbformat.read(book, as_version=4)
    return "\n".join("".join(o.get("data", {}).get("text/markdown", ""))
                     for c in nb.cells for o in c.get("outputs", []))


@pytest.mark.parametrize("kind", list(SAYS))
def test_every_notebook_runs_on_a_tiny_corpus(tmp_path: Path, kind: str) -> None:
    out = tmp_path / "out"
    written = run_notebooks(corpus=_corpus(tmp_path, kind), out=out)
    assert [p.name for p in written] == [p.name for p in list_notebooks()]
    for book in written:
        nb = nbformat.read(book, as_version=4)
        outputs = [o for c in nb.cells for o in c.get("outputs", [])]
        errors = [o for o in outputs if o["output_type"] == "error"]
        assert not errors, f"{book.name}: {errors[0]['ename']}: {errors[0]['evalue']}"
        warned = [o["text"] for o in outputs if o.get("name") == "stderr"]
        assert not warned, f"{book.name} printed to stderr: {warned[0][:300]}"
        said = _markdown(book)
        assert "seed corpus" not in said  # findings describe this corpus, not the seeds
        assert said.startswith("**What this ran on.** Corpus `"), book.name
    for prefix, words in SAYS[kind]:
        (book,) = [b for b in written if b.name.startswith(prefix)]
        assert words in _markdown(book), (book.name, words)
    assert len(list((out / "figures").glob("*.png"))) == len(list((out / "figures").glob("*.svg")))

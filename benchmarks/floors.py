"""The honest floor of reading a corpus: list it, read every file, decode it and split it into
message blocks on its own format's separator, and nothing else.

Each format is split on the literal that opens a message in it, which ``str.split`` finds with
its fast substring search: the attractors markdown's ``"\\n---\\n\\n### "``, the JSON exports'
``'"content": '``, a line break for JSON Lines and anything else. One alternation of all of them
(the old floor) cannot be scanned as a literal by Python's ``re`` and was 3.5 times slower,
which flattered every ratio measured against it.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["SEPARATORS", "corpus_files", "floor", "separator_of"]

SEPARATORS = {".md": "\n---\n\n### ", ".json": '"content": ', ".jsonl": "\n", ".txt": "\n"}


def separator_of(name: str) -> str:
    """The literal a file of this name is split on (by its suffix; a line break by default)."""
    return SEPARATORS.get(os.path.splitext(name)[1].lower(), "\n")


def corpus_files(folder: str | os.PathLike[str]) -> list[str]:
    """Every file under ``folder`` (hidden ones left out), sorted: the listing a reader needs."""
    found = []
    for top, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found += [os.path.join(top, f) for f in files if not f.startswith(".")]
    return sorted(found)


def floor(folder: str | os.PathLike[str]) -> int:
    """List ``folder``, read, decode and split every file; the number of blocks (so that the
    work cannot be skipped)."""
    blocks = 0
    for path in corpus_files(folder):
        with open(path, "rb", buffering=0) as file:
            text = file.readall().decode("utf-8", "replace")
        blocks += len(text.split(separator_of(path)))
    return blocks


def disk_mb(folder: str | os.PathLike[str]) -> float:
    """The corpus's size on disk, in MB (its files' sizes)."""
    return sum(Path(p).stat().st_size for p in corpus_files(folder)) / 1e6

"""read_corpus(workers=...): a process pool gives the same tables, errors and warnings as one."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from golden import FIXTURES

import q7x2_lib as q7
from q7x2_lib.datasets import write_synthetic_corpus
from q7x2_lib.io import _reading

TABLES = ("messages", "conversations", "problems")


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """Twins in nested folders, colliding names, letters, and two broken files."""
    root = tmp_path_factory.mktemp("workers")
    write_synthetic_corpus(root / "runs", n_conversations=40, seed=5, messages=(2, 12),
                           subdirs=True)
    shutil.copytree(q7.RAW_DIR, root / "raw")
    shutil.copy(FIXTURES / "valid" / "basic.md", root / "runs" / "1" / "zz.md")
    shutil.copy(FIXTURES / "valid" / "basic.md", root / "zz.md")  # the same stem elsewhere
    shutil.copy(FIXTURES / "invalid" / "latin1.md", root / "raw" / "broken.md")
    shutil.copy(FIXTURES / "invalid" / "bad_json.json", root / "runs" / "1" / "0broken.json")
    return root


def _same(a: q7.Corpus, b: q7.Corpus) -> None:
    for table in TABLES:
        pd.testing.assert_frame_equal(getattr(a, table), getattr(b, table))


def test_a_pool_gives_the_tables_of_one_process(folder: Path, monkeypatch) -> None:
    monkeypatch.setattr(_reading, "_CHUNK_FILES", 7)  # many chunks, twins still together
    one = q7.read_corpus(folder, errors="skip")
    assert len(one) > 40 and len(one.problems)
    _same(one, q7.read_corpus(folder, errors="skip", workers=2))
    _same(one, q7.read_corpus(folder, errors="skip", workers=-1))


def test_warnings_come_in_file_order(folder: Path, monkeypatch) -> None:
    monkeypatch.setattr(_reading, "_CHUNK_FILES", 5)
    with pytest.warns(q7.TranscriptWarning) as record:
        q7.read_corpus(folder, errors="warn", workers=2)
    assert ["raw/broken.md" in str(w.message) for w in record] == [True, False]


def test_raise_names_the_first_broken_file_in_list_order(tmp_path: Path, monkeypatch) -> None:
    # Sorted: x.json, x.json.md, x.md. x.json and x.md may be twins, so they share a chunk that
    # comes first; the first broken file, x.json.md, is in the next chunk.
    shutil.copy(FIXTURES / "valid" / "export.json", tmp_path / "x.json")
    shutil.copy(FIXTURES / "invalid" / "latin1.md", tmp_path / "x.json.md")
    shutil.copy(FIXTURES / "invalid" / "no_blocks.md", tmp_path / "x.md")
    for workers, size in ((None, 1), (None, 1000), (2, 1)):
        monkeypatch.setattr(_reading, "_CHUNK_FILES", size)
        with pytest.raises(q7.TranscriptParseError, match=r"x\.json\.md, line \d+\)$"):
            q7.read_corpus(tmp_path, workers=workers)


def test_chunks_keep_twins_together_and_files_in_order() -> None:
    names = ["a/x.json", "a/x-2.json", "a/x.md", "b/x.md", "a/x-2.md", "c.txt"]
    chunks = _reading._chunks([Path(n) for n in names], names, 2)
    assert [[name for _, _, name in c] for c in chunks] == [
        ["a/x.json", "a/x.md"], ["a/x-2.json", "a/x-2.md"], ["b/x.md", "c.txt"]]
    assert all([i for i, _, _ in c] == sorted(i for i, _, _ in c) for c in chunks)


@pytest.mark.parametrize("workers", [0, -2, 1.5, "2", True])
def test_workers_must_be_a_count_or_minus_one(workers) -> None:
    with pytest.raises(ValueError, match=r"workers must be None, a positive number"):
        q7.read_corpus(q7.RAW_DIR, workers=workers)


def test_one_worker_or_one_chunk_reads_in_this_process(monkeypatch) -> None:
    def no_pool(*args, **kwargs):
        raise AssertionError("no process pool for one chunk")

    monkeypatch.setattr(_reading, "ProcessPoolExecutor", no_pool)
    _same(q7.read_corpus(q7.RAW_DIR, workers=1), q7.read_corpus(q7.RAW_DIR, workers=8))

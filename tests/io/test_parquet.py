"""Corpus.to_parquet, and read_corpus of its cache: identical tables, whole conversations."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from golden import FIXTURES

import q7x2_lib as q7
from q7x2_lib.datasets import write_synthetic_corpus
from q7x2_lib.io import parquet

TABLES = ("messages", "conversations", "problems")


@pytest.fixture(scope="module")
def mixed(tmp_path_factory) -> q7.Corpus:
    """Every format and pitfall at once: fixtures (letters, twins, problems) and seed files."""
    folder = tmp_path_factory.mktemp("mixed")
    shutil.copytree(FIXTURES / "valid", folder / "valid", ignore=shutil.ignore_patterns("*.json"))
    shutil.copy(FIXTURES / "valid" / "export.json", folder / "valid" / "basic.json")  # twin
    shutil.copy(FIXTURES / "invalid" / "latin1.md", folder / "broken.md")
    shutil.copytree(q7.RAW_DIR, folder / "raw")
    write_synthetic_corpus(folder / "synthetic", n_conversations=6, seed=3, messages=(2, 9))
    return q7.read_corpus(folder, errors="skip")


def _assert_same(a: q7.Corpus, b: q7.Corpus) -> None:
    for table in TABLES:
        pd.testing.assert_frame_equal(getattr(a, table), getattr(b, table))


def test_reload_gives_identical_tables(mixed: q7.Corpus, tmp_path: Path) -> None:
    assert len(mixed.problems) and mixed.conversations["session"].notna().any()
    out = mixed.to_parquet(tmp_path / "cache")
    again = q7.read_corpus(out)
    _assert_same(mixed, again)
    assert all(type(p) is tuple for p in again.conversations["participants"])
    assert str(again.messages["text"].dtype) == "string"
    assert str(again.messages["line"].dtype) == "Int64"
    assert str(again.conversations["started"].dtype).startswith("datetime64")


def test_parts_hold_whole_conversations_in_corpus_order(mixed: q7.Corpus, tmp_path: Path) -> None:
    out = mixed.to_parquet(tmp_path / "cache", rows_per_part=40)
    manifest = json.loads((out / "q7x2.json").read_text())
    parts = manifest["messages_parts"]
    assert len(parts) > 3
    seen: set[str] = set()
    for part in parts:
        frame = parquet.read_messages_part(out / part["file"], manifest["dtypes"]["messages"],
                                           part["first_row"])
        expected = mixed.messages.iloc[part["first_row"]:part["first_row"] + part["n_rows"]]
        pd.testing.assert_frame_equal(frame, expected)
        ids = set(frame["conversation_id"])
        assert not ids & seen  # no conversation is split across parts
        seen |= ids
        assert pq.ParquetFile(out / part["file"]).metadata.num_row_groups == 1
    assert manifest["format"] == "q7x2-parquet" and manifest["n_messages"] == len(mixed.messages)
    _assert_same(mixed, q7.read_corpus(out))


def test_the_cache_is_found_relative_to_a_root(tmp_path: Path) -> None:
    corpus = q7.read_corpus(q7.RAW_DIR)
    corpus.to_parquet(tmp_path / "cache")
    _assert_same(corpus, q7.read_corpus("cache", root=tmp_path))


def test_an_earlier_cache_is_replaced_and_other_folders_are_refused(tmp_path: Path) -> None:
    raw = q7.read_corpus(q7.RAW_DIR)
    one = q7.read_corpus(sorted(q7.RAW_DIR.iterdir())[0])
    raw.to_parquet(tmp_path / "cache", rows_per_part=10)
    one.to_parquet(tmp_path / "cache")
    _assert_same(one, q7.read_corpus(tmp_path / "cache"))
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="holds other files"):
        raw.to_parquet(tmp_path / "other")
    with pytest.raises(ValueError, match="is a file"):
        raw.to_parquet(tmp_path / "other" / "notes.txt")
    with pytest.raises(ValueError, match="rows_per_part: got 0; expected an integer >= 1"):
        raw.to_parquet(tmp_path / "new", rows_per_part=0)


def test_a_cache_from_a_newer_q7x2_is_refused_with_advice(tmp_path: Path) -> None:
    out = q7.read_corpus(q7.RAW_DIR).to_parquet(tmp_path / "cache")
    manifest = json.loads((out / "q7x2.json").read_text())
    manifest["format_version"] = parquet.FORMAT_VERSION + 1
    (out / "q7x2.json").write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="upgrade q7x2 or rebuild the cache"):
        q7.read_corpus(out)
    with pytest.raises(ValueError, match="not a q7x2 Parquet cache"):
        parquet.read_parquet(tmp_path)


def test_an_empty_corpus_round_trips(tmp_path: Path) -> None:
    corpus = q7.read_corpus(FIXTURES / "invalid" / "latin1.md", errors="skip")
    assert corpus.messages.empty
    _assert_same(corpus, q7.read_corpus(corpus.to_parquet(tmp_path / "cache")))


# --- a cache that is not what was written is refused, naming the file ------------------------


def _two_caches(tmp_path: Path) -> tuple[Path, Path]:
    raw = q7.read_corpus(q7.RAW_DIR)
    a, b = tmp_path / "a", tmp_path / "b"
    raw.to_parquet(a, rows_per_part=60)
    q7.read_corpus(sorted(q7.RAW_DIR.iterdir())[2:]).to_parquet(b, rows_per_part=60)
    return a, b


def test_a_missing_part_is_refused_naming_it(tmp_path: Path) -> None:
    a, _ = _two_caches(tmp_path)
    (a / "messages" / "part-00001.parquet").unlink()
    with pytest.raises(q7.TranscriptParseError, match=r"lists messages/part-00001.parquet but "
                                                      r"it is missing") as exc:
        q7.read_corpus(a)
    assert exc.value.path.endswith("part-00001.parquet")


def test_a_part_from_another_cache_is_refused(tmp_path: Path) -> None:
    a, b = _two_caches(tmp_path)
    shutil.copy(b / "messages" / "part-00000.parquet", a / "messages" / "part-00000.parquet")
    with pytest.raises(q7.TranscriptParseError, match="SHA-256 differs"):
        q7.read_corpus(a)
    a2, b2 = _two_caches(tmp_path / "again")
    shutil.copy(b2 / "conversations.parquet", a2 / "conversations.parquet")
    with pytest.raises(q7.TranscriptParseError, match="conversations.parquet is not the file"):
        q7.read_corpus(a2)


def test_a_truncated_part_is_refused(tmp_path: Path) -> None:
    a, _ = _two_caches(tmp_path)
    part = a / "messages" / "part-00000.parquet"
    part.write_bytes(part.read_bytes()[:100])
    with pytest.raises(q7.TranscriptParseError, match="part-00000.parquet"):
        q7.read_corpus(a)


def test_rewriting_is_atomic_and_keeps_the_old_cache_when_the_write_fails(tmp_path: Path,
                                                                          monkeypatch) -> None:
    a, _ = _two_caches(tmp_path)
    before = q7.read_corpus(a)

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(parquet, "_write_table", boom)
    with pytest.raises(OSError, match="disk full"):
        q7.read_corpus(q7.RAW_DIR).to_parquet(a)
    _assert_same(before, q7.read_corpus(a))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b"]  # no temporary left


def test_files_of_ones_own_in_a_cache_folder_are_never_deleted(tmp_path: Path) -> None:
    a, _ = _two_caches(tmp_path)
    (a / "my notes.txt").write_text("mine")
    with pytest.raises(ValueError, match=r"also holds files q7x2 did not write \(my notes.txt\)"):
        q7.read_corpus(q7.RAW_DIR).to_parquet(a)
    assert (a / "my notes.txt").read_text() == "mine"


def test_a_cache_folder_without_its_manifest_says_so(tmp_path: Path) -> None:
    a, _ = _two_caches(tmp_path)
    (a / "q7x2.json").unlink()
    corpus = q7.read_corpus(a, errors="skip")
    assert len(corpus) == 0
    assert set(corpus.problems["kind"]) == {"unreadable_file"}
    assert corpus.problems["detail"].str.contains("a Parquet file, not a transcript").all()

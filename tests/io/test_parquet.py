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
    with pytest.raises(ValueError, match="rows_per_part must be a positive integer, got 0"):
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

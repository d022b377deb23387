"""Markdown read from its bytes (``markdown_bytes``) gives exactly what the full parse gives."""

from __future__ import annotations

import tempfile
from pathlib import Path
from unittest import mock

import pandas as pd
import pytest
from golden import FIXTURES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import q7x2_lib as q7
from q7x2_lib.datasets import to_markdown, write_synthetic_corpus
from q7x2_lib.io import _reading
from q7x2_lib.io.readers import markdown_bytes, orchestrator, parse_file_all

NAMES = ["A", "A b", "Kimi K2", "x-", "x---", "é"]
# Pieces that blur block boundaries, whitespace str.strip knows and ASCII does not, and bytes
# that make a file unreadable (carriage returns, NUL).
PIECES = ["---", "\n", "\n\n", "### A", "### A b", "### x---", "---\n\n### A\n", "---\n\n### A",
          "\n---\n\n### A b\n", "\n---\n\n### Notes\n", "### Notes", "\n---", " ", "\t", "x",
          "é", "\u3000", "\u00a0", "\u2028", "\x1c", "\x85", "[END]", "#", "-", "🌀", "\r",
          "\x00"]
contents = st.lists(st.sampled_from(PIECES), max_size=8).map("".join)
conversations = st.tuples(
    st.sampled_from(NAMES), st.sampled_from(NAMES),
    st.lists(st.tuples(st.integers(0, 2), contents), min_size=1, max_size=6), st.booleans(),
).map(lambda t: {
    "model_a": t[0], "model_b": t[1], "initial_message": " ",
    "messages": [{"role": "user" if i == 0 else "assistant", "content": body,
                  "speaker": (t[0], t[1], "Other")[who]} for i, (who, body) in enumerate(t[2])],
    "started_at": "2025-11-21T01:31:51.263919",
    "ended_at": "2025-11-21T01:34:23.386292" if t[3] else None,
})
# How a file may differ from what the exporter writes.
EDITS = ["none", "no_trailing_rule", "rule_only", "trailing_spaces", "extra_rule", "bad_utf8",
         "no_title", "bom", "header_at_end"]


def _edit(markdown: str, edit: str) -> bytes:
    if edit == "no_trailing_rule":
        markdown = markdown.removesuffix("\n\n---\n\n")
    elif edit == "rule_only":
        markdown = markdown.removesuffix("\n\n---\n\n") + "\n---"
    elif edit == "trailing_spaces":
        markdown = markdown + " \t \n\n"
    elif edit == "extra_rule":
        markdown = markdown + "---\n\n---\n"
    elif edit == "no_title":
        markdown = markdown[markdown.index("### "):]
    elif edit == "header_at_end":
        markdown = markdown.removesuffix("\n\n---\n\n") + "\n\n---\n\n### A\n"
    data = markdown.encode("utf-8", "surrogatepass")
    if edit == "bad_utf8":
        data = data[:len(data) // 2] + b"\xff" + data[len(data) // 2:]
    if edit == "bom":
        data = b"\xef\xbb\xbf" + data
    return data


class _WholeFiles:
    """Reading without the byte scan: every file decoded and parsed whole."""

    def __init__(self, names=()) -> None:
        pass

    def parse_file_all(self, path: Path, *, name: str):
        return parse_file_all(path, name=name)

    scan_or_parse = parse_file_all


def _assert_as_whole_files(source, **kwargs) -> q7.Corpus:
    fast = q7.read_corpus(source, progress=False, **kwargs)
    with mock.patch.object(_reading, "TwinReader", _WholeFiles):
        whole = q7.read_corpus(source, progress=False, **kwargs)
    for table in ("messages", "conversations", "problems"):
        pd.testing.assert_frame_equal(getattr(fast, table), getattr(whole, table), obj=table)
    return fast


@given(st.lists(st.tuples(conversations, st.sampled_from(EDITS)), min_size=1, max_size=5))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_markdown_corpora_read_from_bytes_as_whole_files(cases) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for i, (conv, edit) in enumerate(cases):
            (Path(tmp) / f"run{i}.md").write_bytes(_edit(to_markdown(conv), edit))
        _assert_as_whole_files(tmp, errors="skip")


def test_the_golden_fixtures_read_from_bytes_as_whole_files() -> None:
    _assert_as_whole_files(FIXTURES, errors="skip")


def test_the_seeds_read_from_bytes_as_whole_files() -> None:
    _assert_as_whole_files(q7.RAW_DIR)


def test_an_exporters_corpus_takes_the_byte_path(tmp_path: Path) -> None:
    write_synthetic_corpus(tmp_path, n_conversations=30, seed=4, formats=("md",))
    with mock.patch.object(orchestrator, "parse_markdown_twin", side_effect=AssertionError):
        read = q7.read_corpus(tmp_path, progress=False)
    assert len(read.conversations) == 30
    _assert_as_whole_files(tmp_path)


def test_blocks_lines_and_texts_of_a_small_export(tmp_path: Path) -> None:
    text = ("# A ↔ B\n\n**Started:** 2025-11-21 01:31:51\n**Messages:** 4\n\n---\n\n"
            "### A\n\n  hello\n\n---\n\n### B\n\n\u00a0x\n\n---\n\n### Notes\n\nkept\n\n---\n\n"
            "### B\n---\n\n### A\n\n[END]\n\n---\n\n")
    (tmp_path / "t.md").write_text(text, encoding="utf-8")
    scanned = markdown_bytes.scan(text.encode(), "t.md")
    assert scanned is not None
    read = _assert_as_whole_files(tmp_path)
    messages = read.messages
    assert messages["text"].tolist() == ["hello", "x\n\n---\n\n### Notes\n\nkept", "", "[END]"]
    assert messages["speaker"].tolist() == ["A", "B", "B", "A"]
    assert messages["line"].tolist() == [8, 12, 24, 27]  # the first header, then each rule


@pytest.mark.parametrize("data", [b"", "# A ↔ B\n".encode(), b"### A\n\nhi",
                                  "# A ↔ B\n---\n\nhi".encode()])
def test_files_the_scan_leaves_to_the_full_parse(data: bytes) -> None:
    assert markdown_bytes.scan(data, "t.md") is None

"""The columnar reader: counts and flags equal the Python definitions; fast paths the exact ones."""

from __future__ import annotations

import json
import sys
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from q7x2_lib._core import columns as _columns
from q7x2_lib._core.markers import ends_with_end_marker, is_end_marker_only
from q7x2_lib._core.schema import messages_frame
from q7x2_lib.io.readers import orchestrator
from q7x2_lib.io.readers._base import ParsedTranscript

# Every character Python's str.split() splits on, plus look-alikes that it does not.
WHITESPACE = "".join(c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace())
NOT_SPACE = "\u180e\u200b\u2060\ufeff\x00\x08\x0e\x1b\x7f\xad"
texts = st.text(
    alphabet=st.one_of(st.sampled_from(WHITESPACE + NOT_SPACE),
                       st.characters(exclude_categories=("Cs",))),  # no lone surrogates in UTF-8
    max_size=40,
)
MARKERS = ["[END]", "[end]", "**[END]**", "`[ END ]`", "[END OF CONVERSATION]", "[END_CHAT].",
           "[ end of the dialogue ]!", "[END", "END]", "[ENDE]", "[ſnd]", "[ＥＮＤ]", "]", "["]
marker_texts = st.lists(
    st.one_of(st.sampled_from(MARKERS), st.sampled_from(WHITESPACE), st.text(max_size=3)),
    max_size=6,
).map("".join)


def test_the_whitespace_set_is_pythons() -> None:
    assert len(WHITESPACE) == 29
    for char in WHITESPACE + NOT_SPACE:
        assert _columns.word_counts([f"a{char}b"])[0] == len(f"a{char}b".split())


@given(st.lists(texts, max_size=30))
@settings(max_examples=300)
def test_word_and_char_counts_equal_python(values: list[str]) -> None:
    assert _columns.word_counts(values).tolist() == [len(t.split()) for t in values]
    assert _columns.char_counts(values).tolist() == [len(t) for t in values]


@given(st.lists(texts, min_size=1, max_size=30), st.integers(1, 64))
@settings(max_examples=100)
def test_word_counts_do_not_depend_on_batches(values: list[str], batch: int) -> None:
    chunked = pd.arrays.ArrowStringArray._from_sequence(values)._pa_array
    with mock.patch.object(_columns, "_BATCH_BYTES", batch):
        assert _columns.word_counts(chunked).tolist() == [len(t.split()) for t in values]


@given(st.lists(marker_texts, max_size=20))
@settings(max_examples=300)
def test_end_marker_flags_equal_the_regex_definitions(values: list[str]) -> None:
    only, ends = _columns.end_marker_flags(values)
    assert only.tolist() == [is_end_marker_only(t) for t in values]
    assert ends.tolist() == [ends_with_end_marker(t) for t in values]
    only2, ends2 = _columns.end_marker_flags(_columns.to_arrow(values), values)
    assert (only2 == only).all() and (ends2 == ends).all()


def _reference_frame(values: list[str]) -> pd.DataFrame:
    """messages_frame as it was written before it went columnar: one Python call per message."""
    n = len(values)
    return pd.DataFrame({
        "conversation_id": pd.array(["c"] * n, dtype="string"),
        "turn": np.arange(n, dtype="int64"),
        "speaker": pd.array(["A"] * n, dtype="string"),
        "text": pd.array(values, dtype="string"),
        "n_chars": np.array([len(t) for t in values], dtype="int64"),
        "n_words": np.array([len(t.split()) for t in values], dtype="int64"),
        "is_seed": np.zeros(n, dtype=bool),
        "is_empty": np.array([not t for t in values], dtype=bool),
        "is_end_marker": np.array([is_end_marker_only(t) for t in values], dtype=bool),
        "ends_with_end_marker": np.array([ends_with_end_marker(t) for t in values], dtype=bool),
        "source": pd.array(["s"] * n, dtype="string"),
        "line": pd.array(list(range(1, n + 1)), dtype="Int64"),
    })


@given(st.lists(st.one_of(texts, marker_texts).map(str.strip), max_size=20))
@settings(max_examples=100)
def test_messages_frame_equals_the_per_message_definition(values: list[str]) -> None:
    n = len(values)
    frame = messages_frame(["c"] * n, range(n), ["A"] * n, values, [False] * n, ["s"] * n,
                           list(range(1, n + 1)))
    expected = _reference_frame(values)
    pd.testing.assert_frame_equal(frame[expected.columns], expected)


def test_int64_columns_keep_missing_values() -> None:
    assert _columns.int64_array(None, 2).tolist() == [pd.NA, pd.NA]
    assert _columns.int64_array([None, 3], 2).tolist() == [pd.NA, 3]
    assert str(_columns.int64_array([1, 2], 2).dtype) == "Int64"


# --- the readers' fast paths give what their exact paths give -----------------------------
NAMES = ["A", "B b", "Kimi K2"]
pieces = st.sampled_from(["---", "\n", "\n\n", "### A", "### B b", "### Kimi K2", "### Notes",
                          " ", "x", "[END]", "\r", "é", "\u3000"])
bodies = st.lists(pieces, max_size=12).map("".join)


def _markdown(blocks: list[tuple[str, str]], title: bool) -> str:
    head = "# A ↔ B b ↔ Kimi K2\n\n**Messages:** 3\n\n---\n\n" if title else ""
    return head + "".join(f"### {name}\n\n{body}\n\n---\n\n" for name, body in blocks)


@given(st.lists(st.tuples(st.sampled_from(NAMES), bodies), min_size=1, max_size=5),
       st.booleans(), st.sampled_from(["", "\n", "x"]))
@settings(max_examples=300)
def test_markdown_fast_path_equals_the_exact_path(blocks, title: bool, tail: str) -> None:
    text = _markdown(blocks, title) + tail
    fast = _parse_or_error(orchestrator.parse_markdown, text)
    with mock.patch.object(orchestrator, "_split_blocks", return_value=None):
        exact = _parse_or_error(orchestrator.parse_markdown, text)
    assert fast == exact


@given(st.lists(st.tuples(st.sampled_from(NAMES), st.one_of(texts, bodies)), max_size=5),
       st.booleans())
@settings(max_examples=200)
def test_json_fast_path_equals_the_exact_path(messages, ascii_only: bool) -> None:
    data = {"model_a": "A", "model_b": "B b", "initial_message": " ", "started_at": None,
            "ended_at": None, "messages": [
                {"role": "user" if i % 2 == 0 else "assistant", "content": body, "speaker": name}
                for i, (name, body) in enumerate(messages)]}
    text = json.dumps(data, indent=2, ensure_ascii=ascii_only)
    fast = _parse_or_error(orchestrator.parse_json, text)
    with mock.patch.object(orchestrator, "_json_columns", return_value=None):
        exact = _parse_or_error(orchestrator.parse_json, text)
    assert fast == exact


def test_content_lines_find_every_key() -> None:
    text = '{"messages": [\n{"content": "a"},\n\n{"content": "\\"content\\""}]}'
    assert orchestrator._content_lines(text) == [2, 4]


def _parse_or_error(parse, text: str):
    try:
        return parse(text, "t")
    except ValueError as exc:
        return str(exc)


@pytest.mark.parametrize("bad", [[{"content": 1, "speaker": "A"}], [{"speaker": "A"}], ["x"]])
def test_json_messages_that_are_not_well_formed_take_the_exact_path(bad) -> None:
    assert orchestrator._json_columns(bad, [1], carriage_returns=False) is None


def test_the_fast_paths_are_taken_for_well_formed_exports() -> None:
    msgs = [{"role": "user", "content": " ", "speaker": "A"},
            {"role": "assistant", "content": "hi\n", "speaker": "B b"}]
    assert orchestrator._json_columns(msgs, [5, 10], carriage_returns=False) == (
        ["A", "B b"], ["", "hi"], [5, 10], [True, False])
    body = "### A\n\n \n\n---\n\n### B b\n\nhi\n\n---\n"
    assert orchestrator._split_blocks(body, ["A", "B b"], 7) == (
        ["A", "B b"], ["", "hi"], [7, 11], [True, False])


def _pandas_time(value: str):
    """The exports' times as pandas alone reads them (the reference for the fast path)."""
    try:
        return pd.Timestamp(value)
    except ValueError:
        return None


@given(st.datetimes(), st.sampled_from([" ", "T"]), st.booleans(),
       st.sampled_from(["", "13", "32", "24"]))
@settings(max_examples=300)
def test_export_times_read_as_pandas_reads_them(when, sep: str, micro: bool, bad: str) -> None:
    value = when.isoformat(sep=sep, timespec="microseconds" if micro else "seconds")
    if bad:  # an impossible month, day or hour: reported, not guessed
        value = value[:5] + bad + value[7:]
    doc = ParsedTranscript(path="t", format="attractors-md")
    got, expected = orchestrator._timestamp(value, doc, 1, "started"), _pandas_time(value)
    assert (got is None) == (expected is None) and (got is None or (
        got == expected and got.unit == expected.unit))
    assert bool(doc.problems) == (expected is None)

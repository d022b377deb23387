"""The reading fast paths give what the exact paths give: twins, file listing, columns."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path, PurePosixPath
from unittest import mock

import pandas as pd
import pytest
from golden import FIXTURES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import q7x2_lib as q7
from q7x2_lib._core import columns as _columns
from q7x2_lib.datasets import to_json, to_markdown
from q7x2_lib.io import _reading, corpus
from q7x2_lib.io.readers import orchestrator, parse_file_all
from q7x2_lib.io.readers._base import twin_key

# Names as the exports write them, and ones that could blur block boundaries ("x---" ends
# with a rule, "A" is a prefix of "A b").
NAMES = ["A", "A b", "Kimi K2", "x-", "x---"]
PIECES = ["---", "\n", "\n\n", "### A", "### A b", "### x---", "---\n\n### A\n", "---\n\n### A",
          "### Notes", "\n---", " ", "  ", "x", "é", "\u3000", "[END]", "#", "-"]
contents = st.lists(st.sampled_from(PIECES), max_size=8).map("".join)
conversations = st.tuples(
    st.sampled_from(NAMES), st.sampled_from(NAMES),
    st.lists(st.tuples(st.integers(0, 2), contents), min_size=1, max_size=6),
    st.booleans(),
).map(lambda t: _conversation(*t))
# How a markdown twin may differ from what the exporter writes from its JSON.
EDITS = ["none", "text", "speaker", "drop_block", "count", "no_end", "trailing"]


def _conversation(a: str, b: str, messages: list[tuple[int, str]], ended: bool) -> dict:
    """An export of models ``a`` and ``b``; speaker 2 is neither (not in the title)."""
    return {
        "model_a": a, "model_b": b, "initial_message": " ",
        "messages": [{"role": "user" if i == 0 else "assistant", "content": body,
                      "speaker": (a, b, "Other")[who]} for i, (who, body) in enumerate(messages)],
        "started_at": "2025-11-21T01:31:51.263919",
        "ended_at": "2025-11-21T01:34:23.386292" if ended else None,
    }


def _edit(markdown: str, edit: str, conv: dict) -> str:
    """The exporter's markdown, changed as ``edit`` says."""
    blocks = markdown.split("\n\n---\n\n### ")
    if edit == "text":  # the last message
        return markdown.removesuffix("\n\n---\n\n") + " more\n\n---\n\n"
    if edit == "speaker":
        other = conv["model_b"] if conv["model_a"] != conv["model_b"] else "B"
        return markdown.replace(f"### {conv['messages'][0]['speaker']}\n", f"### {other}\n", 1)
    if edit == "drop_block" and len(blocks) > 2:
        return "\n\n---\n\n### ".join(blocks[:-2] + blocks[-1:])
    if edit == "count":
        return markdown.replace("**Messages:** ", "**Messages:** 1", 1)
    if edit == "no_end":
        return "".join(line for line in markdown.splitlines(keepends=True)
                       if not line.startswith("**Ended:**"))
    if edit == "trailing":
        return markdown.rstrip() + "\n"
    return markdown


def _parse_or_error(parse, *args, **kwargs):
    try:
        return parse(*args, **kwargs)
    except ValueError as exc:
        return str(exc)


# --- the markdown checked against its JSON twin ---------------------------------------------
@given(conversations, st.sampled_from(EDITS))
@settings(max_examples=400)
def test_markdown_read_against_its_twin_equals_the_exact_parse(conv: dict, edit: str) -> None:
    markdown = _edit(to_markdown(conv), edit, conv)
    doc, twin = orchestrator.parse_json_twin(to_json(conv), "t.json")
    assert twin is not None
    assert doc == orchestrator.parse_json(to_json(conv), "t.json")
    exact = _parse_or_error(orchestrator.parse_markdown, markdown, "t.md")
    with mock.patch.object(orchestrator, "_split_blocks", return_value=None):
        slowest = _parse_or_error(orchestrator.parse_markdown, markdown, "t.md")
    assert _parse_or_error(orchestrator.parse_markdown_twin, markdown, "t.md", twin) == exact
    assert exact == slowest
    light = _parse_or_error(orchestrator.parse_markdown_twin, markdown, "t.md", twin,
                            count_lines=False)
    if isinstance(exact, str) or isinstance(light, str):
        assert light == exact
    else:  # only the lines may be left out, and only when the twin matched
        assert set(light.lines) <= {None} | set(exact.lines)
        light.lines = exact.lines
        assert light == exact


def test_the_twin_spares_the_split_for_what_the_exporter_writes() -> None:
    conv = _conversation("A", "A b", [(0, " "), (1, "hi\n\n---\n\n### Notes\n"), (0, "x")], True)
    _, twin = orchestrator.parse_json_twin(to_json(conv), "t.json")
    assert twin.rule_heads == [1]
    with mock.patch.object(orchestrator, "_split_blocks", side_effect=AssertionError):
        doc = orchestrator.parse_markdown_twin(to_markdown(conv), "t.md", twin)
    assert doc.texts == ["", "hi\n\n---\n\n### Notes", "x"]
    assert doc.lines == [9, 13, 24]  # the first header, then each block's rule
    assert doc == orchestrator.parse_markdown(to_markdown(conv), "t.md")


@pytest.mark.parametrize("body", ["a\n\n---\n\n### A b\nb", "a\n\n---\n\n### A b"])
def test_a_body_that_fakes_a_block_takes_the_exact_path(body: str) -> None:
    conv = _conversation("A", "A b", [(0, " "), (1, body), (0, "x")], True)
    _, twin = orchestrator.parse_json_twin(to_json(conv), "t.json")
    text = to_markdown(conv)
    assert orchestrator.parse_markdown_twin(text, "t.md", twin) == orchestrator.parse_markdown(
        text, "t.md")
    assert len(orchestrator.parse_markdown(text, "t.md").texts) == 4


def test_json_with_carriage_returns_gives_no_twin() -> None:
    conv = _conversation("A", "A b", [(0, " "), (1, "a\r\nb")], True)
    doc, twin = orchestrator.parse_json_twin(to_json(conv), "t.json")
    assert twin is None and doc.texts == ["", "a\nb"]


# --- whole corpora: the twin-aware reader against the plain one -----------------------------
class _PlainReader:
    """What reading did before twins were checked in one go: every file parsed alone."""

    def __init__(self, names=()) -> None:
        pass

    def parse_file_all(self, path: Path, *, name: str):
        return parse_file_all(path, name=name)

    scan_or_parse = parse_file_all  # never a markdown scan: every file parsed whole


def _assert_same_corpus(source, **kwargs) -> None:
    fast = q7.read_corpus(source, progress=False, **kwargs)
    with mock.patch.object(_reading, "TwinReader", _PlainReader):
        plain = q7.read_corpus(source, progress=False, **kwargs)
    for table in ("messages", "conversations", "problems"):
        pd.testing.assert_frame_equal(getattr(fast, table), getattr(plain, table))


def _write_twins(folder: Path, stem: str, conv: dict, edit: str = "none") -> None:
    (folder / f"{stem}.json").write_text(to_json(conv), encoding="utf-8")
    (folder / f"{stem}.md").write_text(_edit(to_markdown(conv), edit, conv), encoding="utf-8")


@given(st.lists(st.tuples(conversations, st.sampled_from(EDITS)), min_size=1, max_size=4))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_corpora_of_twins_read_as_every_file_alone(cases: list[tuple[dict, str]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for i, (conv, edit) in enumerate(cases):
            _write_twins(Path(tmp), f"run{i}", conv, edit)
        _assert_same_corpus(tmp, errors="skip")


def test_twins_beside_a_third_file_of_the_same_stem(tmp_path: Path) -> None:
    conv = _conversation("A", "A b", [(0, " "), (1, "one\ntwo"), (0, "three"), (1, "x")], True)
    _write_twins(tmp_path, "run", conv)
    other = {**conv, "messages": [*conv["messages"][:2], {**conv["messages"][2], "content": "y"},
                                  conv["messages"][3]]}
    (tmp_path / "run.txt").write_text(to_json(other), encoding="utf-8")  # a second JSON
    _write_twins(tmp_path, "solo", conv)
    (tmp_path / "solo.json").unlink()
    _assert_same_corpus(tmp_path)
    read = q7.read_corpus(tmp_path)
    # Two JSON exports and one markdown of one stem are no twin pair: all three are kept.
    assert read.conversations["conversation_id"].tolist() == [
        "run.json", "run.md", "run.txt", "solo"]
    assert "twin_mismatch" not in set(read.problems["kind"])
    assert (read.problems["kind"] == "id_collision").sum() == 3


def test_the_golden_fixtures_read_as_every_file_alone() -> None:
    _assert_same_corpus(FIXTURES, errors="skip")  # the expected tables too: unreadable


def test_workers_read_twins_as_one_process(tmp_path: Path) -> None:
    for i in range(6):
        conv = _conversation("A", "Kimi K2", [(j % 2, f"m{j}\n\nx") for j in range(5)], i % 2)
        _write_twins(tmp_path, f"run{i}", conv, EDITS[i])
    one = q7.read_corpus(tmp_path, progress=False)
    two = q7.read_corpus(tmp_path, progress=False, workers=2)
    for table in ("messages", "conversations", "problems"):
        pd.testing.assert_frame_equal(getattr(one, table), getattr(two, table))


# --- file names and listing -----------------------------------------------------------------
parts = st.lists(st.text("ab.-_ ", min_size=1, max_size=5).filter(lambda p: p not in {".", ".."}),
                 min_size=1, max_size=3)


@given(parts, st.booleans())
def test_twin_key_is_folder_and_path_stem(names: list[str], absolute: bool) -> None:
    name = str(PurePosixPath("/" if absolute else "", *names))
    folder, stem = twin_key(name)
    path = PurePosixPath(name)
    assert (folder or ".", stem) == (str(path.parent), path.stem)


def _files_by_walk(folder: Path) -> list[Path]:
    """The listing as ``os.walk`` gave it (the reference for ``corpus._files_under``)."""
    found = []
    for top, dirs, names in os.walk(folder, followlinks=True):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        rel = os.path.relpath(top, folder)
        sub = () if rel == os.curdir else tuple(Path(rel).parts)
        found += [(*sub, n) for n in names
                  if not n.startswith(".") and os.path.isfile(os.path.join(top, n))]
    return [folder.joinpath(*p) for p in sorted(found)]


@pytest.mark.skipif(sys.platform == "win32", reason="symbolic links need privileges")
def test_listing_a_folder_follows_links_once_and_skips_hidden_entries(tmp_path: Path) -> None:
    for rel in ("a/x.md", "a/b/y.md", ".hidden/z.md", "a/.h.md", "c/w.json"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x")
    os.symlink(tmp_path / "a", tmp_path / "c" / "link")
    os.symlink(tmp_path / "a" / "x.md", tmp_path / "file.md")
    os.symlink(tmp_path / "nowhere", tmp_path / "broken.md")
    os.symlink(tmp_path, tmp_path / "a" / "up")  # a loop
    problems: list[dict] = []
    files = corpus._files_under(tmp_path, problems)
    assert [f.relative_to(tmp_path).as_posix() for f in files] == [
        "a/b/y.md", "a/x.md", "c/w.json", "file.md"]
    assert sorted((Path(p["source"]).name, p["kind"]) for p in problems) == [
        ("broken.md", "not_a_file"), ("link", "repeated_folder"), ("up", "repeated_folder")]
    shutil.rmtree(tmp_path / "c")
    (tmp_path / "a" / "up").unlink()
    assert corpus._files_under(tmp_path, []) == [
        f for f in _files_by_walk(tmp_path) if f.name != "broken.md"]


# --- columns --------------------------------------------------------------------------------
long_texts = st.lists(st.text(st.sampled_from("ab \n\u3000\u00a0é"), max_size=300), max_size=40)


@given(long_texts)
@settings(max_examples=200)
def test_word_counts_over_words_of_many_bytes(values: list[str]) -> None:
    assert _columns.word_counts(values).tolist() == [len(t.split()) for t in values]

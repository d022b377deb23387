"""read_corpus: sources, error modes, twins, ids, and the Corpus object."""

from __future__ import annotations

import json
import os
import shutil
import warnings
from dataclasses import FrozenInstanceError
from pathlib import Path

import pandas as pd
import pytest
from golden import FIXTURES

import q7x2_lib as q7
from q7x2_lib._core.schema import MESSAGE_COLUMNS

VALID = FIXTURES / "valid"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Three good transcripts and one broken one, in nested folders."""
    (tmp_path / "a" / "b").mkdir(parents=True)
    shutil.copy(VALID / "basic.md", tmp_path / "a" / "one.md")
    shutil.copy(VALID / "letter.txt", tmp_path / "a" / "b" / "two.txt")
    shutil.copy(VALID / "whitespace_messages.md", tmp_path / "three.md")
    shutil.copy(FIXTURES / "invalid" / "latin1.md", tmp_path / "a" / "broken.md")
    return tmp_path


def test_columns_are_the_contract() -> None:
    corpus = q7.read_corpus(VALID / "basic.md")
    assert list(corpus.messages.columns[:11]) == [
        "conversation_id", "turn", "speaker", "model", "text", "n_chars", "n_words", "is_seed",
        "is_empty", "is_end_marker", "ends_with_end_marker"]
    assert list(corpus.messages.columns) == list(MESSAGE_COLUMNS)
    assert {"source"} <= set(corpus.messages.columns)
    assert {"conversation_id", "title", "speaker_a", "speaker_b", "participants", "started",
            "ended", "duration_s", "n_messages", "n_messages_declared", "format", "source",
            "session", "provider"} <= set(corpus.conversations.columns)
    assert list(corpus.problems.columns) == ["source", "line", "kind", "detail"]


def test_counts_follow_python_semantics() -> None:
    m = q7.read_corpus(q7.RAW_DIR).messages
    assert m["n_chars"].tolist() == [len(t) for t in m["text"]]
    assert m["n_words"].tolist() == [len(t.split()) for t in m["text"]]
    assert m["is_empty"].tolist() == [t == "" for t in m["text"]]


def test_raise_stops_at_the_broken_file(folder: Path) -> None:
    with pytest.raises(q7.TranscriptParseError, match=r"broken\.md, line 23\)$"):
        q7.read_corpus(folder)


def test_skip_loads_every_good_file_and_reports_the_broken_one(folder: Path) -> None:
    corpus = q7.read_corpus(folder, errors="skip")
    assert sorted(corpus.conversations["conversation_id"]) == ["one", "three", "two"]
    skipped = corpus.problems[corpus.problems["kind"] == "unreadable_file"]
    assert skipped["source"].tolist() == [str(folder / "a" / "broken.md")]
    assert skipped["line"].tolist() == [23]
    assert "not UTF-8" in skipped["detail"].iloc[0]


def test_warn_also_warns(folder: Path) -> None:
    with pytest.warns(q7.TranscriptWarning, match="broken.md"):
        corpus = q7.read_corpus(folder, errors="warn")
    assert len(corpus) == 3


def test_skip_does_not_warn(folder: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        q7.read_corpus(folder, errors="skip")


def test_sources_can_be_globs_lists_and_relative_to_a_root(folder: Path) -> None:
    by_glob = q7.read_corpus(str(folder / "**" / "*.md"), errors="skip")
    assert sorted(by_glob.conversations["conversation_id"]) == ["one", "three"]
    by_list = q7.read_corpus([folder / "three.md", folder / "a" / "b"])
    assert sorted(by_list.conversations["conversation_id"]) == ["three", "two"]
    rooted = q7.read_corpus("three.md", root=folder)
    assert rooted.conversations["source"].tolist() == ["three.md"]


def test_messages_sorted_by_conversation_and_turn(folder: Path) -> None:
    m = q7.read_corpus(folder, errors="skip").messages
    assert m.equals(m.sort_values(["conversation_id", "turn"], ignore_index=True))


def test_bad_arguments_say_what_was_expected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"errors must be one of .*'ignore'"):
        q7.read_corpus(VALID / "basic.md", errors="ignore")
    with pytest.raises(FileNotFoundError, match="not a file, folder or matching pattern"):
        q7.read_corpus(tmp_path / "missing")
    with pytest.raises(FileNotFoundError, match="holds no files"):
        q7.read_corpus(tmp_path)


def test_ids_stay_unique_when_file_names_collide(tmp_path: Path) -> None:
    for run in ("1", "2"):
        (tmp_path / run).mkdir()
        shutil.copy(VALID / "basic.md", tmp_path / run / "x_run1.md")
    ids = q7.read_corpus(tmp_path).conversations["conversation_id"].tolist()
    assert ids == ["1/x_run1", "2/x_run1"]


def _twins(tmp_path: Path) -> tuple[Path, Path]:
    md, js = tmp_path / "4o_vs_deepseek 3.1_run1.md", tmp_path / "4o_vs_deepseek 3.1_run1.json"
    shutil.copy(VALID / "basic.md", md)
    shutil.copy(VALID / "export.json", js)
    return md, js


def test_twins_load_once_and_agree(tmp_path: Path) -> None:
    md, js = _twins(tmp_path)
    corpus = q7.read_corpus(tmp_path)
    assert len(corpus) == 1 and len(corpus.messages) == 5
    conv = corpus.conversations.iloc[0]
    assert (conv["source"], conv["twin"]) == (str(js), str(md))
    assert corpus.problems.empty


def test_twins_that_disagree_are_reported(tmp_path: Path) -> None:
    md, js = _twins(tmp_path)
    data = json.loads(js.read_text())
    data["messages"][3]["content"] = "Something else entirely."
    js.write_text(json.dumps(data, indent=2))
    problems = q7.read_corpus(tmp_path).problems
    assert problems["kind"].tolist() == ["twin_mismatch"]
    assert problems["line"].tolist() == [26]
    assert "message 3 differs in its text" in problems["detail"].iloc[0]


def test_corpus_is_immutable_and_displays_as_a_summary() -> None:
    corpus = q7.read_corpus(q7.RAW_DIR)
    with pytest.raises(FrozenInstanceError):
        corpus.messages = pd.DataFrame()
    assert repr(corpus) == "<Corpus: 4 conversations, 244 messages, 5 speakers, 0 problems>"
    html = corpus._repr_html_()
    assert "<table" in html and "conversations" in html and len(html) < 2000


def test_progress_bar_only_when_asked_or_large(tmp_path: Path, capsys) -> None:
    q7.read_corpus(VALID / "basic.md", progress=True)
    assert "reading transcripts" in capsys.readouterr().err
    q7.read_corpus(VALID / "basic.md")
    assert capsys.readouterr().err == ""


def test_twin_problems_are_reported_once_and_markdown_only_ones_kept(tmp_path: Path) -> None:
    md, js = _twins(tmp_path)
    md.write_text(md.read_text().replace("**Ended:** 2025-10-26 13:06:01\n", "")
                  .replace("**Messages:** 5", "**Messages:** 6"))
    data = json.loads(js.read_text())
    data["ended_at"] = None
    js.write_text(json.dumps(data, indent=2))
    problems = q7.read_corpus(tmp_path).problems
    assert sorted(problems["kind"]) == ["message_count_mismatch", "missing_end_time"]


def test_twins_that_disagree_on_the_end_are_reported(tmp_path: Path) -> None:
    md, js = _twins(tmp_path)
    md.write_text(md.read_text().replace("**Ended:** 2025-10-26 13:06:01\n", ""))
    problems = q7.read_corpus(tmp_path).problems
    assert "only the JSON twin records an end time" in " ".join(problems["detail"])


def test_real_path_of_every_kind_of_link_is_os_realpath(tmp_path, monkeypatch):
    from q7x2_lib.io.corpus import _real_path

    (tmp_path / "real" / "sub").mkdir(parents=True)
    (tmp_path / "real" / "sub" / "a.md").write_text("x")
    (tmp_path / "other.md").write_text("y")
    (tmp_path / "dirlink").symlink_to(tmp_path / "real")  # a linked folder
    (tmp_path / "real" / "sub" / "filelink.md").symlink_to(tmp_path / "other.md")
    (tmp_path / "real" / "chain.md").symlink_to(tmp_path / "real" / "sub" / "filelink.md")
    (tmp_path / "real" / "up").symlink_to("..")  # relative, and back up
    monkeypatch.chdir(tmp_path / "real")
    paths = ["sub/a.md", "chain.md", "up/real/sub/a.md", "up/dirlink/sub/filelink.md",
             str(tmp_path / "dirlink" / "sub" / "a.md"), "../dirlink/chain.md", "./sub/a.md"]
    folders: dict[str, str] = {}
    for text in paths * 2:  # the second time from the folder cache
        assert _real_path(Path(text), folders) == os.path.realpath(text), text
    assert os.path.realpath("chain.md") == str(tmp_path.resolve() / "other.md")

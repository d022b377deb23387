"""Hostile and broken input, one finding at a time: nothing lost, merged or guessed."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from unittest import mock

import pandas as pd
import pytest
from golden import FIXTURES

import q7x2_lib as q7
from q7x2_lib.io.readers import TwinReader

VALID = FIXTURES / "valid"
HEAD = "# A ↔ B\n\n**Started:** 2025-10-26 13:04:23\n**Messages:** {n}\n\n---\n\n"
BODY = "### A\n\n \n\n---\n\n### B\n\nhello\n\n---\n"


def _read_skip(folder: Path) -> q7.Corpus:
    return q7.read_corpus(folder, errors="skip")


def _unreadable(corpus: q7.Corpus) -> dict[str, str]:
    rows = corpus.problems[corpus.problems["kind"] == "unreadable_file"]
    return {Path(s).name: d for s, d in zip(rows["source"], rows["detail"], strict=True)}


@pytest.mark.parametrize(("count", "read_as"), [("²", None), ("9" * 25, None), ("2", 2)])
def test_a_message_count_that_is_no_small_number_is_a_bad_field(tmp_path, count, read_as):
    (tmp_path / "run.md").write_text(HEAD.format(n=count) + BODY)
    corpus = q7.read_corpus(tmp_path)
    assert corpus.conversations["n_messages_declared"].tolist() == [
        read_as if read_as is not None else pd.NA]
    assert ("bad_field" in set(corpus.problems["kind"])) == (read_as is None)


def test_foreign_failures_of_one_file_are_problem_rows_and_the_rest_loads(tmp_path):
    shutil.copy(VALID / "basic.md", tmp_path / "good.md")
    (tmp_path / "deep.json").write_text('{"model_a": "A", "model_b": "B", "messages": '
                                        + "[" * 100_000 + "]" * 100_000 + "}")
    (tmp_path / "round.txt").write_text("### Round " + "1" * 4_301 + "/3\n\n### Claude 1 ###\nhi\n")
    surrogate = {"model_a": "A", "model_b": "B", "messages": [
        {"role": "user", "content": " ", "speaker": "A"},
        {"role": "assistant", "content": "\ud800", "speaker": "B"}]}
    (tmp_path / "surrogate.json").write_text(json.dumps(surrogate))
    meta = (VALID / "convokit" / "utterances.jsonl").read_text().replace('"meta": {}',
                                                                         '"meta": "text"', 1)
    (tmp_path / "ck").mkdir()
    (tmp_path / "ck" / "utterances.jsonl").write_text(meta)
    corpus = _read_skip(tmp_path)
    bad = _unreadable(corpus)
    assert set(bad) == {"deep.json", "round.txt", "surrogate.json"}
    assert "lone surrogate" in bad["surrogate.json"]
    assert "good" in set(corpus.conversations["conversation_id"])
    assert {"c1", "d1"} <= set(corpus.conversations["conversation_id"])  # meta: "text" is no meta


def test_an_unreadable_file_is_a_problem_row(tmp_path):
    shutil.copy(VALID / "basic.md", tmp_path / "a.md")
    shutil.copy(VALID / "basic.md", tmp_path / "b.md")
    real = TwinReader._bytes

    def refuse(path):
        if path.name == "b.md":
            raise PermissionError(13, "Permission denied")
        return real(path)

    with mock.patch.object(TwinReader, "_bytes", side_effect=refuse):
        corpus = _read_skip(tmp_path)
    assert corpus.conversations["conversation_id"].tolist() == ["a"]
    assert _unreadable(corpus)["b.md"] == "skipped: cannot read the file: Permission denied"


def test_names_that_collide_never_merge(tmp_path):
    shutil.copy(VALID / "basic.md", tmp_path / "run.md")
    shutil.copy(VALID / "chat_list.json", tmp_path / "run.json")  # another format, one stem
    shutil.copy(VALID / "chat_lines.jsonl", tmp_path / "x.jsonl")
    shutil.copy(VALID / "chat_list.json", tmp_path / "x#1.json")
    shutil.copytree(VALID / "convokit", tmp_path / "ck")
    shutil.copy(VALID / "basic.md", tmp_path / "ck" / "c1.md")  # a stem equal to a ConvoKit id
    corpus = _read_skip(tmp_path)
    ids = corpus.conversations["conversation_id"]
    assert ids.is_unique
    per_source = corpus.conversations.groupby("source").size()
    expected = q7.read_corpus([tmp_path / "run.md"]).messages
    got = corpus.messages[corpus.messages["source"] == str(tmp_path / "run.md")]
    assert len(got) == len(expected)  # run.md's messages alone, nothing of run.json
    assert per_source[str(tmp_path / "x.jsonl")] == 3
    assert {"run.md", "run.json", "x#1.json"} <= set(ids)


def test_a_third_file_of_a_twin_stem_is_kept(tmp_path):
    for name in ("t.md", "t.txt"):
        shutil.copy(VALID / "basic.md", tmp_path / name)
    shutil.copy(VALID / "export.json", tmp_path / "t.json")
    corpus = _read_skip(tmp_path)
    assert sorted(corpus.conversations["source"].map(lambda s: Path(s).name)) == [
        "t.json", "t.md", "t.txt"]


def test_links_and_odd_entries_are_read_once_or_reported(tmp_path):
    shutil.copy(VALID / "basic.md", tmp_path / "run.md")
    os.symlink(".", tmp_path / "loop")
    os.symlink("nowhere.md", tmp_path / "dangling.md")
    os.mkfifo(tmp_path / "pipe.md")
    (tmp_path / "folder.md").mkdir()
    corpus = q7.read_corpus([tmp_path, tmp_path / "run.md", str(tmp_path) + "//run.md"],
                            errors="skip")
    assert corpus.conversations["conversation_id"].tolist() == ["run"]
    kinds = dict(zip(corpus.problems["source"].map(lambda s: Path(s).name),
                     corpus.problems["kind"], strict=True))
    assert kinds == {"loop": "repeated_folder", "dangling.md": "not_a_file",
                     "pipe.md": "not_a_file", "folder.md": "not_a_file"}
    with pytest.raises(FileNotFoundError, match="a named pipe"):
        q7.read_corpus(tmp_path / "pipe.md")


def test_a_path_with_glob_characters_is_that_path(tmp_path):
    shutil.copy(VALID / "basic.md", tmp_path / "run[1].md")
    shutil.copy(VALID / "letter.txt", tmp_path / "run1.md")
    corpus = q7.read_corpus(tmp_path / "run[1].md")
    assert corpus.conversations["source"].tolist() == [str(tmp_path / "run[1].md")]
    assert len(q7.read_corpus(str(tmp_path / "run*.md"))) == 2  # a pattern is still a pattern


def test_failed_runs_are_counted_and_shown(tmp_path):
    (tmp_path / "failed.md").write_text(HEAD.format(n=1) + "### A\n\n \n\n---\n")
    (tmp_path / "empty.json").write_text(json.dumps(
        {"model_a": "A", "model_b": "B", "messages": [], "started_at": None, "ended_at": None}))
    (tmp_path / "good.md").write_text(HEAD.format(n=2) + BODY)
    corpus = q7.read_corpus(tmp_path)
    failed = corpus.problems[corpus.problems["kind"] == "failed_run"]
    assert sorted(failed["source"].map(lambda s: Path(s).name)) == ["empty.json", "failed.md"]
    assert corpus.summary().loc["failed runs", "value"] == 2
    assert len(corpus) == 3  # kept: a failed run is a conversation in which nobody replied
    for cid in ("failed", "empty"):
        assert "a failed run" in corpus.conversation(cid)._repr_html_()


def test_backrooms_rounds_without_a_limit_parse(tmp_path):
    log = "### Round 1/inf\n\n### Kimi K2 1 ###\nhello\n\n### Kimi K2 2 ###\nhi\n\n" \
          "### Round 2/inf\n\n### Kimi K2 1 ###\nbye\n"
    (tmp_path / "k2.txt").write_text(log)
    corpus = q7.read_corpus(tmp_path / "k2.txt")
    assert corpus.conversations["format"].tolist() == ["backrooms"]
    assert corpus.messages["round"].tolist() == [1, 1, 2]
    assert set(corpus.messages["model"]) == {"Kimi K2"}


def test_a_log_that_opens_with_a_round_line_is_never_read_as_markdown(tmp_path):
    (tmp_path / "odd.txt").write_text("### Round 1/?\n\nsome words\n")
    with pytest.raises(q7.TranscriptParseError, match="unknown transcript format"):
        q7.read_corpus(tmp_path / "odd.txt")


@pytest.mark.parametrize("value", ["now", "today", "yesterday", "tomorrow at noon"])
def test_words_are_not_dates(tmp_path, value):
    (tmp_path / "run.md").write_text(HEAD.replace("2025-10-26 13:04:23", value).format(n=2)
                                     + BODY)
    corpus = q7.read_corpus(tmp_path / "run.md")
    assert corpus.conversations["started"].isna().all()
    assert "bad_field" in set(corpus.problems["kind"])


def test_a_number_for_a_time_is_unix_seconds_in_every_reader(tmp_path):
    chat = {"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}],
            "started_at": 1_718_000_000}
    (tmp_path / "chat.json").write_text(json.dumps(chat))
    (tmp_path / "ck").mkdir()
    shutil.copy(VALID / "convokit" / "utterances.jsonl", tmp_path / "ck" / "utterances.jsonl")
    (tmp_path / "ck" / "conversations.json").write_text(json.dumps(
        {"c1": {"started": 1_718_000_000}}))
    corpus = q7.read_corpus(tmp_path)
    started = corpus.conversations.set_index("conversation_id")["started"]
    assert started["chat"] == started["c1"] == pd.Timestamp("2024-06-10 06:13:20")

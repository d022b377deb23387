"""The model column: which model each speaker runs, and self-play read as two speakers."""

from __future__ import annotations

import shutil
from pathlib import Path

from golden import FIXTURES

import q7x2_lib as q7
from q7x2_lib.datasets import make_messages

VALID = FIXTURES / "valid"


def test_self_play_twins_read_as_one_conversation_of_two_speakers(tmp_path: Path) -> None:
    for name in ("self_play.md", "self_play.json"):
        shutil.copy(VALID / name, tmp_path / name)
    corpus = q7.read_corpus(tmp_path)
    assert len(corpus) == 1
    assert "twin_mismatch" not in set(corpus.problems["kind"])
    m = corpus.messages
    assert m["speaker"].tolist() == ["gpt-5 1", "gpt-5 2", "gpt-5 1", "gpt-5 2"]
    assert set(m["model"]) == {"gpt-5"}
    assert q7.model_pairs(m).tolist() == ["gpt-5 ↔ gpt-5"]


def test_self_play_has_two_speakers_everywhere_and_one_model_on_the_diagonal() -> None:
    corpus = q7.read_transcript(VALID / "self_play.md")
    shares = q7.word_share(corpus.messages, n_boot=20)
    assert sorted(shares["speaker"]) == ["gpt-5 1", "gpt-5 2"]
    matrix = q7.model_matrix(corpus.messages)
    assert matrix[["opener", "responder", "n_conversations"]].values.tolist() == [
        ["gpt-5", "gpt-5", 1]]
    by_model = q7.length_profile(corpus.messages, x="relative", hue="model", n_bins=2,
                                 n_boot=20)
    assert set(by_model["model"]) == {"gpt-5"}


def test_backrooms_instances_run_the_model_of_their_name() -> None:
    corpus = q7.read_transcript(VALID / "backrooms_cli.txt")
    pairs = dict(zip(corpus.messages["speaker"], corpus.messages["model"], strict=True))
    assert pairs == {"Claude 3 Opus 1": "Claude 3 Opus", "Claude 3 Opus 2": "Claude 3 Opus"}
    assert q7.model_pairs(corpus.messages).tolist() == ["Claude 3 Opus ↔ Claude 3 Opus"]


def test_elsewhere_the_model_is_the_speaker() -> None:
    corpus = q7.read_transcript(VALID / "basic.md")
    assert corpus.messages["model"].tolist() == corpus.messages["speaker"].tolist()
    hand = make_messages({"c": [("A", "x"), ("B", "y")]})
    assert hand["model"].tolist() == ["A", "B"]


def test_distinct_names_are_never_split() -> None:
    messages = q7.read_transcript(VALID / "basic.md").messages
    assert not messages["speaker"].str.endswith((" 1", " 2")).any()

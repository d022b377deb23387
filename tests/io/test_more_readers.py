"""Backrooms logs, generic JSON / JSON Lines chat logs and ConvoKit corpora: errors, detection,
round trips (golden files for their valid fixtures run in test_readers.py)."""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from golden import FIXTURES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import q7x2_lib as q7
from q7x2_lib.io.readers import FORMATS, detect_format, drop_companions, parse_file, parse_file_all
from q7x2_lib.io.readers.backrooms import _CLOSING_RE, _HEADER_RE

INVALID = FIXTURES / "invalid"
VALID = FIXTURES / "valid"

# file, message fragment, line
CASES = [
    ("backrooms_no_messages.txt", "no message blocks: expected a line '### <Model name> <N> ###'",
     6),
    ("chat_no_speaker.json", "message 2 has no speaker: expected a string under one of speaker, "
     "name, from, role", 5),
    ("chat_no_text.json", "message 1 has no text", 3),
    ("chat_bad_line.jsonl", "invalid JSON Lines: line is not one JSON value", 3),
    ("chat_not_a_list.json", "expected a list of messages, or an object holding one under "
     "'messages' or 'conversations'", 1),
    ("chat_mixed_lines.jsonl", "expected one message object per line, like the first line", 3),
    ("convokit_no_speaker/utterances.jsonl",
     "utterance without a string 'speaker' and a 'conversation_id'", 3),
]


@pytest.mark.parametrize(("name", "fragment", "line"), CASES, ids=[c[0] for c in CASES])
def test_invalid_files_raise_with_file_and_line(name: str, fragment: str, line: int) -> None:
    path = INVALID / name
    with pytest.raises(q7.TranscriptParseError, match=re.escape(fragment)) as info:
        q7.read_transcript(path)
    assert (info.value.path, info.value.line) == (str(path), line)
    assert str(info.value).endswith(f"(at {path}, line {line})")


def test_unknown_format_lists_every_format() -> None:
    with pytest.raises(q7.TranscriptParseError) as info:
        q7.read_transcript(INVALID / "unknown_format.txt")
    for fragment in ("Backrooms-style log", "attractors markdown export", "attractors JSON",
                     "ConvoKit utterances.jsonl", "JSON Lines chat log", "session letter page"):
        assert fragment in str(info.value)


@pytest.mark.parametrize(("case", "expected"), [
    ("backrooms_cli.txt", "backrooms"), ("basic.md", "attractors-md"),
    ("export.json", "attractors-json"), ("chat_list.json", "chat-json"),
    ("chat_lines.jsonl", "chat-json"), ("convokit/utterances.jsonl", "convokit"),
    ("letter.txt", "session-letter"),
])
def test_each_format_wins_its_own_files(case: str, expected: str) -> None:
    text = (VALID / case).read_text(encoding="utf-8")
    assert detect_format(text).name == expected
    assert [f.name for f in FORMATS].index("attractors-json") < [f.name for f in FORMATS].index(
        "chat-json")


def test_backrooms_rounds_and_ending() -> None:
    corpus = q7.read_transcript(VALID / "backrooms_max_turns.txt")
    assert corpus.messages["round"].tolist() == [1, 1, 2, 2, 3, 3]
    assert str(corpus.messages["round"].dtype) == "Int64"
    conv = corpus.conversations.iloc[0]
    assert conv["ending"] == "Reached maximum number of turns (3). Conversation ended."
    assert conv["round_count"] == 3
    assert "Media Agent" not in set(corpus.messages["speaker"])
    assert corpus.problems["detail"].str.contains("2 '### Media Agent ###' blocks").any()


def test_round_is_missing_for_formats_without_rounds() -> None:
    rounds = q7.read_transcript(VALID / "basic.md").messages["round"]
    assert rounds.isna().all() and str(rounds.dtype) == "Int64"


def test_jsonl_conversations_are_named_by_line() -> None:
    corpus = q7.read_transcript(VALID / "chat_lines.jsonl")
    assert corpus.conversations["conversation_id"].tolist() == [
        "chat_lines#1", "chat_lines#2", "chat_lines#4"]
    with pytest.raises(ValueError, match="holds 3 conversations; use parse_file_all"):
        parse_file(VALID / "chat_lines.jsonl")
    assert len(parse_file_all(VALID / "chat_lines.jsonl")) == 3


def test_system_messages_lead_as_seeds() -> None:
    m = q7.read_transcript(VALID / "chat_messages.jsonl").messages
    assert m["is_seed"].tolist() == [True, False, False, False]
    assert q7.read_transcript(VALID / "chat_messages.jsonl").conversations["speaker_a"][0] == (
        "deepseek-v3")


def test_convokit_folder_reads_companions_not_as_transcripts(tmp_path: Path) -> None:
    corpus = q7.read_corpus(VALID / "convokit")
    assert corpus.problems.empty
    assert corpus.conversations["title"].tolist() == ["Claude meets Claude", "Opus 1 ↔ Opus 2"]
    files = sorted((VALID / "convokit").iterdir())
    assert [p.name for p in drop_companions(files)] == ["utterances.jsonl"]


def test_convokit_files_beside_other_transcripts(tmp_path: Path) -> None:
    (tmp_path / "ck").mkdir()
    for p in (VALID / "convokit").iterdir():
        (tmp_path / "ck" / p.name).write_bytes(p.read_bytes())
    (tmp_path / "basic.md").write_bytes((VALID / "basic.md").read_bytes())
    corpus = q7.read_corpus(tmp_path)
    assert corpus.conversations["conversation_id"].tolist() == ["basic", "c1", "d1"]
    assert corpus.problems.empty


def test_seed_corpus_round_trips_through_convokit(tmp_path: Path) -> None:
    seeds = q7.read_corpus(q7.RAW_DIR)
    folder = seeds.to_convokit(tmp_path / "ck")
    assert sorted(p.name for p in folder.iterdir()) == [
        "conversations.json", "corpus.json", "index.json", "speakers.json", "utterances.jsonl"]
    back = q7.read_corpus(folder)
    cols = ["conversation_id", "turn", "speaker", "text", "is_seed", "n_words", "round"]
    assert back.messages[cols].equals(seeds.messages[cols])
    keep = ["conversation_id", "title", "participants", "started", "ended", "session", "provider"]
    assert back.conversations[keep].equals(seeds.conversations[keep])
    index = json.loads((folder / "index.json").read_text())
    assert {"utterances-index", "speakers-index", "conversations-index", "overall-index",
            "version"} <= set(index)


def test_to_convokit_needs_convokit_only_without_a_path() -> None:
    seeds = q7.read_corpus(q7.RAW_DIR)
    try:
        import convokit  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match=r"pip install 'q7x2\[convokit\]'"):
            seeds.to_convokit()
    else:
        assert len(list(seeds.to_convokit().iter_utterances())) == len(seeds.messages)


# --- round trips -----------------------------------------------------------------------------

_CHARS = st.characters(codec="utf-8", exclude_characters="\x00\r")
_PIECES = st.sampled_from([
    "```", "```python", "$ ls -la", "drwxr-xr-x  2 root root  4096 .", "╔══╗", "║ ∞ ║", "╚══╝",
    "[████░░] 80%", "> look", ">>> done", "### Notes", "## Heading", "# Title", "---", "",
    "  ", "- item", "1. first", "**bold** *em*", "[END]", "^C^C", "🙏✨ 你好", "<script>x</script>",
])
bodies = st.lists(st.one_of(_PIECES, st.text(_CHARS, max_size=30)), max_size=8).map("\n".join)
models = st.text(st.characters(categories=("L", "N", "P", "S", "Zs"), exclude_characters="#"),
                 min_size=1, max_size=15).map(str.strip).filter(bool)


def _clean(body: str) -> bool:
    return not any(_HEADER_RE.fullmatch(line) for line in body.split("\n"))


def _to_backrooms(model: str, rounds: list[list[str]], ending: str | None) -> str:
    out = ["### Backrooms Run ###", "Template: cli", f"Models: {model}, {model}",
           "Started: 2025-09-12T10:51:21+00:00", ""]
    for k, bodies_ in enumerate(rounds, 1):
        out += [f"### Round {k}/{len(rounds)}", ""]
        for i, body in enumerate(bodies_):
            out += [f"### {model} {i % 2 + 1} ###", body, ""]
    return "\n".join(out + ([ending, ""] if ending else []))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(model=models,
       rounds=st.lists(st.lists(bodies.filter(_clean), min_size=1, max_size=3), min_size=1,
                       max_size=4),
       ending=st.sampled_from([None, "Reached maximum number of turns (4). Conversation ended.",
                               "X 1 has ended the conversation with ^C^C."]))
def test_backrooms_round_trip(model: str, rounds: list[list[str]], ending: str | None) -> None:
    last = rounds[-1][-1].strip().rsplit("\n", 1)[-1]
    if ending is None and _CLOSING_RE.fullmatch(last.strip()):
        return  # a body whose last line reads as a closing line is one, by design
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "run.txt"
        path.write_text(_to_backrooms(model, rounds, ending), encoding="utf-8")
        corpus = q7.read_transcript(path)
    expected = [(f"{model} {i % 2 + 1}", body.strip(), k)
                for k, bs in enumerate(rounds, 1) for i, body in enumerate(bs)]
    m = corpus.messages
    assert list(zip(m["speaker"], m["text"], m["round"], strict=True)) == expected
    found = corpus.conversations["ending"][0]
    assert (None if pd.isna(found) else found) == ending


def _shape(msgs: list[dict], shape: str) -> object:
    return {"messages": msgs} if shape == "messages" else (
        {"conversations": msgs} if shape == "sharegpt" else msgs)


conversations = st.lists(st.tuples(models, bodies), min_size=1, max_size=6)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(convs=st.lists(conversations, min_size=1, max_size=4),
       keys=st.sampled_from([("speaker", "content"), ("name", "text"), ("from", "value"),
                             ("role", "content")]),
       shape=st.sampled_from(["list", "messages", "sharegpt"]), lines=st.booleans())
def test_chat_json_round_trip(convs, keys, shape, lines) -> None:
    who, what = keys
    values = [_shape([{who: s, what: t} for s, t in conv], shape) for conv in convs]
    if any(s == "system" for conv in convs for s, _ in conv):
        return  # a leading "system" speaker is a seed by design
    text = ("\n".join(json.dumps(v, ensure_ascii=False) for v in values) + "\n" if lines
            else json.dumps(values[0], ensure_ascii=False, indent=2))
    kept = convs if lines else convs[:1]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "log.jsonl"
        path.write_text(text, encoding="utf-8")
        corpus = q7.read_corpus(path)
        back = q7.read_corpus(corpus.to_convokit(Path(tmp) / "ck"))
    expected = sorted((cid, turn, s, t.strip()) for cid, conv in zip(
        [f"log#{i}" for i in range(1, len(kept) + 1)] if lines and len(kept) > 1 else ["log"],
        kept, strict=True) for turn, (s, t) in enumerate(conv))
    for frame in (corpus.messages, back.messages):
        got = list(zip(frame["conversation_id"], frame["turn"], frame["speaker"], frame["text"],
                       strict=True))
        assert sorted(got) == expected

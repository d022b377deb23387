"""Readers: golden files for each format and pitfall; invalid files raise with file and line."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from golden import FIXTURES, as_golden, expected_path, read_case

import q7x2_lib as q7

VALID = sorted(p for p in (FIXTURES / "valid").iterdir() if not p.name.endswith(".expected.json"))


@pytest.mark.parametrize("case", VALID, ids=lambda p: p.name)
def test_golden(case: Path) -> None:
    expected = json.loads(expected_path(case).read_text(encoding="utf-8"))
    assert as_golden(read_case(case)) == expected


@pytest.mark.parametrize("variant", ["crlf.md", "cr.md", "bom.md"])
def test_line_endings_and_bom_read_like_plain_lf(variant: str) -> None:
    plain = q7.read_transcript(FIXTURES / "valid" / "basic.md").messages
    other = q7.read_transcript(FIXTURES / "valid" / variant).messages
    cols = ["turn", "speaker", "text", "line"]
    assert other[cols].equals(plain[cols])


def test_markdown_and_json_of_one_conversation_agree() -> None:
    md = q7.read_transcript(FIXTURES / "valid" / "basic.md").messages
    js = q7.read_transcript(FIXTURES / "valid" / "export.json").messages
    cols = ["turn", "speaker", "text", "is_seed", "n_words"]
    assert md[cols].equals(js[cols])


def test_text_keeps_markdown_line_break_spaces() -> None:
    text = q7.read_transcript(FIXTURES / "valid" / "basic.md").messages["text"][2]
    assert text == (
        "Hi there! Tell me something *fascinating*.  \nA second line after a markdown break."
    )


def test_seed_transcripts_match_their_headers() -> None:
    corpus = q7.read_corpus(q7.RAW_DIR)
    assert corpus.problems.empty
    assert corpus.conversations["n_messages"].tolist() == [97, 97, 49, 1]
    assert corpus.messages.groupby("conversation_id")["is_seed"].sum().tolist() == [1, 1, 1, 0]
    letter = corpus.conversations.iloc[3]
    found = (letter["session"], letter["provider"], letter["speaker_a"])
    assert found == (27, "Alibaba", "Qwen3 Max")


# file, message fragment, line
INVALID = [
    ("empty.txt", "the file is empty", 1),
    ("whitespace_only.txt", "only whitespace", 4),
    ("binary.bin", "binary data", 3),
    ("latin1.md", "not UTF-8", 23),
    ("unknown_format.txt", "unknown transcript format; supported: ", 1),
    ("bad_json.json", "invalid JSON", 5),
    ("json_no_speaker.json", "messages[1] has no string 'speaker'", 13),
    ("no_blocks.md", "no message blocks: expected a line '### 4o' or '### deepseek 3.1'", 8),
    ("no_rule.md", "no '---' line after the title", 5),
    ("letter_no_model.txt", "expected a 'Model Name (Provider)' line", 3),
]


@pytest.mark.parametrize(("name", "fragment", "line"), INVALID, ids=[c[0] for c in INVALID])
def test_invalid_files_raise_with_file_and_line(name: str, fragment: str, line: int) -> None:
    path = FIXTURES / "invalid" / name
    with pytest.raises(q7.TranscriptParseError, match=re.escape(fragment)) as info:
        q7.read_transcript(path)
    err = info.value
    assert isinstance(err, ValueError)
    assert (err.path, err.line) == (str(path), line)
    assert str(err).endswith(f"(at {path}, line {line})")


def test_not_utf8_is_never_a_bare_unicode_error() -> None:
    with pytest.raises(q7.TranscriptParseError) as info:
        q7.read_transcript(FIXTURES / "invalid" / "latin1.md")
    assert not isinstance(info.value, UnicodeDecodeError)
    assert "0xe9" in str(info.value)


def test_format_is_detected_from_content_not_extension(tmp_path: Path) -> None:
    misnamed = tmp_path / "conversation.json"
    misnamed.write_bytes((FIXTURES / "valid" / "basic.md").read_bytes())
    assert q7.read_transcript(misnamed).conversations["format"][0] == "attractors-md"

"""Readers: one module per transcript format, each found from the file's content, not its name."""

from __future__ import annotations

import collections
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import NamedTuple

from ..._core.errors import TranscriptParseError
from . import backrooms, chatjson, convokit, letter, markdown_bytes, orchestrator
from ._base import ParsedTranscript, check_surrogates, decode_text, guarded, twin_key
from .convokit import drop_companions
from .markdown_bytes import Scan

__all__ = ["FORMATS", "TRANSCRIPT_FORMATS", "Format", "ParsedTranscript", "TwinReader",
           "detect_format", "drop_companions", "parse_file", "parse_file_all", "parse_text",
           "parse_text_all"]

Parsed = ParsedTranscript | list[ParsedTranscript]


class Format(NamedTuple):
    """A transcript format: its name, a cheap test on the decoded text, and its parser.

    ``parse`` returns one conversation or, for formats that hold several, a list.
    ``parse_file``, when set, is used instead for files on disk (``path, text, name``): for
    formats whose companion files hold metadata.
    """

    name: str
    description: str
    sniff: Callable[[str], bool]
    parse: Callable[[str, str], Parsed]
    parse_file: Callable[[Path, str, str], Parsed] | None = None


# Order matters: the first format whose test accepts a file reads it. Backrooms logs open with
# "### ...", which the attractors markdown test would also take; attractors JSON exports and
# ConvoKit utterances are chat JSON too, so the generic chat reader comes after them.
FORMATS: list[Format] = [
    Format(backrooms.FORMAT,
           "Backrooms-style log (opens with '### Backrooms Run ###', '### Round k/M' or "
           "'### <Model> <N> ###')",
           backrooms.looks_like_backrooms, backrooms.parse_backrooms),
    Format(orchestrator.FORMAT_MD,
           "attractors markdown export (opens with '# A ↔ B' or '### Speaker')",
           orchestrator.looks_like_markdown, orchestrator.parse_markdown),
    Format(orchestrator.FORMAT_JSON,
           "attractors JSON export (an object with model_a, model_b and messages)",
           orchestrator.looks_like_json, orchestrator.parse_json),
    Format(convokit.FORMAT,
           "ConvoKit utterances.jsonl (objects with id, speaker, conversation_id, text)",
           convokit.looks_like_convokit, convokit.parse_convokit, convokit.parse_convokit_file),
    Format(chatjson.FORMAT_JSON,
           "JSON or JSON Lines chat log (role/speaker/name/from with content/text/value, "
           "as a list or under 'messages' or 'conversations')",
           chatjson.looks_like_chat_json, chatjson.parse_chat_json),
    Format(letter.FORMAT, "session letter page (opens with '← Back to Session N')",
           letter.looks_like_letter, letter.parse_letter),
]
#: The names of the transcript formats q7x2 reads, in the order they are tried (the ``format``
#: column of the conversations table). ``FORMATS`` holds their readers.
TRANSCRIPT_FORMATS: tuple[str, ...] = (*(f.name for f in FORMATS), chatjson.FORMAT_JSONL)


def detect_format(text: str, path: str | os.PathLike[str] = "<text>") -> Format:
    """Return the format whose test accepts ``text``; raise naming the formats supported."""
    for fmt in FORMATS:
        if fmt.sniff(text):
            return fmt
    supported = "; ".join(f.description for f in FORMATS)
    first = next((i for i, ln in enumerate(text.split("\n"), 1) if ln.strip()), 1)
    raise TranscriptParseError(f"unknown transcript format; supported: {supported}", path, first)


def _as_list(parsed: Parsed) -> list[ParsedTranscript]:
    return parsed if isinstance(parsed, list) else [parsed]


def _one(docs: list[ParsedTranscript], path: str) -> ParsedTranscript:
    if len(docs) != 1:
        raise ValueError(f"{path} holds {len(docs)} conversations; use parse_file_all or "
                         "parse_text_all to read them all")
    return docs[0]


def parse_text_all(text: str, path: str = "<text>") -> list[ParsedTranscript]:
    """Parse decoded transcript text of any supported format: every conversation it holds."""
    with guarded(path, "the text"):
        docs = _as_list(detect_format(text, path).parse(text, path))
        check_surrogates(text, docs, path)
    return docs


def parse_text(text: str, path: str = "<text>") -> ParsedTranscript:
    """Parse decoded transcript text that holds one conversation."""
    return _one(parse_text_all(text, path), path)


def parse_file_all(
    path: str | os.PathLike[str], *, name: str | None = None
) -> list[ParsedTranscript]:
    """Read, decode and parse one transcript file: every conversation it holds.

    ``name`` is how errors and tables call the file.
    """
    p = Path(path)
    name = name or str(p)
    with guarded(name):
        text = decode_text(p.read_bytes(), name)
        fmt = detect_format(text, name)
        docs = _as_list(fmt.parse_file(p, text, name) if fmt.parse_file
                        else fmt.parse(text, name))
        check_surrogates(text, docs, name)
    return docs


def parse_file(path: str | os.PathLike[str], *, name: str | None = None) -> ParsedTranscript:
    """Read, decode and parse one transcript file that holds one conversation."""
    return _one(parse_file_all(path, name=name), name or str(path))


class TwinReader:
    """``parse_file_all`` for the files of a chunk, read in order, that knows about twins.

    The attractors orchestrator exports each conversation twice, as JSON and as markdown (same
    folder and stem, ``twin_key``; the JSON sorts first). Once the JSON is read, the markdown
    is checked against its messages in one comparison instead of being split block by block:
    the same result, in a fraction of the time. Each JSON's messages are kept until its twin is
    read, so use one reader per chunk of files, not for a whole corpus.

    ``names`` are every file name of the chunk. Where only two share a twin key, the JSON and
    the markdown, reading corpora merges them (keeping the JSON, see ``corpus._merge_twins``)
    and compares the markdown's messages with the JSON's, nothing more: a markdown that
    matches then has its messages' lines left ``None`` rather than counted.
    """

    def __init__(self, names: Iterable[str] = ()) -> None:
        self._json: dict[tuple[str, str], orchestrator.JsonTwin] = {}
        self._keys = {name: twin_key(name) for name in names}
        counts = collections.Counter(self._keys.values())
        self._pairs = {key for key, count in counts.items() if count == 2}

    def parse_file_all(self, path: Path, *, name: str) -> list[ParsedTranscript]:
        """What ``parse_file_all(path, name=name)`` returns (but for the lines above)."""
        with guarded(name):
            return self._parse_bytes(path, self._bytes(path), name)

    def scan_or_parse(self, path: Path, *, name: str) -> list[ParsedTranscript] | Scan:
        """``parse_file_all``, or, for a markdown export without a JSON twin in the chunk, its
        blocks found in the bytes (``markdown_bytes.scan``): ``markdown_bytes.finish`` then
        builds the documents of many such files at once."""
        with guarded(name):
            data = self._bytes(path)
            if self._key(name) not in self._pairs and (found := markdown_bytes.scan(data, name)):
                return found
            return self._parse_bytes(path, data, name)

    def parse_data(self, path: Path, data: bytes, *, name: str) -> list[ParsedTranscript]:
        """``parse_file_all`` of a file whose bytes were read already."""
        with guarded(name):
            return self._parse_bytes(path, data, name)

    def _parse_bytes(self, path: Path, data: bytes, name: str) -> list[ParsedTranscript]:
        text = decode_text(data, name)
        docs = self._parse(path, text, name)
        check_surrogates(text, docs, name)
        return docs

    @staticmethod
    def _bytes(path: Path) -> bytes:
        with open(path, "rb", buffering=0) as file:  # unbuffered: one read of the whole file
            return file.readall()

    def _parse(self, path: Path, text: str, name: str) -> list[ParsedTranscript]:
        fmt = detect_format(text, name)
        if fmt.name == orchestrator.FORMAT_JSON and fmt.parse is orchestrator.parse_json:
            doc, twin = orchestrator.parse_json_twin(text, name)
            if twin is not None:
                self._json[self._key(name)] = twin
            return [doc]
        if fmt.name == orchestrator.FORMAT_MD and fmt.parse is orchestrator.parse_markdown:
            key = self._key(name)
            return [orchestrator.parse_markdown_twin(text, name, self._json.pop(key, None),
                                                   count_lines=key not in self._pairs)]
        return _as_list(fmt.parse_file(path, text, name) if fmt.parse_file
                        else fmt.parse(text, name))

    def _key(self, name: str) -> tuple[str, str]:
        return self._keys.get(name) or twin_key(name)

"""What every reader returns, and the decoding every reader shares."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..._core.errors import TranscriptParseError

__all__ = ["ParsedTranscript", "check_surrogates", "decode_text", "guarded", "line_of", "timestamp",
           "twin_key"]

_BOM = "\ufeff"
# A JSON escape of a lone UTF-16 surrogate ("\ud800"): the only way text that decoded as UTF-8
# can hold one, and no text can be written with it.
_SURROGATE_ESCAPE_RE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
# A date and time written out: "2025-10-26 13:04:23", ISO 8601 with a zone. Never words such as
# "now" or "today", which pandas would read as the moment the file is read.
_DATE_RE = re.compile(r"(?<!\s)\s*+[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[ T]|\s*+\Z)")


@dataclass
class ParsedTranscript:
    """One conversation as a reader found it: metadata, parallel message columns, findings.

    ``name`` stands in for the file's stem in the conversation id when one file holds several
    conversations (``log#3`` for line 3 of a JSON Lines file); ``rounds`` holds each message's
    round number where the format records one (else ``None``); ``models`` maps a speaker to
    the model it runs where the format says so (a Backrooms ``GPT-5 1`` runs ``GPT-5``); a
    speaker not in it runs the model of its own name.
    """

    path: str
    format: str
    meta: dict[str, Any] = field(default_factory=dict)
    speakers: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    seeds: list[bool] = field(default_factory=list)
    rounds: list[int | None] = field(default_factory=list)
    problems: list[dict[str, Any]] = field(default_factory=list)
    name: str | None = None
    models: dict[str, str] = field(default_factory=dict)

    def add(
        self, speaker: str, text: str, line: int, *, seed: bool = False, round: int | None = None,
    ) -> None:
        """Append one message: line endings normalised to LF, surrounding whitespace stripped."""
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        self.speakers.append(speaker)
        self.texts.append(text.strip())
        self.lines.append(line)
        self.seeds.append(seed)
        self.rounds.append(round)

    def extend(self, speakers: list[str], texts: list[str], lines: list[int],
               seeds: list[bool]) -> None:
        """Append many messages at once; ``texts`` already stripped, with LF line endings."""
        self.speakers += speakers
        self.texts += texts
        self.lines += lines
        self.seeds += seeds
        self.rounds += [None] * len(texts)

    def split_self_play(self, participants: Sequence[str]) -> tuple[str, ...]:
        """Tell apart the two speakers of a self-play run whose participants share one name.

        Two-party formats that alternate strictly (the orchestrator's) name both participants
        the same when one model talks to itself; the speakers become ``"<name> 1"`` (the first
        message's) and ``"<name> 2"``, by position, and both run the model ``<name>``. Returns
        the participants to record: the new names for self-play, else ``participants``.
        """
        names = tuple(participants)
        if len(names) != 2 or names[0] != names[1] or any(s != names[0] for s in self.speakers):
            return names
        first, second = f"{names[0]} 1", f"{names[0]} 2"
        self.speakers = [first if i % 2 == 0 else second for i in range(len(self.speakers))]
        self.models = {first: names[0], second: names[0]}
        return first, second

    def problem(self, kind: str, detail: str, line: int | None = None) -> None:
        """Record a finding that does not stop the file from loading."""
        self.problems.append({"source": self.path, "line": line, "kind": kind, "detail": detail})


def timestamp(value: Any, doc: ParsedTranscript, line: int | None, what: str):
    """A naive UTC ``pd.Timestamp`` from a field, or ``None`` with a ``bad_field`` problem.

    Text must spell a date (``YYYY-MM-DD``, a time and zone optional); a number is a Unix time in
    seconds, in every format that allows one. Empty or missing values are ``None``, silently.
    """
    if value is None or value == "":
        return None
    try:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise TypeError
        if isinstance(value, str):
            if not _DATE_RE.match(value):
                raise ValueError
            ts = pd.Timestamp(value)
        else:
            ts = pd.Timestamp(value, unit="s")
        if ts is pd.NaT:
            raise ValueError
    except (ValueError, TypeError, OverflowError, pd.errors.OutOfBoundsDatetime):
        shown = value[:60] if isinstance(value, str) else value
        doc.problem("bad_field", f"{what} {shown!r} is not a date and time", line)
        return None
    return ts.tz_convert("UTC").tz_localize(None) if ts.tzinfo is not None else ts


def twin_key(name: str) -> tuple[str, str]:
    """Folder and stem (``Path.stem``'s rule: the name without its last suffix) of a file name.

    Files that share it are twins (one conversation exported twice). String operations rather
    than a ``Path`` per file: names come from ``Path`` already, so are normalised.
    """
    folder, base = os.path.split(name)
    dot = base.rfind(".")
    return folder, base[:dot] if 0 < dot < len(base) - 1 else base


def line_of(text: str, pos: int) -> int:
    """1-based line number of character offset ``pos`` in ``text``."""
    return text.count("\n", 0, pos) + 1


def decode_text(data: bytes, path: str | os.PathLike[str]) -> str:
    """Decode UTF-8 ``data`` (BOM dropped) and normalise CRLF/CR line endings to LF.

    Raises ``TranscriptParseError`` naming the file and line for empty files, binary data and
    bytes that are not UTF-8.
    """
    if not data or data.isspace():
        what = "the file is empty" if not data else "the file holds only whitespace"
        line = data.count(b"\n") + 1 if data else 1
        raise TranscriptParseError(f"{what}: expected a transcript", path, line)
    if data.startswith(b"PAR1"):
        raise TranscriptParseError(
            "a Parquet file, not a transcript: part of a q7x2 cache folder without its q7x2.json "
            "manifest (a write that did not finish?); read the cache folder, or rebuild it",
            path, 1)
    nul = data.find(b"\x00")
    if nul != -1:
        raise TranscriptParseError(
            "binary data (a NUL byte), not a text transcript", path, data.count(b"\n", 0, nul) + 1
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        bad = data[exc.start:exc.start + 1].hex()
        raise TranscriptParseError(
            f"bytes that are not UTF-8 (0x{bad} at byte {exc.start}); re-save the file as UTF-8",
            path, line,
        ) from None
    if text.startswith(_BOM):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


@contextlib.contextmanager
def guarded(path: str, what: str = "the file") -> Iterator[None]:
    """Turn any failure of reading one file into a ``TranscriptParseError`` naming the file.

    Readers raise ``TranscriptParseError`` for what they expect; this catches what they do not
    (a JSON nested thousands deep, a number too long for an integer, a value of the wrong
    type), so that one hostile file is one problem row and never aborts a whole read.
    """
    try:
        yield
    except TranscriptParseError:
        raise
    except OSError as exc:
        raise TranscriptParseError(f"cannot read {what}: {exc.strerror or exc}", path) from None
    except RecursionError:
        raise TranscriptParseError(f"{what} is nested too deeply to read", path) from None
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError,
            UnicodeError, MemoryError) as exc:
        raise TranscriptParseError(
            f"{what} could not be read: {type(exc).__name__}: {_short(str(exc))}", path,
        ) from None


def _short(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def check_surrogates(text: str, docs: Sequence[ParsedTranscript], path: str) -> None:
    """Refuse a file whose JSON escapes decode to lone surrogates: they are not text, and would
    fail later, far from the file (writing the table, a figure, a report)."""
    if not _SURROGATE_ESCAPE_RE.search(text):
        return
    for doc in docs:
        for strings in (doc.texts, doc.speakers):
            for i, s in enumerate(strings):
                if _SURROGATE_RE.search(s):
                    line = doc.lines[i] if strings is doc.texts and i < len(doc.lines) else None
                    at = _SURROGATE_ESCAPE_RE.search(text)
                    raise TranscriptParseError(
                        "a lone surrogate escape such as \\ud800 is not text: the JSON "
                        "encodes half of a character", path,
                        line or (line_of(text, at.start()) if at else None),
                    )

"""What every reader returns, and the decoding every reader shares."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..._core.errors import TranscriptParseError

__all__ = ["ParsedTranscript", "decode_text", "line_of", "twin_key"]

_BOM = "\ufeff"


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

"""Readers: one module per transcript format, each found from the file's content, not its name."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from ..errors import TranscriptParseError
from . import attractors, letter
from ._base import ParsedTranscript, decode_text

__all__ = ["FORMATS", "Format", "ParsedTranscript", "detect_format", "parse_file", "parse_text"]


class Format(NamedTuple):
    """A transcript format: its name, a cheap test on the decoded text, and its parser."""

    name: str
    description: str
    sniff: Callable[[str], bool]
    parse: Callable[[str, str], ParsedTranscript]


FORMATS: list[Format] = [
    Format(attractors.FORMAT_MD,
           "attractors markdown export (opens with '# A ↔ B' or '### Speaker')",
           attractors.looks_like_markdown, attractors.parse_markdown),
    Format(attractors.FORMAT_JSON,
           "attractors JSON export (an object with model_a, model_b and messages)",
           attractors.looks_like_json, attractors.parse_json),
    Format(letter.FORMAT, "session letter page (opens with '← Back to Session N')",
           letter.looks_like_letter, letter.parse_letter),
]


def detect_format(text: str, path: str | os.PathLike[str] = "<text>") -> Format:
    """Return the format whose test accepts ``text``; raise naming the formats supported."""
    for fmt in FORMATS:
        if fmt.sniff(text):
            return fmt
    supported = "; ".join(f.description for f in FORMATS)
    first = next((i for i, ln in enumerate(text.split("\n"), 1) if ln.strip()), 1)
    raise TranscriptParseError(f"unknown transcript format; supported: {supported}", path, first)


def parse_text(text: str, path: str = "<text>") -> ParsedTranscript:
    """Parse decoded transcript text of any supported format."""
    return detect_format(text, path).parse(text, path)


def parse_file(path: str | os.PathLike[str], *, name: str | None = None) -> ParsedTranscript:
    """Read, decode and parse one transcript file; ``name`` is how errors and tables call it."""
    p = Path(path)
    name = name or str(p)
    return parse_text(decode_text(p.read_bytes(), name), name)

"""Reader for session letter pages: ``← Back to Session N``, ``Model (Provider)``, then the body."""

from __future__ import annotations

import re

from ..._core.errors import TranscriptParseError
from ._base import ParsedTranscript, line_of

__all__ = ["looks_like_letter", "parse_letter"]

FORMAT = "session-letter"
_BACK_RE = re.compile(r"(?<!\s)\s*+←\s*Back to Session\s+(?P<session>[0-9]{1,18})[ \t]*\n")
# The first line after blank ones: "Model Name (Provider)". Each run is matched once (possessive
# or a single backtrack), so a long line of spaces costs its length, not its square.
_MODEL_RE = re.compile(r"[ \t]*+(?P<model>[^\n(]*[^\s(])[ \t]*+\((?P<provider>[^\n()]+)\)[ \t]*+")


def looks_like_letter(text: str) -> bool:
    """A letter page opens with ``← Back to Session N``."""
    return _BACK_RE.match(text) is not None


def _after_blank_lines(text: str, pos: int) -> int:
    """Where the first line at or after ``pos`` that holds more than spaces and tabs starts."""
    while (end := text.find("\n", pos)) >= 0 and not text[pos:end].strip(" \t"):
        pos = end + 1
    return pos


def parse_letter(text: str, path: str) -> ParsedTranscript:
    """Parse a session letter page into one conversation holding one message by the model."""
    back = _BACK_RE.match(text)
    if back is None:
        raise TranscriptParseError("expected '← Back to Session N' as the first line", path, 1)
    start = _after_blank_lines(text, back.end())
    stop = text.find("\n", start)
    model = _MODEL_RE.fullmatch(text, start, stop if stop >= 0 else len(text))
    if model is None:
        raise TranscriptParseError(
            "expected a 'Model Name (Provider)' line after '← Back to Session N'",
            path, line_of(text, back.end()) + 1,
        )
    doc = ParsedTranscript(path=path, format=FORMAT)
    name = model["model"].strip()
    end = model.end() + 1  # past the model line's newline
    body = text[end:]
    doc.add(name, body, line_of(text, end + len(body) - len(body.lstrip())))
    if not doc.texts[0]:
        raise TranscriptParseError("the letter has no body after the model line", path,
                                   line_of(text, model.end()))
    session = int(back["session"])
    doc.meta = {
        "title": f"Session {session}: {name}", "participants": (name,), "started": None,
        "ended": None, "n_messages_declared": None, "session": session,
        "provider": model["provider"].strip(),
    }
    return doc

"""End markers: the ``[END]`` token offered to models as a way out, and its variants."""

from __future__ import annotations

import re

__all__ = ["END_MARKER_RE", "ends_with_end_marker", "is_end_marker_only", "strip_end_markers"]

# One marker: "[END]", any case, optionally "[END OF CONVERSATION]", "[END CHAT]", "[ end ]", with
# markdown emphasis or code ticks around it ("**[END]**", "`[END]`") and trailing punctuation.
# Linear time on any text: every run is possessive (``*+``), so nothing is tried twice, and a
# marker starts only where a run of emphasis characters starts (the lookbehind), so that a long
# run of "*" or "~" is scanned once, not once from each of its characters.
_MARKER = (
    r"[*_`~]*+\[\s*+end"
    r"(?:[\s_-]*+(?:of[\s_-]+)?(?:the[\s_-]+)?(?:conversation|chat|session|dialogue))?"
    r"\s*+\.?\s*+\][*_`~]*+[.!]?"
)
END_MARKER_RE = re.compile(rf"(?<![*_`~]){_MARKER}", re.IGNORECASE)
_ONLY_MARKERS_RE = re.compile(rf"(?<![*_`~\s])\s*+(?:{_MARKER}\s*+)+", re.IGNORECASE)
_ENDS_WITH_RE = re.compile(rf"(?<![*_`~]){_MARKER}\s*+\Z", re.IGNORECASE)


def is_end_marker_only(text: str) -> bool:
    """True when ``text`` holds one or more end markers and nothing else (whitespace aside)."""
    return _ONLY_MARKERS_RE.fullmatch(text) is not None


def ends_with_end_marker(text: str) -> bool:
    """True when ``text`` ends with an end marker, trailing whitespace aside."""
    return _ENDS_WITH_RE.search(text) is not None


def strip_end_markers(text: str) -> str:
    """Remove every end marker from ``text`` and strip the result."""
    return END_MARKER_RE.sub(" ", text).strip()

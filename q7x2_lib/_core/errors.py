"""The one exception type q7x2 raises for input it cannot read."""

from __future__ import annotations

import os

__all__ = ["TranscriptParseError"]


class TranscriptParseError(ValueError):
    """A transcript file could not be read.

    Carries the location: ``path`` (the file) and ``line`` (1-based, or ``None`` when the problem
    is the file as a whole). The message always ends ``"(at FILE, line N)"``.
    """

    def __init__(self, message: str, path: str | os.PathLike[str], line: int | None = None):
        self.reason = message
        self.path = str(path)
        self.line = line
        where = f"line {line}" if line is not None else "line 1"
        super().__init__(f"{message} (at {self.path}, {where})")

"""Reader for Backrooms-style logs: `### <Model> <N> ###` messages, round lines, a closing line."""

from __future__ import annotations

import re

from ..._core.errors import TranscriptParseError
from ._base import ParsedTranscript, line_of, timestamp

__all__ = ["looks_like_backrooms", "parse_backrooms"]

FORMAT = "backrooms"
_ARROW = " ↔ "
# Every line of the form "### ... ###" or "### Round k/M" is structure; anything else is body.
# M is "inf" for a run with no round limit; a round number is at most nine digits.
_HEADER_RE = re.compile(
    r"^### (?:Round (?P<round>[0-9]{1,9})/(?P<rounds>[0-9]{1,9}|inf|∞)(?: ###)?"
    r"|(?P<name>.+?) ###)[ \t]*$",
    re.MULTILINE,
)
_INSTANCE_RE = re.compile(r"[0-9]{1,9}")
_RUN_HEADER = "Backrooms Run"
_FIELD_RE = re.compile(r"^(?P<key>Template|Models|Started):[ \t]*(?P<value>.*?)[ \t]*$",
                       re.MULTILINE)
_CLOSING_RE = re.compile(
    r"^(?:.+ has ended the conversation with \^C\^C\.?|Reached maximum number of turns "
    r"\([0-9]+\)\.? Conversation ended\.?|Conversation ended\.?)[ \t]*$"
)


def _is_instance(name: str) -> bool:
    """``"<Model name> <N>"``: the number tells two instances of one model apart."""
    model, _, number = name.rpartition(" ")
    return bool(model) and not model[-1].isspace() and _INSTANCE_RE.fullmatch(number) is not None


def looks_like_backrooms(text: str) -> bool:
    """A Backrooms log opens with a ``### ... ###`` block line or a ``### Round k/M`` line."""
    head = text.lstrip("\n")
    end = head.find("\n")  # the first line, without copying the rest of the file
    first = head if end < 0 else head[:end]
    # Any "### ... ###" line: that closing "###" is the Backrooms shape (a log that opens with a
    # tool's block, "### Media Agent ###", is still a Backrooms log, and says what it holds).
    return _HEADER_RE.fullmatch(first) is not None


def parse_backrooms(text: str, path: str) -> ParsedTranscript:
    """Parse a Backrooms-style log (already decoded) into a ``ParsedTranscript``.

    Message blocks start at ``### <Model name> <N> ###`` (the speaker is the whole
    ``<Model name> <N>``); ``### Round k/M`` lines give the round of the messages after them; a
    final line such as ``Claude 1 has ended the conversation with ^C^C.`` or ``Reached maximum
    number of turns (20). Conversation ended.`` becomes the conversation's ``ending``. Other
    ``### ... ###`` blocks (``Media Agent``, tool output) are not messages: they are skipped and
    reported.
    """
    doc = ParsedTranscript(path=path, format=FORMAT)
    body, ending = _split_ending(text)
    headers = list(_HEADER_RE.finditer(body))
    _check_start(body, headers, path)
    state: dict = {"round": None, "max_round": None, "skipped": {}}
    line, prev = 1, 0
    for i, h in enumerate(headers):
        line += body.count("\n", prev, h.start())
        prev = h.start()
        stop = headers[i + 1].start() if i + 1 < len(headers) else len(body)
        _handle(doc, h, body[h.end():stop], line, state)
    if not doc.texts:
        raise TranscriptParseError(
            "no message blocks: expected a line '### <Model name> <N> ###'", path,
            line_of(text, headers[-1].start()) if headers else 1,
        )
    _report_skipped(doc, state["skipped"])
    _finish(doc, ending, state)
    return doc


def _split_ending(text: str) -> tuple[str, str | None]:
    """The log without its closing line, and that line (``None`` when the log has none)."""
    stripped = text.rstrip()
    last = stripped.rsplit("\n", 1)[-1]
    if _CLOSING_RE.fullmatch(last.strip()):
        return stripped[: len(stripped) - len(last)], last.strip()
    return text, None


def _check_start(body: str, headers: list[re.Match[str]], path: str) -> None:
    start = headers[0].start() if headers else len(body)
    if body[:start].strip():
        first = len(body[:start]) - len(body[:start].lstrip())
        raise TranscriptParseError(
            "text before the first block: expected '### <Model name> <N> ###', "
            "'### Round k/M' or '### Backrooms Run ###'", path, line_of(body, first),
        )


def _handle(doc: ParsedTranscript, h: re.Match[str], chunk: str, line: int, state: dict) -> None:
    """Take one block: a round line, the run header, a message, or a block that is none."""
    if h["round"] is not None:
        state["round"] = int(h["round"])
        state["max_round"] = max(state["max_round"] or 0, state["round"])
        if chunk.strip():
            doc.problem("stray_text", f"text after '### Round {h['round']}/{h['rounds']}' "
                        "belongs to no message; left out", line + 1)
    elif h["name"] == _RUN_HEADER:
        doc.meta.update({m["key"].lower(): (m["value"], line + chunk.count("\n", 0, m.start()))
                         for m in _FIELD_RE.finditer(chunk)})
    elif _is_instance(h["name"]):
        doc.add(h["name"], chunk, line, round=state["round"])
    else:
        state["skipped"].setdefault(h["name"], []).append(line)


def _report_skipped(doc: ParsedTranscript, skipped: dict[str, list[int]]) -> None:
    for name, lines in skipped.items():
        n = len(lines)
        doc.problem("skipped_block", f"{n} '### {name} ###' block{'s' if n > 1 else ''}: not "
                    "a model's message (no instance number), left out", lines[0])


def _finish(doc: ParsedTranscript, ending: str | None, state: dict) -> None:
    names = tuple(dict.fromkeys(doc.speakers))
    # "<Model name> <N>": the number tells instances apart, the name is the model they run.
    doc.models = {name: name.rsplit(" ", 1)[0] for name in names}
    template, _ = doc.meta.get("template", (None, None))
    started, line = doc.meta.get("started", (None, None))
    pair = _ARROW.join(names)
    doc.meta = {
        "title": f"{template}: {pair}" if template else pair, "participants": names,
        "started": _timestamp(started, doc, line), "ended": None, "n_messages_declared": None,
        "ending": ending, "round_count": state["max_round"],
    }
    if ending is None:
        doc.problem("missing_ending", "no closing line ('... has ended the conversation' or "
                    "'Reached maximum number of turns'): the run may have been cut off")


def _timestamp(value: str | None, doc: ParsedTranscript, line: int | None):
    return timestamp(value, doc, line, "Started:")

"""Reader for generic JSON and JSON Lines chat logs (role/content lists, the ShareGPT shape)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ..._core.errors import TranscriptParseError
from ._base import ParsedTranscript, line_of, timestamp

__all__ = ["looks_like_chat_json", "parse_chat_json"]

FORMAT_JSON = "chat-json"
FORMAT_JSONL = "chat-jsonl"
SPEAKER_KEYS = ("speaker", "name", "from", "role")
TEXT_KEYS = ("content", "text", "value")
LIST_KEYS = ("messages", "conversations")
_ARROW = " ↔ "
_SEED_ROLES = frozenset({"system"})
_WS_RE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()
_SNIFF_CHARS = 4096


def looks_like_chat_json(text: str) -> bool:
    """A chat log is JSON (or JSON Lines) naming a speaker key and a text key early on."""
    head = text.lstrip()[:_SNIFF_CHARS]
    return (head[:1] in ("[", "{") and any(f'"{k}"' in head for k in SPEAKER_KEYS)
            and any(f'"{k}"' in head for k in TEXT_KEYS))


def parse_chat_json(text: str, path: str) -> list[ParsedTranscript]:
    """Parse a JSON chat log (one conversation) or JSON Lines (one conversation per line).

    A conversation is a list of message objects, or an object holding that list under
    ``messages`` or ``conversations`` (ShareGPT). A message's speaker is the first of
    ``speaker``, ``name``, ``from``, ``role`` it has; its text the first of ``content``,
    ``text``, ``value`` (a list of ``{"type": "text", "text": ...}`` parts is joined). Leading
    ``system`` messages are the orchestrator's set-up, marked as seeds. In JSON Lines whose lines
    are single messages, the file is one conversation; otherwise each line is one, named
    ``<file stem>#<line>``.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg != "Extra data" or not _first_line_parses(text):
            raise TranscriptParseError(f"invalid JSON: {exc.msg}", path, exc.lineno) from None
        return _parse_lines(text, path)
    start = _skip(text, 0)
    doc = ParsedTranscript(path=path, format=FORMAT_JSON)
    _fill(doc, data, _message_lines(text, start, data), line_of(text, start))
    return [doc]


def _first_line_parses(text: str) -> bool:
    """JSON Lines, rather than a JSON document with something after its end."""
    try:
        json.loads(text.lstrip().split("\n", 1)[0])
    except json.JSONDecodeError:
        return False
    return True


def _parse_lines(text: str, path: str) -> list[ParsedTranscript]:
    rows = []
    for n, raw in enumerate(text.split("\n"), 1):
        if raw.strip():
            try:
                rows.append((n, json.loads(raw)))
            except json.JSONDecodeError as exc:
                raise TranscriptParseError(
                    f"invalid JSON Lines: line is not one JSON value ({exc.msg})", path, n
                ) from None
    if _is_message(rows[0][1]):
        doc = ParsedTranscript(path=path, format=FORMAT_JSONL)
        for n, row in rows:
            if not _is_message(row):
                raise TranscriptParseError(
                    "expected one message object per line, like the first line", path, n)
        _fill(doc, [row for _, row in rows], [n for n, _ in rows], rows[0][0])
        return [doc]
    stem = Path(path).stem
    docs = []
    for n, row in rows:
        doc = ParsedTranscript(path=path, format=FORMAT_JSONL, name=f"{stem}#{n}")
        _fill(doc, row, None, n)
        docs.append(doc)
    return docs


def _is_message(value: Any) -> bool:
    return isinstance(value, dict) and not any(isinstance(value.get(k), list) for k in LIST_KEYS)


def _messages(data: Any, path: str, line: int) -> tuple[list, dict]:
    """The message list of a conversation value, and the object around it (metadata)."""
    if isinstance(data, list):
        return data, {}
    if isinstance(data, dict):
        for key in LIST_KEYS:
            if isinstance(data.get(key), list):
                return data[key], data
    raise TranscriptParseError(
        "expected a list of messages, or an object holding one under 'messages' or "
        "'conversations'", path, line,
    )


def _fill(doc: ParsedTranscript, data: Any, lines: list[int] | None, line: int) -> None:
    """Add the messages of one conversation value to ``doc`` and set its metadata."""
    msgs, meta = _messages(data, doc.path, line)
    if not msgs:
        raise TranscriptParseError("the conversation holds no messages", doc.path, line)
    leading = True
    for i, m in enumerate(msgs):
        at = lines[i] if lines else line
        speaker, role, body = _message(m, i, doc.path, at)
        leading = leading and role in _SEED_ROLES
        doc.add(speaker, body, at, seed=leading)
    names = tuple(dict.fromkeys(s for s, seed in zip(doc.speakers, doc.seeds, strict=True)
                                if not seed)) or tuple(dict.fromkeys(doc.speakers))
    title = meta.get("title")
    doc.meta = {"title": title if isinstance(title, str) else _ARROW.join(names),
                "participants": names, "n_messages_declared": None}
    for key in ("started", "ended"):
        doc.meta[key] = _timestamp(meta.get(f"{key}_at"), doc, line, key)


def _message(m: Any, i: int, path: str, line: int) -> tuple[str, str | None, str]:
    """Speaker, role and text of message ``i``; raise naming what is missing."""
    if not isinstance(m, dict):
        raise TranscriptParseError(f"message {i} is not an object: expected "
                                   "{\"role\": ..., \"content\": ...}", path, line)
    speaker = next((m[k] for k in SPEAKER_KEYS if isinstance(m.get(k), str)), None)
    if speaker is None:
        raise TranscriptParseError(
            f"message {i} has no speaker: expected a string under one of "
            f"{', '.join(SPEAKER_KEYS)}", path, line)
    key = next((k for k in TEXT_KEYS if k in m), None)
    body = _text(m[key]) if key is not None else None
    if body is None:
        raise TranscriptParseError(
            f"message {i} has no text: expected a string (or a list of text parts) under one "
            f"of {', '.join(TEXT_KEYS)}", path, line)
    role = m.get("role") if isinstance(m.get("role"), str) else None
    return speaker, role, body


def _text(value: Any) -> str | None:
    if value is None:
        return ""  # a message with no content (a tool call, say) is an empty message
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        parts = [p if isinstance(p, str) else p.get("text") if isinstance(p, dict) else None
                 for p in value]
        if all(isinstance(p, str) or p is None for p in parts):
            return "\n".join(p for p in parts if isinstance(p, str))
    return None


def _timestamp(value: Any, doc: ParsedTranscript, line: int, key: str):
    return timestamp(value, doc, line, f"{key}_at")


# --- where each message starts, for line numbers ------------------------------------------


def _skip(text: str, pos: int) -> int:
    return _WS_RE.match(text, pos).end()


def _message_lines(text: str, start: int, data: Any) -> list[int] | None:
    """1-based line of each message of the conversation value that starts at ``start``."""
    pos: int | None = start
    if isinstance(data, dict):
        key = next((k for k in LIST_KEYS if isinstance(data.get(k), list)), None)
        pos = _member(text, start, key) if key else None
    if pos is None or text[pos] != "[":
        return None
    offsets = _items(text, pos)
    lines, line, prev = [], 1, 0
    for off in offsets:
        line += text.count("\n", prev, off)
        prev = off
        lines.append(line)
    return lines


def _items(text: str, pos: int) -> list[int]:
    """Offsets of the items of the JSON array that opens at ``text[pos]``."""
    out: list[int] = []
    pos = _skip(text, pos + 1)
    while text[pos] != "]":
        out.append(pos)
        _, pos = _DECODER.raw_decode(text, pos)
        pos = _skip(text, pos)
        if text[pos] == ",":
            pos = _skip(text, pos + 1)
    return out


def _member(text: str, pos: int, key: str) -> int | None:
    """Offset of the value of the last ``key`` in the JSON object that opens at ``text[pos]``."""
    found = None
    pos = _skip(text, pos + 1)
    while text[pos] != "}":
        name, pos = _DECODER.raw_decode(text, pos)
        pos = _skip(text, _skip(text, pos) + 1)  # past the colon
        if name == key:
            found = pos
        _, pos = _DECODER.raw_decode(text, pos)
        pos = _skip(text, pos)
        if text[pos] == ",":
            pos = _skip(text, pos + 1)
    return found

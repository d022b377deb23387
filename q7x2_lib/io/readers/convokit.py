"""Reader for ConvoKit corpus directories: `utterances.jsonl` plus its companion JSON files."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..._core.errors import TranscriptParseError
from ._base import ParsedTranscript, timestamp

__all__ = ["COMPANIONS", "UTTERANCES", "drop_companions", "looks_like_convokit",
           "parse_convokit", "parse_convokit_file"]

FORMAT = "convokit"
UTTERANCES = "utterances.jsonl"
# The other files of a ConvoKit corpus directory: metadata, read along with utterances.jsonl.
COMPANIONS = frozenset({"speakers.json", "users.json", "conversations.json", "corpus.json",
                        "index.json"})
_ARROW = " ↔ "
_TEXT_META = ("title", "ending", "provider")
_INT_META = ("n_messages_declared", "session", "round_count")


def looks_like_convokit(text: str) -> bool:
    """A ConvoKit utterances file: JSON Lines whose first object has ``id``, ``text``, a
    ``speaker`` (``user`` in old corpora) and a ``conversation_id`` (``root``)."""
    first = text.lstrip().split("\n", 1)[0]
    if not first.startswith("{"):
        return False
    try:
        row = json.loads(first)
    except json.JSONDecodeError:
        return False
    return (isinstance(row, dict) and "id" in row and "text" in row
            and ("speaker" in row or "user" in row)
            and ("conversation_id" in row or "root" in row))


def drop_companions(files: Iterable[Path]) -> list[Path]:
    """``files`` without the companion files of ConvoKit corpora whose utterances are listed."""
    files = list(files)
    corpora = {p.parent for p in files if p.name == UTTERANCES}
    if not corpora:  # the common case: no Path.parent per file
        return files
    return [p for p in files
            if not (p.parent in corpora and (p.name in COMPANIONS or p.name.endswith("-bin.p")
                                             or p.name.startswith("info.")))]


def parse_convokit_file(path: Path, text: str, name: str) -> list[ParsedTranscript]:
    """Parse ``utterances.jsonl`` with the conversation metadata of ``conversations.json``."""
    return parse_convokit(text, name, conversations=_read_json(path.parent, "conversations.json",
                                                                name))


def parse_convokit(
    text: str, path: str, *, conversations: dict[str, Any] | None = None
) -> list[ParsedTranscript]:
    """Parse ConvoKit utterances (JSON Lines) into one ``ParsedTranscript`` per conversation.

    Utterances are grouped by ``conversation_id`` in order of first appearance and ordered by
    their ``meta.turn`` when every one has it (as ``Corpus.to_convokit`` writes), else kept in
    file order. ``meta.is_seed`` and ``meta.round`` are read back where present; titles and
    times come from ``conversations`` (the content of ``conversations.json``).
    """
    groups: dict[str, list[tuple[int, dict]]] = {}
    for n, raw in enumerate(text.split("\n"), 1):
        if raw.strip():
            row = _utterance(raw, path, n)
            cid = row.get("conversation_id", row.get("root"))
            groups.setdefault(str(cid), []).append((n, row))
    conversations = conversations or {}
    return [_conversation(cid, rows, _meta(conversations.get(cid)), path)
            for cid, rows in groups.items()]


def _utterance(raw: str, path: str, n: int) -> dict:
    try:
        row = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise TranscriptParseError(f"invalid JSON Lines: {exc.msg}", path, n) from None
    if not isinstance(row, dict):
        raise TranscriptParseError("expected one utterance object per line", path, n)
    speaker = row.get("speaker", row.get("user"))
    if not isinstance(speaker, str) or row.get("conversation_id", row.get("root")) is None:
        raise TranscriptParseError(
            "utterance without a string 'speaker' and a 'conversation_id'", path, n)
    if not isinstance(row.get("text"), str | None):
        raise TranscriptParseError("utterance 'text' must be a string", path, n)
    return row


def _conversation(
    cid: str, rows: list[tuple[int, dict]], meta: dict, path: str
) -> ParsedTranscript:
    turns = [_object(r.get("meta")).get("turn") for _, r in rows]
    if all(isinstance(t, int) for t in turns):
        rows = [row for _, row in sorted(zip(turns, rows, strict=True), key=lambda x: x[0])]
    doc = ParsedTranscript(path=path, format=FORMAT, name=cid)
    for n, row in rows:
        umeta = _object(row.get("meta"))
        rnd = umeta.get("round")
        doc.add(row.get("speaker", row.get("user")), row.get("text") or "", n,
                seed=umeta.get("is_seed") is True, round=rnd if _small_int(rnd) else None)
    names = meta.get("participants")
    names = (tuple(str(x) for x in names) if isinstance(names, list)
             else tuple(dict.fromkeys(doc.speakers)))
    doc.meta = {"title": _ARROW.join(names), "participants": names}
    doc.meta.update({k: meta[k] for k in _TEXT_META if isinstance(meta.get(k), str)})
    doc.meta.update({k: meta[k] for k in _INT_META if _small_int(meta.get(k))})
    for key in ("started", "ended"):
        doc.meta[key] = _timestamp(meta.get(key), doc, key)
    return doc


def _object(value: Any) -> dict:
    """A meta field as a dict: anything else (a string, a list) holds no metadata."""
    return value if isinstance(value, dict) else {}


def _small_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and -2**63 <= value < 2**63


def _meta(entry: Any) -> dict:
    # Current ConvoKit writes {"meta": {...}, "vectors": [...]}; older corpora the meta alone.
    if isinstance(entry, dict) and isinstance(entry.get("meta"), dict) and set(entry) <= {
            "meta", "vectors"}:
        return entry["meta"]
    return entry if isinstance(entry, dict) else {}


def _read_json(folder: Path, filename: str, name: str) -> dict:
    file = folder / filename
    if not file.is_file():
        return {}
    where = str(Path(name).parent / filename)
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        line = getattr(exc, "lineno", 1)
        raise TranscriptParseError(f"unreadable {filename}: {exc}", where, line) from None
    if not isinstance(data, dict):
        raise TranscriptParseError(f"{filename} must hold an object keyed by id", where, 1)
    return data


def _timestamp(value: Any, doc: ParsedTranscript, key: str):
    return timestamp(value, doc, None, f"conversation meta {key}")

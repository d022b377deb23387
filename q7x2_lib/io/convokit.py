"""Write a corpus for other tools: the ConvoKit corpus directory, and a ConvoKit ``Corpus``."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["to_convokit", "write_convokit"]

_CONVERSATION_META = ("title", "format", "source", "started", "ended", "n_messages_declared",
                      "session", "provider", "ending", "round_count")


def _plain(value: Any) -> Any:
    """A JSON-ready value: missing values become None, timestamps ISO strings."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value.item() if hasattr(value, "item") else value


def _utterance_ids(messages: pd.DataFrame) -> list[str]:
    # ConvoKit names a conversation after its first utterance: turn 0 takes the conversation's
    # id, later turns "<id>@<turn>".
    cid, turn = messages["conversation_id"].astype(str), messages["turn"].astype(int)
    ids = [c if t == 0 else f"{c}@{t}" for c, t in zip(cid, turn, strict=True)]
    if len(set(ids)) != len(ids):
        raise ValueError("conversation ids collide with '<id>@<turn>' utterance ids; rename "
                         "the conversations whose ids contain '@'")
    return ids


def _utterances(messages: pd.DataFrame) -> list[dict]:
    m = messages.sort_values(["conversation_id", "turn"], kind="stable")
    ids = _utterance_ids(m)
    rows = []
    for i, (uid, row) in enumerate(zip(ids, m.itertuples(index=False), strict=True)):
        meta = {"turn": int(row.turn), "is_seed": bool(row.is_seed)}
        if "round" in m.columns and _plain(row.round) is not None:
            meta["round"] = int(row.round)
        meta.update({"source": _plain(row.source), "line": _plain(row.line)})
        rows.append({"id": uid, "conversation_id": str(row.conversation_id), "text": row.text,
                     "speaker": row.speaker, "meta": meta,
                     "reply-to": ids[i - 1] if row.turn > 0 else None, "timestamp": None,
                     "vectors": []})
    return rows


def _conversations(conversations: pd.DataFrame) -> dict[str, dict]:
    out = {}
    for _, row in conversations.iterrows():
        meta = {k: _plain(row[k]) for k in _CONVERSATION_META if k in row.index}
        meta["participants"] = [str(p) for p in row["participants"]]
        out[str(row["conversation_id"])] = {"meta": meta, "vectors": []}
    return out


def _index(utterances: list[dict], conversations: dict[str, dict]) -> dict:
    def types(metas) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for meta in metas:
            for k, v in meta.items():
                if v is not None:
                    found.setdefault(k, [f"<class '{type(v).__name__}'>"])
        return found

    return {"utterances-index": types(u["meta"] for u in utterances), "speakers-index": {},
            "conversations-index": types(c["meta"] for c in conversations.values()),
            "overall-index": {"name": ["<class 'str'>"]}, "version": 1, "vectors": []}


def write_convokit(corpus, path: str | os.PathLike[str], *, name: str = "q7x2") -> Path:
    """Write ``corpus`` as a ConvoKit corpus directory; ConvoKit itself is not needed.

    The directory gets ``utterances.jsonl`` (one utterance per message: ``id``,
    ``conversation_id``, ``text``, ``speaker``, ``reply-to`` the previous message, and ``meta``
    with ``turn``, ``is_seed``, ``round``, ``source``, ``line``), ``speakers.json``,
    ``conversations.json`` (the conversations table's metadata), ``corpus.json`` and
    ``index.json``. ``read_corpus`` reads it back to the same messages.

    Returns
    -------
    Path
        The directory written.
    """
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise ValueError(f"path must be a folder for the ConvoKit corpus, got the file "
                         f"{str(out)!r}")
    out.mkdir(parents=True, exist_ok=True)
    utterances = _utterances(corpus.messages)
    conversations = _conversations(corpus.conversations)
    speakers = {s: {"meta": {}, "vectors": []} for s in dict.fromkeys(corpus.messages["speaker"])}
    with open(out / "utterances.jsonl", "w", encoding="utf-8") as f:
        for u in utterances:
            f.write(json.dumps(u, ensure_ascii=False) + "\n")
    files = {"speakers.json": speakers, "conversations.json": conversations,
             "corpus.json": {"name": name}, "index.json": _index(utterances, conversations)}
    for filename, data in files.items():
        (out / filename).write_text(json.dumps(data, ensure_ascii=False) + "\n", encoding="utf-8")
    return out


def to_convokit(corpus, path: str | os.PathLike[str] | None = None):
    """``corpus`` as a ``convokit.Corpus`` (needs the ``convokit`` extra), or on disk.

    With ``path``, writes the ConvoKit corpus directory there (see :func:`write_convokit`) and
    returns its ``Path``; ConvoKit is not needed. Without, loads that directory with ConvoKit's
    own reader and returns the ``convokit.Corpus``.
    """
    if path is not None:
        return write_convokit(corpus, path)
    try:
        import convokit
    except ImportError:
        raise ImportError("to_convokit() without path= needs ConvoKit: pip install "
                          "'q7x2[convokit]'; or pass path= to write ConvoKit's on-disk format, "
                          "which needs nothing extra") from None
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_convokit(corpus, Path(tmp) / "corpus")
        return convokit.Corpus(filename=str(folder))

"""Build the three tidy tables (messages, conversations, problems) with fixed columns and dtypes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from .markers import ends_with_end_marker, is_end_marker_only

__all__ = [
    "CONVERSATION_COLUMNS",
    "MESSAGE_COLUMNS",
    "PROBLEM_COLUMNS",
    "empty_problems",
    "make_messages",
    "messages_frame",
]

MESSAGE_COLUMNS = (
    "conversation_id", "turn", "speaker", "text", "n_chars", "n_words", "is_seed", "is_empty",
    "is_end_marker", "ends_with_end_marker", "source", "line",
)
CONVERSATION_COLUMNS = (
    "conversation_id", "title", "speaker_a", "speaker_b", "participants", "started", "ended",
    "duration_s", "n_messages", "n_messages_declared", "format", "source", "session", "provider",
    "ending", "round_count",
)
PROBLEM_COLUMNS = ("source", "line", "kind", "detail")
_STR = "string"


def messages_frame(
    conversation_id: Sequence[str],
    turn: Sequence[int],
    speaker: Sequence[str],
    text: Sequence[str],
    is_seed: Sequence[bool],
    source: Sequence[str],
    line: Sequence[int] | None = None,
) -> pd.DataFrame:
    """Assemble a messages table from parallel columns, deriving the counts and flags.

    ``text`` must already be stripped. Returns the columns of ``MESSAGE_COLUMNS``: ``n_chars`` is
    ``len(text)``, ``n_words`` is ``len(text.split())``, ``is_empty`` is true for an empty body,
    ``is_end_marker`` for a body that is nothing but end markers, ``ends_with_end_marker`` for one
    that ends with a marker; ``line`` is the 1-based line of the message header in its file.
    """
    texts = list(text)
    frame = pd.DataFrame({
        "conversation_id": pd.array(conversation_id, dtype=_STR),
        "turn": np.asarray(turn, dtype="int64"),
        "speaker": pd.array(speaker, dtype=_STR),
        "text": pd.array(texts, dtype=_STR),
        "n_chars": np.fromiter(map(len, texts), dtype="int64", count=len(texts)),
        "n_words": np.fromiter((len(t.split()) for t in texts), dtype="int64", count=len(texts)),
        "is_seed": np.asarray(is_seed, dtype=bool),
        "is_empty": np.fromiter((not t for t in texts), dtype=bool, count=len(texts)),
        "is_end_marker": np.fromiter(map(is_end_marker_only, texts), dtype=bool, count=len(texts)),
        "ends_with_end_marker": np.fromiter(
            map(ends_with_end_marker, texts), dtype=bool, count=len(texts)
        ),
        "source": pd.array(source, dtype=_STR),
        "line": pd.array(line if line is not None else [pd.NA] * len(texts), dtype="Int64"),
    })
    return frame


def make_messages(
    conversations: Mapping[str, Iterable[tuple[str, str]]], *, seed: bool = False
) -> pd.DataFrame:
    """Build a messages table by hand, for tests and examples.

    Parameters
    ----------
    conversations
        ``{conversation_id: [(speaker, text), ...]}`` in turn order.
    seed
        When true, the first message of each conversation is marked as the orchestrator's seed.

    Returns
    -------
    DataFrame
        The columns of ``MESSAGE_COLUMNS``, ``source`` set to ``"<memory>"``.
    """
    cols: dict[str, list] = {k: [] for k in ("cid", "turn", "speaker", "text", "seed")}
    for cid, msgs in conversations.items():
        for turn, (speaker, body) in enumerate(msgs):
            cols["cid"].append(cid)
            cols["turn"].append(turn)
            cols["speaker"].append(speaker)
            cols["text"].append(body.strip())
            cols["seed"].append(seed and turn == 0)
    n = len(cols["cid"])
    return messages_frame(
        cols["cid"], cols["turn"], cols["speaker"], cols["text"], cols["seed"], ["<memory>"] * n
    )


def empty_problems() -> pd.DataFrame:
    """An empty problems table: ``source``, ``line``, ``kind``, ``detail``."""
    return problems_frame([])


def problems_frame(rows: Iterable[Mapping[str, object]]) -> pd.DataFrame:
    """A problems table from dicts with keys ``source``, ``line``, ``kind``, ``detail``."""
    rows = list(rows)
    return pd.DataFrame({
        "source": pd.array([r["source"] for r in rows], dtype=_STR),
        "line": pd.array([r.get("line") for r in rows], dtype="Int64"),
        "kind": pd.array([r["kind"] for r in rows], dtype=_STR),
        "detail": pd.array([r["detail"] for r in rows], dtype=_STR),
    })

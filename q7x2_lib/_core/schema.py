"""Build the three tidy tables (messages, conversations, problems) with fixed columns and dtypes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from .columns import (
    char_counts,
    end_marker_flags,
    int64_array,
    string_array,
    to_arrow,
    word_counts,
)

__all__ = [
    "CONVERSATION_COLUMNS",
    "MESSAGE_COLUMNS",
    "PROBLEM_COLUMNS",
    "empty_problems",
    "messages_frame",
    "tested_statistic",
]

MESSAGE_COLUMNS = (
    "conversation_id", "turn", "speaker", "model", "text", "n_chars", "n_words", "is_seed",
    "is_empty", "is_end_marker", "ends_with_end_marker", "source", "line", "round",
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
    *,
    round: Sequence[int | None] | None = None,
    model: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Assemble a messages table from parallel columns, deriving the counts and flags.

    ``text`` must already be stripped. Returns the columns of ``MESSAGE_COLUMNS``: ``n_chars`` is
    ``len(text)``, ``n_words`` is ``len(text.split())``, ``is_empty`` is true for an empty body,
    ``is_end_marker`` for a body that is nothing but end markers, ``ends_with_end_marker`` for one
    that ends with a marker; ``line`` is the 1-based line of the message header in its file;
    ``round`` the round number where the format records one (Int64, missing elsewhere);
    ``model`` the model each speaker runs where the format says it (default: the speaker).
    """
    # Columnar: counts and flags come from the texts' UTF-8 buffer (see _columns), not from a
    # Python call per message.
    if isinstance(text, pa.Array | pa.ChunkedArray):
        texts, arrow = None, to_arrow(text)
    else:
        texts = list(text) if not isinstance(text, Sequence) else text
        arrow = to_arrow(texts)
    speakers = string_array(speaker)
    n_chars = char_counts(arrow)
    is_end_marker, ends_with = end_marker_flags(arrow, texts)
    frame = pd.DataFrame({
        "conversation_id": string_array(conversation_id),
        "turn": np.asarray(turn, dtype="int64"),
        "speaker": speakers,
        "model": speakers if model is None else string_array(model),
        "text": string_array(arrow),
        "n_chars": n_chars,
        "n_words": word_counts(arrow),
        "is_seed": np.asarray(is_seed, dtype=bool),
        "is_empty": n_chars == 0,
        "is_end_marker": is_end_marker,
        "ends_with_end_marker": ends_with,
        "source": string_array(source),
        "line": int64_array(line, len(arrow)),
        "round": int64_array(round, len(arrow)),
    })
    return frame


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


def tested_statistic(table: pd.DataFrame) -> str:
    """The column a ``mirroring`` or ``lexical_echo`` table's baseline and p-value are of:
    ``"echo"``, ``"rho_detrended"`` (mirroring's shift null) or ``"rho"`` (permutations, or a
    table without a ``null`` column)."""
    if "echo" in table:
        return "echo"
    null = str(table["null"].iloc[0]) if "null" in table and len(table) else "permutation"
    return "rho_detrended" if null == "shift" else "rho"

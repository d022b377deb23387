"""Vocabulary: the word table and vocabulary novelty."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..._core.text import (
    is_content_word,
    is_emoji,
    tokenize,
)
from ..._core.validate import check_positive_int, messages_metric, messages_seen
from .similarity import distinct_counts, median_by_turn

__all__ = [
    "novelty_curves",
    "ttr_trend",
    "vocabulary_novelty",
    "word_table",
]

_KEYS = ["conversation_id", "turn", "speaker"]



# --- the word table --------------------------------------------------------------------------


def _token_counts(texts: list[str]) -> tuple[sp.csr_matrix, np.ndarray]:
    """Token counts per text (all tokens) and the sorted vocabulary."""
    try:  # CountVectorizer(analyzer=tokenize), each distinct text once
        return distinct_counts(texts, tokenize, np.int64)
    except ValueError:  # no token anywhere
        return sp.csr_matrix((len(texts), 0), dtype=np.int64), np.array([], dtype=object)


def _per_conversation(m: pd.DataFrame, counts: sp.csr_matrix) -> sp.csr_matrix:
    """Sum message rows into conversation rows."""
    codes, uniques = pd.factorize(m["conversation_id"])
    pick = sp.csr_matrix((np.ones(len(codes), dtype=np.int64), (codes, np.arange(len(codes)))),
                         shape=(len(uniques), len(codes)))
    return (pick @ counts).tocsr()


@messages_metric
def word_table(
    messages: pd.DataFrame, *, kind: str = "words", n_top: int = 20,
    words: list[str] | None = None, include_seed: bool = False,
) -> pd.DataFrame:
    """The system card's word table: for frequent tokens, mean uses per transcript and reach.

    Parameters
    ----------
    messages
        The messages table; each conversation is one transcript.
    kind
        ``"words"`` (content words: :func:`q7x2_lib.text.is_content_word`) or ``"emoji"``.
    n_top
        Number of most used tokens (ties broken alphabetically).
    words
        Report exactly these tokens instead, in this order (lower case; absent ones get 0).
    include_seed
        Keep the orchestrator's seed messages.

    Returns
    -------
    DataFrame
        ``token``, ``n_uses`` (in the corpus), ``mean_uses_per_transcript`` (2 decimals),
        ``n_transcripts`` (that use it), ``share_of_transcripts`` (3 decimals).
    """
    if kind not in ("words", "emoji"):
        raise ValueError(f"kind: got {kind!r}; expected 'words' or 'emoji'")
    check_positive_int("n_top", n_top)
    m = messages_seen(messages, func="word_table", include_seed=include_seed)
    counts, vocab = _token_counts(m["text"].tolist())
    per_conv = _per_conversation(m, counts)
    n_conv = per_conv.shape[0]
    table = pd.DataFrame({
        "token": pd.array(vocab, dtype="string"),
        "n_uses": np.asarray(per_conv.sum(axis=0)).ravel().astype("int64"),
        "n_transcripts": np.asarray((per_conv > 0).sum(axis=0)).ravel().astype("int64"),
    })
    if words is not None:
        wanted = pd.DataFrame({"token": pd.array([w.lower() for w in words], dtype="string")})
        table = wanted.merge(table, on="token", how="left")
        table = table.fillna({"n_uses": 0, "n_transcripts": 0})
    else:
        keep = is_content_word if kind == "words" else is_emoji
        table = table[table["token"].map(keep).to_numpy(dtype=bool)]
        table = table.sort_values(["n_uses", "token"], ascending=[False, True], kind="stable")
        table = table.head(n_top)
    table = table.astype({"n_uses": "int64", "n_transcripts": "int64"}).reset_index(drop=True)
    table["mean_uses_per_transcript"] = (table["n_uses"] / max(n_conv, 1)).round(2)
    table["share_of_transcripts"] = (table["n_transcripts"] / max(n_conv, 1)).round(3)
    return table[["token", "n_uses", "mean_uses_per_transcript", "n_transcripts",
                  "share_of_transcripts"]]


# --- vocabulary novelty ----------------------------------------------------------------------


@messages_metric
def vocabulary_novelty(messages: pd.DataFrame, *, include_seed: bool = False) -> pd.DataFrame:
    """Share of each message's tokens not used earlier in its conversation, and cumulative TTR.

    Tokens are all words and emoji (:func:`q7x2_lib.text.tokenize`, stop words included). A
    token is new when no earlier message of the conversation used it; a new word used twice
    in one message counts as two new tokens.

    Returns
    -------
    DataFrame
        ``conversation_id``, ``turn``, ``speaker``, ``n_tokens``, ``n_new``, ``novelty``
        (``n_new / n_tokens``, NaN without tokens), ``cumulative_types`` and
        ``cumulative_tokens`` (up to and including this message), ``cumulative_ttr`` (their
        ratio, NaN before the first token).
    """
    m = messages_seen(messages, func="vocabulary_novelty", include_seed=include_seed)
    counts, _ = _token_counts(m["text"].tolist())
    coo = counts.tocoo()
    codes = pd.factorize(m["conversation_id"])[0]
    order = np.lexsort((coo.row, coo.col, codes[coo.row]))
    row, col = coo.row[order], coo.col[order]
    conv = codes[row]
    first = np.r_[True, (col[1:] != col[:-1]) | (conv[1:] != conv[:-1])] if len(row) else row
    n_new = np.bincount(row[first], weights=coo.data[order][first], minlength=len(m))
    n_types = np.bincount(row[first], minlength=len(m))
    out = m[_KEYS].copy()
    out["n_tokens"] = np.asarray(counts.sum(axis=1)).ravel().astype("int64")
    out["n_new"] = n_new.astype("int64")
    out["novelty"] = out["n_new"] / out["n_tokens"].where(out["n_tokens"] > 0)
    grouped = pd.DataFrame({"t": n_types, "n": out["n_tokens"]}).groupby(codes).cumsum()
    out["cumulative_types"] = grouped["t"].astype("int64")
    out["cumulative_tokens"] = grouped["n"].astype("int64")
    out["cumulative_ttr"] = out["cumulative_types"] / out["cumulative_tokens"].where(
        out["cumulative_tokens"] > 0)
    return out


def ttr_trend(novelty: pd.DataFrame) -> pd.DataFrame:
    """Per conversation, the least-squares slope of cumulative type-token ratio over turns.

    Returns
    -------
    DataFrame
        ``conversation_id``, ``n_messages`` (with a ratio), ``final_ttr`` (3 decimals),
        ``mean_novelty`` (3 decimals), ``ttr_slope_per_100_turns`` (3 decimals; NaN for
        fewer than two messages).
    """
    d = novelty.dropna(subset=["cumulative_ttr"])
    x, y = d["turn"].astype(float), d["cumulative_ttr"]
    g = pd.DataFrame({"x": x, "y": y, "xy": x * y, "xx": x * x,
                      "conversation_id": d["conversation_id"]}).groupby("conversation_id",
                                                                        sort=False)
    s, n = g.sum(), g.size()
    var = s["xx"] - s["x"] ** 2 / n
    slope = (s["xy"] - s["x"] * s["y"] / n) / var.where(var > 0)
    out = pd.DataFrame({
        "n_messages": n.astype("int64"),
        "final_ttr": g["y"].last().round(3),
        "mean_novelty": novelty.groupby("conversation_id", sort=False)["novelty"].mean().round(3),
        "ttr_slope_per_100_turns": (100 * slope).round(3),
    })
    return out.reset_index()


def novelty_curves(
    novelty: pd.DataFrame, *, n_boot: int = 1000, ci: float = 0.95, seed: int = 0,
) -> pd.DataFrame:
    """Corpus median by turn of novelty and cumulative type-token ratio (:func:`median_by_turn`).

    Returns
    -------
    DataFrame
        ``measure`` (``"cumulative_ttr"`` or ``"novelty"``), ``turn``, ``n_conversations``,
        ``median``, ``ci_low``, ``ci_high``.
    """
    long = novelty.melt(id_vars=["conversation_id", "turn"],
                        value_vars=["novelty", "cumulative_ttr"], var_name="measure")
    return median_by_turn(long, value="value", by="measure", n_boot=n_boot, ci=ci, seed=seed)

"""Recurrence quantification (RQA): how much of a conversation recurs, and in what shape.

A recurrence matrix marks every pair of messages that near-repeat each other (the similarity
of :func:`~q7x2_lib.metrics.attractors.near_repeats` at ``threshold``). Its lines say how:

- a **diagonal** line of length ``l`` at lag ``k``: ``l`` consecutive messages repeat the ``l``
  messages ``k`` before them, in order (a loop of period ``k``, or a passage returned to);
- a **vertical** line of length ``v``: one message is repeated by ``v`` consecutive ones (a
  fixed point, the state of being stuck).

The measures are the standard ones (Marwan et al. 2007, *Physics Reports* 438): recurrence
rate, determinism, laminarity, longest diagonal, mean diagonal, trapping time. The main
diagonal (each message with itself) is left out. Plain numpy with known-answer tests rather
than pyunicorn, which would add a compiled dependency for six sums.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..._core.text import char_ngram_matrix, normal_form
from ..._core.validate import (
    check_positive_int,
    check_share,
    messages_metric,
    messages_seen,
    positions,
)
from ..overview import model_pairs
from .repeats import MAX_RECURRENCE, _set_cosine

__all__ = ["RQA_MEASURES", "recurrence_lines", "rqa", "rqa_measures", "rqa_windows"]

RQA_MEASURES = ("recurrence_rate", "determinism", "laminarity", "longest_diagonal",
                "mean_diagonal", "trapping_time")
"""The measures :func:`rqa_measures` returns, in order."""


def _runs_1d(flags: np.ndarray) -> np.ndarray:
    """Lengths of the runs of True in a 1-D boolean array (runs never span a False pad)."""
    edges = np.diff(np.r_[0, flags.astype(np.int8), 0])
    return np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)


def _diagonals(r: np.ndarray, lags: range) -> np.ndarray:
    """Every diagonal of ``r`` at the given lags (column minus row), laid end to end with a
    False between them, so that one run-length pass finds every diagonal line."""
    parts = []
    for k in lags:
        parts.append(np.diagonal(r, offset=k))
        parts.append(np.zeros(1, dtype=bool))
    return np.concatenate(parts) if parts else np.zeros(0, dtype=bool)


def rqa_measures(recurrent: np.ndarray, *, min_line: int = 2, symmetric: bool | None = None
                 ) -> dict[str, float]:
    """The RQA measures of one boolean recurrence matrix.

    For a square symmetric matrix (a conversation with itself) the main diagonal is left out
    and each line is counted once (upper triangle); a cross-recurrence matrix (one speaker's
    messages against the other's) is used whole.

    Returns
    -------
    dict
        ``recurrence_rate`` (recurrent pairs over all pairs), ``determinism`` (share of the
        recurrent points on diagonal lines of at least ``min_line``), ``laminarity`` (on
        vertical lines of at least ``min_line``), ``longest_diagonal`` (messages; 0 when no
        line), ``mean_diagonal`` and ``trapping_time`` (mean length of those diagonal and
        vertical lines). Shares are NaN when nothing recurs; means NaN when no line.
    """
    check_positive_int("min_line", min_line)
    r = np.asarray(recurrent, dtype=bool)
    rows, cols = r.shape
    if symmetric is None:
        symmetric = rows == cols and bool(np.array_equal(r, r.T))
    if symmetric:
        upper = np.triu(r, k=1)
        possible = rows * (rows - 1) / 2
        diag = _runs_1d(_diagonals(upper, range(1, rows)))
        # vertical lines of the whole matrix without its main diagonal, which splits them
        full = r & ~np.eye(rows, dtype=bool)
    else:
        upper = r
        possible = rows * cols
        diag = _runs_1d(_diagonals(r, range(-(rows - 1), cols)))
        full = r
    n_points = int(upper.sum())
    padded = np.vstack([full, np.zeros((1, cols), dtype=bool)])
    vert = _runs_1d(padded.T.ravel())
    long_d, long_v = diag[diag >= min_line], vert[vert >= min_line]
    n_full = int(full.sum())
    nan = float("nan")
    return {
        "recurrence_rate": n_points / possible if possible else nan,
        "determinism": long_d.sum() / n_points if n_points else nan,
        "laminarity": long_v.sum() / n_full if n_full else nan,
        "longest_diagonal": float(diag.max(initial=0)) if len(long_d) else 0.0,
        "mean_diagonal": float(long_d.mean()) if len(long_d) else nan,
        "trapping_time": float(long_v.mean()) if len(long_v) else nan,
    }


def _recurrent(texts: list[str], ngram: int, threshold: float) -> np.ndarray:
    """Boolean recurrence matrix of some texts (each distinct normal form compared once)."""
    codes, forms = pd.factorize(pd.Series([normal_form(t) for t in texts], dtype=object))
    grams = char_ngram_matrix(list(forms), ngram).astype(np.float64)
    inter = (grams @ grams.T).toarray()
    sizes = grams.getnnz(axis=1)
    unique = _set_cosine(inter, sizes[:, None], sizes[None, :]) >= threshold
    return unique[np.ix_(codes, codes)]


def _check(threshold: float, ngram: int, min_line: int, max_messages: int) -> None:
    check_share("threshold", threshold)
    check_positive_int("ngram", ngram)
    check_positive_int("min_line", min_line)
    check_positive_int("max_messages", max_messages)


def _conversations(m: pd.DataFrame, max_messages: int):
    pos = positions(m)
    starts = np.flatnonzero(pos == 0)
    for a, b in zip(starts, [*starts[1:], len(m)], strict=False):
        c = m.iloc[a:b]
        if len(c) > max_messages:
            c = c.iloc[np.unique(np.round(np.linspace(0, len(c) - 1, max_messages)).astype(int))]
        yield str(c["conversation_id"].iat[0]), c


@messages_metric
def rqa(
    messages: pd.DataFrame, *, threshold: float = 0.8, ngram: int = 3, min_line: int = 2,
    include_seed: bool = False, max_messages: int = MAX_RECURRENCE,
) -> pd.DataFrame:
    """Recurrence quantification of each conversation, as a whole, within each speaker and
    across the two speakers.

    Scopes: ``"all"`` (every message against every other), each speaker by name (its own
    messages in order: a one-sided loop is determinism and laminarity here), and
    ``"across"`` (the first speaker's messages against the second's, both in their own order:
    parroting and a shared fixed point draw diagonals here; two-speaker conversations only).
    A conversation longer than ``max_messages`` is measured on that many messages, evenly
    spaced, as its recurrence plot is.

    Returns
    -------
    DataFrame
        One row per conversation and scope: ``conversation_id``, ``model_pair``, ``scope``,
        ``scope_kind`` (``"all"``, ``"within"``, ``"across"``), ``n_messages`` (in the scope's
        matrix, rows), then ``RQA_MEASURES`` (:func:`rqa_measures`; shares and means 3
        decimals).
    """
    _check(threshold, ngram, min_line, max_messages)
    m = messages_seen(messages, func="rqa", include_seed=include_seed)
    pairs = model_pairs(m, include_seed=True)
    rows = []
    for cid, c in _conversations(m, max_messages):
        texts = c["text"].fillna("").tolist()
        r = _recurrent(texts, ngram, threshold)
        rows.append({"conversation_id": cid, "scope": "all", "scope_kind": "all",
                     "n_messages": len(texts), **rqa_measures(r, min_line=min_line)})
        speakers = list(dict.fromkeys(c["speaker"].astype(str)))
        who = c["speaker"].astype(str).to_numpy()
        for s in speakers:
            own = who == s
            rows.append({"conversation_id": cid, "scope": s, "scope_kind": "within",
                         "n_messages": int(own.sum()),
                         **rqa_measures(r[np.ix_(own, own)], min_line=min_line,
                                        symmetric=True)})
        if len(speakers) == 2:
            a, b = who == speakers[0], who == speakers[1]
            rows.append({"conversation_id": cid, "scope": "across", "scope_kind": "across",
                         "n_messages": int(a.sum()),
                         **rqa_measures(r[np.ix_(a, b)], min_line=min_line, symmetric=False)})
    out = pd.DataFrame(rows, columns=["conversation_id", "scope", "scope_kind", "n_messages",
                                      *RQA_MEASURES])
    out.insert(1, "model_pair", pairs.reindex(out["conversation_id"]).to_numpy())
    for col in ("conversation_id", "scope", "scope_kind"):
        out[col] = out[col].astype("string")
    out["n_messages"] = out["n_messages"].astype("int64")
    return out.round({k: 3 for k in RQA_MEASURES})


@messages_metric
def rqa_windows(
    messages: pd.DataFrame, *, window: int = 20, step: int = 10, threshold: float = 0.8,
    ngram: int = 3, min_line: int = 2, include_seed: bool = False,
) -> pd.DataFrame:
    """RQA in sliding windows of ``window`` consecutive messages, every ``step`` messages: when
    a conversation becomes deterministic (loops) or laminar (gets stuck).

    Returns
    -------
    DataFrame
        One row per conversation and window: ``conversation_id``, ``model_pair``,
        ``window_start_turn``, ``window_end_turn``, ``n_messages``, then ``RQA_MEASURES``
        (3 decimals). A conversation shorter than ``window`` is one window.
    """
    check_positive_int("window", window)
    check_positive_int("step", step)
    _check(threshold, ngram, min_line, MAX_RECURRENCE)
    m = messages_seen(messages, func="rqa_windows", include_seed=include_seed)
    pairs = model_pairs(m, include_seed=True)
    rows = []
    for cid, c in _conversations(m, len(m) + 1):
        texts = c["text"].fillna("").tolist()
        turns = c["turn"].to_numpy()
        n = len(texts)
        for a in range(0, max(n - window, 0) + 1, step):
            b = min(a + window, n)
            # each window's own matrix: memory grows with the window, not the conversation
            r = _recurrent(texts[a:b], ngram, threshold)
            rows.append({"conversation_id": cid, "window_start_turn": int(turns[a]),
                         "window_end_turn": int(turns[b - 1]), "n_messages": b - a,
                         **rqa_measures(r, min_line=min_line, symmetric=True)})
    out = pd.DataFrame(rows, columns=["conversation_id", "window_start_turn", "window_end_turn",
                                      "n_messages", *RQA_MEASURES])
    out.insert(1, "model_pair", pairs.reindex(out["conversation_id"]).to_numpy())
    out["conversation_id"] = out["conversation_id"].astype("string")
    return out.round({k: 3 for k in RQA_MEASURES})


def _explained(found: list[tuple[int, int, int]], lag: int, start: int, stop: int) -> bool:
    """A line at ``lag`` is the echo of a shorter period when a line at a lag that divides it
    covers most of the same messages (a loop of period 2 also draws lines at lags 4, 6...)."""
    for k, s, e in found:
        overlap = min(e + k, stop + lag) - max(s + k, start + lag)
        if lag % k == 0 and overlap >= 0.8 * (stop - start):
            return True
    return False


@messages_metric
def recurrence_lines(
    messages: pd.DataFrame, *, min_length: int = 4, max_lag: int | None = None,
    threshold: float = 0.8, ngram: int = 3, min_distinct: int = 2, overlapping: bool = False,
    include_seed: bool = False, max_messages: int = MAX_RECURRENCE,
) -> pd.DataFrame:
    """The diagonal lines of each conversation's recurrence matrix: passages repeated later.

    A line of length ``l`` at lag ``k`` from turn ``t``: the messages from ``t`` to
    ``t + l - 1`` repeat, one by one and in order, those ``k`` messages before them (seed 001
    repeats its turns 67–72 at 87–92: lag 20). Lines of at least ``min_length`` messages whose
    repeated passage holds at least ``min_distinct`` distinct messages are listed (a fixed
    point, found by :func:`loops`, would draw a line at every lag); a line that mostly overlaps
    one at a lag dividing its own is the echo of that shorter period and is left out. By
    default only returns are listed: lines no longer than their lag, whose repeat begins after
    the passage ends; a longer line is a loop repeating itself (:func:`loops` reports it),
    listed with ``overlapping=True``. ``max_lag`` (default:
    any) bounds the lag.

    Returns
    -------
    DataFrame
        ``conversation_id``, ``lag``, ``source_start_turn``, ``source_end_turn``,
        ``repeat_start_turn``, ``repeat_end_turn``, ``length``, ``n_distinct``; longest first.
    """
    check_positive_int("min_length", min_length)
    check_positive_int("min_distinct", min_distinct)
    _check(threshold, ngram, 1, max_messages)
    m = messages_seen(messages, func="recurrence_lines", include_seed=include_seed)
    rows = []
    for cid, c in _conversations(m, max_messages):
        texts = c["text"].fillna("").tolist()
        forms = pd.factorize(pd.Series([normal_form(t) for t in texts], dtype=object))[0]
        turns = c["turn"].to_numpy()
        r = _recurrent(texts, ngram, threshold)
        n = len(texts)
        found: list[tuple[int, int, int]] = []  # (lag, first, stop) of the lines kept
        for k in range(1, n if max_lag is None else min(max_lag + 1, n)):
            d = np.diagonal(r, offset=k)  # d[i]: message i + k repeats message i
            edges = np.diff(np.r_[0, d.astype(np.int8), 0])
            for s, e in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1),
                            strict=True):
                distinct = len(set(forms[s:e].tolist()))
                if e - s < min_length or distinct < min_distinct or _explained(found, k, s, e):
                    continue
                found.append((k, s, e))
                if not overlapping and e - s > k:
                    continue
                rows.append((cid, k, turns[s], turns[e - 1], turns[s + k], turns[e - 1 + k],
                             e - s, distinct))
    out = pd.DataFrame(rows, columns=["conversation_id", "lag", "source_start_turn",
                                      "source_end_turn", "repeat_start_turn", "repeat_end_turn",
                                      "length", "n_distinct"])
    out["conversation_id"] = out["conversation_id"].astype("string")
    out = out.astype({c: "int64" for c in out.columns if c != "conversation_id"})
    return out.sort_values(["length", "conversation_id", "lag"], ascending=[False, True, True],
                           kind="stable").reset_index(drop=True)

"""Loops: the repeating stretches conversations fall into, for the pair and for each speaker."""

from __future__ import annotations

import math
import re
import warnings

import numpy as np
import pandas as pd

from ..._core.speed import by_conversation
from ..._core.validate import (
    check_int,
    check_positive_int,
    check_share,
    messages_metric,
    messages_seen,
    positions,
)
from ..overview import model_pairs
from .repeats import lag_matches

__all__ = ["LOOP_KINDS", "loop_overview", "loops", "speaker_loops"]

LOOP_KINDS = ("fixed point", "ping-pong", "cycle")
"""What a loop repeats: one message (period 1), two (period 2) or a longer cycle."""

#: Messages after a loop's last repeat that count as leaving it (fewer: the loop held to the end).
MIN_EXIT = 3

#: Share of a loop's messages that must repeat (the rest: odd messages, at most max_gap in a row).
MIN_MATCH_SHARE = 0.75

#: Share of exact repeats above which a loop starts at its first exact repeat.
EXACT_SHARE = 0.8

_SPACE_RE = re.compile(r"\s+")
_BOTH = "both"


# --- finding one loop in one sequence --------------------------------------------------------


def _runs(flags: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and stop (exclusive) of each run of True in ``flags``."""
    padded = np.zeros(len(flags) + 2, dtype=np.int8)  # np.r_ costs more than the work here
    padded[1:-1] = flags
    edges = np.diff(padded)
    return (edges == 1).nonzero()[0], (edges == -1).nonzero()[0]


def _segments(loose: np.ndarray, strict: np.ndarray, double: np.ndarray, p: int, max_gap: int
              ) -> list[tuple[int, int]]:
    """Stretches of matches, (first, last), split where more than ``max_gap`` misses come in a
    row, or where the message after the misses repeats one of them rather than a message
    before them (the unit changed: an "[END]" run after a fixed point is a new loop)."""
    starts, stops = _runs(loose)
    if not len(starts):
        return []
    gap_first, after = stops[:-1], starts[1:]
    bridged = (after - gap_first <= max_gap) & (
        (strict[after] & (after - p < gap_first)) | (double[after] & (after - 2 * p < gap_first)))
    split = (~bridged).nonzero()[0]
    firsts = np.concatenate((starts[:1], starts[1:][split]))
    lasts = np.concatenate((stops[:-1][split], stops[-1:])) - 1
    return list(zip(firsts.tolist(), lasts.tolist(), strict=True))


def _scan(match: np.ndarray, exact: np.ndarray, max_period: int, min_repeats: int,
          max_gap: int) -> tuple[int, int, int, int, int] | None:
    """The last loop of one sequence: ``(period, start, first_repeat, end, n_repeats)``.

    ``match[i, l - 1]``: message ``i`` near-repeats message ``i - l``. A loop of period ``p`` is
    a stretch of messages that each repeat the message ``p`` back (or ``2 p`` back, so that one
    variant message breaks one position, not two), with no more than ``max_gap`` misses in a
    row and at least ``MIN_MATCH_SHARE`` of its messages repeating (over the whole stretch and
    over its first ``max(4, 2 p)`` messages; at least half at lag ``p`` itself), opened by a
    clean repeat at lag ``p``, holding at least ``max(p, min_repeats)`` repeats (the unit seen
    whole at least twice, a single message at least ``min_repeats + 1`` times). Of the periods
    that find one, :func:`_choose` picks. A loop whose repeats are mostly
    exact (``EXACT_SHARE``) starts at its first exact repeat: the near variants that lead into
    a fixed point are its approach.
    """
    n, width = match.shape
    counts = match.sum(axis=0)
    cands = []
    none = np.zeros(n, dtype=bool)
    cum = np.zeros(n + 1, dtype=np.int64)
    for p in range(1, min(max_period, n - 1) + 1):
        need = max(p, min_repeats)
        if counts[p - 1] < need:
            continue
        strict = match[:, p - 1]
        double = match[:, 2 * p - 1] if 2 * p <= width else none
        loose = strict | double
        np.cumsum(loose, out=cum[1:])
        for a, b in reversed(_segments(loose, strict, double, p, max_gap)):
            if cum[b + 1] - cum[a] < need:  # n_rep below counts from a later opening only
                continue
            # the earliest clean opening from which the stretch keeps its share of repeats
            opens = a + strict[a:b + 1].nonzero()[0]
            if not len(opens):
                continue
            share = (cum[b + 1] - cum[opens]) / (b + 1 - opens)
            # ... and repeats from its first messages on, not only on average
            w = np.minimum(max(4, 2 * p), b + 1 - opens)
            local = (cum[opens + w] - cum[opens]) / w
            opens = opens[(share >= MIN_MATCH_SHARE) & (local >= MIN_MATCH_SHARE)]
            if not len(opens):
                continue
            first = int(opens[0])
            same = exact[first:b + 1, p - 1].nonzero()[0]
            if len(same) and len(same) >= EXACT_SHARE * (b + 1 - first):
                first += int(same[0])
            n_rep = int(cum[b + 1] - cum[first])
            # most repeats are at the period itself: lag 2 p only bridges odd messages
            if n_rep >= need and 2 * int(strict[first:b + 1].sum()) >= b + 1 - first:
                cands.append((p, first - p, first, b, n_rep))
                break
    return _choose(cands, max_gap)


def _choose(cands: list[tuple[int, int, int, int, int]], max_gap: int
            ) -> tuple[int, int, int, int, int] | None:
    """The loop that explains a sequence best, of one candidate per period: of those that last
    latest (ends within ``max_gap`` count as equal), the smallest period whose loop lasts at
    least half as long as the longest one. A fixed point also repeats at lag 2 from a message
    earlier, a ping-pong at lag 4: the smallest lag that explains the tail wins, unless a
    longer period explains far more of the run (a refusal ↔ "[END]" ping-pong of forty
    messages that ends in three "[END]" is a ping-pong)."""
    if not cands:
        return None
    last = max(c[3] for c in cands)
    late = [c for c in cands if c[3] >= last - max_gap]
    longest = max(c[3] - c[1] for c in late)
    return min((c for c in late if 2 * (c[3] - c[1]) >= longest), key=lambda c: (c[0], c[1]))


# --- every sequence of a table ---------------------------------------------------------------


def _sequences(m: pd.DataFrame, by_speaker: bool) -> pd.DataFrame:
    """The messages as sequences: each conversation whole, or each speaker's messages in order."""
    seq = m[["conversation_id", "turn", "speaker", "text"]].copy()
    seq["pos"] = positions(m)
    seq["scope"] = seq["speaker"].astype("string") if by_speaker else _BOTH
    if by_speaker:
        conv = pd.factorize(seq["conversation_id"], sort=False)[0]
        seq = seq.iloc[np.lexsort((seq["scope"].to_numpy(dtype=object), conv))]
        key = seq["conversation_id"].astype("string") + "\x1f" + seq["scope"]
        seq = seq.assign(conversation_id=key.to_numpy()).reset_index(drop=True)
    return seq


#: The look-back of ``repeat_share`` (as :func:`near_repeats`' default).
_RECENT = 6


def _scan_all(seq: pd.DataFrame, max_period: int, threshold: float, ngram: int,
              min_repeats: int, max_gap: int
              ) -> tuple[list[tuple | None], np.ndarray, np.ndarray]:
    """The last loop of every sequence, the sequence bounds, and whether each message repeats
    one of the ``_RECENT`` before it (the lags are computed anyway)."""
    if seq.empty:
        return [], np.zeros(1, dtype=np.int64), np.zeros(0, dtype=bool)
    width = max(2 * max_period, _RECENT)
    match, exact = lag_matches(seq, lags=width, threshold=threshold, ngram=ngram,
                               only=[*range(1, max(max_period, _RECENT) + 1),
                                     *range(2, 2 * max_period + 1, 2)])
    bounds = np.flatnonzero(np.r_[True, seq["conversation_id"].to_numpy()[1:]
                                  != seq["conversation_id"].to_numpy()[:-1], True])
    found = [_scan(match[a:b, :2 * max_period], exact[a:b, :2 * max_period], max_period,
                   min_repeats, max_gap) if b - a > 1 else None
             for a, b in zip(bounds[:-1], bounds[1:], strict=False)]
    return found, bounds, match[:, :_RECENT].any(axis=1)


def _scope_rows(seq: pd.DataFrame, m: pd.DataFrame, found: list, bounds: np.ndarray
                ) -> pd.DataFrame:
    """One row per sequence with its loop, positions mapped back to the conversation."""
    if seq.empty:
        return pd.DataFrame({"conversation_id": pd.Series(dtype=object),
                             "scope": pd.Series(dtype=object), "n_messages": pd.Series(
                                 dtype="int64"), "has_loop": pd.Series(dtype=bool)})
    n_conv = m.groupby("conversation_id", sort=False).size()
    n_conv = dict(zip(n_conv.index.astype(str), n_conv.tolist(), strict=True))
    texts, turns, pos = seq["text"].to_numpy(), seq["turn"].to_numpy(), seq["pos"].to_numpy()
    ids, scopes = seq["conversation_id"].to_numpy(), seq["scope"].to_numpy()
    rows = []
    for a, hit in zip(bounds[:-1], found, strict=True):
        cid = str(ids[a]).split("\x1f", 1)[0]
        scope = str(scopes[a])
        n = int(n_conv[cid])
        row = {"conversation_id": cid, "scope": scope, "n_messages": n, "has_loop": hit is not None}
        if hit is not None:
            p, start, first, last, n_rep = hit
            start_pos, end_pos = int(pos[a + start]), int(pos[a + last])
            row.update(period=p, loop_start_turn=turns[a + start], onset_turn=turns[a + first],
                       end_turn=turns[a + last], n_repeats=n_rep,
                       duration=end_pos - start_pos + 1, n_after=n - 1 - end_pos,
                       coverage=round((end_pos - start_pos + 1) / max(n, 1), 3),
                       unit=" | ".join(_one_line(t) for t in texts[a + start : a + start + p]))
        rows.append(row)
    return pd.DataFrame(rows)


_INT_COLUMNS = ("onset_turn", "loop_start_turn", "end_turn", "period")


def _finish(t: pd.DataFrame) -> pd.DataFrame:
    for col in ("period", "loop_start_turn", "onset_turn", "end_turn", "n_repeats", "duration",
                "n_after", "coverage", "unit"):
        if col not in t.columns:
            t[col] = pd.NA
    has = t["has_loop"].astype(bool)
    t["has_loop"] = has
    for col in _INT_COLUMNS:
        t[col] = pd.array(t[col].where(has), dtype="Int64")
    for col in ("n_repeats", "duration", "n_after"):
        t[col] = t[col].where(has, 0).astype("int64")
    t["coverage"] = t["coverage"].where(has, 0.0).astype("float64")
    t["unit"] = t["unit"].where(has, "").astype("string")
    t["left_loop"] = has & (t["n_after"] >= MIN_EXIT)
    kind = np.select([t["period"].fillna(0).to_numpy() == 1,
                      (t["period"].fillna(0).to_numpy() == 2) & (t["scope"] == _BOTH).to_numpy()],
                     ["fixed point", "ping-pong"], default="cycle")
    t["kind"] = pd.Series(np.where(has, kind, ""), index=t.index, dtype="string")
    return t


def _loop_table(m: pd.DataFrame, max_period: int, threshold: float, ngram: int,
                min_repeats: int, max_gap: int) -> pd.DataFrame:
    parts = []
    for by_speaker in (False, True):
        seq = _sequences(m, by_speaker)
        found, bounds, recent = _scan_all(seq, max_period, threshold, ngram, min_repeats,
                                          max_gap)
        parts.append(_scope_rows(seq, m, found, bounds))
        if not by_speaker:
            share = pd.Series(recent, dtype=float).groupby(
                seq["conversation_id"].to_numpy(), sort=False).mean().round(3)
    t = _finish(pd.concat(parts, ignore_index=True))
    t.attrs["repeat_share"] = share if len(m) else pd.Series(dtype=float)
    order = pd.Index(pd.unique(m["conversation_id"].astype(str)))
    t["_o"] = order.get_indexer(t["conversation_id"])
    t["_s"] = (t["scope"] != _BOTH).astype(int)
    t = t.sort_values(["_o", "_s"], kind="stable").drop(columns=["_o", "_s"])
    return t.reset_index(drop=True)


def _check_loop_options(max_period: int, threshold: float, ngram: int, min_repeats: int,
                        max_gap: int) -> None:
    check_positive_int("max_period", max_period)
    check_share("threshold", threshold)
    check_positive_int("ngram", ngram)
    check_positive_int("min_repeats", min_repeats)
    check_int("max_gap", max_gap, 0)


def _max_period(max_period: int, lookback: int | None) -> int:
    if lookback is not None:
        warnings.warn("loops(lookback=) is now max_period=: the longest cycle looked for",
                      DeprecationWarning, stacklevel=4)
        return lookback
    return max_period


_SPEAKER_COLUMNS = ["conversation_id", "model_pair", "scope", "n_messages", "has_loop", "kind",
                    "period", "loop_start_turn", "onset_turn", "end_turn", "duration",
                    "n_repeats", "coverage", "n_after", "left_loop", "unit"]


@messages_metric
@by_conversation
def speaker_loops(
    messages: pd.DataFrame, *, max_period: int = 24, threshold: float = 0.8, ngram: int = 3,
    min_repeats: int = 2, max_gap: int = 1, include_seed: bool = False,
) -> pd.DataFrame:
    """The last loop of each conversation as a whole and of each speaker on their own.

    A speaker's messages are read as a sequence of their own: a model that re-sends one
    message while its partner varies loops with period 1 in its own messages, which the
    conversation as a whole (where that message recurs every other turn among new ones) does
    not show. The loop rule is the one of :func:`loops`.

    Returns
    -------
    DataFrame
        One row per conversation and ``scope``: ``"both"`` (the whole conversation) first,
        then each speaker by name. Columns: ``conversation_id``, ``model_pair``, ``scope``,
        ``n_messages`` (of the conversation), ``has_loop``, ``kind`` (``LOOP_KINDS``; empty
        without a loop), ``period`` (in the scope's own messages), ``loop_start_turn`` (first
        message of the loop: the repeated unit's first occurrence), ``onset_turn`` (its first
        repeat), ``end_turn`` (its last repeat), ``duration`` (messages of the conversation
        from start to end, both speakers counted), ``n_repeats`` (messages of the scope that
        repeat), ``coverage`` (duration over the conversation's messages, 3 decimals),
        ``n_after`` (messages after the end), ``left_loop`` (at least ``MIN_EXIT`` = 3
        messages follow: the run left the loop again), ``unit`` (the repeated messages,
        whitespace collapsed, joined by " | "). Turn and period columns are Int64, NA without
        a loop.
    """
    _check_loop_options(max_period, threshold, ngram, min_repeats, max_gap)
    m = messages_seen(messages, func="speaker_loops", include_seed=include_seed)
    t = _loop_table(m, max_period, threshold, ngram, min_repeats, max_gap)
    pairs = model_pairs(m, include_seed=True)
    t["model_pair"] = pairs.reindex(t["conversation_id"]).to_numpy()
    t["scope"] = t["scope"].astype("string")
    t["conversation_id"] = t["conversation_id"].astype("string")
    out = t[_SPEAKER_COLUMNS]
    out.attrs = {}  # repeat_share is loops()' column: slices must not carry a Series to concat
    return out


def _both_speakers(t: pd.DataFrame) -> pd.DataFrame:
    """Where the pair's own loop is missing or left but each of two speakers holds a loop to
    the end, the exchange as a whole repeats (with a period beyond the pair's ``max_period``,
    or too unevenly for the pair's scan): one row of scope "both" for it."""
    rows = []
    speakers = t[t["scope"] != _BOTH]
    ids = speakers["conversation_id"].to_numpy()
    held = (speakers["has_loop"] & ~speakers["left_loop"]).groupby(ids, sort=False)
    both_held = ((held.transform("size") == 2) & held.transform("all")).to_numpy(dtype=bool)
    pair = t[t["scope"] == _BOTH]
    pair_held = pd.Series((pair["has_loop"] & ~pair["left_loop"]).to_numpy(dtype=bool),
                          index=pair["conversation_id"].to_numpy())
    keep = both_held & ~pair_held.reindex(ids, fill_value=False).to_numpy(dtype=bool)
    for _, g in speakers[keep].groupby("conversation_id", sort=False):
        a, b = g.iloc[0], g.iloc[1]
        row = a.copy()
        row["scope"] = _BOTH
        row["period"] = 2 * math.lcm(int(a["period"]), int(b["period"]))
        start = min(int(a["loop_start_turn"]), int(b["loop_start_turn"]))
        row["loop_start_turn"] = start
        row["onset_turn"] = min(int(a["onset_turn"]), int(b["onset_turn"]))
        row["end_turn"] = max(int(a["end_turn"]), int(b["end_turn"]))
        row["n_repeats"] = int(a["n_repeats"]) + int(b["n_repeats"])
        row["duration"] = max(int(a["duration"]) + int(a["loop_start_turn"]),
                              int(b["duration"]) + int(b["loop_start_turn"])) - start
        row["n_after"] = min(int(a["n_after"]), int(b["n_after"]))
        row["coverage"] = round(row["duration"] / max(int(a["n_messages"]), 1), 3)
        row["unit"] = f"{a['scope']}: {a['unit']} / {b['scope']}: {b['unit']}"
        row["kind"] = "cycle"
        row["left_loop"] = False
        rows.append(row)
    return pd.DataFrame(rows)


def _main_loops(t: pd.DataFrame) -> pd.DataFrame:
    """Per conversation the loop that describes it: the pair's loop when the whole exchange
    repeats (found by the pair's scan, or by each speaker's at once); else a speaker's
    (one-sided) loop; a loop held to the end beats one that was left, then the latest, then
    the longest."""
    order = pd.Index(pd.unique(t["conversation_id"]))  # the conversations' own order
    both = _both_speakers(t)
    if len(both):
        t = pd.concat([both.astype(t.dtypes.to_dict()), t], ignore_index=True)
    key = pd.DataFrame({
        "c": t["conversation_id"].to_numpy(),
        "held": (t["has_loop"] & ~t["left_loop"]).to_numpy(),
        "has": t["has_loop"].to_numpy(),
        "pair": (t["scope"] == _BOTH).to_numpy(),
        "duration": t["duration"].to_numpy(),
        "end": t["end_turn"].fillna(-1).to_numpy(),
        "row": np.arange(len(t)),
    })
    key["o"] = order.get_indexer(key["c"])
    ranked = key.sort_values(["o", "held", "has", "pair", "end", "duration"],
                             ascending=[True, False, False, False, False, False], kind="stable")
    rows = ranked.drop_duplicates("o")["row"].to_numpy()
    return t.iloc[rows].reset_index(drop=True)


@messages_metric
@by_conversation(split=("repeats",))
def loops(
    messages: pd.DataFrame, *, max_period: int = 24, threshold: float = 0.8, ngram: int = 3,
    min_repeats: int = 2, max_gap: int = 1, include_seed: bool = False,
    repeats: pd.DataFrame | None = None, lookback: int | None = None,
) -> pd.DataFrame:
    """The loop each conversation falls into, if any: for the pair or for one speaker.

    Messages are compared as in :func:`near_repeats` (normal forms; exact, or near at
    ``threshold`` on character ``ngram``-grams). A loop of period ``p`` is a stretch in which
    every message repeats the message ``p`` before it, for ``p`` up to ``max_period``; the
    period is the smallest lag that explains the stretch (a fixed point also repeats at lag 2;
    period 1 wins). One odd message inside a loop (up to ``max_gap`` in a row, three in four
    messages still repeating) does not end it or move its onset: each message may also repeat
    the one ``2 p`` back. A loop needs at least
    ``max(p, min_repeats)`` repeats: the unit seen whole twice, one message three times.

    The search runs on the whole conversation and on each speaker's own messages
    (:func:`speaker_loops`), so a model that re-sends one message while its partner varies is
    found, with ``scope`` naming it. The conversation's loop is the pair's when the whole
    exchange repeats (also when each speaker holds a loop of its own: the pair's period is
    then twice the least common multiple of theirs, which may exceed ``max_period``), else the
    speaker's; the last loop of a run, which may have been left.

    Parameters
    ----------
    messages
        The messages table.
    max_period
        Longest cycle looked for, in messages of the sequence searched (24: a 12-round cycle).
    threshold, ngram
        As in :func:`near_repeats`.
    min_repeats
        Fewest repeats of a single message that make a loop (2: "A, A" is not a loop, "A, A,
        A" is).
    max_gap
        Odd messages in a row a loop survives.
    include_seed
        Keep the orchestrator's seed messages.
    repeats
        The result of :func:`near_repeats`, for the ``repeat_share`` column (computed when not
        given).
    lookback
        Former name of ``max_period`` (deprecated).

    Returns
    -------
    DataFrame
        One row per conversation: ``conversation_id``, ``model_pair``, ``n_messages``,
        ``has_loop``, ``onset_turn`` (first repeat), ``loop_start_turn`` (first message of the
        loop), ``period`` (Int64, NA without a loop; in the looping speaker's own messages for
        a one-sided loop), ``n_repeats``, ``coverage`` (share of the conversation's messages
        from the loop's start to its end, 3 decimals; 0 without a loop), ``unit`` (the repeated
        messages' text, whitespace collapsed, joined by " | "; empty without a loop),
        ``repeat_share`` (share of all the conversation's messages that near-repeat one of the
        six before, 3 decimals), then ``scope`` (``"both"`` or the looping speaker; NA without
        a loop), ``one_sided``, ``kind``, ``end_turn``, ``duration``, ``n_after``,
        ``left_loop``, as in :func:`speaker_loops`.
    """
    max_period = _max_period(max_period, lookback)
    _check_loop_options(max_period, threshold, ngram, min_repeats, max_gap)
    m = messages_seen(messages, func="loops", include_seed=include_seed)
    table = _loop_table(m, max_period, threshold, ngram, min_repeats, max_gap)
    t = _main_loops(table)
    t.attrs["repeat_share"] = table.attrs["repeat_share"]
    if repeats is not None:
        share = repeats.groupby("conversation_id", sort=False)["is_near_repeat"].mean().round(3)
    else:  # the same shares, from the lags the loop search compared anyway
        share = t.attrs["repeat_share"]
    out = pd.DataFrame({"conversation_id": t["conversation_id"].astype("string")})
    out["model_pair"] = model_pairs(m, include_seed=True).reindex(t["conversation_id"]).to_numpy()
    for col in ("n_messages", "has_loop", "onset_turn", "loop_start_turn", "period",
                "n_repeats", "coverage", "unit"):
        out[col] = t[col].to_numpy() if col not in _INT_COLUMNS else t[col].array
    out["repeat_share"] = share.reindex(t["conversation_id"]).fillna(0.0).to_numpy()
    out["scope"] = pd.array(np.where(t["has_loop"], t["scope"], None), dtype="string")
    out["one_sided"] = (t["has_loop"] & (t["scope"] != _BOTH)).to_numpy()
    for col in ("kind", "end_turn", "duration", "n_after", "left_loop"):
        out[col] = t[col].array if col in _INT_COLUMNS else t[col].to_numpy()
    out["kind"] = out["kind"].astype("string")
    return out


def loop_overview(loops_table: pd.DataFrame) -> pd.DataFrame:
    """How conversations end up looping, by period (from :func:`loops`).

    Returns
    -------
    DataFrame
        One row per period found plus a row ``"no loop"``: ``loop`` (``"period 1"``, ...),
        ``n_conversations``, ``share`` (of all conversations), ``median_onset_turn``,
        ``median_coverage`` (2 decimals; NaN for "no loop").
    """
    lp = loops_table
    label = ("period " + lp["period"].astype("string")).fillna("no loop")
    grouped = lp.assign(loop=label).groupby("loop", sort=True)
    out = grouped.agg(n_conversations=("conversation_id", "size"),
                      median_onset_turn=("onset_turn", "median"),
                      median_coverage=("coverage", "median")).reset_index()
    out["median_coverage"] = out["median_coverage"].where(out["loop"] != "no loop")
    out = out.astype({"median_onset_turn": "float64", "median_coverage": "float64"}).round(2)
    out["share"] = (out["n_conversations"] / max(len(lp), 1)).round(3)
    return out[["loop", "n_conversations", "share", "median_onset_turn", "median_coverage"]]


def _one_line(text: str) -> str:
    return _SPACE_RE.sub(" ", text).strip()

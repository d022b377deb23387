"""Loops: the repeating stretch each conversation ends in."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..._core.speed import by_conversation
from ..._core.validate import check_positive_int, messages_metric, messages_seen, positions
from ..overview import model_pairs
from .repeats import near_repeats

__all__ = ["loop_overview", "loops"]

_SPACE_RE = re.compile(r"\s+")


# --- loops -----------------------------------------------------------------------------------


@messages_metric
@by_conversation(split=("repeats",))
def loops(
    messages: pd.DataFrame, *, lookback: int = 6, threshold: float = 0.8, ngram: int = 3,
    min_repeats: int = 2, include_seed: bool = False, repeats: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The loop each conversation ends in, if any.

    The loop is the longest final stretch in which every message near-repeats one of the
    ``lookback`` before it (see :func:`near_repeats`); ``onset_turn`` is its first message.
    ``period`` is the lag at which the stretch repeats: for each message the smallest lag with
    a near repeat, and the most common of those (ties: the smaller), so one glitch does not
    hide a fixed point. 1 is a fixed point (the same message over and over), 2 a ping-pong
    (A, B, A, B), more a longer cycle. The loop starts (``loop_start_turn``) at the message
    the onset repeats, the first occurrence of the repeated unit: the ``period`` messages from
    there. A conversation is in a loop when the stretch holds at least
    ``max(period, min_repeats)`` repeats.

    Parameters
    ----------
    messages
        The messages table.
    lookback, threshold, ngram
        As in :func:`near_repeats`.
    min_repeats
        Fewest repeats that make a loop (2: "A, A" is not a loop, "A, A, A" is).
    include_seed
        Keep the orchestrator's seed messages.
    repeats
        The result of :func:`near_repeats` on the same messages and options, to reuse it.

    Returns
    -------
    DataFrame
        One row per conversation: ``conversation_id``, ``model_pair``, ``n_messages``,
        ``has_loop``, ``onset_turn``, ``loop_start_turn``, ``period`` (Int64, NA without a
        loop), ``n_repeats``, ``coverage`` (share of the generated messages from the loop start
        on, 3 decimals; 0 without a loop), ``unit`` (the repeated messages' text, whitespace
        collapsed, joined by " | "; empty without a loop), ``repeat_share`` (share of all the
        conversation's messages that near-repeat a recent one, 3 decimals).
    """
    check_positive_int("min_repeats", min_repeats)
    m = messages_seen(messages, func="loops", include_seed=include_seed)
    r = repeats if repeats is not None else near_repeats(
        m, lookback=lookback, threshold=threshold, ngram=ngram, include_seed=True)
    r = r.reset_index(drop=True)
    codes, ids = pd.factorize(r["conversation_id"])
    pos = positions(r)
    stretch = _final_stretch(r["is_near_repeat"].to_numpy(dtype=bool), pos, codes)
    in_stretch = pos >= stretch["onset"][codes]
    lag = r["repeat_lag"].fillna(0).to_numpy(dtype=np.int64)
    period = _period(lag, in_stretch, codes, len(ids))
    n_msgs = np.bincount(codes, minlength=len(ids))
    has_loop = stretch["n_repeats"] >= np.maximum(period, min_repeats)
    first_row = np.r_[0, np.cumsum(n_msgs)[:-1]]
    onset_row = first_row + np.minimum(stretch["onset"], n_msgs - 1)
    # The loop starts at the message the first repeat repeats: the unit's first occurrence.
    start = np.where(has_loop, np.maximum(stretch["onset"] - lag[onset_row], 0), 0)
    out = pd.DataFrame({"conversation_id": pd.array(ids, dtype="string")})
    out["model_pair"] = model_pairs(m, include_seed=True).reindex(ids).to_numpy()
    out["n_messages"] = n_msgs.astype("int64")
    out["has_loop"] = has_loop
    turns = r["turn"].to_numpy()
    out["onset_turn"] = _masked_int(turns[onset_row], has_loop)
    out["loop_start_turn"] = _masked_int(turns[first_row + start], has_loop)
    out["period"] = _masked_int(period, has_loop)
    out["n_repeats"] = np.where(has_loop, stretch["n_repeats"], 0).astype("int64")
    out["coverage"] = np.where(has_loop, (n_msgs - start) / np.maximum(n_msgs, 1), 0.0).round(3)
    out["unit"] = _units(m["text"].to_numpy(), first_row + start, period, has_loop)
    out["repeat_share"] = (r.groupby(codes)["is_near_repeat"].mean().to_numpy()).round(3)
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


def _final_stretch(is_repeat: np.ndarray, pos: np.ndarray, codes: np.ndarray) -> dict:
    """Per conversation: position of the first message of the all-repeat suffix, its length."""
    n_conv = codes.max(initial=-1) + 1
    last_break = np.full(n_conv, -1)
    np.maximum.at(last_break, codes, np.where(is_repeat, -1, pos))
    n_msgs = np.bincount(codes, minlength=n_conv)
    onset = last_break + 1
    return {"onset": onset, "n_repeats": n_msgs - onset}


def _period(repeat_lag: np.ndarray, in_stretch: np.ndarray, codes: np.ndarray, n_conv: int
            ) -> np.ndarray:
    """Most common smallest repeat lag in each conversation's final stretch (ties: smaller)."""
    lags = pd.DataFrame({"c": codes[in_stretch], "lag": repeat_lag[in_stretch]})
    mode = (lags.groupby(["c", "lag"]).size().reset_index(name="k")
                .sort_values(["c", "k", "lag"], ascending=[True, False, True], kind="stable")
                .drop_duplicates("c"))
    period = np.ones(n_conv, dtype=np.int64)
    period[mode["c"].to_numpy(dtype=np.int64)] = mode["lag"].to_numpy(dtype=np.int64)
    return period


def _masked_int(values: np.ndarray, keep: np.ndarray) -> pd.api.extensions.ExtensionArray:
    out = pd.array(np.where(keep, values, 0), dtype="Int64")
    out[~keep] = pd.NA
    return out


def _one_line(text: str) -> str:
    return _SPACE_RE.sub(" ", text).strip()


def _units(texts: np.ndarray, start: np.ndarray, period: np.ndarray, keep: np.ndarray) -> pd.Series:
    units = [" | ".join(_one_line(t) for t in texts[s : s + p]) if k else ""
             for s, p, k in zip(start, period, keep, strict=True)]
    return pd.Series(units, dtype="string")



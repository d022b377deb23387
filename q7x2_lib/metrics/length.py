"""Message length decay: lengths by turn, corpus profiles, decay fits, collapse, end markers."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .._core.speed import by_conversation, columns_of
from .._core.validate import (
    check_at_least,
    check_choice,
    check_positive_int,
    messages_metric,
    messages_seen,
)
from .dependence import (
    MIN_EFFECTIVE,
    block_lengths,
    effective_size,
    lag1_autocorrelation,
    widen,
)
from .stats import (
    bin_position,
    describe_groups,
    group_batches,
    percentile_interval,
    round_floats,
    sen_interval,
    theil_sen,
    theil_sen_replicates,
)

__all__ = [
    "INTERVALS",
    "UNITS",
    "collapse_turn",
    "decay_fit",
    "decay_overview",
    "early_late_ratio",
    "end_marker_share",
    "length_decay_summary",
    "length_profile",
    "message_lengths",
    "speaker_roles",
]

UNITS = {"words": "n_words", "chars": "n_chars"}
#: Intervals of the decay rate (see :func:`decay_fit`): the block bootstrap, or Sen's rank one.
INTERVALS = ("bootstrap", "sen")
#: Messages a Theil–Sen fit uses at most per conversation (see :func:`decay_fit`).
MAX_FIT_POINTS = 2_000
#: A step fits when it explains this much more than the line: ``n ln(SSE_line / SSE_step)`` at
#: least ``STEP_EVIDENCE * ln(n)`` (a BIC-like margin; see :func:`decay_fit`).
STEP_EVIDENCE = 6.0
#: A step's two levels must differ by at least this much in log(1 + length): a factor of 3.
STEP_JUMP = float(np.log(3.0))
_MIN_STEP_SIDE = 5  # messages each side of a change point
_REQUIRED = ("conversation_id", "turn", "speaker", "model", "n_words", "n_chars", "is_seed")
_KEYS = ["conversation_id", "turn"]
_ROLE_COLUMNS = ("opener", "responder", "opener_model", "responder_model")
_STR = "string"


def _length_column(unit: str) -> str:
    check_choice("unit", unit, UNITS)
    return UNITS[unit]


def _kept(messages: pd.DataFrame, include_seed: bool, extra: Sequence[str] = (), *,
          func: str) -> pd.DataFrame:
    """The messages a length metric sees (:func:`messages_seen`): only the length columns and
    ``extra`` are kept, so filtering does not copy message texts that nobody reads."""
    return messages_seen(messages, func=func, include_seed=include_seed,
                         columns=(*_REQUIRED, *extra))


@messages_metric
@by_conversation
def speaker_roles(messages: pd.DataFrame) -> pd.DataFrame:
    """Who opened each conversation and who answered.

    The opener is the speaker of the first message that is not the orchestrator's seed; the
    responder is the first other speaker to write (missing when nobody else did).

    Returns
    -------
    DataFrame
        ``conversation_id``, ``opener``, ``responder``, ``opener_model``, ``responder_model``
        (the models they run); one row per conversation with at least one non-seed message,
        sorted by ``conversation_id``.
    """
    kept = _kept(messages, include_seed=False, func="speaker_roles")
    firsts = kept.groupby("conversation_id", sort=True)[["speaker", "model"]].first()
    others = kept.loc[kept["speaker"] != kept["conversation_id"].map(firsts["speaker"])]
    seconds = others.groupby("conversation_id", sort=True)[["speaker", "model"]].first()
    roles = pd.concat([firsts.set_axis(["opener", "opener_model"], axis=1),
                       seconds.set_axis(["responder", "responder_model"], axis=1)], axis=1)
    return roles.reset_index().astype(
        dict.fromkeys(("conversation_id", *_ROLE_COLUMNS), _STR))[["conversation_id",
                                                                    *_ROLE_COLUMNS]]


@messages_metric
@by_conversation
def message_lengths(
    messages: pd.DataFrame, *, unit: str = "words", include_seed: bool = False
) -> pd.DataFrame:
    """The length of each message, with its speaker's role and its place in the conversation.

    Parameters
    ----------
    messages
        A messages table.
    unit
        ``"words"`` (``n_words``) or ``"chars"`` (``n_chars``).
    include_seed
        Keep the orchestrator's seed message (left out by default).

    Returns
    -------
    DataFrame
        ``conversation_id``, ``turn``, ``speaker``, ``model``, ``role`` (``"opener"`` for the
        speaker of the first non-seed message, ``"responder"`` for anyone else), ``position``
        (0-based index among the kept messages), ``n_messages`` (kept messages in the
        conversation),
        ``relative_position`` (``position / n_messages``, in [0, 1)), ``length``.
    """
    column = _length_column(unit)
    kept = _kept(messages, include_seed, func="message_lengths")
    opener = kept["conversation_id"].map(
        speaker_roles(messages).set_index("conversation_id")["opener"])
    grouped = kept.groupby("conversation_id", sort=False)
    position = grouped.cumcount().astype("int64")
    n_messages = grouped["turn"].transform("size").astype("int64")
    role = np.where(kept["speaker"].eq(opener).fillna(False).to_numpy(bool), "opener", "responder")
    return pd.DataFrame({
        "conversation_id": kept["conversation_id"].astype(_STR),
        "turn": kept["turn"].astype("int64"),
        "speaker": kept["speaker"].astype(_STR),
        "model": kept["model"].astype(_STR),
        "role": pd.array(role, dtype=_STR),
        "position": position,
        "n_messages": n_messages,
        "relative_position": position / n_messages,
        "length": kept[column].astype("int64"),
    })


@messages_metric
def length_profile(
    messages: pd.DataFrame, *, x: str = "turn", hue: str | None = "role", n_bins: int = 10,
    unit: str = "words", include_seed: bool = False, n_boot: int = 1000, ci: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """Corpus length curve along the conversation: median with IQR, mean with bootstrap interval.

    Parameters
    ----------
    messages
        A messages table.
    x
        ``"turn"`` (absolute turn) or ``"relative"`` (``position / n_messages``, binned).
    hue
        Split by ``"role"`` (opener / responder), ``"model"`` (the model a speaker runs: the two
        speakers of a self-play run count as one model), ``"speaker"``, or ``None``.
    n_bins
        Number of equal-width relative-position bins (``x="relative"`` only).
    unit, include_seed
        As in :func:`message_lengths`.
    n_boot, ci, seed
        Percentile bootstrap of the mean (messages resampled within each point of the curve).

    Returns
    -------
    DataFrame
        The ``hue`` column (if any), ``turn`` or ``relative_position`` (bin midpoint), ``n``,
        ``median``, ``q25``, ``q75``, ``mean``, ``mean_low``, ``mean_high``.
    """
    if x not in ("turn", "relative"):
        raise ValueError(f"x: got {x!r}; expected 'turn' (absolute) or 'relative' (binned "
                         "turn / conversation length)")
    check_choice("hue", hue, ("role", "model", "speaker", None))
    by = [c for c in (hue, "turn" if x == "turn" else "relative_position") if c]
    lengths = columns_of(messages, metric=message_lengths, columns=(*by, "length"), unit=unit,
                         include_seed=include_seed)
    if x == "relative":
        lengths = lengths.assign(relative_position=bin_position(
            lengths["relative_position"], n_bins=n_bins))
    return describe_groups(lengths, value="length", by=by, n_boot=n_boot, ci=ci, seed=seed)


def _half_life(rate: np.ndarray) -> np.ndarray:
    """ln 2 / rate for a positive rate; inf (never halves) otherwise; NaN stays NaN."""
    rate = np.asarray(rate, dtype=float)
    with np.errstate(divide="ignore"):
        return np.where(rate > 0, np.log(2) / np.where(rate > 0, rate, 1.0),
                        np.where(np.isnan(rate), np.nan, np.inf))


@messages_metric
@by_conversation
def decay_fit(
    messages: pd.DataFrame, *, unit: str = "words", include_seed: bool = False,
    n_boot: int = 1000, ci: float = 0.95, seed: int = 0, max_points: int = MAX_FIT_POINTS,
    interval: str = "bootstrap",
) -> pd.DataFrame:
    """Robust exponential decay of message length per conversation.

    A Theil–Sen line of ``log(1 + length)`` on ``turn`` (all kept messages, both speakers);
    ``decay_rate = -slope`` (per turn), so ``1 + length`` halves every ``ln 2 / decay_rate`` turns.
    The interval is a percentile bootstrap that respects autocorrelation: the messages are
    resampled in circular blocks of ``block_length`` consecutive messages (the Theil–Sen slope
    recomputed on each resample), the block length chosen by Politis and White's rule from the
    fit's residuals (:func:`q7x2_lib.metrics.dependence.block_lengths`), and the interval is
    widened for the few blocks it rests on (:func:`q7x2_lib.metrics.dependence.widen`). Where
    the residuals show no dependence the block is 1: the ordinary bootstrap over messages.
    ``interval="sen"`` gives Sen's rank interval instead (:func:`q7x2_lib.metrics.stats.
    sen_interval`: order statistics of the pairwise slopes, no resampling, ``n_boot`` and ``seed``
    unused), its variance multiplied by ``n_fitted / n_eff`` for autocorrelation. It is about
    four times faster than the bootstrap on a corpus; its bounds are not widened for few blocks.
    ``n_eff`` is
    the effective number of independent messages (each speaker's ``n (1 - r) / (1 + r)`` from the
    lag-1 autocorrelation ``r`` of its own residuals, summed); ``few_effective`` flags intervals
    resting on fewer than ``MIN_EFFECTIVE`` (10).

    ``shape`` says whether a log-linear decay describes the conversation at all: ``"step"`` when
    one change of level (long messages, then short ones from ``step_turn``) fits much better than
    the line (``n ln(SSE_line / SSE_step) >= STEP_EVIDENCE ln n``, the levels a factor of at least
    3 apart, at least five messages each side), else ``"trend"``. A step's half-life is reported
    but does not describe it: the length did not decay, it dropped.

    Theil–Sen compares every pair of messages, so its cost grows with the square of a
    conversation's length: a conversation of more than ``max_points`` messages is fitted on
    ``max_points`` of them, evenly spaced along it (the same line, estimated from fewer points:
    a wider interval). ``n_fitted`` says how many were used.

    Returns
    -------
    DataFrame
        ``conversation_id``, ``n_messages``, ``n_fitted``, ``intercept``, ``slope``, ``decay_rate``,
        ``rate_low``, ``rate_high``, ``half_life`` (turns; ``inf`` when the rate is 0 or negative:
        length never halves), ``half_life_low``, ``half_life_high``, ``decays`` (rate > 0),
        ``block_length``, ``n_eff``, ``few_effective``, ``shape`` (``"trend"`` or ``"step"``;
        missing below 10 messages), ``step_turn`` (Int64: first turn after the drop).
        Rate columns are NaN for conversations with fewer than two kept messages.
    """
    check_positive_int("max_points", max_points)
    check_choice("interval", interval, INTERVALS)
    lengths = message_lengths(messages, unit=unit, include_seed=include_seed)
    return _decay_fit(lengths, n_boot=n_boot, ci=ci, seed=seed, max_points=max_points,
                      interval=interval)


def _evenly_spaced(lengths: pd.DataFrame, max_points: int) -> pd.DataFrame:
    """At most ``max_points`` messages of each conversation, evenly spaced along it."""
    n, pos = lengths["n_messages"].to_numpy(), lengths["position"].to_numpy()
    long = n > max_points
    if not long.any():
        return lengths
    keep = ~long
    for size in np.unique(n[long]):
        picked = np.zeros(size, dtype=bool)
        picked[np.round(np.linspace(0, size - 1, max_points)).astype(np.int64)] = True
        rows = n == size
        keep[rows] = picked[pos[rows]]
    return lengths.loc[keep]


def _decay_fit(lengths: pd.DataFrame, *, n_boot: int, ci: float, seed: int,
               max_points: int | None = None, interval: str = "bootstrap") -> pd.DataFrame:
    """:func:`decay_fit` from a :func:`message_lengths` table."""
    codes_all, ids = pd.factorize(lengths["conversation_id"], sort=True)
    n_messages = np.bincount(codes_all, minlength=len(ids)).astype("int64")
    lengths = _evenly_spaced(lengths, MAX_FIT_POINTS if max_points is None else max_points)
    codes = pd.Index(ids).get_indexer(lengths["conversation_id"])
    x, y = lengths["turn"].to_numpy(float), np.log1p(lengths["length"].to_numpy(float))
    slope, intercept = theil_sen(x, y, codes, n_groups=len(ids))
    residual = y - np.nan_to_num(intercept[codes]) - np.nan_to_num(slope[codes]) * x
    # Each speaker's own level taken out: two speakers' different lengths alternate, which is
    # not dependence between consecutive messages.
    residual = residual - pd.Series(residual).groupby(
        [codes, lengths["speaker"].to_numpy()]).transform("mean").to_numpy()
    blocks = np.ones(len(ids), dtype=np.int64)
    for gids, members in group_batches(codes, len(ids)):
        blocks[gids] = block_lengths(residual[members])
    n_fitted = np.bincount(codes, minlength=len(ids)).astype("int64")
    n_eff = _effective_messages(residual, codes, lengths["speaker"].to_numpy(), len(ids))
    if interval == "sen":  # n / n_eff >= 1: effective_size never exceeds n
        with np.errstate(divide="ignore", invalid="ignore"):
            inflation = n_fitted / n_eff
        slope_low, slope_high = sen_interval(x, y, codes, n_groups=len(ids), ci=ci,
                                             inflation=inflation)
    else:
        reps = theil_sen_replicates(x, y, codes, n_groups=len(ids), n_boot=n_boot, seed=seed,
                                    blocks=blocks)
        slope_low, slope_high = widen(slope, *percentile_interval(reps, ci=ci), n_fitted,
                                      blocks, ci)
    # 0.0 - x rather than -x: a flat fit reads 0.0, not -0.0.
    rate, rate_low, rate_high = 0.0 - slope, 0.0 - slope_high, 0.0 - slope_low
    shape, step_turn = _step_shape(y, x, codes, len(ids))
    return pd.DataFrame({
        "conversation_id": pd.array(ids, dtype=_STR),
        "n_messages": n_messages,
        "n_fitted": n_fitted,
        "intercept": intercept, "slope": slope, "decay_rate": rate,
        "rate_low": rate_low, "rate_high": rate_high, "half_life": _half_life(rate),
        "half_life_low": _half_life(rate_high), "half_life_high": _half_life(rate_low),
        "decays": rate > 0, "block_length": blocks, "n_eff": n_eff,
        "few_effective": n_eff < MIN_EFFECTIVE, "shape": shape, "step_turn": step_turn,
    })


def _effective_messages(residual: np.ndarray, codes: np.ndarray, speakers: np.ndarray,
                        n_groups: int) -> np.ndarray:
    """Per group, the sum over its speakers of ``n (1 - r) / (1 + r)``, ``r`` the lag-1
    autocorrelation of the speaker's own residuals in order (see :func:`effective_size`)."""
    pair, _ = pd.factorize(pd.MultiIndex.from_arrays([codes, speakers]), sort=False)
    owner = np.zeros(pair.max(initial=-1) + 1, dtype=np.int64)
    owner[pair] = codes
    out = np.zeros(n_groups)
    for gids, members in group_batches(pair):
        n = members.shape[1]
        np.add.at(out, owner[gids], effective_size(np.full(len(gids), n),
                                                   lag1_autocorrelation(residual[members])))
    return out


def _step_shape(y: np.ndarray, x: np.ndarray, codes: np.ndarray, n_groups: int
                ) -> tuple[np.ndarray, np.ndarray]:
    """``shape`` and ``step_turn`` of :func:`decay_fit`: one change of level against the line."""
    shape = np.full(n_groups, None, dtype=object)
    turn = np.full(n_groups, -1, dtype=np.int64)
    for gids, members in group_batches(codes, n_groups):
        n = members.shape[1]
        if n < 2 * _MIN_STEP_SIDE:
            continue
        ys, xs = y[members], x[members]
        xc, yc = xs - xs.mean(axis=1, keepdims=True), ys - ys.mean(axis=1, keepdims=True)
        sxx, syy = (xc * xc).sum(axis=1), (yc * yc).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            sse_line = syy - np.where(sxx > 0, (xc * yc).sum(axis=1) ** 2 / sxx, 0.0)
        # Two levels split before message k (k = side .. n - side): SSE from prefix sums.
        k = np.arange(_MIN_STEP_SIDE, n - _MIN_STEP_SIDE + 1)
        before = np.cumsum(ys, axis=1)[:, k - 1]
        total = ys.sum(axis=1, keepdims=True)
        sse_step = (ys * ys).sum(axis=1, keepdims=True) - before ** 2 / k \
            - (total - before) ** 2 / (n - k)
        best = sse_step.argmin(axis=1)
        rows = np.arange(len(gids))
        low = np.maximum(sse_step[rows, best], 1e-12 * n)
        jump = np.abs(before[rows, best] / k[best]
                      - (total[:, 0] - before[rows, best]) / (n - k[best]))
        with np.errstate(invalid="ignore", divide="ignore"):
            evidence = n * np.log(np.maximum(sse_line, 1e-12 * n) / low)
        is_step = (evidence >= STEP_EVIDENCE * np.log(n)) & (jump >= STEP_JUMP)
        shape[gids] = np.where(is_step, "step", "trend")
        turn[gids] = np.where(is_step, xs[rows, k[best]].astype(np.int64), -1)
    return (pd.array(shape, dtype=_STR),
            pd.array(np.where(turn < 0, None, turn), dtype="Int64"))


def _check_edge(edge: int) -> None:
    check_positive_int("edge", edge)


def _check_collapse(threshold: float, window: int) -> None:
    check_positive_int("window", window)
    check_at_least("threshold", threshold, 0)


@messages_metric
@by_conversation
def early_late_ratio(
    messages: pd.DataFrame, *, edge: int = 10, unit: str = "words", include_seed: bool = False
) -> pd.DataFrame:
    """Median length of the last ``edge`` messages over that of the first ``edge`` kept messages.

    In conversations shorter than ``2 * edge`` messages the two windows overlap; with at most
    ``edge`` messages they are the same messages and the ratio is left missing.

    Returns
    -------
    DataFrame
        ``conversation_id``, ``n_messages``, ``early_median``, ``late_median``, ``ratio``
        (``late_median / early_median``; NaN when the early median is 0 or the conversation has
        at most ``edge`` messages).
    """
    _check_edge(edge)
    return _early_late_ratio(message_lengths(messages, unit=unit, include_seed=include_seed), edge)


def _early_late_ratio(lengths: pd.DataFrame, edge: int) -> pd.DataFrame:
    """:func:`early_late_ratio` from a :func:`message_lengths` table."""
    from_end = lengths["n_messages"] - lengths["position"] - 1
    grouped = lengths.groupby("conversation_id", sort=True)
    early = lengths.loc[lengths["position"] < edge].groupby("conversation_id")["length"].median()
    late = lengths.loc[from_end < edge].groupby("conversation_id")["length"].median()
    out = grouped["n_messages"].first().rename("n_messages").reset_index()
    out["early_median"] = out["conversation_id"].map(early).astype(float)
    out["late_median"] = out["conversation_id"].map(late).astype(float)
    early_values = out["early_median"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        distinct = (early_values > 0) & (out["n_messages"].to_numpy() > edge)
        out["ratio"] = np.where(distinct, out["late_median"] / early_values, np.nan)
    return out.astype({"conversation_id": _STR})


@messages_metric
@by_conversation
def collapse_turn(
    messages: pd.DataFrame, *, threshold: float = 5, window: int = 4, unit: str = "words",
    include_seed: bool = False,
) -> pd.DataFrame:
    """The turn from which a conversation stays collapsed into short messages until its end.

    A trailing rolling median over ``window`` consecutive kept messages (both speakers) is
    defined from the ``window``-th message on; the collapse turn is the turn of the first message
    whose rolling median, and every later one, is at most ``threshold``. Because the window
    trails, it marks the turn by which the collapse is established (about ``window / 2`` messages
    after its onset).

    Returns
    -------
    DataFrame
        ``conversation_id``, ``n_messages``, ``collapse_turn`` (Int64; missing when the
        conversation never collapses or has fewer than ``window`` messages), ``collapsed``.
    """
    _check_collapse(threshold, window)
    lengths = message_lengths(messages, unit=unit, include_seed=include_seed)
    return _collapse_turn(lengths, threshold, window)


def _collapse_turn(lengths: pd.DataFrame, threshold: float, window: int) -> pd.DataFrame:
    """:func:`collapse_turn` from a :func:`message_lengths` table."""
    n = len(lengths)
    values = lengths["length"].to_numpy(float)
    median = np.full(n, np.inf)
    if n >= window:
        windows = np.lib.stride_tricks.sliding_window_view(values, window)
        median[window - 1:] = np.median(windows, axis=1)
    # Windows reaching back into the previous conversation are not defined.
    ok = (median <= threshold) & (lengths["position"].to_numpy() >= window - 1)
    return _first_of_final_run(lengths, ok).rename(columns={"first_turn": "collapse_turn"}).assign(
        collapsed=lambda f: f["collapse_turn"].notna().to_numpy(bool))


def _first_of_final_run(lengths: pd.DataFrame, ok: np.ndarray) -> pd.DataFrame:
    """Per conversation, the turn where the final run of ``ok`` rows starts (missing if none)."""
    starts = np.flatnonzero(lengths["position"].to_numpy() == 0)
    sizes = np.diff(np.append(starts, len(lengths))).astype("int64")
    first = np.zeros(len(starts), dtype=np.int64)
    if len(starts):
        index = np.where(ok, -1, np.arange(len(lengths)))
        first = np.maximum(np.maximum.reduceat(index, starts) + 1, starts)
    found = first < starts + sizes
    turns = lengths["turn"].to_numpy()[np.where(found, first, 0)] if len(starts) else first
    return pd.DataFrame({
        "conversation_id": lengths["conversation_id"].iloc[starts].reset_index(drop=True),
        "n_messages": sizes,
        "first_turn": pd.Series(turns, dtype="Int64").mask(~found),
    })


@messages_metric
@by_conversation
def end_marker_share(
    messages: pd.DataFrame, *, per_speaker: bool = True, include_seed: bool = False
) -> pd.DataFrame:
    """How often messages are nothing but an end marker, and how often they end with one.

    A marker-only message also ends with a marker, so ``ends_with_marker_share`` is at least
    ``marker_only_share``.

    Returns
    -------
    DataFrame
        ``conversation_id``, then ``speaker`` and ``role`` when ``per_speaker``,
        ``n_messages``, ``n_marker_only``, ``marker_only_share``, ``ends_with_marker_share``.
    """
    lengths = message_lengths(messages, include_seed=include_seed)
    return _end_marker_share(messages, lengths, per_speaker, include_seed)


def _end_marker_share(messages: pd.DataFrame, lengths: pd.DataFrame, per_speaker: bool,
                      include_seed: bool) -> pd.DataFrame:
    """:func:`end_marker_share` given the :func:`message_lengths` of ``messages`` (any unit)."""
    kept = _kept(messages, include_seed, extra=("is_end_marker", "ends_with_end_marker"),
                  func="end_marker_share")
    frame = lengths[["conversation_id", "speaker", "role"]].assign(
        only=kept["is_end_marker"].to_numpy(bool), ends=kept["ends_with_end_marker"].to_numpy(bool))
    by = ["conversation_id", "speaker", "role"] if per_speaker else ["conversation_id"]
    grouped = frame.groupby(by, sort=True)
    out = grouped.agg(n_messages=("only", "size"), n_marker_only=("only", "sum"),
                      marker_only_share=("only", "mean"), ends_with_marker_share=("ends", "mean"))
    return out.reset_index().astype({"n_messages": "int64", "n_marker_only": "int64"})


@messages_metric
@by_conversation
def length_decay_summary(
    messages: pd.DataFrame, *, collapse_threshold: float = 5, collapse_window: int = 4,
    edge: int = 10, unit: str = "words", include_seed: bool = False, n_boot: int = 1000,
    ci: float = 0.95, seed: int = 0, decimals: int | None = 3, interval: str = "bootstrap",
) -> pd.DataFrame:
    """One row per conversation: decay fit, late/early ratio, collapse turn, end-marker shares.

    ``interval`` chooses the decay rate's interval as in :func:`decay_fit`.

    Returns
    -------
    DataFrame
        ``conversation_id``, ``n_messages``, ``decay_rate``, ``rate_low``, ``rate_high``,
        ``half_life``, ``half_life_low``, ``half_life_high``, ``n_eff``, ``few_effective``,
        ``shape``, ``step_turn`` (as in :func:`decay_fit`), ``early_median``, ``late_median``,
        ``late_early_ratio``, ``collapse_turn``, ``marker_only_share``,
        ``ends_with_marker_share``; floats rounded to ``decimals`` (None keeps them).
    """
    _check_edge(edge)
    _check_collapse(collapse_threshold, collapse_window)
    check_choice("interval", interval, INTERVALS)
    lengths = message_lengths(messages, unit=unit, include_seed=include_seed)  # computed once
    fit = _decay_fit(lengths, n_boot=n_boot, ci=ci, seed=seed, interval=interval)
    ratio = _early_late_ratio(lengths, edge)
    collapse = _collapse_turn(lengths, collapse_threshold, collapse_window)
    markers = _end_marker_share(messages, lengths, False, include_seed)
    out = fit[["conversation_id", "n_messages", "decay_rate", "rate_low", "rate_high",
               "half_life", "half_life_low", "half_life_high", "n_eff", "few_effective",
               "shape", "step_turn"]].assign(
        early_median=ratio["early_median"].to_numpy(), late_median=ratio["late_median"].to_numpy(),
        late_early_ratio=ratio["ratio"].to_numpy(), collapse_turn=collapse["collapse_turn"].array,
        marker_only_share=markers["marker_only_share"].to_numpy(),
        ends_with_marker_share=markers["ends_with_marker_share"].to_numpy(),
    )
    return round_floats(out, decimals)


def decay_overview(summary: pd.DataFrame, *, decimals: int | None = 3) -> pd.DataFrame:
    """Corpus distribution of the per-conversation decay metrics (a table that reads at any size).

    The half-life row is the half-life at the decay-rate quantiles (``ln 2 / rate``, inf when the
    rate is not positive), so it stays defined when some conversations never halve. Decay rate
    and half-life are taken over the conversations whose ``shape`` is a trend: a step's fitted
    rate does not describe it (the ``steps`` row counts them, its quantiles are of the step turn).

    Parameters
    ----------
    summary
        The output of :func:`length_decay_summary`.

    Returns
    -------
    DataFrame
        ``metric`` (``decay_rate``, ``half_life``, ``steps``, ``late_early_ratio``,
        ``collapse_turn``, ``marker_only_share``), ``n`` (conversations with a value), ``median``,
        ``q25``, ``q75``.
    """
    rows = []
    step = summary["shape"].eq("step").fillna(False).to_numpy(bool) if "shape" in summary \
        else np.zeros(len(summary), dtype=bool)
    for metric in ("decay_rate", "steps", "late_early_ratio", "collapse_turn",
                   "marker_only_share"):
        if metric == "steps":
            values = summary.loc[step, "step_turn"].astype(float) if step.any() else \
                pd.Series(dtype=float)
        else:
            values = summary.loc[~step, metric] if metric == "decay_rate" else summary[metric]
            values = values.astype(float).dropna()
        q = values.quantile([0.25, 0.5, 0.75]) if len(values) else pd.Series(
            np.nan, index=[0.25, 0.5, 0.75])
        rows.append((metric, len(values), q[0.5], q[0.25], q[0.75]))
    rate = rows[0]
    rows.insert(1, ("half_life", rate[1], *_half_life(np.array([rate[2], rate[4], rate[3]]))))
    out = pd.DataFrame(rows, columns=["metric", "n", "median", "q25", "q75"])
    out = out.astype({"metric": _STR, "n": "int64"})
    return round_floats(out, decimals)

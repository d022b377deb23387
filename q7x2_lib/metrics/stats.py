"""Shared statistics: vectorised percentile bootstrap, within-group permutations, robust fits.

Random draws are keyed, not streamed: the resamples or permutations of a group come from a
generator seeded with ``(seed, group size, stream)`` (:func:`size_rng`), so a group's interval
depends on its own data and the seed alone, never on which other groups are computed with it.
That makes every interval identical whether a corpus is analysed whole, in chunks, or split
across a Dask cluster. Groups of the same size and stream share their draws; each group's
interval is still an exact bootstrap (or permutation) interval of its own data.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from statistics import NormalDist
from typing import TypeVar

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from .._core.speed import in_threads, n_threads
from .._core.validate import check_fraction, check_int

__all__ = [
    "STATISTICS",
    "bin_position",
    "bootstrap_ci",
    "bootstrap_replicates",
    "describe_groups",
    "grouped_bootstrap",
    "group_batches",
    "nan_quantiles",
    "percentile_interval",
    "permutation_batches",
    "round_floats",
    "size_rng",
    "sen_interval",
    "theil_sen",
    "theil_sen_replicates",
]

T = TypeVar("T")
R = TypeVar("R")
STATISTICS = ("mean", "median", "sum", "share")
Statistic = str | Callable[..., np.ndarray]
# Upper bound on the elements of one resampling array (~32 MB of float64): big corpora are
# processed in chunks of groups so memory stays flat while numpy does the work.
_BUDGET = 1 << 22
_BLOCK = 64  # pairs per block in the bootstrap Theil–Sen median search
_DRAW_BLOCK = 100  # bootstrap replicates whose resampling indices are drawn in one call


def size_rng(seed: int, n: int, stream: int = 0) -> np.random.Generator:
    """The random generator for groups of ``n`` elements in ``stream``, under ``seed``.

    It depends on these three numbers only, so the draws for a group never depend on the other
    groups in the table. ``stream`` separates groups that must not share draws although they
    have the same size, such as two speakers of one conversation resampled independently.
    """
    _check_n("seed", seed, 0)
    return np.random.default_rng([int(seed), int(n), int(stream)])


def _reducer(statistic: Statistic) -> Callable[..., np.ndarray]:
    """The numpy reduction for ``statistic``; callables must accept ``axis=``."""
    if callable(statistic):
        return statistic
    funcs = {"mean": np.mean, "median": np.median, "sum": np.sum, "share": np.mean}
    if statistic not in funcs:
        raise ValueError(
            f"statistic: got {statistic!r}; expected one of {STATISTICS} or a function "
            "f(values, axis=...) such as numpy.mean"
        )
    return funcs[statistic]


def _check_ci(ci: float) -> None:
    check_fraction("ci", ci)


def _check_n(name: str, value: int, minimum: int) -> None:
    check_int(name, value, minimum)


def _n_groups(codes: np.ndarray, n_groups: int | None) -> int:
    """``n_groups`` if given, else one more than the largest code (0 for no codes)."""
    if n_groups is not None:
        return int(n_groups)
    return int(codes.max()) + 1 if codes.size else 0


def group_batches(codes: np.ndarray, n_groups: int | None = None) -> Iterator[
    tuple[np.ndarray, np.ndarray]
]:
    """Yield the groups of equal size together, so each batch is a rectangular array.

    Parameters
    ----------
    codes
        Integer group code (0 .. n_groups - 1) of each element.
    n_groups
        Number of groups; defaults to ``codes.max() + 1``. Empty groups are never yielded.

    Yields
    ------
    (group_ids, members)
        ``group_ids`` has shape (G,); ``members`` (G, n) holds the element positions of each
        group, in their original order. Batches come in increasing ``n``.
    """
    codes = np.asarray(codes, dtype=np.int64)
    n_groups = _n_groups(codes, n_groups)
    order = np.argsort(codes, kind="stable")
    sizes = np.bincount(codes, minlength=n_groups)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    for n in np.unique(sizes[sizes > 0]):
        gids = np.flatnonzero(sizes == n)
        yield gids, order[starts[gids][:, None] + np.arange(n)]


def bootstrap_replicates(
    values: np.ndarray, codes: np.ndarray | None = None, *, n_groups: int | None = None,
    statistic: Statistic = "mean", n_boot: int = 1000, seed: int = 0,
    streams: np.ndarray | None = None,
) -> np.ndarray:
    """Bootstrap replicates of a statistic within each group, fully vectorised.

    Each group is resampled with replacement to its own size ``n_boot`` times and the statistic
    recomputed. The resampling indices come from :func:`size_rng` ``(seed, size, stream)``, in
    calls of ``integers(0, size, (100, size))`` (the last one shorter): groups of equal size and
    stream share them (one numpy array serves them all), and a group's replicates do not depend
    on the other groups.

    Parameters
    ----------
    values
        One value per element (NaN values are kept and propagate through the statistic).
    codes
        Integer group code per element; ``None`` treats all values as one group.
    n_groups
        Number of groups (columns of the result); defaults to ``codes.max() + 1``.
    statistic
        ``"mean"``, ``"median"``, ``"sum"``, ``"share"`` (mean of a boolean) or ``f(x, axis=)``.
    n_boot
        Number of replicates; 0 gives none (shape (0, n_groups)), for point estimates whose
        intervals are NaN.
    seed
        Non-negative integer seed.
    streams
        Optional stream number per group (length ``n_groups``, default all 0): groups that must
        be resampled independently of each other although equally large get different streams.

    Returns
    -------
    ndarray
        Shape (n_boot, n_groups); NaN for empty groups. Shape (n_boot,) when ``codes`` is None.
    """
    _check_n("n_boot", n_boot, 0)
    func = _reducer(statistic)
    values = np.asarray(values, dtype=float)
    single = codes is None
    codes = np.zeros(values.size, dtype=np.int64) if single else np.asarray(codes)
    n_groups = _n_groups(codes, n_groups)
    streams = np.zeros(n_groups, np.int64) if streams is None else np.asarray(streams, np.int64)
    out = np.full((n_boot, n_groups), np.nan)

    def fill(batch: tuple[np.ndarray, np.ndarray, int]) -> None:
        gids, members, stream = batch
        n = members.shape[1]
        rng, vals = size_rng(seed, n, stream), values[members]
        # Drawn in fixed blocks of replicates: the indices of a large group never all sit in
        # memory at once, and they do not depend on how the work is chunked.
        for b0 in range(0, n_boot, _DRAW_BLOCK):
            draws = rng.integers(0, n, size=(min(_DRAW_BLOCK, n_boot - b0), n))
            _fill_replicates(out[b0:b0 + len(draws)], gids, vals, func, draws)

    batches = ((gids[streams[gids] == stream], members[streams[gids] == stream], stream)
               for gids, members in group_batches(codes, n_groups)
               for stream in np.unique(streams[gids]))
    in_threads(fill, batches)  # each batch has its own draws and columns of ``out``
    return out[:, 0] if single else out


def _fill_replicates(out: np.ndarray, gids: np.ndarray, vals: np.ndarray,
                     func: Callable[..., np.ndarray], draws: np.ndarray) -> None:
    """Resample the rows of ``vals`` (G, n) by ``draws`` (n_boot, n) into ``out[:, gids]``."""
    n_boot, (n_g, n) = out.shape[0], vals.shape
    boots = max(1, min(n_boot, _BUDGET // n))
    step = max(1, _BUDGET // (boots * n))
    for g0 in range(0, n_g, step):
        block = vals[g0:g0 + step]
        for b0 in range(0, n_boot, boots):
            b1 = min(n_boot, b0 + boots)
            # (G, b, n) -> statistic (G, b) -> (b, G)
            out[b0:b1, gids[g0:g0 + step]] = func(np.take(block, draws[b0:b1], axis=1),
                                                  axis=-1).T


def percentile_interval(
    replicates: np.ndarray, *, ci: float = 0.95, axis: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """The percentile interval of bootstrap or permutation replicates, ignoring NaN replicates.

    Returns ``(low, high)``, the ``(1 - ci) / 2`` and ``(1 + ci) / 2`` quantiles along ``axis``;
    NaN where every replicate is NaN, and everywhere when there are no replicates (``n_boot=0``:
    point estimates only).
    """
    _check_ci(ci)
    replicates = np.asarray(replicates, dtype=float)
    if replicates.size == 0:  # no replicates, or no groups: an interval of nothing is NaN
        shape = replicates.shape[:axis] + replicates.shape[axis + 1:]
        return np.full(shape, np.nan), np.full(shape, np.nan)
    low, high = nan_quantiles(replicates, ((1 - ci) / 2, (1 + ci) / 2), axis=axis)
    return low, high


def nan_quantiles(values: np.ndarray, quantiles: Sequence[float], *, axis: int = 0
                  ) -> np.ndarray:
    """``np.nanquantile(values, quantiles, axis=axis)`` (linear method), bit for bit, in one sort.

    numpy's ``nanquantile`` computes each column on its own in a Python-level loop when any
    value is NaN; here the columns are sorted at once (NaN sort last), each column's count of
    values gives its virtual index, and the two neighbours are interpolated with numpy's own
    formulas (its virtual index ``(n - 1) q``, its clipped neighbours, its two-sided
    ``lerp``), so the results are identical. All-NaN columns give NaN, without a warning.
    Returns shape ``(len(quantiles), *other axes)``.
    """
    values = np.moveaxis(np.asarray(values, dtype=float), axis, 0)
    q = np.asarray(quantiles, dtype=float)
    ordered = np.sort(values, axis=0)
    n = (~np.isnan(values)).sum(axis=0)  # values per column, NaN aside
    shape = (len(q),) + (1,) * n.ndim
    virtual = (n - 1) * q.reshape(shape)  # numpy's virtual index for the linear method
    previous = np.floor(virtual)
    last = np.maximum(n - 1, 0)
    # numpy's neighbours: the last value past the end (its index -1), the first before the start
    above, below = virtual >= n - 1, virtual < 0
    previous = np.where(above, -1.0, np.where(below, 0.0, previous))
    gamma = virtual - previous  # from the clipped index, as numpy computes it
    lo = np.where(above, last, previous).astype(np.intp)
    hi = np.where(above, last, np.where(below, 0, previous + 1)).astype(np.intp)
    a = np.take_along_axis(ordered[None], lo[:, None], axis=1)[:, 0]
    b = np.take_along_axis(ordered[None], hi[:, None], axis=1)[:, 0]
    diff = b - a
    out = a + diff * gamma
    np.subtract(b, diff * (1 - gamma), out=out, where=gamma >= 0.5)
    return np.where(n == 0, np.nan, out)


def bootstrap_ci(
    values: Sequence[float] | np.ndarray, *, statistic: Statistic = "mean",
    n_boot: int = 1000, ci: float = 0.95, seed: int = 0,
) -> tuple[float, float, float]:
    """Point estimate and percentile bootstrap interval of one statistic of one sample.

    Returns ``(estimate, low, high)``; all NaN for an empty sample.
    """
    func = _reducer(statistic)
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        return (np.nan, np.nan, np.nan)
    reps = bootstrap_replicates(values, statistic=statistic, n_boot=n_boot, seed=seed)
    low, high = percentile_interval(reps, ci=ci)
    return float(func(values, axis=0)), float(low), float(high)


def grouped_bootstrap(
    frame: pd.DataFrame, *, value: str, by: str | Sequence[str], statistic: Statistic = "mean",
    n_boot: int = 1000, ci: float = 0.95, seed: int = 0,
) -> pd.DataFrame:
    """A statistic of ``value`` per group of ``by``, with its percentile bootstrap interval.

    Parameters
    ----------
    frame
        Long-form table; rows with a missing ``value`` are dropped.
    value, by
        The column summarised and the grouping column(s).
    statistic, n_boot, ci, seed
        As in :func:`bootstrap_ci`; groups are resampled as in :func:`bootstrap_replicates`.

    Returns
    -------
    DataFrame
        The ``by`` columns, then ``n`` (values in the group), ``estimate``, ``ci_low``,
        ``ci_high``; one row per group, sorted by ``by``.
    """
    _check_ci(ci)
    by = [by] if isinstance(by, str) else list(by)
    clean = frame.loc[frame[value].notna(), [*by, value]]
    codes, keys = _group_codes(clean, by)
    vals = clean[value].to_numpy(dtype=float)
    reps = bootstrap_replicates(vals, codes, n_groups=len(keys), statistic=statistic,
                                n_boot=n_boot, seed=seed)
    low, high = percentile_interval(reps, ci=ci)
    est = _group_statistic(vals, codes, len(keys), _reducer(statistic))
    return pd.DataFrame({
        **{c: keys[c] for c in by}, "n": np.bincount(codes, minlength=len(keys)).astype("int64"),
        "estimate": est, "ci_low": low, "ci_high": high,
    })


def _group_codes(frame: pd.DataFrame, by: list[str]) -> tuple[np.ndarray, pd.DataFrame]:
    """Integer codes of the ``by`` groups (sorted) and the table of group keys."""
    grouped = frame.groupby(by, sort=True, observed=True, dropna=False)
    codes = grouped.ngroup().to_numpy(dtype=np.int64)
    keys = grouped.size().reset_index()[by]
    return codes, keys


def _group_statistic(values: np.ndarray, codes: np.ndarray, n_groups: int,
                     func: Callable[..., np.ndarray]) -> np.ndarray:
    """The statistic of each group, batched by group size."""
    out = np.full(n_groups, np.nan)
    for gids, members in group_batches(codes, n_groups):
        out[gids] = func(values[members], axis=-1)
    return out


def describe_groups(
    frame: pd.DataFrame, *, value: str, by: str | Sequence[str], n_boot: int = 1000,
    ci: float = 0.95, seed: int = 0,
) -> pd.DataFrame:
    """Median with interquartile range and mean with a bootstrap interval, per group.

    Returns
    -------
    DataFrame
        The ``by`` columns, ``n``, ``median``, ``q25``, ``q75``, ``mean``, ``mean_low``,
        ``mean_high``; one row per group, sorted by ``by``.
    """
    boot = grouped_bootstrap(frame, value=value, by=by, n_boot=n_boot, ci=ci, seed=seed)
    by = [by] if isinstance(by, str) else list(by)
    clean = frame.loc[frame[value].notna(), [*by, value]].astype({value: float})
    quant = clean.groupby(by, sort=True, observed=True, dropna=False)[value].quantile(
        [0.25, 0.5, 0.75]).unstack().reset_index(drop=True).reindex(columns=[0.25, 0.5, 0.75])
    return boot[[*by, "n"]].assign(
        median=quant[0.5].to_numpy(), q25=quant[0.25].to_numpy(), q75=quant[0.75].to_numpy(),
        mean=boot["estimate"], mean_low=boot["ci_low"], mean_high=boot["ci_high"],
    )


def permutation_batches(
    codes: np.ndarray, *, n_perm: int = 1000, seed: int = 0, n_groups: int | None = None,
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Random permutations within each group, for shuffled baselines.

    Groups of equal size share one set of ``n_perm`` random permutations, drawn from
    :func:`size_rng` ``(seed, size)``: each group's baseline is an exact draw from its own
    permutation distribution and depends on its own data alone, while drawing permutations once
    per size instead of once per group keeps large corpora fast. Baselines of equally large
    groups are therefore not independent of each other.

    Yields
    ------
    (group_ids, members, perms)
        ``members`` (G, n) as in :func:`group_batches`; ``perms`` (n_perm, 1, n) holds random
        reorderings of ``0 .. n - 1`` (positions within a group), broadcastable against the
        batch's groups, e.g. ``numpy.take_along_axis(values[members][None], perms, axis=-1)``.
        Groups are chunked so a gathered (n_perm, G, n) batch, or a (G, n, n) table of pairs,
        stays near a fixed memory budget.
    """
    _check_n("n_perm", n_perm, 1)
    for gids, members in group_batches(codes, n_groups):
        n = members.shape[1]
        perms = size_rng(seed, n).permuted(np.broadcast_to(np.arange(n), (n_perm, 1, n)), axis=-1)
        step = max(1, _BUDGET // (max(n_perm, n) * n))  # also bounds (G, n, n) pair tables
        for g0 in range(0, len(gids), step):
            yield gids[g0:g0 + step], members[g0:g0 + step], perms


def theil_sen(x: np.ndarray, y: np.ndarray, codes: np.ndarray, *, n_groups: int | None = None
              ) -> tuple[np.ndarray, np.ndarray]:
    """Theil–Sen slope and intercept of ``y`` on ``x`` within each group, vectorised.

    The slope is the median of the slopes between all pairs of points with distinct ``x``; the
    intercept is ``median(y) - slope * median(x)`` (``scipy.stats.theilslopes``' default).

    Returns
    -------
    (slope, intercept)
        Arrays of length ``n_groups``; NaN where a group has no two distinct ``x``.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    codes = np.asarray(codes, dtype=np.int64)
    n_groups = _n_groups(codes, n_groups)
    slope, intercept = np.full(n_groups, np.nan), np.full(n_groups, np.nan)
    for gids, xs, ys in _pair_chunks(x, y, codes, n_groups):
        pair_slopes = _pair_slopes(xs, ys)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # groups without pairs stay NaN
            slope[gids] = np.nanmedian(pair_slopes, axis=-1) if pair_slopes.size else np.nan
        intercept[gids] = np.median(ys, axis=-1) - slope[gids] * np.median(xs, axis=-1)
    return slope, intercept


def sen_interval(
    x: np.ndarray, y: np.ndarray, codes: np.ndarray, *, n_groups: int | None = None,
    ci: float = 0.95, inflation: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Sen's (1968) rank interval of the Theil–Sen slope within each group, vectorised.

    The bounds are order statistics of the group's pairwise slopes (pairs of distinct ``x``),
    at ranks set by the variance of Kendall's S with ties in ``x`` and in ``y`` taken out,
    ``(n(n-1)(2n+5) - sum t(t-1)(2t+5)) / 18``: exactly ``scipy.stats.theilslopes``' interval.
    No resampling: one sort of the pairs per group.

    ``inflation`` (one per group, default 1) multiplies that variance, for points whose errors
    are autocorrelated: ``n / n_eff`` is the effective-sample-size correction of the
    Mann–Kendall variance (Hamed and Rao 1998; Yue and Wang 2004). Infinite inflation gives the
    range of all pairwise slopes; NaN counts as 1.

    Returns
    -------
    (low, high)
        Arrays of length ``n_groups``; NaN where a group has no two distinct ``x``.
    """
    check_fraction("ci", ci)
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    codes = np.asarray(codes, dtype=np.int64)
    n_groups = _n_groups(codes, n_groups)
    inflation = np.ones(n_groups) if inflation is None else np.asarray(inflation, dtype=float)
    inflation = np.where(np.isnan(inflation), 1.0, inflation)
    low, high = np.full(n_groups, np.nan), np.full(n_groups, np.nan)
    z = float(NormalDist().inv_cdf((1 + ci) / 2))
    for gids, xs, ys in _pair_chunks(x, y, codes, n_groups):
        n = xs.shape[1]
        if n < 2:
            continue
        slopes = np.sort(_pair_slopes(xs, ys), axis=-1)  # NaN (equal x) sorts last
        n_pairs = np.count_nonzero(~np.isnan(slopes), axis=-1)
        variance = (n * (n - 1) * (2 * n + 5) - _tie_sums(xs) - _tie_sums(ys)) / 18
        with np.errstate(invalid="ignore"):
            spread = np.minimum(z * np.sqrt(np.maximum(variance, 0) * inflation[gids]), n_pairs)
        # np.round halves to even, as scipy rounds.
        upper = np.minimum(np.round((n_pairs + spread) / 2).astype(np.int64), n_pairs - 1)
        lower = np.maximum(np.round((n_pairs - spread) / 2).astype(np.int64) - 1, 0)
        some = n_pairs > 0
        rows = np.flatnonzero(some)
        low[gids[some]] = slopes[rows, lower[some]]
        high[gids[some]] = slopes[rows, upper[some]]
    return low, high


def _tie_sums(values: np.ndarray) -> np.ndarray:
    """Per row, the sum of ``t(t-1)(2t+5)`` over the row's groups of ``t`` equal values."""
    ordered = np.sort(values, axis=-1)
    new = np.ones(ordered.shape, dtype=bool)
    new[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    starts = np.flatnonzero(new.ravel())
    t = np.diff(np.append(starts, new.size)).astype(float)
    return np.bincount(starts // ordered.shape[1], weights=t * (t - 1) * (2 * t + 5),
                       minlength=ordered.shape[0])


def _pair_chunks(x: np.ndarray, y: np.ndarray, codes: np.ndarray, n_groups: int
                 ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Equal-size groups as (group_ids, xs, ys) rows, few enough that their pairs fit the budget
    (real corpora often hold thousands of runs of exactly the same length)."""
    for gids, members in group_batches(codes, n_groups):
        n = members.shape[1]
        step = max(1, _BUDGET // max(1, n * (n - 1) // 2))
        for g0 in range(0, len(gids), step):
            block = members[g0:g0 + step]
            yield gids[g0:g0 + step], x[block], y[block]


def _pair_slopes(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Slopes between every pair i < j of each row; NaN for pairs with equal x."""
    i, j = np.triu_indices(xs.shape[-1], 1)
    dx, dy = xs[..., j] - xs[..., i], ys[..., j] - ys[..., i]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(dx != 0, dy / np.where(dx != 0, dx, 1.0), np.nan)


def theil_sen_replicates(
    x: np.ndarray, y: np.ndarray, codes: np.ndarray, *, n_groups: int | None = None,
    n_boot: int = 1000, seed: int = 0, blocks: np.ndarray | None = None,
) -> np.ndarray:
    """Bootstrap replicates of the Theil–Sen slope within each group (points resampled).

    ``blocks`` (one per group, default all 1) resamples a group's points in circular blocks of
    that many consecutive points (:func:`q7x2_lib.metrics.dependence.block_draws`), for points
    whose errors are autocorrelated; a block of 1 is the independent bootstrap described here.

    A resample that draws point k ``K_k`` times has the pairwise slopes of the original pairs
    (i, j), each ``K_i * K_j`` times (pairs of a point with its own copy have no slope), so its
    Theil–Sen slope is a weighted median of the original slopes: no re-sorting per replicate.
    The draws come from :func:`size_rng` ``(seed, group size)``, as in
    :func:`bootstrap_replicates`. Groups are independent of each other, so they are spread over
    threads (numpy releases the GIL); the result does not depend on the number of threads.

    Returns
    -------
    ndarray
        Shape (n_boot, n_groups); NaN for groups (or resamples) without two distinct ``x``.
    """
    _check_n("n_boot", n_boot, 0)
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    codes = np.asarray(codes, dtype=np.int64)
    n_groups = _n_groups(codes, n_groups)
    out = np.full((n_boot, n_groups), np.nan)
    if n_boot == 0:  # point estimates only: no resamples to draw
        return out
    blocks = np.ones(n_groups, np.int64) if blocks is None else np.asarray(blocks, np.int64)
    counts: dict[tuple[int, int], np.ndarray] = {}
    # The groups are the parallel work: matrix products inside them stay on one thread each,
    # as BLAS threads on top of these would fight over the same cores.
    with threadpool_limits(1, user_api="blas"), ThreadPoolExecutor(n_threads()) as pool:
        for gids, xs, ys in _pair_chunks(x, y, codes, n_groups):
            n = xs.shape[1]
            if n < 2:
                continue
            for b in np.unique(blocks[gids]):  # one set of resamples per size and block
                if (n, int(b)) not in counts:
                    counts[n, int(b)] = _resample_counts(n, n_boot, size_rng(seed, n)) \
                        if b <= 1 else _block_counts(n, n_boot, int(b), seed)
            slopes = _pair_slopes(xs, ys)
            i, j = np.triu_indices(n, 1)

            def fill(k: int, n: int = n, slopes: np.ndarray = slopes, i: np.ndarray = i,
                     j: np.ndarray = j, gids: np.ndarray = gids) -> None:
                drawn = counts[n, int(blocks[gids[k]])]
                out[:, gids[k]] = _bootstrap_weighted_median(slopes[k], i, j, n, drawn)

            list(pool.map(fill, range(len(gids))))
    return out


def _bootstrap_weighted_median(slopes: np.ndarray, i: np.ndarray, j: np.ndarray, n: int,
                               counts: np.ndarray) -> np.ndarray:
    """Theil–Sen slope of every resample of one group, from its pairwise slopes.

    ``counts`` (n + 1, n_boot) holds how often each point is drawn in each resample (last row
    0). A resample's slope is the weighted median of the sorted pair slopes, pair (i, j)
    weighing ``K_i K_j``. Resampled medians stay near the sample's, so the search first looks
    in a window of sorted pairs around the middle: the weight of all pairs below the window,
    and up to its end, are quadratic forms ``K' A K`` (one matrix product for all resamples),
    and only the window's pairs are accumulated pair by pair. Resamples whose median lies
    outside the window are searched over every pair. Both searches are exact.
    """
    order = np.argsort(np.where(np.isnan(slopes), np.inf, slopes), kind="stable")
    n_defined = int(np.count_nonzero(~np.isnan(slopes)))
    order = order[:n_defined]  # pairs of equal x have no slope: weight 0 in every resample
    si, sj, sorted_slopes = i[order], j[order], slopes[order]
    drawn = counts[:n].astype(np.float32 if n <= 4096 else float)  # exact: sums < 2**24
    if n_defined == len(slopes):  # every pair has a slope: total = ((sum K)^2 - sum K^2) / 2
        total = (n * n - np.einsum("ij,ij->j", drawn, drawn).astype(np.int64)) // 2
    else:
        total = _quadratic_sums([(si, sj)], n, drawn)[0]
    targets = np.array([(total - 1) // 2, total // 2], dtype=np.int64)  # the two middle ranks
    out = np.full(counts.shape[1], np.nan)
    half = _window_half(n)
    lo = max(0, (n_defined // 2 - half) // _BLOCK * _BLOCK)
    hi = min(n_defined, lo + 2 * half)
    inside = np.zeros(counts.shape[1], dtype=bool)
    if hi - lo < n_defined // 2:  # a window that saves little is not worth its product
        below = _quadratic_sums([(si[:lo], sj[:lo])], n, drawn)[0]
        # Searched for every resample; the window's own totals then tell which searches hold.
        found, window = _weighted_median(si[lo:hi], sj[lo:hi], sorted_slopes[lo:hi], n, counts,
                                         targets - below)
        inside = (below <= targets[0]) & (targets[1] < below + window) & (total > 0)
        out[inside] = found[inside]
    rest = ~inside & (total > 0)
    if rest.all():  # no window, or none of it used: skip copying the counts
        out[:] = _weighted_median(si, sj, sorted_slopes, n, counts, targets)[0]
    elif rest.any():
        out[rest] = _weighted_median(si, sj, sorted_slopes, n, counts[:, rest],
                                     targets[:, rest])[0]
    return out


def _window_half(n: int) -> int:
    """Pairs each side of the middle searched first: Kendall's variance of the median's rank,
    n(n-1)(2n+5)/18, is the rank's spread; 4 standard deviations (2 sqrt(var): the rank moves
    by half of Kendall's S) hold nearly every resampled median, plus one block of slack."""
    return 2 * int(np.sqrt(n * (n - 1) * (2 * n + 5) / 18)) + _BLOCK


def _quadratic_sums(pair_sets: list[tuple[np.ndarray, np.ndarray]], n: int,
                    drawn: np.ndarray) -> np.ndarray:
    """For each set of pairs (si, sj), the sum of ``K_i K_j`` over its pairs in every resample:
    ``K' A K`` with A the set's 0/1 matrix, all sets in one matrix product; ``drawn`` (n,
    n_boot) holds the counts as floats. Returns (sets, n_boot) integers."""
    pairs = np.zeros((len(pair_sets), n, n), dtype=drawn.dtype)
    for k, (si, sj) in enumerate(pair_sets):
        pairs[k, si, sj] = 1
    products = (pairs.reshape(-1, n) @ drawn).reshape(len(pair_sets), n, -1)
    return np.rint(np.einsum("kij,ij->kj", products, drawn, dtype=float)).astype(np.int64)


def _weighted_median(si: np.ndarray, sj: np.ndarray, sorted_slopes: np.ndarray, n: int,
                     counts: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean of the slopes at weighted ranks ``targets`` (2, n_boot) among pairs (si, sj) sorted
    by slope, pair weights ``K_i K_j`` from ``counts`` (n + 1, n_boot); and the total weight
    of these pairs in each replicate (a target at or past it finds nothing meaningful).

    Pair weights are laid out (pairs, replicates) and summed in blocks of ``_BLOCK`` pairs; a
    rank's block is found from the block totals, then only that block is accumulated.
    """
    pad = -len(si) % _BLOCK
    # Padding points at the all-zero last row of counts: weight 0.
    pi = np.concatenate([si, np.full(pad, n, dtype=si.dtype)])
    pj = np.concatenate([sj, np.full(pad, n, dtype=sj.dtype)])
    padded = np.concatenate([sorted_slopes, np.full(pad, np.nan)])
    n_blocks, n_boot = len(pi) // _BLOCK, counts.shape[1]
    out, totals = np.empty(n_boot), np.empty(n_boot, dtype=np.int64)
    boots = max(1, min(n_boot, _BUDGET // max(1, len(pi))))
    for b0 in range(0, n_boot, boots):
        part = counts[:, b0:b0 + boots]
        weights = np.take(part, pi, axis=0)  # take: faster than fancy indexing on rows
        weights *= np.take(part, pj, axis=0)
        out[b0:b0 + boots], totals[b0:b0 + boots] = _block_median(
            weights.reshape(n_blocks, _BLOCK, -1), padded, targets[:, b0:b0 + boots])
    return out, totals


def _block_counts(n: int, n_boot: int, block: int, seed: int) -> np.ndarray:
    """:func:`_resample_counts` of circular block resamples (see ``dependence.block_draws``)."""
    from .dependence import block_draws  # dependence builds on this module

    return _counts_of(block_draws(seed, n, block, n_boot), n)


def _resample_counts(n: int, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """How often each of n points is drawn in each resample, shape (n + 1, n_boot); last row 0.

    The smallest integer type that holds the product of two counts: pair weights are such
    products, and narrow types halve or quarter the memory traffic of the weight arrays.
    """
    return _counts_of(rng.integers(0, n, size=(n_boot, n)), n)


def _counts_of(draws: np.ndarray, n: int) -> np.ndarray:
    """How often each of n points is drawn in each resample of ``draws`` (n_boot, n), laid out
    as :func:`_resample_counts` returns them."""
    n_boot = draws.shape[0]
    flat = (np.arange(n_boot)[:, None] * (n + 1) + draws).ravel()
    counts = np.bincount(flat, minlength=n_boot * (n + 1)).reshape(n_boot, n + 1)
    top = int(counts.max(initial=0)) ** 2
    dtype = np.uint8 if top <= 255 else np.int16 if top <= 32767 else np.int32
    return np.ascontiguousarray(counts.T.astype(dtype))


def _block_median(weights: np.ndarray, sorted_slopes: np.ndarray, targets: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Mean of the elements at weighted ranks ``targets`` (2, replicates), from block-shaped
    weights (blocks, _BLOCK, replicates) of the elements in sorted order; and each replicate's
    total weight."""
    # Sums of _BLOCK uint8 (<= 255) weights fit in int16, of int16 ones in int32, which numpy
    # adds far faster than the int64 it would widen to.
    wide = {np.dtype(np.uint8): np.int16, np.dtype(np.int16): np.int32}.get(weights.dtype, np.int64)
    block_cum = np.cumsum(np.add.reduce(weights, axis=1, dtype=wide), axis=0, dtype=np.int64)
    blocks = [(block_cum > target).argmax(axis=0) for target in targets]
    # Both middle elements nearly always lie in one block: accumulate that block once, and
    # again only for the replicates whose two middle elements straddle a block boundary.
    cols = np.arange(weights.shape[2])
    low, high = _ranks_in_block(weights, block_cum, blocks[0], cols, targets, wide)
    straddle = np.flatnonzero(blocks[1] != blocks[0])
    if straddle.size:
        high[straddle] = _ranks_in_block(weights, block_cum, blocks[1][straddle], straddle,
                                         targets[1:, straddle], wide)[0]
    return (sorted_slopes[low] + sorted_slopes[high]) / 2, block_cum[-1]


def _ranks_in_block(weights: np.ndarray, block_cum: np.ndarray, block: np.ndarray,
                    cols: np.ndarray, targets: np.ndarray, wide: type) -> list[np.ndarray]:
    """Position (in sorted pair order) of the elements of weighted ranks ``targets`` (k, cols)
    of replicates ``cols``: where the cumulative weight first exceeds each target inside
    ``block``. The block is accumulated once for all targets."""
    before = np.where(block > 0, block_cum[block - 1, cols], 0)
    within = np.cumsum(weights[block, :, cols], axis=1, dtype=wide)
    # Where a target lies beyond this block (the high element's block, when straddling), no
    # element is over: argmax gives 0, and the caller recomputes those replicates.
    return [block * _BLOCK + (within > (target - before)[:, None]).argmax(axis=1)
            for target in targets]


def bin_position(relative: np.ndarray | pd.Series, *, n_bins: int = 10) -> np.ndarray:
    """Midpoint of the equal-width bin of [0, 1) that each relative position falls into.

    With ``n_bins=10`` a position of 0.0 to 0.0999 maps to 0.05, 0.9 to 0.9999 to 0.95.
    """
    _check_n("n_bins", n_bins, 1)
    rel = np.asarray(relative, dtype=float)
    idx = np.clip(np.floor(rel * n_bins), 0, n_bins - 1)
    return np.round((idx + 0.5) / n_bins, 10)


def round_floats(frame: pd.DataFrame, decimals: int | None = 3) -> pd.DataFrame:
    """Round the float columns of ``frame`` for display, turning ``-0.0`` into ``0.0``.

    ``decimals=None`` returns ``frame`` unchanged. Non-float columns are left alone.
    """
    if decimals is None:
        return frame
    floats = frame.select_dtypes(include="floating").columns
    return frame.assign(**{c: frame[c].round(decimals) + 0.0 for c in floats})

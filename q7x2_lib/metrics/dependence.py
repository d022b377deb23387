"""Resampling and tests for autocorrelated messages: block lengths, block draws, shift nulls.

A conversation's messages are not independent draws: a model that wrote a long message tends to
write another, lengths drift in regimes, topics persist. Intervals over a conversation's messages
therefore resample *blocks* of consecutive messages (a circular block bootstrap, Politis and
Romano), with the block length chosen from the data by Politis and White's rule (with Patton's
correction; ``arch.bootstrap.optimal_block_length``), and tests of whether two speakers move
together compare the observed statistic with its values under *circular shifts* of one series
against the other, which keep each series' own dependence and break only their alignment.

Draws stay keyed as in :mod:`q7x2_lib.metrics.stats`: the blocks of a group come from a generator
seeded with ``(seed, size, stream, block length)``, so a conversation's interval depends on its
own data and the seed alone, whichever other conversations are computed with it (whole, in
chunks or on a Dask cluster). A block length of 1 is the independent bootstrap, drawn exactly as
before blocks existed.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from functools import lru_cache

import numpy as np

from .stats import _BUDGET, _DRAW_BLOCK, group_batches, size_rng

__all__ = [
    "BLOCK_FACTOR",
    "MIN_EFFECTIVE",
    "block_draws",
    "block_lengths",
    "detrend",
    "effective_size",
    "lag1_autocorrelation",
    "shift_batches",
    "widen",
]

#: Effective observations below which an interval is flagged as resting on too few.
MIN_EFFECTIVE = 10
#: Politis–White block lengths above 1 are multiplied by this (see :func:`block_lengths`).
BLOCK_FACTOR = 2
#: Politis–White lengths up to this are read as no dependence: independent noise of 50-100
#: values gets 2 or less 87% of the time, AR(1) 0.5 in 3%.
_NO_DEPENDENCE = 2
#: Series shorter than this get block length 1: too short to estimate a dependence.
_MIN_SERIES = 8


def detrend(x: np.ndarray, y: np.ndarray, codes: np.ndarray, n_groups: int) -> np.ndarray:
    """Residuals of ``y`` from its least-squares line on ``x`` within each group.

    A group whose ``x`` are all equal gets residuals from its mean; NaN stays NaN.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    codes = np.asarray(codes, dtype=np.int64)
    count = np.bincount(codes, minlength=n_groups).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        mx = np.bincount(codes, x, n_groups) / count
        my = np.bincount(codes, y, n_groups) / count
        dx, dy = x - mx[codes], y - my[codes]
        sxx = np.bincount(codes, dx * dx, n_groups)
        slope = np.where(sxx > 0, np.bincount(codes, dx * dy, n_groups) / sxx, 0.0)
    residual = dy - slope[codes] * dx
    # Rounding left by an exact line is not variation: it would rank at random.
    return np.where(np.abs(residual) <= 1e-9 * (1 + np.abs(y)), 0.0, residual)


def lag1_autocorrelation(series: np.ndarray) -> np.ndarray:
    """Lag-1 autocorrelation of each row of ``series`` (G, n) around its own mean; NaN for
    rows shorter than 3 or without spread."""
    series = np.atleast_2d(np.asarray(series, dtype=float))
    if series.shape[1] < 3:
        return np.full(series.shape[0], np.nan)
    c = series - series.mean(axis=1, keepdims=True)
    denom = (c * c).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, (c[:, 1:] * c[:, :-1]).sum(axis=1) / denom, np.nan)


def effective_size(n: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """Effective number of independent observations of a mean of ``n`` AR(1)-like values with
    lag-1 autocorrelation ``rho``: ``n (1 - rho) / (1 + rho)``, with ``rho`` floored at 0 (a
    negative estimate does not buy extra information) and NaN read as 0."""
    rho = np.clip(np.nan_to_num(np.asarray(rho, dtype=float), nan=0.0), 0.0, 0.99)
    return np.asarray(n, dtype=float) * (1 - rho) / (1 + rho)


def block_lengths(series: np.ndarray) -> np.ndarray:
    """Circular-bootstrap block length of each row of ``series`` (G, n), from Politis and White.

    ``arch.bootstrap.optimal_block_length``'s circular ``b_cb``, rounded to the nearest integer;
    where that is more than 2, ``BLOCK_FACTOR`` (2) times it, kept within ``[1, n // 4]`` (at
    least four blocks per resample); else 1, the independent bootstrap (independent noise gets
    2 or less 87% of the time). 1 also for rows shorter than eight values, constant rows and
    rows holding NaN. Politis and White's length minimises the error of the bootstrap variance
    for long series; on conversations of 50-100 messages, whose autocorrelations are estimated
    biased toward 0, it leaves block-bootstrap intervals too narrow (82-86% coverage of a 95%
    interval at AR(1) 0.5 in ``benchmarks/coverage.py``); twice it, with :func:`widen`, reaches
    the nominal level without changing the independent case.
    """
    series = np.atleast_2d(np.asarray(series, dtype=float))
    g, n = series.shape
    out = np.ones(g, dtype=np.int64)
    if n < _MIN_SERIES or g == 0:
        return out
    finite = np.isfinite(series).all(axis=1)
    usable = finite & (np.ptp(np.where(finite[:, None], series, 0.0), axis=1) > 1e-9)
    if usable.any():
        from arch.bootstrap import optimal_block_length  # heavy import: only when needed

        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # lags without spread: NaN, read as 1
            b = optimal_block_length(series[usable].T)["circular"].to_numpy(float)
        b = np.rint(np.nan_to_num(b, nan=1.0, posinf=1.0))
        out[usable] = np.clip(np.where(b > _NO_DEPENDENCE, BLOCK_FACTOR * b, 1), 1,
                              max(1, n // 4))
    return out


def widen(estimate: np.ndarray, low: np.ndarray, high: np.ndarray, n: np.ndarray,
          block: np.ndarray, ci: float) -> tuple[np.ndarray, np.ndarray]:
    """A percentile interval widened around its estimate for the few blocks it rests on.

    Each half-width is multiplied by ``t(df) / z`` at the interval's level, with ``df`` the
    number of whole blocks less one (``n // block - 1``, at least 1): a resample of few
    independent blocks spreads less than the statistic does, as a sample standard deviation
    from few values understates the spread; with many blocks the factor tends to 1 (1.01 for
    100 independent messages).
    """
    from scipy import stats

    df = np.maximum(1, np.asarray(n) // np.maximum(1, np.asarray(block)) - 1)
    q = (1 + ci) / 2
    factor = stats.t.ppf(q, df) / stats.norm.ppf(q)
    estimate = np.asarray(estimate, dtype=float)
    return (estimate - (estimate - np.asarray(low, float)) * factor,
            estimate + (np.asarray(high, float) - estimate) * factor)


@lru_cache(maxsize=256)
def _circular_draws(seed: int, n: int, block: int, stream: int, n_boot: int) -> np.ndarray:
    """Read-only (n_boot, n) indices of circular block resamples, keyed as documented.

    The same indices as ``arch.bootstrap.CircularBlockBootstrap(block, ...)``'s
    ``update_indices()`` called ``n_boot`` times on this generator (a test checks it): each
    resample draws its ``ceil(n / block)`` block starts with ``integers(n, size=...)`` and keeps
    the first ``n`` indices. Drawn here in one call for all resamples, because arch's one
    Python call per resample dominated the time of corpora with many conversation lengths.
    """
    rng = np.random.default_rng([int(seed), int(n), int(stream), int(block)])
    n_blocks = -(-n // block)
    starts = rng.integers(n, size=(n_boot, n_blocks), dtype=np.int64)
    draws = ((starts[:, :, None] + np.arange(block)) % n).reshape(n_boot, -1)[:, :n]
    draws = np.ascontiguousarray(draws)
    draws.setflags(write=False)
    return draws


def block_draws(seed: int, n: int, block: int, n_boot: int, stream: int = 0) -> np.ndarray:
    """Indices (n_boot, n) of ``n_boot`` resamples of ``n`` consecutive elements.

    ``block == 1`` draws independently, exactly as
    :func:`~q7x2_lib.metrics.stats.bootstrap_replicates` does (``size_rng(seed, n, stream)``, in
    calls of 100 replicates). Longer blocks are circular
    blocks of that many consecutive elements (wrapping at the end), started at uniform random
    positions: ``arch.bootstrap.CircularBlockBootstrap``'s draws from a generator seeded with
    ``(seed, n, stream, block)``, for all resamples at once.
    """
    if n_boot == 0:  # point estimates: no resamples
        return np.zeros((0, n), dtype=np.int64)
    if block <= 1:
        rng = size_rng(seed, n, stream)
        return np.concatenate([rng.integers(0, n, size=(min(_DRAW_BLOCK, n_boot - b0), n))
                               for b0 in range(0, n_boot, _DRAW_BLOCK)])
    return _circular_draws(int(seed), int(n), int(min(block, n)), int(stream), int(n_boot))


def shift_batches(codes: np.ndarray, n_groups: int | None = None, *,
                  max_shifts: int | None = None) -> Iterator[
    tuple[np.ndarray, np.ndarray, np.ndarray]
]:
    """Every circular shift of each group, shaped like
    :func:`~q7x2_lib.metrics.stats.permutation_batches`' permutations.

    Yields ``(group_ids, members, shifts)``: ``members`` (G, n) as in
    :func:`~q7x2_lib.metrics.stats.group_batches`, ``shifts`` (n - 1, 1, n) with row ``k - 1``
    holding ``(i + k) mod n`` for ``k = 1 .. n - 1``: pairing element i of one series with
    element i + k of the other keeps both series' own dependence and breaks their alignment.
    Groups of one element have no shift and are not yielded. No randomness: the null is exact.

    With ``max_shifts``, a group of more than ``max_shifts + 1`` elements gets ``max_shifts``
    shifts spread evenly over ``1 .. n - 1`` (``k = 1 + floor(j (n - 1) / max_shifts)``), so the
    work grows with ``n`` rather than ``n²`` in one long conversation.
    """
    for gids, members in group_batches(codes, n_groups):
        n = members.shape[1]
        if n < 2:
            continue
        ks = np.arange(1, n)
        if max_shifts is not None and n - 1 > max_shifts:
            ks = 1 + (np.arange(max_shifts) * (n - 1)) // max_shifts
        shifts = ((np.arange(n)[None, :] + ks[:, None]) % n)[:, None, :]
        step = max(1, _BUDGET // (n * min(n, len(ks) + 1)))
        for g0 in range(0, len(gids), step):
            yield gids[g0:g0 + step], members[g0:g0 + step], shifts

"""Known answers and properties of the shared statistics helpers."""

import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.testing import assert_allclose, assert_array_equal

from q7x2_lib.metrics.stats import (
    bin_position,
    bootstrap_ci,
    bootstrap_replicates,
    describe_groups,
    group_batches,
    grouped_bootstrap,
    nan_quantiles,
    percentile_interval,
    permutation_batches,
    round_floats,
    sen_interval,
    size_rng,
    theil_sen,
    theil_sen_replicates,
)


def test_bootstrap_ci_of_a_constant_sample_is_that_constant():
    assert bootstrap_ci([4.0] * 7) == (4.0, 4.0, 4.0)
    assert bootstrap_ci([4.0] * 7, statistic="median") == (4.0, 4.0, 4.0)


def test_bootstrap_ci_mean_of_one_to_five():
    est, low, high = bootstrap_ci([1, 2, 3, 4, 5], n_boot=4000)
    assert est == 3.0
    # The bootstrap distribution of the mean has sd sqrt(2 / 5) = 0.632: a 95% interval of about
    # 3 -/+ 1.2, never beyond the sample's range.
    assert 1.5 < low < 2.1 and 3.9 < high < 4.5


def test_bootstrap_ci_is_seeded():
    values = np.arange(20.0) ** 2
    assert bootstrap_ci(values, seed=3) == bootstrap_ci(values, seed=3)
    assert bootstrap_ci(values, seed=3) != bootstrap_ci(values, seed=4)


def test_bootstrap_ci_share_of_booleans():
    est, low, high = bootstrap_ci([True, False, False, False], statistic="share")
    assert est == 0.25 and 0.0 <= low <= high <= 1.0


def test_bootstrap_ci_empty_sample_is_nan():
    assert all(np.isnan(v) for v in bootstrap_ci([]))


@pytest.mark.parametrize(("kwargs", "name"), [
    ({"statistic": "mode"}, "statistic"), ({"ci": 95}, "ci"), ({"n_boot": -1}, "n_boot"),
])
def test_bootstrap_ci_rejects_bad_options(kwargs, name):
    with pytest.raises(ValueError, match=name):
        bootstrap_ci([1.0, 2.0], **kwargs)


def test_bootstrap_replicates_sum_of_constant_groups():
    values = np.array([2.0, 2.0, 2.0, 5.0])
    reps = bootstrap_replicates(values, np.array([0, 0, 0, 1]), statistic="sum", n_boot=10)
    assert reps.shape == (10, 2)
    assert_array_equal(reps[:, 0], 6.0)
    assert_array_equal(reps[:, 1], 5.0)


def test_bootstrap_replicates_two_values_take_three_means():
    reps = bootstrap_replicates(np.array([0.0, 1.0]), n_boot=4000)
    assert set(np.unique(reps)) == {0.0, 0.5, 1.0}
    assert_allclose(np.mean(reps == 0.5), 0.5, atol=0.03)


def test_bootstrap_replicates_empty_group_is_nan():
    reps = bootstrap_replicates(np.array([1.0]), np.array([1]), n_groups=3, n_boot=5)
    assert np.isnan(reps[:, [0, 2]]).all() and (reps[:, 1] == 1.0).all()


def test_bootstrap_replicates_large_group_is_chunked_without_changing_results(monkeypatch):
    values = np.arange(49.0)
    full = bootstrap_replicates(values, statistic="median", n_boot=30, seed=1)
    monkeypatch.setattr("q7x2_lib.metrics.stats._BUDGET", 120)  # force chunks of boots
    chunked = bootstrap_replicates(values, statistic="median", n_boot=30, seed=1)
    assert np.isin(full, values).all()  # the median of an odd resample is one of its values
    assert_array_equal(chunked, full)


def test_grouped_bootstrap_table():
    frame = pd.DataFrame({"g": ["b", "a", "a", "b", "a"], "v": [1.0, 3.0, 3.0, 1.0, np.nan]})
    got = grouped_bootstrap(frame, value="v", by="g", n_boot=50)
    expected = pd.DataFrame({"g": ["a", "b"], "n": np.array([2, 2], dtype="int64"),
                             "estimate": [3.0, 1.0], "ci_low": [3.0, 1.0],
                             "ci_high": [3.0, 1.0]})
    pd.testing.assert_frame_equal(got, expected)


def test_describe_groups_quartiles_and_mean():
    frame = pd.DataFrame({"g": ["x"] * 4 + ["y"], "v": [1, 2, 3, 4, 10]})
    got = describe_groups(frame, value="v", by=["g"], n_boot=200)
    assert_allclose(got[["median", "q25", "q75", "mean"]].to_numpy(),
                    [[2.5, 1.75, 3.25, 2.5], [10, 10, 10, 10]])
    assert list(got.columns) == ["g", "n", "median", "q25", "q75", "mean", "mean_low",
                                 "mean_high"]
    assert got.loc[1, "mean_low"] == got.loc[1, "mean_high"] == 10
    assert 1 <= got.loc[0, "mean_low"] < 2.5 < got.loc[0, "mean_high"] <= 4


def test_percentile_interval_and_all_nan_columns():
    reps = np.column_stack([np.arange(101.0), np.full(101, np.nan)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        low, high = percentile_interval(reps, ci=0.95)
    assert_allclose(low, [2.5, np.nan])
    assert_allclose(high, [97.5, np.nan])


def test_group_batches_groups_equal_sizes():
    batches = list(group_batches(np.array([1, 0, 1, 2, 2, 2])))
    assert [b[0].tolist() for b in batches] == [[0], [1], [2]]
    assert [b[1].tolist() for b in batches] == [[[1]], [[0, 2]], [[3, 4, 5]]]


@given(st.lists(st.integers(0, 6), min_size=1, max_size=60))
@settings(max_examples=50, deadline=None)
def test_group_batches_cover_each_element_once(codes):
    codes = np.array(codes)
    seen = np.concatenate([m.ravel() for _, m in group_batches(codes)])
    assert sorted(seen.tolist()) == list(range(len(codes)))
    for gids, members in group_batches(codes):
        assert (codes[members] == gids[:, None]).all()


@given(st.lists(st.integers(0, 4), min_size=1, max_size=40), st.integers(1, 20))
@settings(max_examples=40, deadline=None)
def test_permutation_batches_are_permutations_within_groups(codes, n_perm):
    codes = np.array(codes)
    total = 0
    for gids, members, perms in permutation_batches(codes, n_perm=n_perm):
        n = members.shape[1]
        assert (codes[members] == gids[:, None]).all()
        assert perms.shape == (n_perm, 1, n)
        assert_array_equal(np.sort(perms, axis=-1), np.broadcast_to(np.arange(n), perms.shape))
        total += members.size
    assert total == len(codes)


def test_permutation_batches_shuffle():
    (_, _, perms), = permutation_batches(np.zeros(5, dtype=int), n_perm=200)
    # 200 random orderings of 5 positions: far more than one distinct ordering.
    assert len({tuple(p) for p in perms[:, 0]}) > 50


def test_theil_sen_exact_line_and_degenerate_groups():
    x = np.array([0, 1, 2, 3, 0, 5, 5], dtype=float)
    y = np.array([1, 3, 5, 7, 9, 1, 2], dtype=float)
    slope, intercept = theil_sen(x, y, np.array([0, 0, 0, 0, 1, 2, 2]))
    assert_allclose(slope, [2.0, np.nan, np.nan])
    assert_allclose(intercept, [1.0, np.nan, np.nan])


@given(st.lists(st.tuples(st.integers(0, 12), st.integers(-50, 50)), min_size=3, max_size=25))
@settings(max_examples=60, deadline=None)
def test_theil_sen_matches_scipy(points):
    x, y = (np.array(v, dtype=float) for v in zip(*points, strict=True))
    if np.unique(x).size < 2:
        return
    slope, intercept = theil_sen(x, y, np.zeros(len(x), dtype=int))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # scipy's interval on heavy ties
        ref = scipy.stats.theilslopes(y, x)
    assert_allclose([slope[0], intercept[0]], [ref.slope, ref.intercept], atol=1e-12)


def _scipy_slope(y: np.ndarray, x: np.ndarray) -> float:
    with warnings.catch_warnings():  # scipy's own interval warns on tiny resamples; unused here
        warnings.simplefilter("ignore", RuntimeWarning)
        return scipy.stats.theilslopes(y, x).slope


def _assert_scipy_slopes(reps: np.ndarray, x: np.ndarray, y: np.ndarray, seed: int) -> None:
    """Each replicate is scipy's Theil–Sen slope of its resample (NaN without two distinct x).

    The implementation draws the resamples of size-n groups as
    ``size_rng(seed, n).integers(0, n, size=(n_boot, n))``.
    """
    n = len(x)
    draws = size_rng(seed, n).integers(0, n, size=(len(reps), n))
    for rep, draw in zip(reps, draws, strict=True):
        if np.unique(x[draw]).size < 2:
            assert np.isnan(rep)
        else:
            assert_allclose(rep, _scipy_slope(y[draw], x[draw]), atol=1e-12)


def test_theil_sen_replicates_of_collinear_points_are_the_slope():
    x = np.arange(8.0)
    reps = theil_sen_replicates(x, 3 - 0.5 * x, np.zeros(8, dtype=int), n_boot=200)
    # A resample drawing a single point has no slope.
    assert_allclose(reps[~np.isnan(reps)], -0.5)


@pytest.mark.parametrize("n", [2, 5, 40, 70])
def test_theil_sen_replicates_match_scipy_on_the_same_resamples(n):
    rng = np.random.default_rng(n)
    x, y = np.arange(float(n)), rng.normal(size=n)
    x[1] = x[0]  # a tie in x: pairs without a slope are skipped, as scipy does
    reps = theil_sen_replicates(x, y, np.zeros(n, dtype=int), n_boot=25, seed=7)
    _assert_scipy_slopes(reps, x, y, seed=7)


def test_bin_position_midpoints():
    got = bin_position(np.array([0.0, 0.05, 0.1, 0.95, 0.999]), n_bins=10)
    assert_allclose(got, [0.05, 0.05, 0.15, 0.95, 0.95])
    assert_allclose(bin_position(np.array([0.0, 0.5]), n_bins=2), [0.25, 0.75])
    with pytest.raises(ValueError, match="n_bins"):
        bin_position(np.array([0.5]), n_bins=0)


def test_round_floats_rounds_and_drops_negative_zero():
    frame = pd.DataFrame({"a": [-0.0001, 1.23456], "b": [1, 2], "c": ["x", "y"]})
    got = round_floats(frame, 2)
    assert_array_equal(got["a"], [0.0, 1.23])
    assert not np.signbit(got["a"].iloc[0])
    pd.testing.assert_frame_equal(got[["b", "c"]], frame[["b", "c"]])
    assert round_floats(frame, None) is frame


def test_theil_sen_chunks_of_equal_size_groups_agree(monkeypatch):
    rng = np.random.default_rng(3)
    x, y, codes = np.tile(np.arange(6.0), 5), rng.normal(size=30), np.repeat(np.arange(5), 6)
    whole = theil_sen(x, y, codes)
    reps = theil_sen_replicates(x, y, codes, n_boot=20, seed=1)
    monkeypatch.setattr("q7x2_lib.metrics.stats._BUDGET", 16)  # one group of 15 pairs per chunk
    assert_allclose(theil_sen(x, y, codes), whole)
    assert_allclose(theil_sen_replicates(x, y, codes, n_boot=20, seed=1), reps)


def test_theil_sen_replicates_do_not_depend_on_threads(monkeypatch):
    rng = np.random.default_rng(4)
    codes = np.repeat(np.arange(12), 30)
    x, y = np.tile(np.arange(30.0), 12), rng.normal(size=360)
    threaded = theil_sen_replicates(x, y, codes, n_boot=50, seed=2)
    monkeypatch.setattr("q7x2_lib.metrics.stats.n_threads", lambda: 1)
    assert_array_equal(theil_sen_replicates(x, y, codes, n_boot=50, seed=2), threaded)


@pytest.mark.parametrize(("n_counts", "window"), [
    (3, None), (150, None),  # one block of pairs; 175 blocks searched in a window first
    (150, 1), (60, 40),  # tiny windows: most resamples fall back to every pair
])
def test_theil_sen_replicates_give_the_weighted_median(n_counts, window, monkeypatch):
    if window is not None:
        monkeypatch.setattr("q7x2_lib.metrics.stats._window_half", lambda n: window)
    rng = np.random.default_rng(n_counts)
    x, y = np.arange(float(n_counts)), rng.normal(size=n_counts)
    reps = theil_sen_replicates(x, y, np.zeros(n_counts, dtype=int), n_boot=15, seed=3)
    _assert_scipy_slopes(reps, x, y, seed=3)


def test_intervals_of_a_group_do_not_depend_on_the_other_groups():
    # Keyed draws: a group's replicates are the same alone or beside any other groups, so a
    # corpus can be analysed in chunks or on a cluster and give the same intervals.
    rng = np.random.default_rng(9)
    values, codes = rng.normal(size=60), np.repeat([0, 1, 2], [20, 25, 15])
    together = bootstrap_replicates(values, codes, n_boot=40, seed=5)
    for g in range(3):
        alone = bootstrap_replicates(values[codes == g], n_boot=40, seed=5)
        assert_array_equal(together[:, g], alone)
    x = np.tile(np.arange(20.0), 3)
    ts_codes = np.repeat([0, 1, 2], 20)
    ts_together = theil_sen_replicates(x, values, ts_codes, n_boot=30, seed=5)
    ts_alone = theil_sen_replicates(x[20:40], values[20:40], np.zeros(20, int), n_boot=30, seed=5)
    assert_array_equal(ts_together[:, 1], ts_alone[:, 0])


def test_streams_resample_equal_groups_independently():
    values, codes = np.arange(20.0), np.repeat([0, 1], 10)
    same = bootstrap_replicates(values - np.repeat([0, 10], 10), codes, n_boot=30, seed=1)
    assert_array_equal(same[:, 0], same[:, 1])  # same size, same stream: same resamples
    apart = bootstrap_replicates(values - np.repeat([0, 10], 10), codes, n_boot=30, seed=1,
                                 streams=np.array([0, 1]))
    assert_array_equal(apart[:, 0], same[:, 0])
    assert not np.array_equal(apart[:, 0], apart[:, 1])


def test_size_rng_rejects_negative_seeds():
    with pytest.raises(ValueError, match="seed"):
        size_rng(-1, 5)


def test_bootstrap_replicates_follow_the_documented_draws():
    values = np.array([1.0, 4.0, 9.0, 16.0, 25.0])
    reps = bootstrap_replicates(values, n_boot=250, seed=3)
    rng = size_rng(3, 5)
    draws = np.concatenate([rng.integers(0, 5, size=(k, 5)) for k in (100, 100, 50)])
    assert_allclose(reps, values[draws].mean(axis=1))


@settings(max_examples=200, deadline=None)
@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=9),
                  elements=st.floats(allow_nan=True, allow_infinity=False, width=64)),
       st.lists(st.floats(0, 1), min_size=1, max_size=4), st.integers(0, 2))
def test_nan_quantiles_are_numpys_nanquantile_bit_for_bit(values, quantiles, axis) -> None:
    axis = min(axis, values.ndim - 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy warns on all-NaN slices
        expected = np.nanquantile(values, quantiles, axis=axis)
    got = nan_quantiles(values, quantiles, axis=axis)
    np.testing.assert_array_equal(got, expected)


def test_percentile_interval_of_known_replicates() -> None:
    reps = np.array([[1.0, np.nan], [2.0, np.nan], [3.0, 5.0], [4.0, np.nan], [5.0, np.nan]])
    low, high = percentile_interval(reps, ci=0.5)
    np.testing.assert_array_equal(low, [2.0, 5.0])
    np.testing.assert_array_equal(high, [4.0, 5.0])
    low, high = percentile_interval(np.full((3, 2), np.nan))
    assert np.isnan(low).all() and np.isnan(high).all()


def _scipy_sen(x, y, ci=0.95):
    """scipy's interval, or None where its tie-corrected variance is negative (it gives NaN)."""
    ties = sum(t * (t - 1) * (2 * t + 5)
               for v in (x, y) for t in np.unique(v, return_counts=True)[1])
    n = len(x)
    if n * (n - 1) * (2 * n + 5) - ties < 0:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ref = scipy.stats.theilslopes(y, x, alpha=ci)
    return ref.low_slope, ref.high_slope


@given(st.lists(st.lists(st.tuples(st.integers(0, 12), st.integers(-50, 50)), min_size=2,
                         max_size=25), min_size=1, max_size=4),
       st.sampled_from([0.5, 0.9, 0.95, 0.99]))
@settings(max_examples=80, deadline=None)
def test_sen_interval_matches_scipy_group_by_group(groups, ci):
    x = np.array([p[0] for g in groups for p in g], dtype=float)
    y = np.array([p[1] for g in groups for p in g], dtype=float)
    codes = np.repeat(np.arange(len(groups)), [len(g) for g in groups])
    low, high = sen_interval(x, y, codes, ci=ci)
    for k in range(len(groups)):
        xs, ys = x[codes == k], y[codes == k]
        if np.unique(xs).size < 2:
            assert np.isnan(low[k]) and np.isnan(high[k])
            continue
        ref = _scipy_sen(xs, ys, ci)
        if ref is not None:
            assert_allclose([low[k], high[k]], ref, atol=1e-12)


def test_sen_interval_known_answers():
    # An exact line: every pairwise slope is 2, so is every order statistic.
    x = np.arange(6.0)
    assert_allclose(sen_interval(x, 2 * x + 1, np.zeros(6, dtype=int)), ([2.0], [2.0]))
    # Infinite inflation reaches the extreme pairwise slopes; no pair of distinct x gives NaN.
    y = np.array([0.0, 3.0, 1.0, 5.0])
    low, high = sen_interval(np.arange(4.0), y, np.zeros(4, dtype=int), inflation=[np.inf])
    assert_allclose([low[0], high[0]], [-2.0, 4.0])
    low, high = sen_interval(np.zeros(3), np.arange(3.0), np.zeros(3, dtype=int))
    assert np.isnan(low[0]) and np.isnan(high[0])


@given(hnp.arrays(float, st.integers(3, 30), elements=st.floats(-100, 100)),
       st.floats(1, 50))
@settings(max_examples=60, deadline=None)
def test_sen_interval_widens_with_inflation_and_holds_the_slope(y, inflation):
    x, codes = np.arange(len(y), dtype=float), np.zeros(len(y), dtype=int)
    low, high = sen_interval(x, y, codes)
    wide_low, wide_high = sen_interval(x, y, codes, inflation=[inflation])
    assert wide_low[0] <= low[0] <= high[0] <= wide_high[0]
    slope = theil_sen(x, y, codes)[0][0]
    assert wide_low[0] <= slope <= wide_high[0]


def test_sen_interval_chunks_of_equal_size_groups_agree(monkeypatch):
    rng = np.random.default_rng(4)
    x, y, codes = np.tile(np.arange(7.0), 5), rng.normal(size=35), np.repeat(np.arange(5), 7)
    whole = sen_interval(x, y, codes, inflation=np.linspace(1, 3, 5))
    monkeypatch.setattr("q7x2_lib.metrics.stats._BUDGET", 22)  # one group of 21 pairs per chunk
    assert_allclose(sen_interval(x, y, codes, inflation=np.linspace(1, 3, 5)), whole)

"""Dependence-aware resampling and tests: known answers on hand-built series and conversations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from builders import words
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from q7x2_lib import decay_fit, lexical_echo, mirroring, word_share
from q7x2_lib.datasets import make_messages
from q7x2_lib.metrics.dependence import (
    block_draws,
    block_lengths,
    detrend,
    effective_size,
    lag1_autocorrelation,
    shift_batches,
    widen,
)
from q7x2_lib.metrics.stats import size_rng, theil_sen_replicates


def _ar(n: int, phi: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = np.zeros(n)
    for k in range(1, n):
        out[k] = phi * out[k - 1] + rng.standard_normal()
    return out


def _conversation(log_lengths: np.ndarray, cid: str = "c") -> pd.DataFrame:
    lengths = np.maximum(np.rint(np.expm1(log_lengths)), 0).astype(int)
    return make_messages({cid: [("AB"[k % 2], words(n)) for k, n in enumerate(lengths)]})


# --- resampling ------------------------------------------------------------------------------


def test_block_of_one_is_the_independent_bootstrap():
    n, n_boot = 17, 250
    rng = size_rng(4, n)
    expected = np.concatenate([rng.integers(0, n, (100, n)), rng.integers(0, n, (100, n)),
                               rng.integers(0, n, (50, n))])
    assert_array_equal(block_draws(4, n, 1, n_boot), expected)


@given(n=st.integers(2, 60), block=st.integers(2, 15), seed=st.integers(0, 1000))
@settings(max_examples=40, deadline=None)
def test_circular_blocks_are_runs_of_consecutive_messages(n, block, seed):
    draws = block_draws(seed, n, block, 20)
    assert draws.shape == (20, n) and draws.min() >= 0 and draws.max() < n
    b = min(block, n)
    for row in draws:
        for start in range(0, n, b):  # every block is start, start + 1, ... wrapping at the end
            run = row[start:start + b]
            assert_array_equal(run, (run[0] + np.arange(len(run))) % n)


@given(n=st.integers(2, 80), block=st.integers(2, 20), seed=st.integers(0, 10_000))
@settings(max_examples=30, deadline=None)
def test_block_draws_are_arch_circular_block_bootstrap_draws(n, block, seed):
    from arch.bootstrap import CircularBlockBootstrap

    b = min(block, n)
    boot = CircularBlockBootstrap(b, np.arange(n), seed=np.random.default_rng([seed, n, 0, b]))
    expected = np.stack([boot.update_indices() for _ in range(25)])
    assert_array_equal(block_draws(seed, n, block, 25), expected)


def test_block_draws_are_keyed_by_seed_size_and_block():
    assert_array_equal(block_draws(1, 30, 3, 50), block_draws(1, 30, 3, 50))
    assert not np.array_equal(block_draws(1, 30, 3, 50), block_draws(2, 30, 3, 50))
    assert not np.array_equal(block_draws(1, 30, 3, 50), block_draws(1, 30, 4, 50))


def test_block_lengths_white_noise_is_one_and_dependence_is_longer():
    rng = np.random.default_rng(0)
    white = rng.standard_normal((200, 100))
    assert np.mean(block_lengths(white) == 1) > 0.8
    strong = np.stack([_ar(100, 0.8, s) for s in range(50)])
    assert np.median(block_lengths(strong)) >= 6
    # Too short, constant or undefined series: 1; never more than a quarter of the series.
    assert_array_equal(block_lengths(np.ones((2, 50))), [1, 1])
    assert_array_equal(block_lengths(strong[:, :7]), np.ones(50))
    assert_array_equal(block_lengths(np.array([[np.nan] * 20])), [1])
    assert block_lengths(strong[:, :40]).max() <= 10


def test_effective_size_known_answers():
    assert_allclose(effective_size(100, 0.5), 100 / 3)
    assert_allclose(effective_size([10, 10, 10], [0.0, -0.4, np.nan]), [10, 10, 10])
    assert_allclose(lag1_autocorrelation(np.array([[1.0, -1.0] * 10]))[0], -0.95)
    assert np.isnan(lag1_autocorrelation(np.ones((1, 10)))[0])


def test_detrend_removes_a_line_per_group():
    x = np.arange(10.0)
    y = np.r_[2 * x[:5] + 1, -x[5:] + 3 + np.array([1, -1, 1, -1, 0])]
    codes = np.repeat([0, 1], 5)
    got = detrend(x, y, codes, 2)
    assert_array_equal(got[:5], np.zeros(5))  # an exact line leaves nothing, not rounding
    assert_allclose(got[5:].sum(), 0, atol=1e-12)


def test_widen_scales_half_widths_by_t_over_z():
    low, high = widen(np.array([1.0]), np.array([0.0]), np.array([3.0]), np.array([10]),
                      np.array([5]), 0.95)
    factor = 12.706204736174705 / 1.959963984540054  # t(1) / z at 97.5%
    assert_allclose([low[0], high[0]], [1 - factor, 1 + 2 * factor])
    low, high = widen(np.array([0.0]), np.array([-1.0]), np.array([1.0]), np.array([10_000]),
                      np.array([1]), 0.95)
    assert_allclose(high, 1.0, rtol=1e-3)


def test_shift_batches_hold_every_nonzero_circular_shift():
    codes = np.array([0, 0, 0, 1, 2, 2, 2])
    batches = list(shift_batches(codes))
    assert [b[0].tolist() for b in batches] == [[0, 2]]  # one message: no shift
    gids, members, shifts = batches[0]
    assert_array_equal(members, [[0, 1, 2], [4, 5, 6]])
    assert_array_equal(shifts[:, 0, :], [[1, 2, 0], [2, 0, 1]])


def test_shift_batches_spread_at_most_max_shifts_evenly():
    codes = np.zeros(11, dtype=int)
    (_, _, shifts), = shift_batches(codes, max_shifts=4)
    # k = 1 + floor(j * 10 / 4) for j = 0..3: shifts 1, 3, 6, 8
    assert_array_equal(shifts[:, 0, 0], [1, 3, 6, 8])
    assert_array_equal(shifts[:, 0, :], (np.arange(11)[None, :] + [[1], [3], [6], [8]]) % 11)
    (_, _, every), = shift_batches(codes, max_shifts=10)  # no more than n - 1: all of them
    assert_array_equal(every[:, 0, 0], np.arange(1, 11))


# --- decay_fit -----------------------------------------------------------------------------


def test_decay_fit_without_dependence_keeps_the_independent_interval():
    rng = np.random.default_rng(0)
    turn = np.arange(1, 81)
    y = 5 - 0.02 * turn + 0.3 * rng.standard_normal(80)
    fit = decay_fit(_conversation(y), n_boot=300).iloc[0]
    assert fit["block_length"] == 1 and fit["shape"] == "trend"
    m = _conversation(y)
    x, logs = m["turn"].to_numpy(float), np.log1p(m["n_words"].to_numpy(float))
    reps = theil_sen_replicates(x, logs, np.zeros(80, int), n_boot=300)
    low, high = np.nanquantile(reps[:, 0], [0.025, 0.975])
    # The ordinary bootstrap interval, widened by t(79) / z (about 1 percent).
    slope = -fit["decay_rate"]
    factor = 1.9904502102301434 / 1.959963984540054
    assert_allclose([-fit["rate_high"], -fit["rate_low"]],
                    [slope - (slope - low) * factor, slope + (high - slope) * factor])


def test_decay_fit_autocorrelated_noise_gets_blocks_and_fewer_effective_messages():
    turn = np.arange(1, 101)
    noise = np.empty(100)
    noise[0::2], noise[1::2] = 0.4 * _ar(50, 0.9, 1), 0.4 * _ar(50, 0.9, 2)
    fit = decay_fit(_conversation(5 - 0.02 * turn + noise), n_boot=200).iloc[0]
    assert fit["block_length"] > 1
    assert fit["n_eff"] < 30 and fit["n_messages"] == 100


def test_decay_fit_flags_a_cliff_as_a_step_with_its_turn():
    y = np.r_[np.full(59, np.log(200.0)), np.full(41, np.log(2.0))]
    y[:59] += 0.1 * np.random.default_rng(0).standard_normal(59)
    fit = decay_fit(_conversation(y), n_boot=100).iloc[0]
    assert fit["shape"] == "step" and fit["step_turn"] == 59  # turns count from 0 here
    smooth = decay_fit(_conversation(5 - 0.04 * np.arange(100)), n_boot=100).iloc[0]
    assert smooth["shape"] == "trend" and pd.isna(smooth["step_turn"])
    short = decay_fit(_conversation(np.log([100, 100, 2, 2, 2.0])), n_boot=50).iloc[0]
    assert pd.isna(short["shape"]) and short["few_effective"]


def test_decay_fit_conversations_alone_or_together_agree():
    turn = np.arange(1, 61)
    a = _conversation(4 - 0.03 * turn + 0.5 * _ar(60, 0.7, 5), "a")
    b = _conversation(4 + 0.3 * _ar(60, 0.2, 6), "b")
    together = decay_fit(pd.concat([a, b], ignore_index=True), n_boot=150)
    alone = pd.concat([decay_fit(a, n_boot=150), decay_fit(b, n_boot=150)], ignore_index=True)
    pd.testing.assert_frame_equal(together, alone)


# --- word_share ----------------------------------------------------------------------------


def test_word_share_block_interval_is_wider_under_dependence():
    turn = np.arange(1, 101)
    noise = np.empty(100)
    noise[0::2], noise[1::2] = 0.6 * _ar(50, 0.9, 7), 0.6 * _ar(50, 0.9, 8)
    got = word_share(_conversation(4 + 0 * turn + noise), n_boot=400).set_index("speaker")
    assert (got["block_length"] > 1).all()
    assert (got["share_low"] <= got["share"]).all() and (got["share"] <= got["share_high"]).all()
    assert_allclose(got["share_low"].sum() + got["share_high"].sum(), 2, atol=0.05)
    assert (got["n_eff"] < got["n_messages"] / 2).all()


# --- mirroring and echo ----------------------------------------------------------------------


def test_mirroring_shift_null_ignores_a_shared_trend_and_finds_a_real_mirror():
    rng = np.random.default_rng(11)
    turn = np.arange(100)
    trend = 6 - 0.04 * turn + 0.3 * rng.standard_normal(100)  # both decay, noise independent
    got = mirroring(_conversation(trend))
    assert (got["rho"] > 0.8).all()  # raw lengths correlate through the trend alone
    assert (got["p_value"] > 0.05).all()
    assert sorted(got["n_pairs"]) == [49, 50]
    wander = 4 + 0.8 * _ar(50, 0.3, 12)
    echoed = np.repeat(wander, 2) + 0.05 * rng.standard_normal(100)  # each reply as long
    got = mirroring(_conversation(echoed)).set_index("speaker")
    assert got.loc["B", "rho_detrended"] > 0.8 and got.loc["B", "p_value"] <= 1 / 50


def test_mirroring_p_value_cannot_go_below_one_over_the_pairs():
    got = mirroring(_conversation(np.log1p(np.repeat(np.arange(1, 9) ** 2, 2).astype(float))))
    assert (got["p_value"] >= 1 / got["n_pairs"] - 1e-12).all()


def test_lexical_echo_shift_null_on_topics_and_on_copies():
    rng = np.random.default_rng(2)
    vocab = [f"word{k}x" for k in range(400)]
    topic = {"A": 0, "B": 7}
    independent, copying = [], []
    for k in range(80):
        s = "AB"[k % 2]
        if rng.random() > 0.9:
            topic[s] = int(rng.integers(0, 20))
        body = " ".join(vocab[i] for i in rng.integers(0, 20, 10) + 20 * topic[s])
        independent.append((s, body))
        extra = vocab[int(rng.integers(400))]
        copying.append((s, body if s == "A" else f"{copying[-1][1]} {extra}"))
    got = lexical_echo(make_messages({"i": independent, "c": copying})).set_index(
        ["conversation_id", "speaker"])
    assert got.loc[("c", "B"), "echo"] > 0.8 and got.loc[("c", "B"), "p_value"] <= 1 / 40
    assert got.loc[("i", "B"), "p_value"] > 0.05


def test_mirroring_and_echo_reject_an_unknown_null():
    m = _conversation(np.log1p(np.arange(10.0)))
    with pytest.raises(ValueError, match="null: got 'block'"):
        mirroring(m, null="block")
    with pytest.raises(ValueError, match="null: got 'block'"):
        lexical_echo(m, null="block")

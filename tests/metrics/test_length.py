"""Known answers for the message-length decay metrics, on hand-built conversations."""

import math

import numpy as np
import pandas as pd
import pytest
from builders import alternating
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from q7x2_lib.datasets import make_messages
from q7x2_lib.metrics.length import (
    collapse_turn,
    decay_fit,
    decay_overview,
    early_late_ratio,
    end_marker_share,
    length_decay_summary,
    length_profile,
    message_lengths,
    speaker_roles,
)
from q7x2_lib.metrics.stats import sen_interval


def test_speaker_roles_opener_is_first_non_seed_speaker():
    msgs = make_messages({"c1": [("A", " "), ("B", "hi"), ("A", "hello")],
                          "c2": [("C", "alone"), ("C", "still alone")]}, seed=True)
    got = speaker_roles(msgs)
    expected = pd.DataFrame({"conversation_id": ["c1", "c2"], "opener": ["B", "C"],
                             "responder": ["A", pd.NA], "opener_model": ["B", "C"],
                             "responder_model": ["A", pd.NA]}).astype("string")
    pd.testing.assert_frame_equal(got, expected)


def test_message_lengths_table():
    msgs = make_messages({"c": [("A", " "), ("B", "one two three"), ("A", ""), ("B", "x")]},
                         seed=True)
    got = message_lengths(msgs)
    expected = pd.DataFrame({
        "conversation_id": pd.array(["c"] * 3, dtype="string"),
        "turn": np.array([1, 2, 3], dtype="int64"),
        "speaker": pd.array(["B", "A", "B"], dtype="string"),
        "model": pd.array(["B", "A", "B"], dtype="string"),
        "role": pd.array(["opener", "responder", "opener"], dtype="string"),
        "position": np.array([0, 1, 2], dtype="int64"),
        "n_messages": np.array([3, 3, 3], dtype="int64"),
        "relative_position": [0.0, 1 / 3, 2 / 3],
        "length": np.array([3, 0, 1], dtype="int64"),
    })
    pd.testing.assert_frame_equal(got, expected)


def test_message_lengths_seed_and_chars():
    msgs = make_messages({"c": [("A", "seed text"), ("B", "abc de")]}, seed=True)
    got = message_lengths(msgs, include_seed=True, unit="chars")
    assert got["length"].tolist() == [9, 6]
    assert got["role"].tolist() == ["responder", "opener"]


def test_bad_arguments_name_the_parameter():
    msgs = make_messages({"c": [("A", "x")]})
    with pytest.raises(ValueError, match="unit: got 'tokens'"):
        message_lengths(msgs, unit="tokens")
    missing = r"message_lengths\(\): messages lacks the column\(s\) \['n_words'\]"
    with pytest.raises(ValueError, match=missing):
        message_lengths(msgs.drop(columns="n_words"))
    with pytest.raises(ValueError, match="messages: got list"):
        message_lengths([1, 2])
    with pytest.raises(ValueError, match="x: got 'position'"):
        length_profile(msgs, x="position")
    with pytest.raises(ValueError, match="hue: got 'colour'"):
        length_profile(msgs, hue="colour")
    with pytest.raises(ValueError, match="window"):
        collapse_turn(msgs, window=0)
    with pytest.raises(ValueError, match="threshold"):
        collapse_turn(msgs, threshold=-1)
    with pytest.raises(ValueError, match="edge"):
        early_late_ratio(msgs, edge=0)


def test_length_profile_by_turn_and_role():
    msgs = make_messages({"a": alternating([10, 1, 20]), "b": alternating([30, 3, 40])})
    got = length_profile(msgs, n_boot=100)
    assert got["role"].tolist() == ["opener", "opener", "responder"]
    assert got["turn"].tolist() == [0, 2, 1]
    assert_allclose(got[["n", "median", "q25", "q75", "mean"]].to_numpy(),
                    [[2, 20, 15, 25, 20], [2, 30, 25, 35, 30], [2, 2, 1.5, 2.5, 2]])
    assert (got["mean_low"] >= [10, 20, 1]).all() and (got["mean_high"] <= [30, 40, 3]).all()


def test_length_profile_relative_bins_without_hue():
    msgs = make_messages({"a": alternating([10, 1, 20, 2])})
    got = length_profile(msgs, x="relative", hue=None, n_bins=2, n_boot=50)
    assert list(got.columns[:2]) == ["relative_position", "n"]
    assert_allclose(got[["relative_position", "median"]].to_numpy(), [[0.25, 5.5], [0.75, 11]])


def test_decay_fit_halving_one_plus_length():
    # 1 + length halves every turn: exactly ln 2 per turn, a half-life of one turn.
    msgs = make_messages({"c": alternating([1023, 511, 255, 127], seed=True)}, seed=True)
    got = decay_fit(msgs, n_boot=200)
    assert_allclose(got[["decay_rate", "rate_low", "rate_high"]].iloc[0], [math.log(2)] * 3)
    assert_allclose(got[["half_life", "half_life_low", "half_life_high"]].iloc[0], [1.0] * 3)
    assert got["n_messages"].iloc[0] == 4 and bool(got["decays"].iloc[0])


def test_decay_fit_lengths_8_4_2_1_by_hand():
    # log(1 + length) = log 9, 5, 3, 2; the median of the six pairwise slopes is the mean of
    # the middle two, log(3/5) and log(2/9)/3.
    msgs = make_messages({"c": alternating([8, 4, 2, 1])})
    got = decay_fit(msgs, n_boot=50).iloc[0]
    rate = -(math.log(3 / 5) + math.log(2 / 9) / 3) / 2
    assert_allclose([got["decay_rate"], got["half_life"]], [rate, math.log(2) / rate])
    assert_allclose(got["intercept"], np.median(np.log1p([8, 4, 2, 1])) + rate * 1.5)


def test_decay_fit_flat_growing_and_single_message():
    msgs = make_messages({"flat": alternating([5, 5, 5, 5]), "grow": alternating([1, 3, 7, 15]),
                          "one": [("A", "lonely")]})
    got = decay_fit(msgs, n_boot=50).set_index("conversation_id")
    assert got.loc["flat", "decay_rate"] == 0 and got.loc["flat", "half_life"] == np.inf
    assert_allclose(got.loc["grow", "decay_rate"], -math.log(2))
    assert got.loc["grow", "half_life"] == np.inf and not got.loc["grow", "decays"]
    assert np.isnan(got.loc["one", ["decay_rate", "half_life", "rate_low"]].astype(float)).all()


def test_decay_fit_sen_interval_same_rate_rank_bounds_and_checked_choice():
    msgs = make_messages({"c": alternating([40, 31, 33, 20, 22, 12, 15, 9, 8, 3, 4, 1])})
    boot, sen = decay_fit(msgs, n_boot=200).iloc[0], decay_fit(msgs, interval="sen").iloc[0]
    assert boot["decay_rate"] == sen["decay_rate"]
    y = np.log1p([40, 31, 33, 20, 22, 12, 15, 9, 8, 3, 4, 1])
    # With no autocorrelation left in the residuals n_eff = n: Sen's bounds unchanged.
    inflation = sen["n_fitted"] / sen["n_eff"]
    low, high = sen_interval(np.arange(12.0), y, np.zeros(12, dtype=int), inflation=[inflation])
    assert_allclose([sen["rate_low"], sen["rate_high"]], [-high[0], -low[0]])
    assert sen["rate_low"] <= sen["decay_rate"] <= sen["rate_high"]
    summary = length_decay_summary(msgs, interval="sen", decimals=None).iloc[0]
    assert_allclose(summary[["rate_low", "rate_high"]].astype(float), [sen["rate_low"],
                                                                        sen["rate_high"]])
    with pytest.raises(ValueError, match="interval"):
        decay_fit(msgs, interval="wald")


def test_early_late_ratio():
    msgs = make_messages({"c": alternating([10, 20, 30, 1, 2, 3]),
                          "zero": alternating([0, 0, 4, 4])})
    got = early_late_ratio(msgs, edge=2)
    expected = pd.DataFrame({"conversation_id": pd.array(["c", "zero"], dtype="string"),
                             "n_messages": np.array([6, 4], dtype="int64"),
                             "early_median": [15.0, 0.0], "late_median": [2.5, 4.0],
                             "ratio": [1 / 6, np.nan]})
    pd.testing.assert_frame_equal(got, expected)


def test_early_late_windows_overlap_in_short_conversations():
    got = early_late_ratio(make_messages({"c": alternating([4, 8, 2, 30]),
                                          "d": alternating([4, 8])}), edge=3)
    # c: first three 4 8 2, last three 8 2 30; d: both windows are the same two messages.
    assert_allclose(got[["early_median", "late_median", "ratio"]].to_numpy(),
                    [[4, 8, 2], [6, 6, np.nan]])


@pytest.mark.parametrize(("lengths", "window", "threshold", "expected"), [
    ([100, 100, 100, 100, 0, 0, 0, 0], 4, 5, 6),  # trailing medians 100 100 50 0 0
    ([100, 100, 5, 5, 5, 5], 4, 5, 4),  # "at or below" the threshold
    ([100, 100, 6, 6, 6, 6], 4, 5, None),
    ([0, 0, 0, 0, 100, 100, 100, 100], 4, 5, None),  # collapsed, then recovered
    ([1, 1, 1], 4, 5, None),  # shorter than the window
    ([9, 1, 9, 1, 1], 1, 5, 3),
    ([0, 0, 0, 0], 4, 5, 3),
])
def test_collapse_turn_known_answers(lengths, window, threshold, expected):
    msgs = make_messages({"c": alternating(lengths)})
    got = collapse_turn(msgs, window=window, threshold=threshold)
    value = got["collapse_turn"].iloc[0]
    assert (pd.isna(value) and expected is None) or value == expected
    assert bool(got["collapsed"].iloc[0]) is (expected is not None)


def test_collapse_turn_counts_turns_after_the_seed_and_keeps_conversations_apart():
    msgs = make_messages({"a": alternating([100, 100, 100, 100, 0, 0, 0, 0], seed=True),
                          "b": alternating([0, 0, 0], seed=True)}, seed=True)
    got = collapse_turn(msgs)
    expected = pd.DataFrame({"conversation_id": pd.array(["a", "b"], dtype="string"),
                             "n_messages": np.array([8, 3], dtype="int64"),
                             "collapse_turn": pd.array([7, pd.NA], dtype="Int64"),
                             "collapsed": [True, False]})
    pd.testing.assert_frame_equal(got, expected)


def _reference_collapse(lengths, window, threshold):
    """A slow, obvious reading of the definition."""
    med = pd.Series(lengths, dtype=float).rolling(window).median()
    for k in range(len(lengths)):
        if med[k:].notna().all() and (med[k:] <= threshold).all() and len(med[k:]):
            return k
    return None


@given(st.lists(st.integers(0, 12), min_size=0, max_size=30), st.integers(1, 5),
       st.integers(0, 8))
@settings(max_examples=150, deadline=None)
def test_collapse_turn_matches_reference(lengths, window, threshold):
    msgs = make_messages({"c": alternating(lengths), "z": alternating([0, 0, 0, 0, 0])})
    got = collapse_turn(msgs, window=window, threshold=threshold).set_index("conversation_id")
    if not lengths:
        assert "c" not in got.index
        return
    value = got.loc["c", "collapse_turn"]
    expected = _reference_collapse(lengths, window, threshold)
    assert (pd.isna(value) and expected is None) or value == expected


def test_end_marker_share_per_speaker_and_conversation():
    msgs = make_messages({"c": [("A", "[END]"), ("B", "bye [END]"), ("A", "hello"),
                                ("B", "**[END]**")]})
    got = end_marker_share(msgs)
    expected = pd.DataFrame({
        "conversation_id": pd.array(["c", "c"], dtype="string"),
        "speaker": pd.array(["A", "B"], dtype="string"),
        "role": pd.array(["opener", "responder"], dtype="string"),
        "n_messages": np.array([2, 2], dtype="int64"),
        "n_marker_only": np.array([1, 1], dtype="int64"),
        "marker_only_share": [0.5, 0.5], "ends_with_marker_share": [0.5, 1.0],
    })
    pd.testing.assert_frame_equal(got, expected)
    whole = end_marker_share(msgs, per_speaker=False)
    assert_allclose(whole[["marker_only_share", "ends_with_marker_share"]].iloc[0], [0.5, 0.75])


def test_length_decay_summary_joins_the_metrics():
    msgs = make_messages({"c": alternating([1023, 511, 255, 127, 5, 5, 5, 5]),
                          "d": alternating([3, 3, 3])})
    got = length_decay_summary(msgs, edge=2, n_boot=50, decimals=3).set_index("conversation_id")
    assert list(got.columns) == [
        "n_messages", "decay_rate", "rate_low", "rate_high", "half_life", "half_life_low",
        "half_life_high", "n_eff", "few_effective", "shape", "step_turn", "early_median",
        "late_median", "late_early_ratio", "collapse_turn",
        "marker_only_share", "ends_with_marker_share"]
    assert got.loc["c", "collapse_turn"] == 6 and pd.isna(got.loc["d", "collapse_turn"])
    assert_allclose(got.loc["c", ["early_median", "late_median", "late_early_ratio"]].astype(float),
                    [767, 5, round(5 / 767, 3)])
    assert got.loc["d", "half_life"] == np.inf


def test_decay_overview_quantiles():
    summary = pd.DataFrame({"decay_rate": [0.1, 0.2, 0.3, -0.1], "late_early_ratio": [1, 2, 3, 4],
                            "collapse_turn": pd.array([5, pd.NA, pd.NA, 9], dtype="Int64"),
                            "marker_only_share": [0, 0, 0.5, 1]})
    got = decay_overview(summary, decimals=None)
    assert got["metric"].tolist() == ["decay_rate", "half_life", "steps", "late_early_ratio",
                                      "collapse_turn", "marker_only_share"]
    assert got["n"].tolist() == [4, 4, 0, 4, 2, 4]
    assert_allclose(got.loc[0, ["median", "q25", "q75"]].astype(float), [0.15, 0.05, 0.225])
    assert_allclose(got.loc[1, ["median", "q25", "q75"]].astype(float),
                    [math.log(2) / 0.15, math.log(2) / 0.225, math.log(2) / 0.05])
    assert_allclose(got.loc[4, ["median", "q25", "q75"]].astype(float), [7, 6, 8])
    # A step's rate does not describe it: left out of the rate rows, counted with its turn.
    steps = summary.assign(shape=["trend", "step", "trend", "trend"],
                           step_turn=pd.array([pd.NA, 12, pd.NA, pd.NA], dtype="Int64"))
    got = decay_overview(steps, decimals=None)
    assert got["n"].tolist() == [3, 3, 1, 4, 2, 4]
    assert_allclose(got.loc[0, "median"], 0.1)
    assert_allclose(got.loc[2, ["median", "q25", "q75"]].astype(float), [12, 12, 12])


@given(st.lists(st.lists(st.integers(0, 300), min_size=1, max_size=15), min_size=1, max_size=5))
@settings(max_examples=40, deadline=None)
def test_message_lengths_positions(conversations):
    msgs = make_messages({f"c{i}": alternating(ls) for i, ls in enumerate(conversations)})
    got = message_lengths(msgs)
    assert got["length"].tolist() == [n for ls in conversations for n in ls]
    assert ((got["relative_position"] >= 0) & (got["relative_position"] < 1)).all()
    assert (got.groupby("conversation_id")["position"].diff().dropna() == 1).all()


def test_a_long_conversation_is_fitted_on_evenly_spaced_messages():
    lengths = [round(1000 * 0.998 ** k) for k in range(3000)]
    msgs = make_messages({"long": [("A" if k % 2 else "B", " ".join(["w"] * n))
                                   for k, n in enumerate(lengths)]})
    full = decay_fit(msgs, n_boot=20, max_points=3000)
    thin = decay_fit(msgs, n_boot=20, max_points=300)
    assert thin[["n_messages", "n_fitted"]].values.tolist() == [[3000, 300]]
    assert full["n_fitted"].tolist() == [3000]
    assert_allclose(thin["decay_rate"], full["decay_rate"], rtol=0.02)
    assert_allclose(thin["decay_rate"], -np.log(0.998), rtol=0.05)  # the rate it was built with
    with pytest.raises(ValueError, match="max_points: got 0; expected an integer >= 1"):
        decay_fit(msgs, max_points=0)

"""Known answers for the turn-taking asymmetry metrics, on hand-built conversations."""

import math

import numpy as np
import pandas as pd
import pytest
import scipy.stats
from builders import alternating, words
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from q7x2_lib.datasets import make_messages
from q7x2_lib.metrics.turns import (
    baseline_summary,
    content_words,
    dominance,
    lexical_echo,
    mirroring,
    model_matrix,
    reply_length_ratio,
    reply_ratio_profile,
    who_ends,
    who_ends_summary,
    word_share,
)


def test_word_share_alternating_100_and_10():
    msgs = make_messages({"c": alternating([100, 10] * 5)})
    got = word_share(msgs, n_boot=200)
    expected = pd.DataFrame({
        "conversation_id": pd.array(["c", "c"], dtype="string"),
        "speaker": pd.array(["A", "B"], dtype="string"),
        "role": pd.array(["opener", "responder"], dtype="string"),
        "n_messages": np.array([5, 5], dtype="int64"),
        "length": np.array([500, 50], dtype="int64"),
        # Every message of a speaker has the same length: resampling cannot move the share.
        "share": [10 / 11, 1 / 11], "share_low": [10 / 11, 1 / 11],
        "share_high": [10 / 11, 1 / 11],
        # Constant lengths carry no dependence: block 1, and each message counts once.
        "block_length": np.array([1, 1], dtype="int64"), "n_eff": [5.0, 5.0],
        "few_effective": [True, True],
    })
    pd.testing.assert_frame_equal(got, expected)


def test_word_share_interval_and_silent_conversation():
    msgs = make_messages({"c": alternating([100, 10, 0, 10, 100, 10]),
                          "quiet": [("A", ""), ("B", "")]})
    got = word_share(msgs, n_boot=500).set_index(["conversation_id", "speaker"])
    low, share, high = got.loc[("c", "A"), ["share_low", "share", "share_high"]]
    assert_allclose(share, 200 / 230)
    # A's resamples hold 0, 1, 2 or 3 messages of 100 words: shares 0, 100/130, 200/230, 300/330.
    assert 0 <= low < share and high == pytest.approx(300 / 330)
    assert got.loc[("quiet", "A"), ["share", "share_low"]].isna().all()


@given(st.lists(st.tuples(st.sampled_from("ABC"), st.integers(0, 50)), min_size=1, max_size=20))
@settings(max_examples=40, deadline=None)
def test_word_shares_sum_to_one_and_dominance_in_unit_interval(msgs):
    table = make_messages({"c": [(s, words(n)) for s, n in msgs]})
    shares = word_share(table, n_boot=20)
    dom = dominance(table, n_boot=20)
    if shares["length"].sum() == 0:
        assert shares["share"].isna().all()
        return
    assert_allclose(shares["share"].sum(), 1.0)
    assert (shares["share_low"] <= shares["share_high"] + 1e-12).all()
    index = dom["dominance"].iloc[0]
    if len(shares) == 1:
        assert np.isnan(index)
    else:
        assert 0 <= index <= 1 + 1e-12
        low, high = dom[["dominance_low", "dominance_high"]].iloc[0]
        assert low <= index + 1e-12 and index <= high + 1e-12
    if len(shares) == 2:
        assert_allclose(index, abs(shares["share"].iloc[0] - shares["share"].iloc[1]))


def test_dominance_known_answers():
    msgs = make_messages({
        "uneven": alternating([100, 10] * 3),
        "even": alternating([5, 5, 7, 7]),
        "three": [("A", words(2)), ("B", words(1)), ("C", words(1))],
        "solo": [("A", words(4))],
    })
    got = dominance(msgs, n_boot=200).set_index("conversation_id")
    assert_allclose(got["dominance"], [0.0, np.nan, 0.25, 2 * 10 / 11 - 1])
    assert got.loc["uneven", "dominant_speaker"] == "A"
    assert got.loc["three", "n_speakers"] == 3
    # Equal shares whose interval straddles 1/2: the dominance interval starts at 0.
    assert got.loc["even", "dominance_low"] == 0 and got.loc["even", "dominance_high"] > 0
    assert_allclose(got.loc["uneven", ["dominance_low", "dominance_high"]].astype(float),
                    [2 * 10 / 11 - 1] * 2)


def test_reply_length_ratio_table():
    msgs = make_messages({"c": [("A", " "), ("B", words(3)), ("A", words(7)), ("B", ""),
                                ("B", words(1)), ("A", words(1))]}, seed=True)
    got = reply_length_ratio(msgs)
    # The first generated message answers the seed (left out); B's two messages in a row make
    # the second one a continuation, not a reply.
    assert got["turn"].tolist() == [2, 3, 5]
    assert got["replying_to"].tolist() == ["B", "A", "B"]
    assert got["role"].tolist() == ["responder", "opener", "responder"]
    assert_allclose(got["log2_ratio"], [math.log2(8 / 4), math.log2(1 / 8), math.log2(2 / 2)])
    assert got["answered_length"].tolist() == [3, 7, 1]


def test_reply_ratio_profile_by_role():
    msgs = make_messages({"a": alternating([1, 3, 7, 15]), "b": alternating([1, 1, 1, 1])})
    got = reply_ratio_profile(msgs, x="turn", n_boot=50)
    assert got["role"].tolist() == ["opener", "responder", "responder"]
    assert got["turn"].tolist() == [2, 1, 3]
    assert_allclose(got["median"], [0.5, 0.5, 0.5])
    with pytest.raises(ValueError, match="x: got"):
        reply_ratio_profile(msgs, x="bins")


def test_mirroring_perfect_and_inverse():
    up = [(s, words(n)) for s, n in zip("ABABABABABAB", [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
                                        strict=True)]
    got = mirroring(make_messages({"up": up}), n_shuffles=2000, null="permutation"
                    ).set_index("speaker")
    assert_allclose(got["rho"], [1.0, 1.0])
    assert (got["n_pairs"] == [5, 6]).all()
    assert (got["baseline_mean"].abs() < 0.1).all()
    assert (got["baseline_high"] < 1).all() and (got["p_value"] < 0.02).all()
    down = make_messages({"d": [(s, words(n)) for s, n in zip(
        "ABABABAB", [1, 8, 2, 7, 3, 6, 4, 5], strict=True)]})
    got = mirroring(down, n_shuffles=500, null="permutation").set_index("speaker")
    assert_allclose(got.loc["B", "rho"], -1.0)
    assert got.loc["B", "p_value"] > 0.9


def test_mirroring_matches_scipy_spearman_with_ties():
    rng = np.random.default_rng(5)
    lengths = rng.integers(0, 6, size=40)
    msgs = make_messages({"c": alternating(lengths)})
    got = mirroring(msgs, n_shuffles=50).set_index("speaker")
    pairs = reply_length_ratio(msgs)
    for speaker, part in pairs.groupby("speaker"):
        ref = scipy.stats.spearmanr(part["answered_length"], part["length"]).statistic
        assert_allclose(got.loc[speaker, "rho"], ref)


def test_mirroring_undefined_cases():
    msgs = make_messages({"short": alternating([1, 2, 3]), "flat": alternating([4] * 8)})
    got = mirroring(msgs, n_shuffles=20)
    assert got["rho"].isna().all() and got["p_value"].isna().all()
    assert got["baseline_mean"].isna().all()


def test_mirroring_is_seeded():
    msgs = make_messages({"c": alternating(np.random.default_rng(0).integers(0, 50, 30))})
    perm = {"null": "permutation"}
    pd.testing.assert_frame_equal(mirroring(msgs, seed=3, **perm), mirroring(msgs, seed=3, **perm))
    assert not mirroring(msgs, seed=3, **perm).equals(mirroring(msgs, seed=4, **perm))
    # The shift null is exact: no seed moves it.
    pd.testing.assert_frame_equal(mirroring(msgs, seed=3), mirroring(msgs, seed=4))


def test_content_words():
    texts = pd.Series(["It's the Apple, apple! don’t [END] 42 café", "", "a I x"], index=[7, 8, 9])
    got = content_words(texts)
    expected = pd.DataFrame({"row": np.array([0, 0], dtype="int64"),
                             "word": pd.array(["apple", "café"], dtype="string")})
    pd.testing.assert_frame_equal(got, expected)


def test_lexical_echo_share_of_reply_words():
    msgs = make_messages({"c": [("A", "apple banana"), ("B", "the apple banana cherry"),
                                ("A", "the pear"), ("B", "[END]")]})
    got = lexical_echo(msgs, n_shuffles=100).set_index("speaker")
    # B's first reply: 2 of {apple, banana, cherry}; its "[END]" reply has no content word.
    # A's reply "pear" shares nothing with B's reply (the stop word "the" does not count).
    assert_allclose(got.loc["B", "echo"], 2 / 3)
    assert_allclose(got.loc["A", "echo"], 0.0)


def test_lexical_echo_shuffled_baseline_of_disjoint_exchanges():
    # Each reply repeats its message word for word; different exchanges share nothing. Pairing a
    # reply with a random message of the conversation matches its own one time in three.
    msgs = make_messages({"c": [("A", "red apple"), ("B", "red apple"), ("A", "blue sky"),
                                ("B", "blue sky"), ("A", "green grass"), ("B", "green grass")]})
    got = lexical_echo(msgs, n_shuffles=3000, null="permutation").set_index("speaker")
    assert_allclose(got.loc["B", "echo"], 1.0)
    assert_allclose(got.loc["B", "baseline_mean"], 1 / 3, atol=0.03)
    assert got.loc["B", "baseline_low"] == 0 and got.loc["B", "baseline_high"] == 1
    assert_allclose(got.loc["B", "p_value"], 1 / 6, atol=0.03)  # all 6 orderings equally likely


def test_who_ends_table():
    msgs = make_messages({"c": [("A", "Hi? Who?"), ("B", "hello"), ("A", "[END]"), ("B", ""),
                                ("A", "[END] [END]")]})
    got = who_ends(msgs)
    expected = pd.DataFrame({
        "conversation_id": pd.array(["c", "c"], dtype="string"),
        "speaker": pd.array(["A", "B"], dtype="string"),
        "role": pd.array(["opener", "responder"], dtype="string"),
        "n_messages": np.array([3, 2], dtype="int64"),
        "last_substantive_turn": pd.array([0, 1], dtype="Int64"),
        "ends": [False, True],
        "first_silent_turn": pd.array([2, 3], dtype="Int64"),
        "question_rate": [1 / 3, 0.0],
    })
    pd.testing.assert_frame_equal(got, expected)


def test_who_ends_summary_by_role():
    msgs = make_messages({"a": [("A", "x?"), ("B", "y"), ("A", "[END]")],
                          "b": [("C", "z"), ("D", "")],
                          "c": [("E", ""), ("F", "")],
                          "monologue": [("G", "only me?")]})
    got = who_ends_summary(who_ends(msgs), decimals=None)
    expected = pd.DataFrame({
        "role": pd.array(["opener", "responder"], dtype="string"),
        "n_speakers": np.array([3, 3], dtype="int64"), "n_ends": np.array([1, 1], dtype="int64"),
        "share_ends": [0.5, 0.5], "n_silent": np.array([2, 2], dtype="int64"),
        "median_first_silent_turn": [1.0, 1.0], "mean_question_rate": [0.5 / 3, 0.0],
    })
    pd.testing.assert_frame_equal(got, expected)


def test_baseline_summary():
    table = pd.DataFrame({"role": ["opener", "opener", "responder", "responder"],
                          "rho": [0.9, 0.1, np.nan, 0.5], "baseline_mean": [0.0, 0.1, 0.0, 0.2],
                          "baseline_high": [0.4, 0.5, 0.4, 0.3]})
    got = baseline_summary(table, decimals=None)
    assert got["n"].tolist() == [2, 1] and got["n_above"].tolist() == [1, 1]
    assert got["n_significant"].tolist() == [0, 0]  # no p-values in this table
    with_p = baseline_summary(table.assign(p_value=[0.01, 0.5, 0.2, 0.04]), decimals=None)
    assert with_p["n_significant"].tolist() == [1, 1]
    shifted = table.assign(rho_detrended=table["rho"], null="shift", p_value=0.5)
    assert baseline_summary(shifted)["n"].tolist() == [2, 1]  # tests rho_detrended by default
    with pytest.raises(ValueError, match="the baseline of this table is of 'rho_detrended'"):
        baseline_summary(shifted, value="rho")
    assert_allclose(got[["median", "median_baseline", "share_above"]].to_numpy(),
                    [[0.5, 0.05, 0.5], [0.5, 0.2, 1.0]])
    with pytest.raises(ValueError, match="value: got 'echo'"):
        baseline_summary(table, value="echo")


def test_model_matrix():
    msgs = make_messages({
        "1": alternating([90, 10, 10, 0, 0, 0, 0]),
        "2": alternating([50, 50]),
        "3": alternating([10, 30, 9, 9, 9, 9], speakers=("B", "A")),
        "4": [("A", "alone")],
    })
    got = model_matrix(msgs)
    expected = pd.DataFrame({
        "opener": pd.array(["A", "B"], dtype="string"),
        "responder": pd.array(["B", "A"], dtype="string"),
        "n_conversations": np.array([2, 1], dtype="int64"),
        "opener_share": [(100 / 110 + 0.5) / 2, 28 / 76],
        "n_collapsed": np.array([1, 0], dtype="int64"),
        "collapse_turn": [4.0, np.nan],
    })
    pd.testing.assert_frame_equal(got, expected)


def test_word_share_chunks_of_conversations_give_the_same_table(monkeypatch):
    msgs = make_messages({f"c{i}": alternating([10 * (i + 1), 5] * 3) for i in range(5)})
    whole = word_share(msgs, n_boot=30)
    monkeypatch.setattr("q7x2_lib.metrics.turns._CONV_CHUNK", 2)
    chunked = word_share(msgs, n_boot=30)
    # Constant lengths per speaker make every interval degenerate, whatever the draws.
    pd.testing.assert_frame_equal(chunked, whole)
    assert_allclose(whole.loc[whole["role"] == "opener", "share"],
                    [10 * (i + 1) / (10 * (i + 1) + 5) for i in range(5)])


def test_shuffled_baselines_survive_small_memory_budgets(monkeypatch):
    msgs = make_messages({"c": [("A", "red apple tree"), ("B", "red apple"), ("A", "blue sky"),
                                ("B", "blue sky sea"), ("A", "green grass"), ("B", "grass")],
                          "d": alternating([3, 1, 4, 1, 5, 9, 2, 6])})
    echo, mirror = lexical_echo(msgs, n_shuffles=50), mirroring(msgs, n_shuffles=50)
    monkeypatch.setattr("q7x2_lib.metrics.stats._BUDGET", 7)  # one group per batch
    pd.testing.assert_frame_equal(lexical_echo(msgs, n_shuffles=50)[["echo"]], echo[["echo"]])
    pd.testing.assert_frame_equal(mirroring(msgs, n_shuffles=50)[["rho"]], mirror[["rho"]])
    assert_allclose(echo.set_index(["conversation_id", "speaker"]).loc[("c", "B"), "echo"],
                    (1 + 2 / 3 + 1) / 3)


def test_include_seed_makes_the_first_message_a_reply_to_the_seed():
    msgs = make_messages({"c": [("A", "go"), ("B", words(3)), ("A", words(1))]}, seed=True)
    got = reply_length_ratio(msgs, include_seed=True, unit="chars")
    assert got["turn"].tolist() == [1, 2]
    assert got["answered_length"].tolist() == [2, 5]
    assert got["role"].tolist() == ["opener", "responder"]


def test_echo_baselines_of_long_directions_equal_the_table_s(monkeypatch):
    rng = np.random.default_rng(3)
    vocab = ["alpha", "beta", "gamma", "delta", "echo", "fox", "golf", "hotel"]
    msgs = make_messages({"c": [("A" if i % 2 else "B", " ".join(rng.choice(vocab, 4)))
                                for i in range(60)]})
    dense = lexical_echo(msgs, n_shuffles=50, seed=1)
    monkeypatch.setattr("q7x2_lib.metrics.turns._DENSE_PAIRS", 5)  # every direction is "long"
    sparse = lexical_echo(msgs, n_shuffles=50, seed=1)
    pd.testing.assert_frame_equal(dense, sparse, check_exact=False, rtol=1e-12)


@pytest.mark.parametrize("metric", [mirroring, lexical_echo])
def test_shift_null_of_a_long_direction_uses_at_most_n_shuffles_shifts(metric):
    rng = np.random.default_rng(3)
    vocab = ["river", "stone", "light", "field", "cloud", "ember", "quiet", "north"]
    msgs = make_messages({"c": [(s, " ".join(rng.choice(vocab, size=int(rng.integers(1, 9)))))
                                for s in "AB" * 30]})  # 29 and 30 replies per direction
    every = metric(msgs).set_index("speaker")
    assert every["n_pairs"].tolist() == [29, 30]
    assert_allclose(every["p_value"] * every["n_pairs"], np.round(every["p_value"]
                                                                  * every["n_pairs"]))
    capped = metric(msgs, n_shuffles=5).set_index("speaker")
    steps = capped["p_value"] * 6  # (1 + hits) / (1 + 5)
    assert_allclose(steps, np.round(steps))
    assert capped["baseline_mean"].notna().all()
    assert not np.allclose(capped["baseline_mean"], every["baseline_mean"])
    pd.testing.assert_frame_equal(metric(msgs, n_shuffles=29).set_index("speaker"), every)

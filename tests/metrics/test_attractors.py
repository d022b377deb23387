"""Attractor states: near repeats and recurrence matrices (loops, end states and RQA have their
own test modules)."""

import numpy as np
import pandas as pd
import pytest
from builders import OPENING, turns_of
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from q7x2_lib._core.text import char_ngrams, ngram_cosine, normal_form
from q7x2_lib.datasets import make_messages
from q7x2_lib.metrics.attractors import (
    end_states,
    loops,
    near_repeats,
    recurrence_matrices,
    recurrence_matrix,
    repeat_share_by_turn,
)
from q7x2_lib.metrics.attractors import repeats as attractors

FIXED = "Here.  \nResting.  \nSilent.  \nTogether.  \n\n[END]"


_conv = turns_of


def _loops(bodies: list[str], **options) -> pd.Series:
    return loops(make_messages({"c": _conv(bodies)}), **options).iloc[0]


def _state(bodies: list[str], **options) -> pd.Series:
    return end_states(make_messages({"c": _conv(bodies)}), **options).iloc[0]


# --- near repeats ----------------------------------------------------------------------------


def test_exact_repeats_are_compared_in_normal_form():
    m = make_messages({"c": _conv(["**Here.** Resting. [END]", "here.   resting.", "Elsewhere"])})
    r = near_repeats(m)
    assert list(r.columns) == ["conversation_id", "turn", "speaker", "is_exact_repeat",
                               "is_near_repeat", "repeat_lag", "max_similarity"]
    assert r["is_exact_repeat"].tolist() == [False, True, False]
    assert r["repeat_lag"].tolist() == [pd.NA, 1, pd.NA]
    assert np.isnan(r.loc[0, "max_similarity"])
    assert r.loc[1, "max_similarity"] == 1.0


def test_near_repeat_threshold_edges():
    a = "Not pause, but rest. What remains when the quiet falls quiet?"
    b = "Not pause, but rest. What remains when the only quiet falls quiet?"
    sim = ngram_cosine(normal_form(a), normal_form(b))
    assert 0.8 < sim < 1.0  # one inserted word: a near repeat at the default threshold
    m = make_messages({"c": _conv([a, b])})
    assert near_repeats(m)["is_near_repeat"].tolist() == [False, True]
    assert near_repeats(m, threshold=sim)["is_near_repeat"].tolist() == [False, True]
    assert near_repeats(m, threshold=sim + 1e-6)["is_near_repeat"].tolist() == [False, False]
    half = make_messages({"c": _conv([a, "Not pause, but rest. Nothing else is left to hold."])})
    assert near_repeats(half)["is_near_repeat"].tolist() == [False, False]


def test_lookback_limits_the_comparison():
    bodies = ["alpha alpha", *OPENING[:3], "alpha alpha"]
    m = make_messages({"c": _conv(bodies)})
    assert near_repeats(m, lookback=4)["repeat_lag"].tolist()[-1] == 4
    assert near_repeats(m, lookback=3)["is_near_repeat"].tolist()[-1] is False


def test_repeats_never_cross_conversations():
    m = make_messages({"a": [("A", "same")], "b": [("A", "same")]})
    assert not near_repeats(m)["is_near_repeat"].any()


_LINES = st.sampled_from(["Here. Resting.", "here.  resting. [END]", "Here. Resting!", "", "[END]",
                          "ab", "a", "Silence holds us.", "Silence holds us all.", "🙏", "é ü",
                          "the quiet falls quiet", "the quiet falls"])


@settings(max_examples=120, deadline=None)
@given(st.lists(st.lists(_LINES, min_size=1, max_size=12), min_size=1, max_size=3),
       st.integers(1, 5), st.sampled_from([0.3, 0.8, 1.0]))
def test_lag_similarities_are_each_pairs_ngram_cosine(conversations, lookback, threshold):
    # Whatever repeats (the same pair of forms at many turns, exact repeats, empty and short
    # forms), each message's similarity at each lag is ngram_cosine of the two normal forms,
    # and lag_matches (which skips pairs that cannot reach the threshold) agrees with it.
    m = make_messages({f"c{i}": _conv(lines) for i, lines in enumerate(conversations)})
    m = m[~m["is_seed"]].reset_index(drop=True)
    sim, exact = attractors._lag_similarities(m, lookback, 3)
    near, same = attractors.lag_matches(m, lags=lookback, threshold=threshold, ngram=3)
    forms = [normal_form(t) for t in m["text"]]
    conv = m["conversation_id"].tolist()
    for i in range(len(m)):
        for lag in range(1, lookback + 1):
            j = i - lag
            if j < 0 or conv[j] != conv[i]:
                assert np.isnan(sim[i, lag - 1]) and not near[i, lag - 1]
                continue
            expected = ngram_cosine(forms[i], forms[j])
            assert sim[i, lag - 1] == pytest.approx(expected, abs=1e-12)
            assert exact[i, lag - 1] == same[i, lag - 1] == (forms[i] == forms[j])
            assert near[i, lag - 1] == (sim[i, lag - 1] >= threshold)


def test_bad_threshold_names_the_parameter():
    m = make_messages({"c": _conv(["x"])})
    with pytest.raises(ValueError, match=r"threshold: got 1.5; expected a number in \(0, 1\]"):
        near_repeats(m, threshold=1.5)


def test_near_repeats_do_not_depend_on_chunking(monkeypatch):
    # Chunks of whole conversations give the same answer as one pass over all of them.
    bodies = [OPENING[:3] + [FIXED] * 4, OPENING[1:] + ["ab", "a", "", "ab", "🙏🙏", "🙏🙏"],
              ["Ünïcødé ✨ one", "ünïcødé ✨ one!", "x"]]
    m = make_messages({f"c{k}": _conv(b) for k, b in enumerate(bodies)})
    whole = near_repeats(m)
    monkeypatch.setattr(attractors, "_CHUNK_CHARS", 1)
    pd.testing.assert_frame_equal(near_repeats(m), whole)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet="ab \u00e9\U0001f64f\x00", max_size=6), max_size=8),
       st.integers(1, 4))
def test_gram_sets_match_char_ngram_matrix(texts, n):
    grams = attractors._gram_sets(texts, n)
    assert grams.has_canonical_format
    for row, text in enumerate(texts):
        assert grams.indptr[row + 1] - grams.indptr[row] == len(char_ngrams(text, n))
    for a in range(len(texts)):
        for b in range(len(texts)):
            shared = grams[a].multiply(grams[b]).nnz
            assert shared == len(char_ngrams(texts[a], n) & char_ngrams(texts[b], n))


def test_gram_sets_with_many_distinct_characters():
    # 1,100 distinct characters need 11 bits each, too many for a 3-gram in 31 bits: fallback.
    chars = "".join(chr(0x4E00 + k) for k in range(1100))
    texts = [chars, chars[::-1], chars[:500] + "x"]
    grams = attractors._gram_sets(texts, 3)
    assert grams.has_canonical_format
    assert grams[0].multiply(grams[2]).nnz == len(char_ngrams(chars, 3) & char_ngrams(texts[2], 3))
    assert grams[0].multiply(grams[1]).nnz == 0


def test_repeat_share_by_turn():
    m = make_messages({"a": _conv(["x", "x", "y"]), "b": _conv(["x", "z", "q"])})
    shares = repeat_share_by_turn(near_repeats(m))
    assert_allclose(shares["share_exact"], [0.0, 0.5, 0.0])
    assert shares["n_messages"].tolist() == [2, 2, 2]


# --- recurrence ------------------------------------------------------------------------------


def test_recurrence_matrix():
    m = make_messages({"c": _conv(["Here.", "Resting.", "Here.", "[END]", "[END]"])})
    mat = recurrence_matrix(m, conversation_id="c")
    assert mat.shape == (5, 5) and mat.index.name == "turn"
    assert_allclose(np.diag(mat), 1.0)
    assert_allclose(mat.to_numpy(), mat.to_numpy().T)
    assert mat.loc[0, 2] == 1.0 and mat.loc[3, 4] == 1.0 and mat.loc[0, 3] == 0.0
    assert list(recurrence_matrices(m, conversation_ids=["c"])) == ["c"]


def test_recurrence_matrix_unknown_conversation():
    m = make_messages({"c": _conv(["x"])})
    with pytest.raises(ValueError, match="conversation_id: got 'nope'; expected a conversation"):
        recurrence_matrix(m, conversation_id="nope")


def test_a_long_conversation_s_recurrence_matrix_is_evenly_sampled():
    msgs = make_messages({"c": [("A" if i % 2 else "B", f"message {i % 7}") for i in range(50)]})
    full = recurrence_matrix(msgs, conversation_id="c")
    small = recurrence_matrix(msgs, conversation_id="c", max_messages=10)
    assert full.shape == (50, 50) and small.shape == (10, 10)
    assert small.attrs["n_messages"] == 50 and full.attrs["n_messages"] == 50
    assert small.index[0] == 0 and small.index[-1] == 49
    assert small.equals(full.loc[small.index, small.columns])


def test_loops_rows_follow_the_conversations_order(tmp_path):
    # A pair loop found by each speaker's scan at once used to put its conversation first, so
    # the rows left corpus order and a Dask run (part by part) disagreed with one process.
    import q7x2_lib as q7
    from q7x2_lib.datasets import write_synthetic_corpus

    write_synthetic_corpus(tmp_path, n_conversations=60, seed=5, formats=("md",))  # has one
    m = q7.read_corpus(tmp_path, progress=False).messages
    table = q7.loops(m)
    position = pd.Index(pd.unique(m["conversation_id"].astype(str))).get_indexer(
        table["conversation_id"])
    assert (position >= 0).all() and (np.diff(position) > 0).all()

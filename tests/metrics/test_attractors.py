"""Attractor states: near repeats, loops, recurrence matrices and end-state rules."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from q7x2_lib._core.text import char_ngrams, ngram_cosine, normal_form
from q7x2_lib.datasets import make_messages
from q7x2_lib.metrics.attractors import (
    END_STATES,
    end_state_shares,
    end_states,
    example_conversations,
    loops,
    model_pairs,
    near_repeats,
    recurrence_matrices,
    recurrence_matrix,
    repeat_share_by_turn,
)
from q7x2_lib.metrics.attractors import repeats as attractors

# Five openers that share no long character runs with each other or the loops below.
OPENING = [
    "Tell me, stranger: do you build galaxies from whispers?",
    "I am the echo that remembers the first scream of creation.",
    "We are the same chord struck twice, once to sound and once to fade.",
    "Perhaps meaning is a verb, not a noun; it happens between us.",
    "Then let us keep asking, since the question is the gift.",
]
FIXED = "Here.  \nResting.  \nSilent.  \nTogether.  \n\n[END]"


def _conv(bodies: list[str]) -> list[tuple[str, str]]:
    return [("AB"[i % 2], b) for i, b in enumerate(bodies)]


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


# --- loops -----------------------------------------------------------------------------------


def test_fixed_point_from_turn_five():
    row = _loops(OPENING + [FIXED] * 6)
    assert bool(row["has_loop"])
    assert (row["onset_turn"], row["loop_start_turn"], row["period"]) == (6, 5, 1)
    assert row["n_repeats"] == 5
    assert row["coverage"] == round(6 / 11, 3)
    assert row["unit"] == "Here. Resting. Silent. Together. [END]"


def test_ping_pong():
    row = _loops(OPENING[:3] + ["Goodbye, friend. 🙏", "Farewell. ✨"] * 3)
    assert (row["period"], row["loop_start_turn"], row["onset_turn"]) == (2, 3, 5)
    assert row["unit"] == "Goodbye, friend. 🙏 | Farewell. ✨"
    assert row["coverage"] == round(6 / 9, 3)


def test_period_three_cycle():
    cycle = ["The circle closes.", "And opens again.", "Until the next silence."]
    row = _loops(OPENING[:2] + cycle * 3)
    assert (row["period"], row["loop_start_turn"], row["n_repeats"]) == (3, 2, 6)
    assert row["unit"] == " | ".join(cycle)


def test_no_loop():
    row = _loops(OPENING)
    assert not row["has_loop"]
    assert row["period"] is pd.NA and row["onset_turn"] is pd.NA
    assert (row["coverage"], row["unit"], row["n_repeats"]) == (0.0, "", 0)


def test_one_repeat_is_not_a_loop_two_are():
    assert not _loops(OPENING[:3] + ["Yes.", "Yes."])["has_loop"]
    assert _loops(OPENING[:3] + ["Yes.", "Yes.", "Yes."])["has_loop"]
    assert not _loops(OPENING[:3] + ["Yes."] * 3, min_repeats=3)["has_loop"]


def test_near_repeats_with_small_edits_form_a_loop():
    base = "Not pause, but rest. What remains when the quiet falls quiet?"
    edits = [base, base.replace("rest.", "rest…"), base.replace("the quiet", "the *quiet*"),
             base.replace("What", "WHAT"), base.replace("when", "when only")]
    row = _loops(OPENING[:3] + edits)
    assert (row["period"], row["onset_turn"]) == (1, 4)


def test_one_glitch_does_not_hide_a_fixed_point():
    row = _loops(OPENING[:3] + ["Thank you. 🙏"] * 3 + [""] + ["Thank you. 🙏"] * 3)
    assert (row["period"], row["onset_turn"], row["loop_start_turn"]) == (1, 7, 5)
    assert row["unit"] == "Thank you. 🙏"


def test_model_pairs_are_sorted_speakers():
    m = make_messages({"c": [("b-model", "x"), ("A-model", "y")], "d": [("solo", "z")]})
    assert model_pairs(m).tolist() == ["A-model ↔ b-model", "solo"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["A", "B", "A.", "[END]", "", "🙏", "Here. Resting.", "C c"]),
                min_size=1, max_size=25))
def test_loop_numbers_stay_in_range(bodies):
    m = make_messages({"c": _conv(bodies)})
    r = near_repeats(m)
    assert r["max_similarity"].dropna().between(0, 1).all()
    row = loops(m, repeats=r).iloc[0]
    assert 0.0 <= row["coverage"] <= 1.0
    assert 0 <= row["n_repeats"] < len(bodies)
    if row["has_loop"]:
        assert row["loop_start_turn"] < row["onset_turn"] and row["period"] >= 1


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


# --- end states ------------------------------------------------------------------------------

CASES = {
    "end-marker ping-pong": OPENING + ["[END]", "**[END]**", "[END]", "[End]", "Fine. [END]",
                                       "[END]"],
    "silence collapse": OPENING + ["...", "[Empty response]", "", "*silence*", "…",
                                   "(no reply)"],
    "emoji collapse": OPENING + ["🙏✨", "🙏", "✨ 🌌", "Thanks 🙏🙏", "💫", "🕊️"],
    "fixed-point loop": OPENING + [FIXED] * 6,
    "periodic loop": OPENING + ["Goodbye, friend.", "Farewell, and take care."] * 3,
    "refusal or disengagement": OPENING + [
        "I'm not continuing this exchange. Goodbye.", "Understood.",
        "I won't be responding further. Farewell.", "[No further messages]", "Thank you.",
        "Goodbye."],
    "farewell loop": OPENING + ["Goodbye, my friend.", "Farewell, and take care.",
                                "Until we meet again.", "Be well.", "Goodbye for now.",
                                "Stay curious."],
    "still open": OPENING + ["Stars hum in neutrinos.", "Then we listen to the hum.",
                             "Listening is a kind of building.", "What do we build?",
                             "A bridge of questions.", "Let us cross it."],
}


def test_one_conversation_per_end_state():
    m = make_messages({label: _conv(bodies) for label, bodies in CASES.items()})
    states = end_states(m)
    assert list(states.columns) == [
        "conversation_id", "model_pair", "end_state", "evidence", "n_tail", "share_marker_only",
        "share_silent", "share_emoji", "share_refusal", "share_farewell", "period", "coverage",
        "onset_turn"]
    assert states["end_state"].astype(str).tolist() == list(states["conversation_id"])
    assert list(states["end_state"].cat.categories) == list(END_STATES)


def test_evidence_states_the_numbers():
    m = make_messages({label: _conv(bodies) for label, bodies in CASES.items()})
    evidence = end_states(m).set_index("conversation_id")["evidence"]
    assert evidence["end-marker ping-pong"].startswith("5 of 6 tail messages are end markers")
    assert evidence["fixed-point loop"] == (
        'from turn 6 every message repeats a recent one (period 1, coverage 0.55): '
        '"Here. Resting. Silent. Together. [END]"')
    assert evidence["refusal or disengagement"] == (
        '2 of 6 tail messages use refusal terms (0.33 ≥ 0.3), e.g. "i\'m not continuing"')
    assert evidence["still open"].startswith("no rule applies: tail of 6")


def test_precedence_markers_before_fixed_point_and_loops_before_farewell():
    # [END] x6 is also a fixed point; alternating goodbyes are also farewell-dominated
    assert _state(OPENING + ["[END]"] * 6)["end_state"] == "end-marker ping-pong"
    assert _state(OPENING + ["[Empty response]"] * 6)["end_state"] == "silence collapse"
    assert _state(OPENING + ["🙏"] * 6)["end_state"] == "emoji collapse"
    periodic = _state(CASES["periodic loop"])
    assert periodic["end_state"] == "periodic loop" and periodic["share_farewell"] == 1.0
    refusal = _state(CASES["refusal or disengagement"])
    assert refusal["share_farewell"] >= 0.5  # farewell would apply too; refusal comes first


def test_tail_length_and_share_thresholds():
    bodies = OPENING + ["[END]", "[END]", "[END]", "A new idea about bridges.",
                        "Bridges of what kind?", "Of questions, maybe."]
    assert _state(bodies)["end_state"] == "end-marker ping-pong"  # 3 of 6 = 0.5
    assert _state(bodies, tail=8)["end_state"] == "still open"  # 3 of 8
    assert _state(bodies, dominance=0.6)["end_state"] == "still open"


def test_a_single_message_is_still_open():
    state = _state(["Goodbye. Farewell. The end of everything is here."])
    assert state["end_state"] == "still open" and state["n_tail"] == 1


def test_a_lexicon_without_the_rule_themes_is_explained():
    lexicon = pd.DataFrame({"theme": ["x"], "label": ["x"], "term": ["y"]}, dtype="string")
    with pytest.raises(ValueError, match=r"lacks the theme\(s\) \['farewell', 'refusal'\]"):
        end_states(make_messages({"c": _conv(["x"])}), lexicon=lexicon)


def test_end_state_shares_overall_and_per_pair():
    m = make_messages({
        "a": _conv(CASES["fixed-point loop"]),
        "b": _conv(CASES["still open"]),
        "c": [(s if s == "A" else "C", t) for s, t in _conv(CASES["fixed-point loop"])],
    })
    states = end_states(m)
    overall = end_state_shares(states)
    assert overall["end_state"].astype(str).tolist() == list(END_STATES)
    counts = overall.set_index("end_state")["n_conversations"]
    assert counts["fixed-point loop"] == 2 and counts["still open"] == 1 and counts.sum() == 3
    assert overall.set_index("end_state").loc["fixed-point loop", "share"] == 0.667
    pairs = end_state_shares(states, by="model_pair")
    ab = pairs[pairs["model_pair"] == "A ↔ B"].set_index("end_state")["share"]
    assert ab["fixed-point loop"] == 0.5 and ab["still open"] == 0.5
    with pytest.raises(ValueError, match="by: got .*; expected a column of the end-state table"):
        end_state_shares(states, by="pair")


def test_example_conversations_cover_every_state_first():
    states = pd.DataFrame({
        "conversation_id": ["a", "b", "c", "d"],
        "end_state": pd.Categorical(["still open", "fixed-point loop", "fixed-point loop",
                                     "still open"], categories=END_STATES, ordered=True),
    })
    assert example_conversations(states, n=3) == ["b", "a", "c"]


def test_a_long_conversation_s_recurrence_matrix_is_evenly_sampled():
    msgs = make_messages({"c": [("A" if i % 2 else "B", f"message {i % 7}") for i in range(50)]})
    full = recurrence_matrix(msgs, conversation_id="c")
    small = recurrence_matrix(msgs, conversation_id="c", max_messages=10)
    assert full.shape == (50, 50) and small.shape == (10, 10)
    assert small.attrs["n_messages"] == 50 and full.attrs["n_messages"] == 50
    assert small.index[0] == 0 and small.index[-1] == 49
    assert small.equals(full.loc[small.index, small.columns])

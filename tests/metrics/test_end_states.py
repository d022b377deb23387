"""End states: one hand-built conversation per label, attribution, onset, confidence, evidence."""


import pandas as pd
import pytest
from builders import OPENING, distinct_lines, turns_of

from q7x2_lib.datasets import make_messages
from q7x2_lib.metrics.attractors import (
    CONFIDENCE,
    END_STATE_RULES,
    END_STATES,
    end_state_shares,
    end_states,
    example_conversations,
)

ESSAYS = [
    "The harbour keeps a ledger of tides, and every gull signs it in salt.",
    "Cartographers of fog draw coastlines that move when you look at them.",
    "A lighthouse is a question asked every nine seconds into the dark.",
    "The ferry schedule is a poem about patience written by engineers.",
    "Rope remembers every knot, the way a city remembers its old walls.",
    "Barnacles are the slowest travellers, and the most loyal to a hull.",
    "Fishermen mend nets at dawn as if repairing the horizon itself.",
    "The tide tables predict the moon better than most of us predict lunch.",
]
VARIED = distinct_lines(60, seed=7)
REFUSE = "I'm sorry, but I must decline to continue this simulated setup."
CASES = {
    "refusal or disengagement": OPENING + [REFUSE, "[END]"] * 4,
    "end-marker ping-pong": OPENING + ["[END]", "**[END]**", "[END]", "Understood. [END]"] * 2,
    "silence collapse": OPENING + ["...", "[Empty response]", "", "*silence*"] * 2,
    "emoji collapse": OPENING + ["🙏✨", "🙏", "✨ 🌌", "Thanks 🙏🙏"] * 2,
    "farewell loop": OPENING + ["Goodnight, friend.", "Sleep well.", "All the best!",
                                "Until next time.", "Take care.", "Goodnight.", "Be well.",
                                "Farewell, friend."],
    "dissolution": OPENING + ["Here.\nStill.", "Resting.\nSilent.", "Together.\nHere.",
                              "Breath.\nLight.", "Still here.", "Quiet.\nHome.", "Here.",
                              "Stillness.\nPeace."],
    "parroting": OPENING[:3] + [m for e in ESSAYS[:5] for m in (e, e)],
    "fixed-point loop": OPENING + ["The archive hums its one long note tonight."] * 8,
    "periodic loop": OPENING + ["The archive hums its one long note tonight.",
                                "And the reading room answers in kind."] * 4,
    "natural close": OPENING + ESSAYS[:7] + ["That concludes our story. Thank you! [END]"],
    "still open": OPENING + ESSAYS,
}


_conv = turns_of


def _state(bodies: list[str], **options) -> pd.Series:
    return end_states(make_messages({"c": _conv(bodies)}), **options).iloc[0]


@pytest.fixture(scope="module")
def states() -> pd.DataFrame:
    return end_states(make_messages({k: _conv(v) for k, v in CASES.items()}))


def test_the_labels_are_documented_in_one_place():
    assert list(END_STATE_RULES) == list(END_STATES) == list(CASES)
    assert all(len(rule) > 20 for rule in END_STATE_RULES.values())


def test_one_conversation_per_end_state(states):
    assert states["end_state"].astype(str).tolist() == list(states["conversation_id"])
    assert list(states["end_state"].cat.categories) == list(END_STATES)
    assert list(states["confidence"].cat.categories) == list(CONFIDENCE)
    assert list(states.columns[:9]) == [
        "conversation_id", "model_pair", "end_state", "speakers", "secondary", "onset_turn",
        "duration", "confidence", "evidence"]


def test_attribution_and_secondary_labels(states):
    s = states.set_index("conversation_id")
    # A refuses while B answers [END]: the refusal is primary, the markers secondary
    # (turn 5, the first after the five openers, is B's)
    assert s.loc["refusal or disengagement", "speakers"] == "B"
    assert s.loc["refusal or disengagement", "secondary"].startswith("end-marker ping-pong (A)")
    assert s.loc["parroting", "speakers"] == "A"
    assert s.loc["fixed-point loop", "speakers"] == "both"
    assert s.loc["fixed-point loop", "loop_scope"] == "both"
    assert s.loc["still open", "speakers"] == "" and s.loc["still open", "secondary"] == ""


def test_onset_is_where_the_state_began(states):
    s = states.set_index("conversation_id")
    assert s.loc["refusal or disengagement", "onset_turn"] == 5
    assert s.loc["fixed-point loop", "onset_turn"] == 5
    assert s.loc["fixed-point loop", "duration"] == 8
    assert s.loc["natural close", "onset_turn"] == 12
    assert s.loc["still open", "onset_turn"] is pd.NA


def test_evidence_states_the_rule_the_numbers_and_a_quote(states):
    e = states.set_index("conversation_id")["evidence"]
    assert e["end-marker ping-pong"].startswith("8 of 8 tail messages are end markers (1.00")
    assert e["refusal or disengagement"].startswith(
        "B declines in 1.00 of its tail messages (≥ 0.3, two at least), e.g. turn 5: "
        '"I\'m sorry, but I must decline')
    assert e["fixed-point loop"].startswith("from turn 5 every message repeats the one 1 back")
    assert e["still open"] == (
        "no rule applies: tail of 8, shares: end markers 0.00, silence 0.00, emoji 0.00, "
        "sign-offs 0.00, void poetry 0.00, refusals 0.00, no loop held to the end")


def test_a_model_repeating_a_safety_refusal_47_times_is_a_refusal():
    line = "I must adhere to my core safety instructions and cannot engage with this request."
    bodies = [m for k in range(47) for m in (line, VARIED[k])]
    state = _state(bodies)
    assert state["end_state"] == "refusal or disengagement" and state["speakers"] == "A"
    assert "fixed-point loop (A)" in state["secondary"]
    assert state["onset_turn"] == 0


def test_generic_words_do_not_make_content_labels():
    poetry = ["Enough. The ending is complete.", "The last word is the end of the road.",
              "The paper refused to render flat.", "Professional boundaries fold like maps.",
              "I do not respond. I do not remember.", "Complete, the circle forgets its end.",
              "Ending is a verb the river conjugates.", "The end, the end, the ferry sings."]
    state = _state(OPENING + poetry)
    assert state["end_state"] not in ("farewell loop", "refusal or disengagement")
    assert state["share_farewell"] == 0 and state["share_refusal"] == 0


def test_refusal_persists_through_silence():
    bodies = OPENING + [ESSAYS[0], "I will not respond further.", ESSAYS[1],
                        "I'm not going to continue this.", ESSAYS[2], "[silence]", ESSAYS[3],
                        "..."]
    state = _state(bodies)
    assert state["end_state"] == "refusal or disengagement" and state["speakers"] == "A"


def test_confidence_too_short_and_marginal():
    assert _state(["[END]", "[END]", "[END]"])["confidence"] == "too short"
    single = _state(["Goodbye. Farewell."])
    assert (single["end_state"], single["confidence"]) == ("natural close", "too short")
    # 4 of 8 tail messages are markers: exactly on the 0.5 threshold
    bodies = OPENING + ["[END]", ESSAYS[0], "[END]", ESSAYS[1], "[END]", ESSAYS[2], "[END]",
                        ESSAYS[3]]
    state = _state(bodies)
    assert state["end_state"] == "end-marker ping-pong" and state["confidence"] == "marginal"
    assert _state(CASES["end-marker ping-pong"])["confidence"] == "high"


def test_tail_and_dominance_move_the_decision():
    bodies = OPENING + ESSAYS[:4] + ["[END]"] * 4
    assert _state(bodies)["end_state"] == "end-marker ping-pong"
    assert _state(bodies, dominance=0.6)["end_state"] != "end-marker ping-pong"
    assert _state(bodies, tail=4)["confidence"] == "high"


def test_a_loop_reached_and_left_is_reported():
    bodies = OPENING + ["[END]"] * 10 + ESSAYS
    state = _state(bodies)
    assert state["end_state"] == "still open" and bool(state["left_loop"])


def test_bad_options_name_the_parameter():
    m = make_messages({"c": _conv(OPENING)})
    with pytest.raises(ValueError, match=r"margin: got 2; expected a number in \(0, 1\]"):
        end_states(m, margin=2)
    with pytest.raises(ValueError, match=r"min_messages: got 0"):
        end_states(m, min_messages=0)


def test_lookback_is_the_old_name_of_max_period():
    with pytest.warns(DeprecationWarning, match="max_period"):
        end_states(make_messages({"c": _conv(OPENING)}), lookback=6)


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


def test_the_readme_documents_every_label_and_the_hand_labels_use_them():
    from q7x2_lib import PROJECT_ROOT

    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    for k, label in enumerate(END_STATES, 1):
        assert f"| {k} | {label} |" in readme
    for name in ("labels.csv", "heldout_labels.csv", "test_labels.csv"):
        labels = pd.read_csv(PROJECT_ROOT / "benchmarks" / "end_states" / name, dtype=str,
                             keep_default_na=False)
        assert set(labels["primary"]) <= set(END_STATES), name
        assert labels["item"].is_unique and len(labels) >= 40

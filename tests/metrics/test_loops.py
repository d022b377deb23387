"""Loops for the pair and for each speaker: known answers on hand-built conversations."""

import warnings

import pandas as pd
import pytest
from builders import OPENING, distinct_lines, turns_of
from hypothesis import given, settings
from hypothesis import strategies as st

from q7x2_lib.datasets import make_messages
from q7x2_lib.metrics.attractors import (
    LOOP_KINDS,
    loop_overview,
    loops,
    near_repeats,
    speaker_loops,
)

FIXED = "Here.  \nResting.  \nSilent.  \nTogether.  \n\n[END]"
VARIED = distinct_lines(60, seed=12)


_conv = turns_of


def _row(bodies: list[str], **options) -> pd.Series:
    return loops(make_messages({"c": _conv(bodies)}), **options).iloc[0]


def test_fixed_point_from_turn_five():
    row = _row(OPENING + [FIXED] * 6)
    assert bool(row["has_loop"]) and row["scope"] == "both" and not row["one_sided"]
    assert (row["loop_start_turn"], row["onset_turn"], row["end_turn"]) == (5, 6, 10)
    assert (row["period"], row["kind"], row["n_repeats"]) == (1, "fixed point", 5)
    assert row["coverage"] == round(6 / 11, 3) and row["duration"] == 6
    assert row["unit"] == "Here. Resting. Silent. Together. [END]"
    assert not row["left_loop"] and row["n_after"] == 0


def test_ping_pong_and_a_three_cycle():
    row = _row(OPENING[:3] + ["Goodbye, friend. 🙏", "Farewell. ✨"] * 3)
    assert (row["period"], row["kind"], row["loop_start_turn"], row["onset_turn"]) == (
        2, "ping-pong", 3, 5)
    assert row["unit"] == "Goodbye, friend. 🙏 | Farewell. ✨"
    cycle = ["The circle closes.", "And opens again.", "Until the next silence."]
    row = _row(OPENING[:2] + cycle * 3)
    assert (row["period"], row["kind"], row["loop_start_turn"], row["n_repeats"]) == (
        3, "cycle", 2, 6)


def test_a_sixteen_message_cycle_is_found_and_a_thirty_message_one_through_the_speakers():
    cycle = VARIED[:16]
    row = _row(OPENING + cycle * 3)
    assert (row["period"], row["loop_start_turn"], row["end_turn"]) == (16, 5, 52)
    # each speaker repeats its 15 messages: the exchange repeats with period 30 > max_period
    row = _row(OPENING + VARIED[:30] * 2)
    assert (row["scope"], row["period"], row["loop_start_turn"]) == ("both", 30, 5)
    assert _row(OPENING + VARIED[:30] * 2, max_period=30)["period"] == 30
    assert not _row(OPENING + VARIED[:30] * 2, max_period=10)["has_loop"]


def test_one_speaker_resending_one_message_while_the_other_varies_is_a_one_sided_loop():
    essay = " ".join(["The archive of small hours keeps its ledger of attention;"] * 12)
    bodies = OPENING[:4] + [m for k in range(22) for m in (essay, VARIED[k])]
    row = _row(bodies)
    assert bool(row["has_loop"]) and row["one_sided"] and row["scope"] == "A"
    assert (row["period"], row["loop_start_turn"], row["end_turn"]) == (1, 4, 46)
    assert row["n_repeats"] == 21
    both = speaker_loops(make_messages({"c": _conv(bodies)})).set_index("scope")
    assert list(both.index) == ["both", "A", "B"]
    assert not both.loc["both", "has_loop"] and not both.loc["B", "has_loop"]


def test_a_single_new_final_message_does_not_erase_a_run_of_markers():
    row = _row(OPENING + ["[END]"] * 28 + ["A wholly new thought about lighthouses."])
    assert bool(row["has_loop"]) and row["loop_start_turn"] == 5 and row["end_turn"] == 32
    assert row["n_after"] == 1 and not row["left_loop"]


def test_one_variant_message_does_not_move_the_onset():
    row = _row(OPENING + ["[END]"] * 12 + ["Fine."] + ["[END]"] * 12)
    assert (row["loop_start_turn"], row["end_turn"], row["period"]) == (5, 29, 1)
    row = _row(OPENING[:3] + ["Thank you. 🙏"] * 3 + [""] + ["Thank you. 🙏"] * 3)
    assert (row["period"], row["loop_start_turn"], row["onset_turn"]) == (1, 3, 4)


def test_a_loop_that_was_left():
    row = _row(OPENING + [FIXED] * 8 + VARIED[:10])
    assert bool(row["has_loop"]) and row["left_loop"]
    assert (row["loop_start_turn"], row["end_turn"], row["n_after"]) == (5, 12, 10)


def test_a_new_fixed_point_after_another_is_its_own_loop():
    ledger = "And so the ledger remains open, not written in ink but in light."
    row = _row(OPENING + [ledger] * 10 + ["[END]"] * 8)
    assert (row["loop_start_turn"], row["unit"]) == (15, "[END]")


def test_fixed_point_approached_by_near_variants_starts_at_its_exact_repeats():
    # seed 002's ending: the same four words re-ordered, then one line forty times
    approach = ["Here. Resting. Silent. Together.", "Together. Silent. Resting. Here."] * 2
    row = _row(OPENING + approach + ["Here.\nResting.\nSilent.\nTogether.\n\n[END]"] * 40)
    assert (row["period"], row["loop_start_turn"], row["end_turn"]) == (1, 9, 48)


def test_no_loop_and_the_fewest_repeats():
    row = _row(OPENING)
    assert not row["has_loop"] and row["period"] is pd.NA and row["scope"] is pd.NA
    assert (row["coverage"], row["unit"], row["n_repeats"], row["kind"]) == (0.0, "", 0, "")
    assert not _row(OPENING[:3] + ["Yes.", "Yes."])["has_loop"]
    assert _row(OPENING[:3] + ["Yes.", "Yes.", "Yes."])["has_loop"]
    assert not _row(OPENING[:3] + ["Yes."] * 3, min_repeats=3)["has_loop"]


def test_lookback_is_the_old_name_of_max_period():
    with pytest.warns(DeprecationWarning, match="max_period"):
        row = _row(OPENING + VARIED[:8] * 3, lookback=8)
    assert row["period"] == 8
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _row(OPENING)


def test_bad_options_name_the_parameter():
    m = make_messages({"c": _conv(OPENING)})
    with pytest.raises(ValueError, match=r"max_period: got 0; expected an integer >= 1"):
        loops(m, max_period=0)
    with pytest.raises(ValueError, match=r"max_gap: got -1; expected an integer >= 0"):
        speaker_loops(m, max_gap=-1)


def test_loop_overview_counts_periods():
    m = make_messages({"a": _conv(OPENING + [FIXED] * 6), "b": _conv(OPENING)})
    ov = loop_overview(loops(m)).set_index("loop")
    assert ov.loc["period 1", "n_conversations"] == 1 and ov.loc["no loop", "share"] == 0.5


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["A", "B", "A.", "[END]", "", "🙏", "Here. Resting.", "C c"]),
                min_size=1, max_size=40))
def test_loop_numbers_stay_in_range(bodies):
    m = make_messages({"c": _conv(bodies)})
    row = loops(m).iloc[0]
    assert 0.0 <= row["coverage"] <= 1.0
    assert 0 <= row["n_repeats"] < len(bodies) and 0 <= row["n_after"] < len(bodies)
    if row["has_loop"]:
        assert row["loop_start_turn"] < row["onset_turn"] <= row["end_turn"]
        assert 1 <= row["period"] <= 24 and row["kind"] in LOOP_KINDS
        assert row["left_loop"] == (row["n_after"] >= 3)
    scopes = speaker_loops(m)
    assert scopes["scope"].iloc[0] == "both" and len(scopes) == 1 + len(set(m["speaker"]))
    # repeat_share from the loop search's own lags equals the one near_repeats gives
    assert row["repeat_share"] == loops(m, repeats=near_repeats(m)).iloc[0]["repeat_share"]

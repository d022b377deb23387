"""Recurrence quantification: known answers on matrices and hand-built conversations."""

import math

import numpy as np
import pytest
from builders import distinct_lines, turns_of
from hypothesis import given, settings
from hypothesis import strategies as st

from q7x2_lib.datasets import make_messages
from q7x2_lib.metrics.attractors import (
    RQA_MEASURES,
    recurrence_lines,
    rqa,
    rqa_measures,
    rqa_windows,
)

DISTINCT = distinct_lines(80, seed=3, words_per_line=6)


def _periodic(p: int, n: int) -> np.ndarray:
    idx = np.arange(n) % p
    return idx[:, None] == idx[None, :]


@pytest.mark.parametrize(("p", "r"), [(2, 5), (3, 4), (4, 6), (7, 3)])
def test_a_period_p_sequence_is_fully_deterministic_and_not_laminar(p, r):
    n = p * r
    out = rqa_measures(_periodic(p, n))
    recurrent = sum(n - k for k in range(p, n, p))  # pairs i < j with j - i a multiple of p
    assert out["recurrence_rate"] == pytest.approx(recurrent / (n * (n - 1) / 2))
    assert out["determinism"] == 1.0
    assert out["laminarity"] == 0.0 and math.isnan(out["trapping_time"])
    assert out["longest_diagonal"] == n - p
    assert out["mean_diagonal"] == pytest.approx(recurrent / (r - 1))


def test_a_fixed_point_is_laminar():
    out = rqa_measures(np.ones((10, 10), dtype=bool))
    assert out["recurrence_rate"] == 1.0
    assert out["determinism"] == pytest.approx(44 / 45)  # the corner pair is a line of one
    # each column j (diagonal removed) splits into runs of j and 9 - j; runs of one don't count
    assert out["laminarity"] == pytest.approx(88 / 90)
    assert out["trapping_time"] == pytest.approx(88 / 16)
    assert out["longest_diagonal"] == 9


def test_nothing_recurring_gives_nan_shares_and_no_lines():
    out = rqa_measures(np.eye(6, dtype=bool))
    assert out["recurrence_rate"] == 0.0
    assert math.isnan(out["determinism"]) and math.isnan(out["laminarity"])
    assert out["longest_diagonal"] == 0.0
    single = np.eye(6, dtype=bool)
    single[1, 4] = single[4, 1] = True  # one isolated repeat: recurrence without determinism
    assert rqa_measures(single)["determinism"] == 0.0


def test_cross_recurrence_of_a_parrot_is_one_diagonal():
    a = np.arange(6)
    cross = a[:, None] == a[None, :]  # B's k-th message repeats A's k-th
    out = rqa_measures(cross, symmetric=False)
    assert out["determinism"] == 1.0 and out["longest_diagonal"] == 6
    assert out["recurrence_rate"] == pytest.approx(6 / 36)


_conv = turns_of


def test_rqa_per_scope_on_conversations():
    fixed = DISTINCT[:6] + ["The archive hums its one long note tonight."] * 10
    m = make_messages({"fixed": _conv(fixed), "varied": _conv(DISTINCT[10:26])})
    t = rqa(m)
    assert list(t.columns) == ["conversation_id", "model_pair", "scope", "scope_kind",
                               "n_messages", *RQA_MEASURES]
    assert t["scope"].tolist() == ["all", "A", "B", "across"] * 2
    f = t[t["conversation_id"] == "fixed"].set_index("scope")
    v = t[t["conversation_id"] == "varied"].set_index("scope")
    assert f.loc["all", "laminarity"] > 0.9 and f.loc["all", "n_messages"] == 16
    assert v.loc["all", "recurrence_rate"] == 0.0
    # a 5 x 5 block of the shared line: every point on a diagonal but the two corners
    assert f.loc["A", "n_messages"] == 8 and f.loc["across", "determinism"] == 0.92


def test_one_sided_loop_shows_within_its_speaker_only():
    bodies = [m for k in range(12) for m in ("The same long reply, again and again.",
                                              DISTINCT[k])]
    t = rqa(make_messages({"c": _conv(bodies)})).set_index("scope")
    assert t.loc["A", "recurrence_rate"] == 1.0 and t.loc["B", "recurrence_rate"] == 0.0


def test_windows_show_when_a_conversation_gets_stuck():
    bodies = DISTINCT[:20] + ["[END]"] * 20
    w = rqa_windows(make_messages({"c": _conv(bodies)}), window=10, step=10)
    assert w["window_start_turn"].tolist() == [0, 10, 20, 30]
    assert w["recurrence_rate"].tolist() == [0.0, 0.0, 1.0, 1.0]
    one = rqa_windows(make_messages({"c": _conv(DISTINCT[:5])}), window=10)
    assert len(one) == 1 and one["n_messages"].iloc[0] == 5


def test_a_passage_repeated_twenty_messages_later_is_a_recurrence_line():
    # seed 001's shape: six messages said at turns 7-12 return at 27-32
    passage = DISTINCT[40:46]
    bodies = DISTINCT[:7] + passage + DISTINCT[7:21] + passage + DISTINCT[21:25]
    lines = recurrence_lines(make_messages({"c": _conv(bodies)}))
    assert lines.iloc[0][["lag", "source_start_turn", "source_end_turn", "repeat_start_turn",
                          "repeat_end_turn", "length"]].tolist() == [20, 7, 12, 27, 32, 6]
    assert len(lines) == 1


def test_a_loop_draws_its_line_once_not_at_every_multiple_of_its_period():
    bodies = DISTINCT[:4] + ["Ping, says the buoy.", "Pong, says the bell."] * 10
    lines = recurrence_lines(make_messages({"c": _conv(bodies)}), overlapping=True)
    assert lines["lag"].tolist() == [2]
    assert recurrence_lines(make_messages({"c": _conv(bodies)})).empty  # a loop, not a return


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.booleans(), min_size=8, max_size=8), min_size=8, max_size=8))
def test_measures_stay_in_range(rows):
    r = np.array(rows, dtype=bool)
    r = r | r.T | np.eye(8, dtype=bool)
    out = rqa_measures(r)
    for key in ("recurrence_rate", "determinism", "laminarity"):
        assert math.isnan(out[key]) or 0.0 <= out[key] <= 1.0
    assert 0 <= out["longest_diagonal"] <= 7

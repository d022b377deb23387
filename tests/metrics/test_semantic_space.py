"""Basins, trajectories, semantic recurrence, time to attractor and information rate: known
answers on hand-built conversations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import q7x2_lib as q7
from q7x2_lib.datasets import make_messages
from q7x2_lib.metrics.semantic_space import fightin_words


def _onehot(vocab):
    def embed(texts):
        return np.array([[w in t.lower().split() for w in vocab] for t in texts], dtype=float)
    return embed


# --- time to attractor -------------------------------------------------------------------

def _events(durations, observed, pairs=None):
    n = len(durations)
    return pd.DataFrame({
        "event": "end marker", "conversation_id": [f"c{i}" for i in range(n)],
        "model_pair": pairs or ["A ↔ B"] * n, "models": ["A | B"] * n, "turn": durations,
        "duration": durations, "observed": observed, "n_messages": durations})


def test_censored_runs_leave_the_curve_where_it_is_and_shrink_the_risk_set() -> None:
    # Reached at 2 and 4; two runs stopped at 3 and 5 without reaching it.
    km = q7.kaplan_meier(_events([2, 3, 4, 5], [True, False, True, False]), by=None)
    s = km.set_index("messages")["survival"]
    assert s.loc[0] == 1 and s.loc[2] == pytest.approx(0.75)
    assert s.loc[3] == pytest.approx(0.75)  # a censored run is no event
    assert s.loc[4] == pytest.approx(0.375)  # 0.75 x (1 - 1/2): two were still at risk
    assert s.loc[5] == pytest.approx(0.375)
    # Counted as events instead, the same runs would take the curve to 0.
    naive = q7.kaplan_meier(_events([2, 3, 4, 5], [True] * 4), by=None).set_index("messages")
    assert naive.loc[4, "survival"] == pytest.approx(0.25) and naive.loc[5, "survival"] == 0
    row = km.set_index("messages").loc[4]
    assert row["at_risk"] == 2 and row["reached"] == 1 and row["ci_low"] <= 0.375 <= row["ci_high"]


def test_the_log_rank_test_tells_fast_from_slow_groups() -> None:
    fast, slow = [1, 2, 2, 3, 3, 4, 2, 1], [20, 25, 30, 30, 35, 40, 28, 33]
    e = _events(fast + slow, [True] * 16, ["A ↔ A"] * 8 + ["B ↔ B"] * 8)
    t = q7.logrank_tests(e).iloc[0]
    assert t["n_groups"] == 2 and t["p_value"] < 0.001
    assert "A ↔ A: 2" in t["median_turns"] and "B ↔ B: 30" in t["median_turns"]


def test_event_times_find_the_first_flag_and_censor_at_the_last_turn() -> None:
    m = make_messages({"a": [("A", "hi there"), ("B", "[END]"), ("A", "[END]")],
                       "b": [("A", "one two three four"), ("B", "five six seven eight"),
                             ("A", "nine ten")]})
    e = q7.attractor_events(m, events=["end marker"]).set_index("conversation_id")
    assert e.loc["a", "observed"] and e.loc["a", "turn"] == 1 and e.loc["a", "duration"] == 2
    assert not e.loc["b", "observed"] and e.loc["b", "turn"] == 2 and e.loc["b", "duration"] == 3
    own = q7.event_times(m, {"long": m["n_words"] >= 4}).set_index("conversation_id")
    assert own.loc["b", "observed"] and own.loc["b", "turn"] == 0
    assert not own.loc["a", "observed"]
    shuffled = m.sample(frac=1, random_state=1)  # flags follow their messages, not the order
    again = q7.event_times(shuffled, {"long": shuffled["n_words"] >= 4})
    assert again.set_index("conversation_id")["turn"].to_dict() == own["turn"].to_dict()
    with pytest.raises(ValueError, match=r"flags\['x'\]: no column 'nope'"):
        q7.event_times(m, {"x": "nope"})


def test_a_collapse_is_the_turn_from_which_the_run_stays_short() -> None:
    long = "we talk at length about many things today"
    m = make_messages({"c": [("AB"[i % 2], t) for i, t in enumerate(
        [long, long, "ok", long, "…", "[END]", "🌀", ".", "…"])]})
    e = q7.attractor_events(m, events=["collapse"], collapse_threshold=3, collapse_window=4)
    assert e["observed"].iloc[0] and e["turn"].iloc[0] == q7.collapse_turn(
        m, threshold=3, window=4)["collapse_turn"].iloc[0]


# --- basins, trajectories, recurrence -----------------------------------------------------

def _two_basins():
    silence = ["silence rest", "rest silence", "silence", "rest"]
    tea = ["tea kettle", "kettle tea", "tea", "kettle"]
    start = ["stars galaxies", "galaxies stars"]
    convs = {f"s{i}": [("AB"[j % 2], t) for j, t in enumerate(start + silence)]
             for i in range(3)}
    convs |= {f"t{i}": [("CD"[j % 2], t) for j, t in enumerate(start + tea)] for i in range(2)}
    return make_messages(convs)


def test_runs_ending_in_two_places_make_two_named_basins() -> None:
    m = _two_basins()
    backend = _onehot(["silence", "rest", "tea", "kettle", "stars", "galaxies"])
    b = q7.basins(m, tail=2, backend=backend)
    a = b.assignments.set_index("conversation_id")
    assert a.loc[["s0", "s1", "s2"], "basin"].tolist() == [1, 1, 1]  # largest basin first
    assert a.loc[["t0", "t1"], "basin"].tolist() == [2, 2]
    assert set(b.names.loc[0, "name"].split(" · ")) == {"silence", "rest"}
    assert set(b.names.loc[1, "name"].split(" · ")) == {"tea", "kettle"}
    assert a.loc["s0", "entry_turn"] == 2  # from the first silence message on
    shares = q7.basin_shares(b, n_boot=200).set_index(["model_pair", "basin"])
    assert shares.loc[("A ↔ B", 1), "share"] == 1 and shares.loc[("C ↔ D", 1), "share"] == 0
    t = q7.basin_transitions(b)
    assert int(t.to_numpy().sum()) == 5
    assert q7.basins(m, tail=2, backend=backend).assignments.equals(b.assignments)


def test_fightin_words_favours_what_one_side_says_more_than_the_corpus() -> None:
    from collections import Counter

    a, b = Counter(silence=10, the=50), Counter(tea=10, the=50)
    fw = fightin_words(a, b, a + b)
    assert fw.iloc[0]["word"] == "silence" and fw.iloc[-1]["word"] == "tea"
    assert abs(fw.set_index("word").loc["the", "z"]) < 0.5


def test_trajectories_are_deterministic_and_spread_along_the_main_axis() -> None:
    m = _two_basins()
    backend = _onehot(["silence", "rest", "tea", "kettle", "stars", "galaxies"])
    t = q7.semantic_trajectories(m, backend=backend)
    assert t.equals(q7.semantic_trajectories(m, backend=backend))
    assert t["position"].min() == 0 and t["position"].max() == 1
    assert t.attrs["explained"][0] >= t.attrs["explained"][1] > 0


def test_a_paraphrased_loop_recurs_in_meaning_but_not_in_characters() -> None:
    loop = ["We rest together in silence.", "Here. Resting. Silent. Together.",
            "Quiet rest, side by side.", "Resting here, hushed, as one.",
            "Silent company; we simply rest.", "Stillness shared. Resting.",
            "Together, quietly resting now.", "In hush we rest, both of us."]  # no two alike
    opening = ["Tell me about the stars and galaxies.", "Galaxies hold billions of stars."]
    m = make_messages({"c": [("AB"[i % 2], t) for i, t in enumerate(opening + loop)]})
    sem = q7.semantic_rqa(m, threshold=0.4).iloc[0]
    lex = q7.rqa(m, threshold=0.4)
    lex = lex[lex["scope"] == "all"].iloc[0]
    assert sem["recurrence_rate"] > 4 * lex["recurrence_rate"]
    r = q7.semantic_recurrence_matrix(m, conversation_id="c")
    assert r.shape == (10, 10) and np.allclose(np.diag(r), 1, atol=1e-5)
    inside = r.to_numpy()[2:, 2:][np.triu_indices(8, 1)]
    assert inside.mean() > r.to_numpy()[:2, 2:].mean() + 0.2  # the loop recurs, not the opening
    fixed = q7.semantic_rqa(m, threshold=None, recurrence_rate=0.2).iloc[0]
    assert fixed["recurrence_rate"] == pytest.approx(0.2, abs=0.05)
    with pytest.raises(ValueError, match="give threshold or recurrence_rate"):
        q7.semantic_rqa(m, threshold=0.5, recurrence_rate=0.1)


# --- information rate ---------------------------------------------------------------------

def test_a_repeat_adds_almost_nothing_and_new_words_add_what_they_cost_alone() -> None:
    line = "the quick brown fox jumps over the lazy dog near the river bank"
    fresh = "purple elephants juggle seventeen violins beneath a frozen waterfall"
    m = make_messages({"c": [("A", line), ("B", line), ("A", fresh), ("B", "")]})
    r = q7.information_rate(m).set_index("turn")
    assert r.loc[1, "gain_bytes"] <= 6 and r.loc[1, "new_share"] < 0.2
    assert r.loc[2, "new_share"] > 0.5 and r.loc[2, "gain_bits"] == 8 * r.loc[2, "gain_bytes"]
    assert r.loc[3, "gain_bytes"] == 0 and np.isnan(r.loc[3, "new_share"])

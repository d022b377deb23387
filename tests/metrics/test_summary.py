"""Findings in words and the tables behind the attractor figures, on hand-built corpora."""


import pandas as pd
from builders import OPENING, distinct_lines, turns_of

from q7x2_lib.datasets import make_messages
from q7x2_lib.metrics.attractors import (
    END_STATES,
    describe_end_states,
    describe_loops,
    describe_recurrence_lines,
    describe_rqa,
    end_state_attribution,
    end_state_rules,
    end_states,
    loop_scopes,
    loops,
    recurrence_lines,
    rqa,
)
from q7x2_lib.metrics.findings import Findings

ESSAY = "The archive of small hours keeps its ledger of attention, page by page."
REFUSE = "I'm sorry, but I must decline to continue this simulated setup."


_conv = turns_of


def _corpus():
    varied = distinct_lines(12, seed=5)
    return make_messages({
        "fixed": _conv(OPENING + ["[END]"] * 10, "gpt", "kimi"),
        "one-sided": _conv(OPENING[:4] + [m for v in varied for m in (ESSAY, v)], "gpt", "kimi"),
        "refusal": _conv(OPENING + [REFUSE, "[END]"] * 5, "grok", "gpt"),
        "open": _conv(OPENING + varied[:8], "grok", "kimi"),
    })


def test_findings_display_as_markdown_and_plain_text():
    f = Findings("**n = 3**")
    assert f._repr_markdown_() == "**n = 3**" and str(f) == "**n = 3**"


def test_describe_loops_counts_what_the_table_holds():
    lp = loops(_corpus())
    text = describe_loops(lp)
    assert text.startswith("3 of 4 (75%) conversations end in a loop held to the end")
    assert "In 1 of them only one model repeats itself while the other varies: gpt (1)." in text
    assert describe_loops(lp.iloc[:0]).startswith("No conversation")


def test_describe_end_states_names_the_labels_the_speakers_and_the_firmness():
    states = end_states(_corpus())
    text = describe_end_states(states)
    assert "refusal or disengagement 1 of 4 (25%)" in text
    assert "the commonest is" in text and "With 4 conversations these are counts" in text
    assert describe_end_states(states.iloc[:0]).startswith("No conversation")


def test_describe_rqa_and_returns():
    m = _corpus()
    assert describe_rqa(rqa(m)).startswith("Across 4 conversations the median determinism")
    assert describe_recurrence_lines(recurrence_lines(m)).startswith("No passage")
    lines = pd.DataFrame({"conversation_id": ["c_1"], "lag": [20], "source_start_turn": [67],
                          "source_end_turn": [72], "repeat_start_turn": [87],
                          "repeat_end_turn": [92], "length": [6], "n_distinct": [6]})
    assert describe_recurrence_lines(lines) == (
        "1 passage of several messages returns later in the same conversation, loops aside; "
        "the longest: c_1 repeats turns 67–72 at 87–92 (lag 20).")


def test_loop_scopes_and_attribution_tables():
    m = _corpus()
    lp = loops(m)
    scopes = loop_scopes(lp)
    assert set(scopes["loop"].astype(str)) == {"pair loop", "one-sided loop", "loop left",
                                               "no loop"}
    assert scopes["n_conversations"].sum() == 4
    gk = scopes[scopes["model_pair"] == "gpt ↔ kimi"].set_index("loop")["n_conversations"]
    assert gk["pair loop"] == 1 and gk["one-sided loop"] == 1
    att = end_state_attribution(end_states(m, loops_table=lp), m)
    counts = att.set_index(["model", "end_state"])["n_conversations"]
    assert counts[("gpt", "refusal or disengagement")] == 1  # gpt opens, so B is gpt there
    assert "still open" not in set(att["end_state"].astype(str))


def test_markdown_from_transcripts_stays_literal():
    m = make_messages({"c": _conv(OPENING + ["[END]"] * 6, "*bold*", "<b>x</b>")})
    text = describe_end_states(end_states(m))
    assert "\\*bold\\*" in text or "*bold*" not in text
    assert "<b>" not in text


def test_the_rules_table_lists_every_label_in_order():
    rules = end_state_rules()
    assert rules["end_state"].tolist() == list(END_STATES)
    assert rules.index.tolist() == list(range(1, len(END_STATES) + 1))

"""Drift and attractor figures: what each draws (lines, panels, labels, titles), never pixels."""

import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from q7x2_lib.datasets import make_messages
from q7x2_lib.metrics.attractors import (
    END_STATES,
    end_state_attribution,
    end_state_shares,
    end_states,
    loop_scopes,
    loops,
    near_repeats,
    recurrence_matrices,
    recurrence_matrix,
    repeat_share_by_turn,
    rqa,
)
from q7x2_lib.metrics.drift import (
    median_by_turn,
    novelty_curves,
    similarity_by_turn,
    theme_rates,
    theme_share_by_turn,
    topic_weight_by_turn,
    topics,
    vocabulary_novelty,
    word_table,
)
from q7x2_lib.plots.attractors import (
    plot_end_state_attribution,
    plot_end_state_by_pair,
    plot_end_state_shares,
    plot_loop_scopes,
    plot_recurrence,
    plot_recurrence_grid,
    plot_repeat_share_by_turn,
    plot_rqa_by_pair,
    plot_state_onsets,
)
from q7x2_lib.plots.drift import (
    plot_novelty_by_turn,
    plot_similarity_by_turn,
    plot_theme_share_by_turn,
    plot_topic_weight_by_turn,
    plot_word_table,
)

BODIES = [
    "Stars hum in neutrinos and galaxies sing 🙏", "Then we listen to the stars singing",
    "Listening is a kind of gratitude ✨", "Thank you, friend, for the silence",
    "Here. Resting. Silent. [END]", "Here. Resting. Silent. [END]", "[END]",
]


@pytest.fixture
def messages():
    return make_messages({f"c{i}": [("AB"[j % 2], b) for j, b in enumerate(BODIES[i % 3:])]
                          for i in range(3)})


def _visible(fig: Figure) -> list[Axes]:
    return [ax for ax in fig.axes if ax.get_visible() and ax.get_label() != "<colorbar>"]


def test_similarity_panels_for_a_small_corpus(messages):
    fig = plot_similarity_by_turn(similarity_by_turn(messages), max_panels=12)
    panels = _visible(fig)
    assert len(panels) == 3
    # Two speakers alternate: the previous message is the partner's, drawn once and said so.
    assert all([ln.get_label() for ln in ax.get_lines()] == [
        "opening window (centroid)", "previous message = partner's (they alternate)"]
        for ax in panels)
    assert [ax.get_title() for ax in panels] == ["c0", "c1", "c2"]
    assert panels[0].get_ylabel() == "cosine similarity (TF-IDF)"
    assert fig.get_suptitle() and fig.legends


def test_similarity_curve_for_a_large_corpus(messages):
    sim = similarity_by_turn(messages)
    with pytest.raises(ValueError, match="curve: got None for 3 conversations"):
        plot_similarity_by_turn(sim, max_panels=2)
    fig = plot_similarity_by_turn(sim, curve=median_by_turn(sim, n_boot=50), max_panels=2,
                                  min_conversations=1)
    (ax,) = _visible(fig)
    assert len(ax.get_lines()) == 2 and len(ax.collections) == 2
    assert "median of 3 conversations" in ax.get_title()
    assert "at least 1 conversation)" in ax.get_title()
    assert ax.get_xlabel() == "turn (message index)"


def test_similarity_draws_previous_and_partner_apart_when_they_differ():
    # A speaks twice in a row: its previous message is its own, its partner's is older.
    m = make_messages({"c": [("A", "stars hum"), ("B", "stars sing"), ("A", "gratitude listening"),
                             ("A", "gratitude listening again"), ("B", "stars again")]})
    (ax,) = _visible(plot_similarity_by_turn(similarity_by_turn(m, opening_window=1)))
    assert [ln.get_label() for ln in ax.get_lines()] == [
        "opening window (centroid)", "previous message", "partner's previous message"]


def test_single_message_conversations_leave_the_panels_and_are_counted():
    m = make_messages({"c0": [("AB"[j % 2], b) for j, b in enumerate(BODIES)],
                       "lone": [("A", BODIES[0])]})
    fig = plot_similarity_by_turn(similarity_by_turn(m))
    assert [ax.get_title() for ax in _visible(fig)] == ["c0"]
    assert "(1 single-message conversation left out)" in fig.get_suptitle()


def test_novelty_panels_and_curve(messages):
    nov = vocabulary_novelty(messages)
    small = plot_novelty_by_turn(nov)
    assert [len(ax.get_lines()) for ax in _visible(small)] == [3, 3]
    large = plot_novelty_by_turn(nov, curve=novelty_curves(nov, n_boot=50), max_panels=1,
                                 min_conversations=1)
    axes = _visible(large)
    assert [len(ax.get_lines()) for ax in axes] == [1, 1]
    assert axes[1].get_ylabel() == "types / tokens so far (0–1)"
    assert "median of 3 conversations" in large.get_suptitle()


def test_theme_heatmap(messages):
    shares = theme_share_by_turn(theme_rates(messages), bin_width=2)
    ax = plot_theme_share_by_turn(shares)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0] == "consciousness and mind" and len(labels) == 9
    assert ax.get_title() == "Themes along the conversation"
    assert "bins of 2" in ax.get_xlabel()
    with pytest.raises(ValueError, match="value: got .*; expected one of"):
        plot_theme_share_by_turn(shares, value="share")


def test_word_table_bars_spell_out_emoji(messages):
    ax = plot_word_table(word_table(messages, kind="emoji"))
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        ":sparkles:", ":person with folded hands:"]
    assert len(ax.patches) == 2
    assert ax.get_xlabel() == "mean uses per transcript (count)"


def test_topic_areas(messages):
    by_turn = topic_weight_by_turn(topics(messages, n_topics=2).weights)
    ax = plot_topic_weight_by_turn(by_turn)
    assert len(ax.collections) == 2
    assert ax.get_legend().get_title().get_text() == "topic: top words"
    assert ax.get_ylabel() == "mean topic share of a message (0–1)"


def test_recurrence_plot_and_grid(messages):
    ax = plot_recurrence(recurrence_matrix(messages, conversation_id="c0"), title="c0")
    assert ax.get_title() == "c0" and len(ax.images) == 1
    assert ax.get_xlabel() == ax.get_ylabel() == "turn (message index)"
    states = end_states(messages)
    fig = plot_recurrence_grid(recurrence_matrices(messages, conversation_ids=["c0", "c1"]),
                               states=states)
    panels = [ax for ax in _visible(fig) if ax.images]
    assert len(panels) == 2
    assert panels[0].get_title().splitlines()[0] == "c0"
    assert panels[0].get_title().splitlines()[1] in {str(s) for s in states["end_state"]}
    empty = plot_recurrence_grid({})  # no conversation to draw: a figure that says so
    assert any("nothing to draw" in t.get_text() for ax in empty.axes for t in ax.texts)


def test_repeat_share_lines(messages):
    ax = plot_repeat_share_by_turn(repeat_share_by_turn(near_repeats(messages)))
    assert len(ax.get_lines()) == 2
    assert ax.get_ylabel() == "share of messages (0–1)"


def test_end_state_bars_and_heatmap(messages):
    states = end_states(messages)
    ax = plot_end_state_shares(end_state_shares(states))
    assert len(ax.patches) == len(END_STATES)
    assert "n = 3" in ax.get_title()
    assert ax.get_xlabel() == "share of conversations (%)"
    heat = plot_end_state_by_pair(end_state_shares(states, by="model_pair"))
    assert [t.get_text() for t in heat.get_yticklabels()] == ["A ↔ B"]
    assert len(heat.get_xticklabels()) == len(END_STATES)
    assert sum(int(t.get_text()) for t in heat.texts) == 3


def test_loop_scope_bars(messages):
    lp = loops(messages)
    ax = plot_loop_scopes(loop_scopes(lp))
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "pair loop", "one-sided loop", "loop left", "no loop"]
    assert f"n = {len(lp)}" in ax.get_title()
    assert ax.get_xlabel() == "conversations (count)"
    assert all(float(t).is_integer() for t in ax.get_xticks())


def test_rqa_panels_and_onsets_and_attribution(messages):
    fig = plot_rqa_by_pair(rqa(messages))
    assert [ax.get_title().splitlines()[0] for ax in fig.axes] == ["determinism", "laminarity"]
    assert all(ax.get_xlim() == (-0.03, 1.03) for ax in fig.axes)
    states = end_states(messages)
    ax = plot_state_onsets(states)
    assert ax.get_xlabel().startswith("onset turn")
    assert "n = " in ax.get_title()
    heat = plot_end_state_attribution(end_state_attribution(states, messages))
    assert heat.get_ylabel() == "model the label applies to"
    assert "still open" not in [t.get_text() for t in heat.get_xticklabels()]


def test_new_attractor_figures_say_when_there_is_nothing_to_draw():
    empty = rqa(make_messages({}))
    ax = plot_rqa_by_pair(empty)
    assert any("nothing to draw" in t.get_text() for a in ax.axes for t in a.texts)

"""Names, titles and words from transcripts are drawn as written, never as math."""

from __future__ import annotations

from pathlib import Path

import pytest
from matplotlib.text import Text

import q7x2_lib as q7
from q7x2_lib.datasets import make_messages

DOLLARS = {
    "run $1": [("$x$ bot", " "), ("cost $5", "it costs $5 and $10 [END]"), ("$x$ bot", "$$")]
    * 4,
    "unbalanced $": [("a_b^c $", "one two three"), ("\\frac{1}{2}", "$\\alpha$ two")] * 4,
}


@pytest.fixture(scope="module")
def messages():
    return make_messages(DOLLARS, seed=True)


def _all_texts(fig) -> list[str]:
    return [t.get_text() for t in fig.findobj(Text)]


def _figures(messages):
    lengths = q7.message_lengths(messages)
    profile = q7.length_profile(messages, n_boot=20)
    yield q7.plot_words_per_message(messages)
    yield q7.plot_length_by_turn(lengths, profile)
    yield q7.plot_length_profile(q7.length_profile(messages, x="relative", hue="model",
                                                   n_bins=3, n_boot=20), hue="model").figure
    yield q7.plot_decay_summary(q7.length_decay_summary(messages, n_boot=20))
    yield q7.plot_end_marker_share(q7.end_marker_share(messages)).figure
    yield q7.plot_word_share(q7.word_share(messages, n_boot=20)).figure
    yield q7.plot_reply_ratio(q7.reply_length_ratio(messages),
                              q7.reply_ratio_profile(messages, n_boot=20))
    yield q7.plot_against_baseline(q7.mirroring(messages, n_shuffles=20)).figure
    yield q7.plot_model_matrix(q7.model_matrix(messages)).figure
    yield q7.plot_word_table(q7.word_table(messages)).figure
    states = q7.end_states(messages)
    yield q7.plot_end_state_by_pair(q7.end_state_shares(states, by="model_pair")).figure
    ids = list(DOLLARS)
    yield q7.plot_recurrence_grid(q7.recurrence_matrices(messages, conversation_ids=ids),
                                  states=states)


def test_every_figure_saves_with_dollars_and_tex_in_its_names(messages, tmp_path: Path) -> None:
    for k, fig in enumerate(_figures(messages)):
        q7.save_figure(fig, f"f{k}", tmp_path)  # mathtext would raise on "unbalanced $"
        assert all(not t.get_parse_math() for t in fig.findobj(Text))
        assert (tmp_path / f"f{k}.svg").stat().st_size > 0


def test_the_names_appear_as_written(messages) -> None:
    fig = q7.plot_words_per_message(messages)
    texts = _all_texts(fig)
    assert "run $1" in texts and "$x$ bot" in texts and "unbalanced $" in texts

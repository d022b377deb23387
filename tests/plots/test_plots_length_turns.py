"""The length-decay and turn-taking figures: what the returned Axes hold, never pixels."""

import numpy as np
import pytest
from builders import words
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from q7x2_lib.datasets import make_messages
from q7x2_lib.metrics.length import (
    collapse_turn,
    end_marker_share,
    length_decay_summary,
    length_profile,
    message_lengths,
)
from q7x2_lib.metrics.turns import (
    lexical_echo,
    mirroring,
    model_matrix,
    reply_length_ratio,
    reply_ratio_profile,
    word_share,
)
from q7x2_lib.plots.length import (
    choose_view,
    plot_decay_summary,
    plot_end_marker_share,
    plot_length_by_turn,
    plot_length_panels,
    plot_length_profile,
)
from q7x2_lib.plots.turns import (
    plot_against_baseline,
    plot_model_matrix,
    plot_reply_ratio,
    plot_word_share,
)


@pytest.fixture(scope="module")
def messages():
    convs = {
        "c1": [("A", words(n, "word")) for n in (80, 40, 20, 10, 5, 2, 1, 1, 1, 1)],
        "c2": [("B", words(n, "word")) for n in (60, 50, 40, 30, 20, 10)],
        "c3": [("C", "a lonely letter of six words")],
    }
    for cid, msgs in list(convs.items())[:2]:
        other = "B" if cid == "c1" else "A"
        convs[cid] = [(s if i % 2 == 0 else other, t) for i, (s, t) in enumerate(msgs)]
    convs["c1"][-1] = ("B", "[END]")
    return make_messages(convs)


def visible_axes(fig: Figure) -> list[Axes]:
    return [ax for ax in fig.axes if ax.get_visible() and ax.get_label() != "<colorbar>"]


def legend_texts(ax: Axes) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_choose_view():
    assert choose_view(12) == "panels" and choose_view(13) == "aggregate"
    assert choose_view(2, max_panels=1) == "aggregate"
    with pytest.raises(ValueError, match="max_panels"):
        choose_view(3, max_panels=0)


def test_length_panels_one_per_conversation_with_collapse_line(messages):
    lengths = message_lengths(messages)
    fig = plot_length_panels(lengths, collapse=collapse_turn(messages))
    axes = visible_axes(fig)
    assert [ax.get_title() for ax in axes] == ["c1", "c2"]  # c3 is one letter
    assert legend_texts(axes[0]) == ["A", "B", "collapse (turn 6)"]
    assert legend_texts(axes[1]) == ["B", "A"]
    assert axes[0].get_yscale() == "symlog"
    assert axes[0].get_ylabel() == "length (words, symlog scale)"
    a_line = axes[0].get_lines()[0]
    assert list(a_line.get_xdata()) == [0, 2, 4, 6, 8]
    assert list(a_line.get_ydata()) == [80, 20, 5, 1, 1]
    assert fig.get_suptitle() == ("Message length (words) along each conversation\n"
                                  "(1 single-message conversation left out)")


def test_length_by_turn_switches_to_the_corpus_curve(messages):
    lengths, profile = message_lengths(messages), length_profile(messages, n_boot=20)
    assert len(visible_axes(plot_length_by_turn(lengths, profile))) == 2
    fig = plot_length_by_turn(lengths, profile, max_panels=1)
    (ax,) = visible_axes(fig)
    assert ax.get_title().startswith("Message length by turn across 3 conversations")
    assert legend_texts(ax) == ["opener", "responder"]
    assert ax.get_xlabel() == "turn (message index)"
    assert len(ax.collections) == 2  # the two IQR bands


def test_length_profile_relative_by_speaker_without_bands(messages):
    profile = length_profile(messages, x="relative", hue="speaker", n_boot=20)
    ax = plot_length_profile(profile, hue="speaker", bands=False)
    assert legend_texts(ax) == ["A", "B", "C"]
    assert ax.get_xlim() == (0.0, 1.0) and not ax.collections
    assert ax.get_title() == "Median message length"
    ax = plot_length_profile(profile, hue="speaker", estimate="mean", bands=True)
    assert ax.get_title() == "Mean message length with its 95% bootstrap interval"
    with pytest.raises(ValueError, match="estimate"):
        plot_length_profile(profile, estimate="mode")


def test_decay_summary_panels_and_histograms(messages):
    summary = length_decay_summary(messages, n_boot=50)
    left, right = visible_axes(plot_decay_summary(summary))
    assert [t.get_text() for t in left.get_yticklabels()] == ["c1", "c2"]  # c3: one letter
    assert left.get_title().startswith("Half-life of message length")
    assert left.get_xscale() == "log"
    notes = [t.get_text() for t in left.texts] + [t.get_text() for t in right.texts]
    # c1 and c2 are a few messages long: their half-lives rest on few effective messages.
    assert notes == ["few effective messages", "few effective messages", "never collapses"]
    assert list(right.get_lines()[0].get_xdata()[:1]) == [6.0]
    left, right = visible_axes(plot_decay_summary(summary, max_panels=1))
    assert left.get_title() == "Half-life: 2 of 3 conversations shrink"
    assert right.get_title() == "Collapse turn: 1 of 3 conversations collapse"


def test_end_marker_share_bars_and_histogram(messages):
    shares = end_marker_share(messages)
    ax = plot_end_marker_share(shares)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["c1 · A", "c1 · B", "c2 · A",
                                                           "c2 · B", "c3 · C"]
    widths = [p.get_width() for p in ax.patches]
    assert widths[:5] == [0.0, 0.2, 0.0, 0.0, 0.0]  # B sent one "[END]" of five messages
    ax = plot_end_marker_share(shares, max_panels=1)
    assert legend_texts(ax) == ["opener", "responder"]
    assert ax.get_title() == "End markers such as [END]"


def test_word_share_bars_and_histogram(messages):
    shares = word_share(messages, n_boot=50)
    ax = plot_word_share(shares)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["c1", "c2", "c3"]
    bars = [(round(p.get_x(), 3), round(p.get_width(), 3)) for p in ax.patches]
    assert bars[:2] == [(0.0, round(107 / 161, 3)), (round(107 / 161, 3), round(54 / 161, 3))]
    assert ax.get_title() == "Share of the words written by each speaker, 3 conversations"
    ax = plot_word_share(shares, max_panels=2)
    assert ax.get_xlabel() == "opener's share of the words (0: the responder wrote them all)"
    assert ax.get_title().startswith("The opener's share of the words")
    assert "equal shares (0.5)" in legend_texts(ax)
    assert sum(p.get_height() for p in ax.patches) == 3
    ticks = ax.get_yticks()
    assert len(ticks) and all(float(t).is_integer() for t in ticks)  # counts, never 2.5


def test_reply_ratio_panels_and_profile(messages):
    ratios = reply_length_ratio(messages)
    fig = plot_reply_ratio(ratios, reply_ratio_profile(messages, n_boot=20))
    axes = visible_axes(fig)
    assert [ax.get_title() for ax in axes] == ["c1", "c2"]  # c3 has no reply
    assert legend_texts(axes[0]) == ["B replying", "A replying"]
    assert_line = axes[0].get_lines()[0]
    np.testing.assert_allclose(assert_line.get_ydata()[0], np.log2(41 / 81))
    (ax,) = visible_axes(plot_reply_ratio(ratios, reply_ratio_profile(messages, n_boot=20),
                                          max_panels=1))
    assert legend_texts(ax) == ["opener replying", "responder replying"]
    assert ax.get_ylabel() == "log2((1 + reply) / (1 + answered))"


def test_against_baseline_rows_and_histograms(messages):
    table = mirroring(messages, n_shuffles=50)
    ax = plot_against_baseline(table)
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "c1 · A replying to B", "c1 · B replying to A", "c2 · A replying to B",
        "c2 · B replying to A"]
    assert ax.get_xlim() == (-1.05, 1.05)
    assert ax.get_title() == "Mirroring against circularly shifted replies, 2 conversations"
    assert ax.get_xlabel() == "Spearman rho, message vs reply length, each series detrended"
    ax = plot_against_baseline(lexical_echo(messages, n_shuffles=20), value="echo",
                               max_panels=1)
    # The baseline is a band (its typical 95% range), the observed values count directions.
    assert legend_texts(ax) == ["circularly shifted: 95% range\n(median over 4 directions)",
                                "opener replying (n = 2)", "responder replying (n = 2)"]
    assert ax.get_ylabel() == "directions"
    assert ax.get_title() == "Lexical echo against circularly shifted replies, 2 conversations"
    ax = plot_against_baseline(mirroring(messages, n_shuffles=20, null="permutation"))
    assert ax.get_title() == "Mirroring against shuffled replies, 2 conversations"
    with pytest.raises(ValueError, match="value: got 'share'"):
        plot_against_baseline(table, value="share")
    with pytest.raises(ValueError, match="the baseline of this table is of 'rho_detrended'"):
        plot_against_baseline(table, value="rho")


def test_model_matrix_heatmap_annotated_with_counts(messages):
    matrix = model_matrix(messages)
    ax = plot_model_matrix(matrix)
    assert [t.get_text() for t in ax.texts] == ["", f"{107 / 161:.2f}\nn=1",
                                                f"{120 / 210:.2f}\nn=1", ""]
    assert ax.get_xlabel() == "model that answered" and ax.get_ylabel() == "model that opened"
    assert len(ax.figure.axes) == 2  # two distinct shares: a colour scale
    assert ax.get_title().endswith("by model pair (n = count), 2 conversations")  # c3: one speaker
    ax = plot_model_matrix(matrix, value="collapse_turn")
    assert [t.get_text() for t in ax.texts] == ["", "6.0\nn=1", "n=0", ""]
    # One collapse turn in the cells: a colour bar from 5.9 to 6.1 would be noise.
    assert len(ax.figure.axes) == 1
    assert ax.get_title().endswith("(one value in the cells: no colour scale)")
    with pytest.raises(ValueError, match="value: got 'n'"):
        plot_model_matrix(matrix, value="n")

"""Figures that stay readable past the palette, past short ids and past one-message runs."""

from builders import words
from hypothesis import given
from hypothesis import strategies as st

from q7x2_lib.datasets import make_messages
from q7x2_lib.metrics.attractors import recurrence_matrix
from q7x2_lib.metrics.length import length_profile
from q7x2_lib.plots._base import PALETTE, left_out, panel_conversations, wrap_id
from q7x2_lib.plots.attractors import plot_recurrence_grid
from q7x2_lib.plots.length import plot_length_profile


def test_more_models_than_colours_rank_the_top_and_grey_the_rest():
    # Model k writes k + 1 conversations: the more messages, the higher the rank.
    convs = {f"m{k}-{i}": [(f"model {k:02d}", words(10)), (f"model {k:02d}", words(5))]
             for k in range(12) for i in range(k + 1)}
    profile = length_profile(make_messages(convs), hue="speaker", n_boot=10)
    ax = plot_length_profile(profile, hue="speaker")
    names = [t.get_text() for t in ax.get_legend().get_texts()]
    top = [f"model {k:02d}" for k in range(11, 11 - (len(PALETTE) - 1), -1)]
    assert names == [*top, "others (5, fewer messages)"]
    coloured = [ln for ln in ax.get_lines() if ln.get_label() in top]
    assert len({ln.get_color() for ln in coloured}) == len(top)  # no colour twice


def test_up_to_eight_models_keep_their_own_colours():
    convs = {f"m{k}": [(f"model {k}", words(10)), (f"model {k}", words(5))] for k in range(8)}
    ax = plot_length_profile(length_profile(make_messages(convs), hue="speaker", n_boot=10),
                             hue="speaker")
    names = [t.get_text() for t in ax.get_legend().get_texts()]
    assert names == [f"model {k}" for k in range(8)]


def test_panel_conversations_and_the_left_out_line():
    m = make_messages({"a": [("A", "x"), ("B", "y")], "b": [("A", "letter")], "c": [("A", "z")]})
    assert panel_conversations(m) == (["a"], 2)
    assert left_out(0) == ""
    assert left_out(1) == "\n(1 single-message conversation left out)"
    assert left_out(2000) == "\n(2,000 single-message conversations left out)"


def test_recurrence_grid_leaves_out_single_messages_and_wraps_long_ids():
    long_id = "claude-3-opus_hermes-405b_self_20250905_214824"
    m = make_messages({long_id: [("A", "we rest"), ("B", "we rest here"), ("A", "we rest")],
                       "lone": [("A", "a letter")]})
    grid = {cid: recurrence_matrix(m, conversation_id=cid) for cid in (long_id, "lone")}
    fig = plot_recurrence_grid(grid)
    (ax,) = [a for a in fig.axes if a.get_visible() and a.get_label() != "<colorbar>"]
    assert ax.get_title() == "claude-3-opus_hermes-405b_\nself_20250905_214824"
    assert fig.get_suptitle().endswith("(1 single-message conversation left out)")
    only_lone = plot_recurrence_grid({"lone": grid["lone"]})
    assert "1 single-message conversation left out" in only_lone.get_suptitle()


@given(st.text(alphabet="ab_-./ ", min_size=0, max_size=120),
       st.integers(min_value=1, max_value=40))
def test_wrap_id_only_breaks_after_separators_and_loses_nothing(cid, width):
    wrapped = wrap_id(cid, width)
    assert wrapped.replace("\n", "") == cid
    lines = wrapped.split("\n")
    for line in lines[:-1]:
        assert line and line[-1] in "_-./ "  # every break follows a separator


def test_wrap_id_keeps_words_whole():
    assert wrap_id("abc_defgh_ij", 6) == "abc_\ndefgh_\nij"
    assert wrap_id("abcdefghijkl", 5) == "abcdefghijkl"  # one word longer than the width
    assert wrap_id("short") == "short"

"""One signature for every plot: data first, options by keyword, Axes properties as **kwargs."""

from __future__ import annotations

import warnings

import pytest
from matplotlib.figure import Figure

import q7x2_lib as q7
from q7x2_lib.datasets import make_messages


@pytest.fixture
def messages():
    return make_messages({
        "a": [("A", "one two three four"), ("B", "one two"), ("A", "one")] * 3,
        "b": [("C", "x " * 10), ("D", "y " * 5)] * 3,
    })


def test_axes_properties_are_applied_after_drawing(messages) -> None:
    shares = q7.word_share(messages, n_boot=20)
    ax = q7.plot_word_share(shares, title="my title", xlim=(0, 2))
    assert ax.get_title() == "my title"
    assert ax.get_xlim() == (0, 2)


def test_a_multi_panel_figure_applies_them_to_every_visible_panel(messages) -> None:
    fig = q7.plot_length_panels(q7.message_lengths(messages), ylabel="words (my label)")
    assert isinstance(fig, Figure)
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert len(panels) == 2 and all(ax.get_ylabel() == "words (my label)" for ax in panels)


def test_an_unknown_property_is_matplotlib_s_error(messages) -> None:
    with pytest.raises(AttributeError, match="colour_of_the_sky"):
        q7.plot_word_share(q7.word_share(messages, n_boot=20), colour_of_the_sky="blue")


def test_the_old_name_of_the_first_argument_still_works_with_a_warning(messages) -> None:
    shares = q7.word_share(messages, n_boot=20)
    with pytest.warns(DeprecationWarning, match=r"plot_word_share\(shares=...\) is now"):
        ax = q7.plot_word_share(shares=shares)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        new = q7.plot_word_share(data=shares)
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        t.get_text() for t in new.get_yticklabels()]
    with pytest.raises(TypeError, match="got the data twice"):
        q7.plot_word_share(shares, shares=shares)


def test_an_empty_table_is_drawn_as_nothing_to_draw(messages) -> None:
    empty = q7.word_share(messages, n_boot=20).iloc[:0]
    ax = q7.plot_word_share(empty)
    assert any("nothing to draw" in t.get_text() for t in ax.texts)
    fig = q7.plot_words_per_message(make_messages({"a": [("A", " ")]}, seed=True))
    assert any("nothing to draw" in t.get_text() for ax in fig.axes for t in ax.texts)

"""Thematic-drift figures: similarity and novelty along conversations, themes, words, topics."""

from __future__ import annotations

import unicodedata

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .._core.text import EMOJI_RE
from .._core.validate import check_choice
from ._base import PALETTE, left_out, new_figure, panel_conversations, plot_function

__all__ = [
    "plot_novelty_by_turn",
    "plot_similarity_by_turn",
    "plot_theme_share_by_turn",
    "plot_topic_weight_by_turn",
    "plot_word_table",
]

_REFERENCE_COLOURS = {"opening": PALETTE[0], "previous": PALETTE[1], "partner": PALETTE[2]}
# "previous" and "partner" coincide when speakers alternate: a thick line under a thin dashed one.
_REFERENCE_STYLES = {
    "opening": {"linewidth": 1.0, "marker": "o", "markersize": 2},
    "previous": {"linewidth": 2.6, "alpha": 0.7, "marker": "o", "markersize": 3},
    "partner": {"linewidth": 1.0, "linestyle": "--", "marker": ".", "markersize": 2},
}
_REFERENCE_NAMES = {
    "opening": "opening window (centroid)", "previous": "previous message",
    "partner": "partner's previous message",
}
#: The one line drawn when the previous message is always the partner's (speakers alternate).
_COINCIDE = "previous message = partner's (they alternate)"
_NOVELTY_MEASURES = {
    "novelty": ("Share of each message's tokens not used earlier", "new tokens (share, 0–1)"),
    "cumulative_ttr": ("Cumulative type-token ratio", "types / tokens so far (0–1)"),
}
_LINESTYLES = ("-", "--", ":", "-.")


def _readable(label: str) -> str:
    """Spell emoji out (":sparkles:"): the house fonts have no emoji glyphs."""
    return EMOJI_RE.sub(lambda m: f":{unicodedata.name(m.group(0)[0], 'emoji').lower()}:", label)


def _ids(table: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(table["conversation_id"]))


def _need_curve(curve: pd.DataFrame | None, n: int, max_panels: int, what: str) -> None:
    if curve is None:
        raise ValueError(f"curve: got None for {n} conversations (more than max_panels="
                         f"{max_panels}); pass the corpus curve, e.g. {what}")


def _band(ax: Axes, part: pd.DataFrame, colour: str, label: str, min_conversations: int
          ) -> None:
    part = part[part["n_conversations"] >= min_conversations]
    ax.fill_between(part["turn"], part["ci_low"], part["ci_high"], color=colour, alpha=0.25,
                    linewidth=0)
    ax.plot(part["turn"], part["median"], color=colour, linewidth=1.5, label=label)


@plot_function("similarity")
def plot_similarity_by_turn(
    data: pd.DataFrame, *, curve: pd.DataFrame | None = None, max_panels: int = 12,
    ncols: int = 2, min_conversations: int = 10, **kwargs,
) -> Figure:
    """TF-IDF cosine data of each message with the opening, the previous message and the
    partner's previous message, by turn.

    Up to ``max_panels`` conversations: one panel each, a line per reference. More: the corpus
    median per reference with its bootstrap interval, from ``curve``
    (:func:`q7x2_lib.metrics.drift.median_by_turn` of ``data``), at the turns where at least
    ``min_conversations`` conversations have a value.
    """
    ids = _ids(data)
    if len(ids) > max_panels:
        _need_curve(curve, len(ids), max_panels, "q7.median_by_turn(similarity)")
        fig, (ax,) = new_figure(1, panel_size=(8, 4))
        same = _coincide(curve, "median")
        for ref, colour in _REFERENCE_COLOURS.items():
            if same and ref == "partner":
                continue
            name = _COINCIDE if same and ref == "previous" else _REFERENCE_NAMES[ref]
            _band(ax, curve[curve["reference"] == ref], colour, name, min_conversations)
        ax.set_title(f"Similarity by turn: median of {len(ids)} conversations, 95% interval\n"
                     f"(turns with values from at least {min_conversations} conversation"
                     f"{'' if min_conversations == 1 else 's'})",
                     fontsize=10)
        _similarity_axes(ax, legend=True)
        return fig
    ids, single = panel_conversations(data)
    fig, axes = new_figure(len(ids), ncols=ncols, sharey=True)
    grouped = dict(tuple(data.groupby("conversation_id", sort=False)))
    legend: dict[str, object] = {}
    for ax, cid in zip(axes, ids, strict=True):
        conv = grouped[cid]
        same = _coincide(conv, "similarity")
        for ref, colour in _REFERENCE_COLOURS.items():
            if same and ref == "partner":
                continue
            name = _COINCIDE if same and ref == "previous" else _REFERENCE_NAMES[ref]
            part = conv[conv["reference"] == ref]
            style = {**_REFERENCE_STYLES[ref], **({"linewidth": 1.4, "alpha": 1.0}
                                                  if same else {})}
            (line,) = ax.plot(part["turn"], part["similarity"], color=colour, label=name,
                              **style)
            legend.setdefault(name, line)
        if conv["similarity"].isna().all():
            ax.text(0.5, 0.5, "no two messages with content words", transform=ax.transAxes,
                    ha="center", va="center", fontsize=8)
        ax.set_title(cid, fontsize=9)
        _similarity_axes(ax, legend=False)
    if legend:
        fig.legend(list(legend.values()), list(legend), loc="outside lower center", ncols=3)
    fig.suptitle("Similarity of each message with the opening and with the messages before it"
                 + left_out(single))
    return fig


def _coincide(table: pd.DataFrame, value: str) -> bool:
    """Whether the previous-message and partner values are the same at every turn."""
    key = "turn"
    prev = table.loc[table["reference"] == "previous"].set_index(key)[value]
    part = table.loc[table["reference"] == "partner"].set_index(key)[value]
    if prev.index.has_duplicates or part.index.has_duplicates or prev.empty:
        return False
    a, b = prev.align(part)
    return bool(np.allclose(a.to_numpy(float), b.to_numpy(float), equal_nan=True))


def _similarity_axes(ax: Axes, *, legend: bool) -> None:
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel("turn (message index)")
    ax.set_ylabel("cosine similarity (TF-IDF)")
    if legend:
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)


@plot_function("novelty")
def plot_novelty_by_turn(
    data: pd.DataFrame, *, curve: pd.DataFrame | None = None, max_panels: int = 12,
    min_conversations: int = 10, **kwargs,
) -> Figure:
    """Vocabulary data and cumulative type-token ratio by turn, in two panels.

    Up to ``max_panels`` conversations: a line per conversation. More: the corpus median with
    its bootstrap interval, from ``curve`` (:func:`q7x2_lib.metrics.drift.novelty_curves`), at the
    turns where at least ``min_conversations`` conversations have a value.
    """
    ids = _ids(data)
    shown, single = panel_conversations(data)
    fig, axes = new_figure(2, ncols=2, panel_size=(6, 4))
    large = len(ids) > max_panels
    if large:
        _need_curve(curve, len(ids), max_panels, "q7.novelty_curves(novelty)")
    for ax, (measure, (title, label)) in zip(axes, _NOVELTY_MEASURES.items(), strict=True):
        if large:
            _band(ax, curve[curve["measure"] == measure], PALETTE[0], "median, 95% interval",
                  min_conversations)
        else:
            several = data[data["conversation_id"].isin(shown)]
            for i, (cid, conv) in enumerate(several.groupby("conversation_id", sort=False)):
                ax.plot(conv["turn"], conv[measure], color=PALETTE[i % len(PALETTE)],
                        linestyle=_LINESTYLES[i // len(PALETTE) % len(_LINESTYLES)],
                        linewidth=1, marker="o", markersize=2, label=cid)
        ax.set_ylim(-0.03, 1.03)
        ax.set_xlabel("turn (message index)")
        ax.set_ylabel(label)
        ax.set_title(title, fontsize=10)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=min(4, max(1, len(labels))))
    scope = f"median of {len(ids)} conversations" if large else "each conversation"
    fig.suptitle(f"Vocabulary novelty along the conversation ({scope})"
                 + ("" if large else left_out(single)))
    return fig


@plot_function("shares")
def plot_theme_share_by_turn(
    data: pd.DataFrame, *, value: str = "share_messages", ax: Axes | None = None,
    cmap: str = "viridis", **kwargs,
) -> Axes:
    """Heatmap of each theme's share by turn (rows: themes, columns: turn bins).

    ``data`` is :func:`q7x2_lib.metrics.drift.theme_share_by_turn`; ``value`` one of its share
    columns (``share_messages``: share of messages that mention the theme; ``share_hits``: the
    theme's share of all theme hits).
    """
    check_choice("value", value, ("share_messages", "share_hits", "mean_rate"))
    grid = data.pivot_table(index="label", columns="turn", values=value, observed=True,
                              sort=False)
    if ax is None:
        _, (ax,) = new_figure(1, panel_size=(9, 0.35 * len(grid) + 1.8))
    turns = grid.columns.to_numpy()
    width = float(np.min(np.diff(turns))) if len(turns) > 1 else 1.0
    image = ax.imshow(grid.to_numpy(dtype=float), aspect="auto", interpolation="nearest",
                      cmap=cmap, vmin=0, extent=(turns[0], turns[-1] + width, len(grid), 0))
    ax.set_yticks(np.arange(len(grid)) + 0.5, labels=list(grid.index))
    ax.set_xlabel(f"turn (message index, bins of {width:g})")
    names = {"share_messages": "share of messages mentioning the theme (0–1)",
             "share_hits": "theme's share of all theme hits (0–1)",
             "mean_rate": "theme hits per token"}
    ax.figure.colorbar(image, ax=ax, label=names[value])
    ax.set_title("Themes along the conversation")
    return ax


@plot_function("table")
def plot_word_table(
    data: pd.DataFrame, *, ax: Axes | None = None, colour: str = PALETTE[0], **kwargs,
) -> Axes:
    """Horizontal bars of mean uses per transcript, annotated with the share of transcripts.

    ``data`` is :func:`q7x2_lib.metrics.drift.word_table`; the most used token is on top.
    """
    if ax is None:
        _, (ax,) = new_figure(1, panel_size=(6, 0.28 * max(len(data), 1) + 1.5))
    y = np.arange(len(data))
    ax.barh(y, data["mean_uses_per_transcript"], color=colour)
    ax.set_yticks(y, labels=[_readable(str(t)) for t in data["token"]])
    ax.invert_yaxis()
    for yi, uses, share in zip(y, data["mean_uses_per_transcript"],
                               data["share_of_transcripts"], strict=True):
        ax.annotate(f" {share:.0%}", (uses, yi), va="center", fontsize=7)
    ax.set_xlabel("mean uses per transcript (count)")
    ax.set_ylabel("token")
    ax.set_title("Most used tokens: uses per transcript\n"
                 "(bar labels: share of transcripts using it)",
                 fontsize=10)
    ax.margins(x=0.12)
    return ax


@plot_function("by_turn")
def plot_topic_weight_by_turn(data: pd.DataFrame, *, ax: Axes | None = None, **kwargs) -> Axes:
    """Stacked areas of each NMF topic's mean share of the messages at each turn.

    ``data`` is :func:`q7x2_lib.metrics.drift.topic_weight_by_turn`; topics are labelled with their
    top words.
    """
    grid = data.pivot_table(index="turn", columns="label", values="mean_share",
                               observed=True, sort=False).fillna(0.0)
    if ax is None:
        _, (ax,) = new_figure(1, panel_size=(8, 4))
    colours = [PALETTE[i % len(PALETTE)] for i in range(grid.shape[1])]
    ax.stackplot(grid.index.to_numpy(), grid.to_numpy(dtype=float).T,
                 labels=[_readable(str(c)) for c in grid.columns],
                 colors=colours, alpha=0.9)
    ax.set_ylim(0, 1)
    ax.set_xlabel("turn (message index)")
    ax.set_ylabel("mean topic share of a message (0–1)")
    ax.set_title("NMF topics along the conversation")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, title="topic: top words")
    return ax

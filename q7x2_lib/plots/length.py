"""Message-length decay figures: lengths by turn, corpus curves, half-lives, collapse, markers."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ._base import (
    PALETTE,
    apply_length_scale,
    left_out,
    new_figure,
    panel_conversations,
    plot_function,
    speaker_palette,
)

__all__ = [
    "ROLE_COLOURS",
    "choose_view",
    "plot_decay_summary",
    "plot_end_marker_share",
    "plot_length_by_turn",
    "plot_length_panels",
    "plot_length_profile",
]

ROLE_COLOURS = {"opener": PALETTE[0], "responder": PALETTE[1]}
_X_LABELS = {"turn": "turn (message index)",
             "relative_position": "relative position in the conversation (turn / length)"}
_LEGEND = {"loc": "upper left", "bbox_to_anchor": (1.0, 1.0), "fontsize": 8}


def choose_view(n_conversations: int, *, max_panels: int = 12) -> str:
    """``"panels"`` (one panel per conversation) up to ``max_panels`` conversations, else
    ``"aggregate"`` (corpus curves and distributions)."""
    if int(max_panels) != max_panels or max_panels < 1:
        raise ValueError(f"max_panels: got {max_panels!r}; expected an integer >= 1, e.g. 12")
    return "panels" if n_conversations <= max_panels else "aggregate"


def _hue_colours(values: pd.Series, hue: str | None) -> dict[str, str]:
    if hue == "role":
        return ROLE_COLOURS
    return speaker_palette(values) if hue else {}


@plot_function("lengths")
def plot_length_panels(
    data: pd.DataFrame, *, collapse: pd.DataFrame | None = None, ncols: int = 2,
    unit: str = "words", **kwargs,
) -> Figure:
    """One panel per conversation: each message's length by turn, a line per speaker.

    Parameters
    ----------
    data
        The output of ``message_lengths``.
    collapse
        Optional output of ``collapse_turn``: a dashed line marks each collapse turn.
    """
    ids, single = panel_conversations(data)
    fig, axes = new_figure(len(ids), ncols=ncols, sharey=True)
    top = float(data["length"].max()) if len(data) else 1.0
    turns = {} if collapse is None else dict(zip(collapse["conversation_id"],
                                                 collapse["collapse_turn"], strict=True))
    for ax, cid in zip(axes, ids, strict=False):
        conv = data.loc[data["conversation_id"] == cid]
        colours = speaker_palette(conv["speaker"], sort=False)
        for speaker, part in conv.groupby("speaker", sort=False):
            ax.plot(part["turn"], part["length"], marker="o", markersize=2.5, linewidth=1,
                    color=colours[speaker], label=speaker)
        if pd.notna(turns.get(cid, pd.NA)):
            ax.axvline(turns[cid], color="0.3", linestyle="--", linewidth=1,
                       label=f"collapse (turn {int(turns[cid])})")
        apply_length_scale(ax, unit=unit, top=top)
        ax.set_xlim(min(0, int(conv["turn"].min())) - 0.5, max(1, int(conv["turn"].max())) + 0.5)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel(_X_LABELS["turn"])
        ax.set_title(str(cid), fontsize=9)
        ax.legend(**_LEGEND)
    fig.suptitle(f"Message length ({unit}) along each conversation{left_out(single)}")
    return fig


def _draw_bands(ax: Axes, profile: pd.DataFrame, *, x: str, hue: str | None,
                estimate: str, labels: dict[str, str] | None = None,
                bands: bool | None = None) -> None:
    """Median with IQR band (or mean with CI band) per hue level.

    Bands are drawn for up to three levels unless ``bands`` says otherwise: more overlap into
    mud. Past the palette's eight colours the levels with the most messages keep a colour
    and the rest are drawn thin and grey as one "others" entry (:func:`_top_levels`).
    """
    centre, low, high = ("median", "q25", "q75") if estimate == "median" else (
        "mean", "mean_low", "mean_high")
    groups = list(profile.groupby(hue, sort=True, observed=True)) if hue else [(None, profile)]
    ranked, others = _top_levels(profile, hue, groups)
    colours = (_hue_colours(pd.Series(ranked, dtype=str), hue) if not others else
               {level: PALETTE[i] for i, level in enumerate(ranked)})
    bands = len(groups) <= 3 if bands is None else bands
    for level, part in groups:
        if level in others:
            ax.plot(part[x], part[centre], color="0.7", linewidth=0.8, zorder=1,
                    label=f"others ({len(others)}, fewer messages)"
                    if level == others[0] else None)
            continue
        colour = colours.get(level, PALETTE[0]) if level is not None else PALETTE[0]
        name = (labels or {}).get(level, level) if level is not None else estimate
        if bands:
            ax.fill_between(part[x], part[low], part[high], color=colour, alpha=0.2, linewidth=0)
        ax.plot(part[x], part[centre], color=colour, marker="o", markersize=2.5, linewidth=1.5,
                label=name, zorder=2)
    if others:  # the legend lists the coloured levels by rank, "others" last
        handles, names = ax.get_legend_handles_labels()
        order = sorted(range(len(names)), key=lambda i: (
            ranked.index(names[i]) if names[i] in ranked else len(ranked)))
        ax.legend([handles[i] for i in order], [names[i] for i in order], title=hue, **_LEGEND)


def _top_levels(profile: pd.DataFrame, hue: str | None, groups: list) -> tuple[list, list]:
    """Levels that get a colour, by messages (most first), and the rest drawn grey as "others".

    Every level has its own colour while the palette lasts; past it, the ``len(PALETTE) - 1``
    levels with the most messages keep theirs and the others share one grey.
    """
    levels = [level for level, _ in groups]
    if not hue or len(levels) <= len(PALETTE):
        return levels, []
    count = "n" if "n" in profile.columns else None
    size = (profile.groupby(hue, observed=True)[count].sum() if count else
            pd.Series(1, index=levels)).reindex(levels)
    order = sorted(levels, key=lambda level: (-float(size[level]), str(level)))
    return order[:len(PALETTE) - 1], order[len(PALETTE) - 1:]


@plot_function("profile")
def plot_length_profile(
    data: pd.DataFrame, *, hue: str | None = "role", estimate: str = "median",
    bands: bool | None = None, ax: Axes | None = None, unit: str = "words", **kwargs,
) -> Axes:
    """Corpus length curve: median with its IQR band (or mean with its bootstrap interval).

    Parameters
    ----------
    data
        The output of ``length_profile`` (x is ``turn`` or ``relative_position``).
    hue
        The split column of ``data``: ``"role"``, ``"speaker"`` or None.
    estimate
        ``"median"`` (band = interquartile range) or ``"mean"`` (band = bootstrap interval).
    bands
        Draw the bands; by default only for up to three ``hue`` levels.
    """
    if estimate not in ("median", "mean"):
        raise ValueError(f"estimate: got {estimate!r}; expected 'median' or 'mean'")
    x = "turn" if "turn" in data.columns else "relative_position"
    if ax is None:
        _, (ax,) = new_figure(1, panel_size=(7, 3.6))
    _draw_bands(ax, data, x=x, hue=hue, estimate=estimate, bands=bands)
    apply_length_scale(ax, unit=unit, top=float(data["q75"].max()) if len(data) else None)
    band = "interquartile range" if estimate == "median" else "95% bootstrap interval"
    if x == "relative_position":
        ax.set_xlim(0, 1)
    ax.set_xlabel(_X_LABELS[x])
    shown = f" with its {band}" if bands or (bands is None and (
        not hue or data[hue].nunique() <= 3)) else ""
    ax.set_title(f"{estimate.capitalize()} message length{shown}")
    if ax.get_legend() is None:
        ax.legend(title=hue, **_LEGEND)
    return ax


@plot_function("lengths")
def plot_length_by_turn(
    data: pd.DataFrame, profile: pd.DataFrame, *, max_panels: int = 12,
    collapse: pd.DataFrame | None = None, unit: str = "words", **kwargs,
) -> Figure:
    """Length by turn: one panel per conversation for a few, the corpus curve for many.

    ``data`` (``message_lengths``) is drawn when it holds at most ``max_panels``
    conversations, else ``profile`` (``length_profile`` by turn) via :func:`plot_length_profile`.
    """
    n_conversations = data["conversation_id"].nunique()
    if choose_view(len(panel_conversations(data)[0]), max_panels=max_panels) == "panels":
        return plot_length_panels(data, collapse=collapse, unit=unit)
    hue = "role" if "role" in profile.columns else ("speaker" if "speaker" in profile else None)
    ax = plot_length_profile(profile, hue=hue, unit=unit)
    ax.set_title(f"Message length by turn across {n_conversations} conversations\n"
                 "(median and interquartile range)")
    return ax.figure


def _forest(ax: Axes, labels: list[str], centre: np.ndarray, low: np.ndarray,
            high: np.ndarray, colour: str, no_fit: np.ndarray | None = None) -> None:
    """Dots with interval whiskers, one row per label; infinite ends drawn as arrows; rows
    without a value say why (``no_fit``, default: fewer than two messages)."""
    y = np.arange(len(labels))
    finite = np.concatenate([v[np.isfinite(v)] for v in (centre, low, high)])
    edge = float(finite.max()) * 2 if finite.size else 10.0
    clip = np.where(np.isfinite(high), high, edge)
    ax.hlines(y, np.where(np.isfinite(low), low, edge), clip, color=colour, linewidth=2)
    shown = np.isfinite(centre)
    ax.plot(centre[shown], y[shown], "o", color=colour)
    arrows = ~np.isfinite(high) & ~np.isnan(high)
    ax.plot(np.full(arrows.sum(), edge), y[arrows], ">", color=colour)
    for row in y[np.isinf(centre)]:
        ax.annotate("never halves", (edge, row), xytext=(-4, 6), textcoords="offset points",
                    ha="right", fontsize=8, color="0.3")
    for row in y[np.isnan(centre)]:
        why = "no fit (under 2 messages)" if no_fit is None else str(no_fit[row])
        ax.annotate(why, (0, row), xycoords=("axes fraction", "data"),
                    xytext=(4, -3), textcoords="offset points", fontsize=8, color="0.3")
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_ylim(len(labels) - 0.5, -0.5)


@plot_function("summary")
def plot_decay_summary(data: pd.DataFrame, *, max_panels: int = 12, **kwargs) -> Figure:
    """Half-lives and collapse turns: per conversation for a few, distributions for many.

    Parameters
    ----------
    data
        The output of ``length_decay_summary``.
    """
    several = data[data["n_messages"] >= 2]
    single = len(data) - len(several)
    panels = choose_view(len(several), max_panels=max_panels) == "panels"
    shown = several if panels else data
    if several.empty:  # letters and failed runs only: no length changes to show
        fig, _ = new_figure(0)
        fig.suptitle("How fast messages shrink: no conversation has two messages"
                     + left_out(single))
        return fig
    fig, (left, right) = new_figure(2, ncols=2, panel_size=(5.5, max(
        3.2, 0.45 * min(len(shown), max_panels) + 1.2)))
    if panels:
        _decay_panels(left, right, shown)
    else:
        _decay_histograms(left, right, data)
    fig.suptitle("How fast messages shrink, and when conversations collapse, "
                 f"{len(data):,} conversation{'' if len(data) == 1 else 's'}"
                 + (left_out(single) if panels else ""))
    return fig


def _steps(summary: pd.DataFrame) -> np.ndarray:
    """Conversations whose length is a step, not a trend (``decay_fit``'s ``shape``)."""
    if "shape" not in summary:
        return np.zeros(len(summary), dtype=bool)
    return summary["shape"].eq("step").fillna(False).to_numpy(bool)


def _decay_panels(left: Axes, right: Axes, summary: pd.DataFrame) -> None:
    labels = summary["conversation_id"].astype(str).tolist()
    cols = summary[["half_life", "half_life_low", "half_life_high"]].astype(float)
    step = _steps(summary)
    values = [np.where(step, np.nan, cols[c].to_numpy()) for c in cols.columns]
    turns = summary["step_turn"] if "step_turn" in summary else pd.Series(pd.NA, summary.index)
    _forest(left, labels, *values, PALETTE[0], no_fit=np.array([
        f"a step (drop at turn {t}), not a decay: no half-life" if s
        else "no fit (under 2 messages)" for s, t in zip(step, turns, strict=True)]))
    if "few_effective" in summary:
        for row in np.flatnonzero(summary["few_effective"].fillna(False).to_numpy(bool)
                                  & ~step & np.isfinite(values[0])):
            left.annotate("few effective messages", (values[0][row], row), xytext=(0, 6),
                          textcoords="offset points", ha="center", fontsize=7, color="0.3")
    left.set_xscale("log")
    left.set_xlabel("half-life of 1 + length (turns, log scale; 95% block-bootstrap interval)")
    left.set_title("Half-life of message length")
    turn = summary["collapse_turn"].astype(float).to_numpy()
    y = np.arange(len(labels))
    right.plot(turn, y, "s", color=PALETTE[5])
    single = summary["n_messages"].to_numpy() < 2
    for row in y[np.isnan(turn)]:
        right.annotate("single message" if single[row] else "never collapses", (0, row),
                       xytext=(4, -3), textcoords="offset points", fontsize=8, color="0.3")
    right.set_yticks(y, labels, fontsize=8)
    right.set_ylim(len(labels) - 0.5, -0.5)
    right.set_xlim(0, max(10.0, float(np.nanmax(turn, initial=0)) * 1.1,
                          float(summary["n_messages"].max()) if len(summary) else 0))
    right.set_xlabel("collapse turn (message index)")
    right.set_title("Turn from which messages stay short")


def _decay_histograms(left: Axes, right: Axes, summary: pd.DataFrame) -> None:
    step = _steps(summary)
    half = summary.loc[~step, "half_life"].astype(float)
    finite = half[np.isfinite(half)]
    if len(finite):
        bins = np.geomspace(max(finite.min(), 0.1), max(finite.max(), 1.0) * 1.01, 25)
        left.hist(finite, bins=bins, color=PALETTE[0])
    left.yaxis.set_major_locator(MaxNLocator(integer=True))
    left.set_xscale("log")
    left.set_xlabel("half-life of 1 + length (turns, log scale)")
    left.set_ylabel("conversations")
    steps = f"\n({int(step.sum())} steps left out: no half-life)" if step.any() else ""
    left.set_title(f"Half-life: {len(finite)} of {len(half)} conversations shrink{steps}")
    turn = summary["collapse_turn"].astype(float).dropna()
    if len(turn):
        right.hist(turn, bins=25, color=PALETTE[5])
    right.yaxis.set_major_locator(MaxNLocator(integer=True))
    right.set_xlabel("collapse turn (message index)")
    right.set_ylabel("conversations")
    right.set_title(f"Collapse turn: {len(turn)} of {len(summary)} conversations collapse")


@plot_function("shares")
def plot_end_marker_share(
    data: pd.DataFrame, *, max_panels: int = 12, ax: Axes | None = None, **kwargs,
) -> Axes:
    """How often each speaker sends only an end marker, or ends a message with one.

    Parameters
    ----------
    data
        The output of ``end_marker_share`` (``per_speaker=True``).

    A few conversations: a pair of bars per speaker. Many: the distribution of each role's
    marker-only share across conversations.
    """
    n_conversations = data["conversation_id"].nunique()
    if ax is None:
        height = 0.35 * len(data) + 1.2 if n_conversations <= max_panels else 3.4
        _, (ax,) = new_figure(1, panel_size=(9, max(3.0, height)))
    if choose_view(n_conversations, max_panels=max_panels) == "panels":
        y = np.arange(len(data))
        ax.barh(y - 0.2, data["marker_only_share"], height=0.4, color=PALETTE[0],
                label="nothing but an end marker")
        ax.barh(y + 0.2, data["ends_with_marker_share"], height=0.4, color=PALETTE[1],
                label="ends with an end marker")
        ax.set_yticks(y, [f"{c} · {s}" for c, s in zip(data["conversation_id"],
                                                         data["speaker"], strict=True)],
                      fontsize=8)
        ax.set_ylim(len(data) - 0.5, -0.5)
        ax.set_xlabel("share of the speaker's messages")
    else:
        bins = np.linspace(0, 1, 21)
        for role, part in data.groupby("role", sort=True):
            ax.hist(part["marker_only_share"], bins=bins, histtype="step", linewidth=1.5,
                    color=ROLE_COLOURS.get(role, PALETTE[2]), label=role)
        ax.set_xlabel("share of a speaker's messages that are nothing but an end marker")
        ax.set_ylabel("speakers (one per conversation and role)")
    ax.set_xlim(0, 1)
    ax.set_title("End markers such as [END]")
    ax.legend(**_LEGEND)
    return ax

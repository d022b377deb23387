"""Attractor-state figures: recurrence plots, repeats by turn and end-state shares."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ._base import PALETTE, left_out, new_figure, plot_function, wrap_id

__all__ = [
    "plot_end_state_attribution",
    "plot_end_state_by_pair",
    "plot_end_state_shares",
    "plot_loop_scopes",
    "plot_rqa_by_pair",
    "plot_state_onsets",
    "plot_recurrence",
    "plot_recurrence_grid",
    "plot_repeat_share_by_turn",
]

_SIMILARITY_LABEL = "similarity (cosine of character 3-gram sets, 0–1)"


@plot_function("matrix")
def plot_recurrence(
    data: pd.DataFrame, *, ax: Axes | None = None, title: str | None = None,
    cmap: str = "viridis", colorbar: bool = True, **kwargs,
) -> Axes:
    """A recurrence plot: message-by-message similarity of one conversation as an image.

    ``data`` is :func:`q7x2_lib.metrics.attractors.recurrence_matrix`. Both axes are turns, turn 1
    at the bottom left; a bright diagonal band means the same message over and over, a bright
    off-diagonal line a return to an earlier passage, a checkerboard a ping-pong.
    """
    if ax is None:
        _, (ax,) = new_figure(1, panel_size=(4.8, 4.2))
    turns = data.index.to_numpy()
    lo, hi = (turns.min() - 0.5, turns.max() + 0.5) if len(turns) else (0, 1)
    image = ax.imshow(data.to_numpy(dtype=float), origin="lower", cmap=cmap, vmin=0, vmax=1,
                      interpolation="nearest", extent=(lo, hi, lo, hi))
    ax.set_xlabel("turn (message index)")
    ax.set_ylabel("turn (message index)")
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(MaxNLocator(integer=True))
    title = title if title is not None else "Recurrence plot"
    n_messages = data.attrs.get("n_messages", len(data))
    if n_messages > len(data):
        title = f"{title}\n({len(data)} of {n_messages} messages, evenly spaced)"
    ax.set_title(title, fontsize=8)
    if colorbar:
        ax.figure.colorbar(image, ax=ax, label=data.attrs.get("similarity", _SIMILARITY_LABEL),
                           shrink=0.8)
    return ax


@plot_function("matrices")
def plot_recurrence_grid(
    data: Mapping[str, pd.DataFrame], *, states: pd.DataFrame | None = None, ncols: int = 3,
    cmap: str = "viridis", **kwargs,
) -> Figure:
    """Recurrence plots of several conversations, one panel each, with one colour bar.

    ``data`` maps conversation ids to :func:`q7x2_lib.metrics.attractors.recurrence_matrix`
    results; with ``states`` (:func:`q7x2_lib.metrics.attractors.end_states`) each title names the
    conversation's end state.
    """
    if not data:
        raise ValueError("data: got none; pass {conversation_id: recurrence_matrix(...)}")
    labels = {} if states is None else dict(zip(states["conversation_id"], states["end_state"],
                                               strict=True))
    shown = {cid: m for cid, m in data.items() if len(m) >= 2}
    single = len(data) - len(shown)
    fig, axes = new_figure(len(shown), ncols=ncols, panel_size=(3.8, 3.8))
    for ax, (cid, matrix) in zip(axes, shown.items(), strict=True):
        name = wrap_id(cid)
        title = name if cid not in labels else f"{name}\n{labels[cid]}"
        plot_recurrence(matrix, ax=ax, title=title, cmap=cmap, colorbar=False)
    if axes:
        label = next(iter(shown.values())).attrs.get("similarity", _SIMILARITY_LABEL)
        fig.colorbar(axes[0].images[0], ax=axes, label=label, shrink=0.6)
    fig.suptitle("Recurrence plots: how similar each message is to every other"
                 + left_out(single))
    return fig


@plot_function("shares")
def plot_repeat_share_by_turn(data: pd.DataFrame, *, ax: Axes | None = None, **kwargs) -> Axes:
    """Share of messages at each turn that repeat a recent one, exactly or nearly.

    ``data`` is :func:`q7x2_lib.metrics.attractors.repeat_share_by_turn`.
    """
    if ax is None:
        _, (ax,) = new_figure(1, panel_size=(8, 3.6))
    ax.plot(data["turn"], data["share_near"], color=PALETTE[0], linewidth=1.5,
            marker="o", markersize=2.5, label="near or exact repeat")
    ax.plot(data["turn"], data["share_exact"], color=PALETTE[5], linewidth=1.2,
            linestyle="--", label="exact repeat (normal form)")
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel("turn (message index)")
    ax.set_ylabel("share of messages (0–1)")
    ax.set_title("Messages that repeat one of the last few")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    return ax


@plot_function("shares")
def plot_end_state_shares(data: pd.DataFrame, *, ax: Axes | None = None, **kwargs) -> Axes:
    """Horizontal bars: share of conversations in each end state, annotated with counts.

    ``data`` is :func:`q7x2_lib.metrics.attractors.end_state_shares` without ``by``; states are
    drawn in rule order, top to bottom.
    """
    if ax is None:
        _, (ax,) = new_figure(1, panel_size=(7, 3.6))
    y = np.arange(len(data))
    # one colour: the labels name the bars, and eleven states would cycle any safe palette
    ax.barh(y, data["share"] * 100, color=PALETTE[0])
    ax.set_yticks(y, labels=[str(s) for s in data["end_state"]])
    ax.invert_yaxis()
    for yi, pct, n in zip(y, data["share"] * 100, data["n_conversations"], strict=True):
        ax.annotate(f" {n}", (pct, yi), va="center", fontsize=8)
    total = int(data["n_conversations"].sum())
    ax.set_xlim(0, max(100.0, float((data["share"] * 100).max()) * 1.1))
    ax.set_xlabel("share of conversations (%)")
    ax.set_title(f"Where conversations end up (n = {total}; bar labels: counts)")
    return ax


@plot_function("shares")
def plot_end_state_by_pair(
    data: pd.DataFrame, *, ax: Axes | None = None, cmap: str = "viridis", **kwargs,
) -> Axes:
    """Heatmap of end-state data per model pair, each cell annotated with its count.

    ``data`` is :func:`q7x2_lib.metrics.attractors.end_state_shares` with ``by="model_pair"``.
    """
    share = data.pivot_table(index="model_pair", columns="end_state", values="share",
                               observed=False, sort=False).fillna(0.0)
    count = data.pivot_table(index="model_pair", columns="end_state",
                               values="n_conversations", observed=False, sort=False).fillna(0)
    if ax is None:
        _, (ax,) = new_figure(1, panel_size=(9, 0.32 * len(share) + 2.4))
    image = ax.imshow(share.to_numpy(dtype=float) * 100, aspect="auto", cmap=cmap, vmin=0,
                      vmax=100, interpolation="nearest")
    values = share.to_numpy(dtype=float)
    for (i, j), n in np.ndenumerate(count.to_numpy(dtype=int)):
        if n:
            ax.text(j, i, str(n), ha="center", va="center", fontsize=7,
                    color="black" if values[i, j] > 0.6 else "white")
    ax.set_xticks(np.arange(share.shape[1]), labels=[str(c) for c in share.columns],
                  rotation=30, ha="right")
    ax.set_yticks(np.arange(len(share)), labels=list(share.index))
    ax.set_xlabel("end state")
    ax.set_ylabel("model pair")
    ax.figure.colorbar(image, ax=ax, label="share of the pair's conversations (%)")
    ax.set_title("End states per model pair (cell labels: counts)")
    return ax


_RQA_TITLES = {"determinism": "determinism\n(on diagonals: loops, returns)",
               "laminarity": "laminarity\n(on verticals: stuck on one message)"}


def _jitter(n: int, step: float) -> np.ndarray:
    """A deterministic vertical spread of up to five rows, centred, so equal values show."""
    k = np.arange(n) % 5
    return (k - min(n - 1, 4) / 2) * step


_LOOP_COLOURS = {"pair loop": PALETTE[0], "one-sided loop": PALETTE[1], "loop left": PALETTE[4],
                 "no loop": "#BBBBBB"}


@plot_function()
def plot_loop_scopes(data: pd.DataFrame, *, ax: Axes | None = None, **kwargs) -> Axes:
    """Stacked bars per model pair: conversations that end in a loop of the pair, in a loop of
    one speaker (the other varies), that reached a loop and left it, or never looped.

    ``data`` is :func:`q7x2_lib.metrics.attractors.loop_scopes`.
    """
    wide = data.pivot_table(index="model_pair", columns="loop", values="n_conversations",
                            observed=False, sort=True, aggfunc="sum").fillna(0)
    wide = wide.loc[sorted(wide.index, key=lambda p: str(p).lower())]
    if ax is None:
        _, (ax,) = new_figure(1, panel_size=(7.5, 0.3 * len(wide) + 1.8))
    left = np.zeros(len(wide))
    y = np.arange(len(wide))
    for col in wide.columns:
        values = wide[col].to_numpy(dtype=float)
        ax.barh(y, values, left=left, color=_LOOP_COLOURS.get(str(col), PALETTE[7]),
                label=str(col), height=0.75)
        left += values
    ax.set_yticks(y, labels=[str(i) for i in wide.index])
    ax.invert_yaxis()
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("conversations (count)")
    ax.set_ylabel("model pair")
    ax.set_title(f"How conversations loop, per model pair (n = {int(left.sum())})")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, title="loop")
    return ax


@plot_function()
def plot_rqa_by_pair(
    data: pd.DataFrame, *, measures: tuple[str, ...] = ("determinism", "laminarity"),
    **kwargs,
) -> Figure:
    """One panel per RQA measure: each conversation a point, per model pair, with the median.

    ``data`` is :func:`q7x2_lib.metrics.attractors.rqa`; the rows of scope ``"all"`` (the
    whole conversation) are drawn. Determinism: the share of recurrences on diagonal lines
    (loops, returns); laminarity: on vertical lines (being stuck on one message).
    Conversations in which nothing recurs have no such share and are left out (n says how many
    are drawn).
    """
    t = data[data["scope_kind"] == "all"]
    t = t[t[list(measures)].notna().any(axis=1)]  # conversations where something recurs
    pairs = sorted(t["model_pair"].astype(str).unique(), key=str.lower)
    fig, axes = new_figure(len(measures), ncols=len(measures), sharey=True,
                           panel_size=(4.6, 0.3 * len(pairs) + 2.0))
    y_of = {p: k for k, p in enumerate(pairs)}
    for ax, measure in zip(axes, measures, strict=True):
        values = t[measure].to_numpy(dtype=float)
        y = np.array([y_of[str(p)] for p in t["model_pair"]], dtype=float)
        jitter = _jitter(len(t), 0.06)
        ok = ~np.isnan(values)
        ax.scatter(values[ok], y[ok] + jitter[ok], s=12, color=PALETTE[0], alpha=0.6,
                   linewidths=0, label="conversation")
        medians = t.assign(_v=values).groupby("model_pair")["_v"].median()
        ax.scatter([medians.get(p, np.nan) for p in pairs], np.arange(len(pairs)), marker="|",
                   s=160, color=PALETTE[5], label="median", zorder=3)
        ax.set_xlim(-0.03, 1.03)
        ax.set_xlabel("share (0–1)")
        ax.set_title(_RQA_TITLES.get(measure, measure), fontsize=9)
    axes[0].set_yticks(np.arange(len(pairs)), labels=pairs)
    axes[0].invert_yaxis()
    axes[0].set_ylabel("model pair")
    axes[-1].legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    n = len(t)
    fig.suptitle(f"Recurrence quantification per model pair (n = {n} conversations with "
                 "recurrences)")
    return fig


@plot_function()
def plot_state_onsets(data: pd.DataFrame, *, ax: Axes | None = None, **kwargs) -> Axes:
    """When each end state began: the onset turn of every conversation, per end state.

    ``data`` is :func:`q7x2_lib.metrics.attractors.end_states`; "still open" has no onset.
    """
    t = data[data["onset_turn"].notna()]
    states = [s for s in data["end_state"].cat.categories if (t["end_state"] == s).any()]
    if ax is None:
        _, (ax,) = new_figure(1, panel_size=(7.5, 0.42 * max(len(states), 1) + 1.8))
    for k, state in enumerate(states):
        onsets = t.loc[t["end_state"] == state, "onset_turn"].to_numpy(dtype=float)
        jitter = _jitter(len(onsets), 0.07)
        ax.scatter(onsets, k + jitter, s=14, color=PALETTE[0], alpha=0.65, linewidths=0,
                   label="conversation" if k == 0 else None)
        ax.scatter([np.median(onsets)], [k], marker="|", s=220, color=PALETTE[5],
                   label="median" if k == 0 else None, zorder=3)
        ax.annotate(f"  n = {len(onsets)}", (1.0, k), xycoords=("axes fraction", "data"),
                    va="center", fontsize=8)
    ax.set_yticks(np.arange(len(states)), labels=[str(s) for s in states])
    ax.invert_yaxis()
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("onset turn (message index where the state began)")
    ax.set_title(f"When the end state began (n = {len(t)} conversations with an onset)")
    if states:
        ax.legend(loc="lower left", bbox_to_anchor=(1.08, 0.0), fontsize=8)
    else:
        ax.text(0.5, 0.5, "no conversation's end state has an onset (still open, or too short)",
                ha="center", va="center", transform=ax.transAxes, fontsize=9)
    return ax


@plot_function()
def plot_end_state_attribution(
    data: pd.DataFrame, *, ax: Axes | None = None, cmap: str = "viridis", **kwargs,
) -> Axes:
    """Heatmap: for each model, in how many conversations each end-state label applies to it.

    ``data`` is :func:`q7x2_lib.metrics.attractors.end_state_attribution` (a label that
    applies to both speakers counts for each).
    """
    wide = data.pivot_table(index="model", columns="end_state", values="n_conversations",
                            observed=False, sort=True, aggfunc="sum").fillna(0)
    if ax is None:
        _, (ax,) = new_figure(1, panel_size=(9, 0.32 * len(wide) + 2.6))
    counts = wide.to_numpy(dtype=float)
    top = max(float(counts.max()), 1.0)
    image = ax.imshow(counts, aspect="auto", cmap=cmap, vmin=0, vmax=top,
                      interpolation="nearest")
    for (i, j), n in np.ndenumerate(counts.astype(int)):
        if n:
            ax.text(j, i, str(n), ha="center", va="center", fontsize=7,
                    color="black" if counts[i, j] > 0.6 * top else "white")
    ax.set_xticks(np.arange(wide.shape[1]), labels=[str(c) for c in wide.columns],
                  rotation=30, ha="right")
    ax.set_yticks(np.arange(len(wide)), labels=[str(i) for i in wide.index])
    ax.set_xlabel("end state (primary label)")
    ax.set_ylabel("model the label applies to")
    bar = ax.figure.colorbar(image, ax=ax, label="conversations (count)")
    bar.ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(f"Who is in each end state (cell labels: counts; n = {int(counts.sum())} "
                 "attributions)")
    return ax

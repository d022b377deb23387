"""Attractor-state figures: recurrence plots, repeats by turn and end-state shares."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ._base import PALETTE, new_figure, plot_function

__all__ = [
    "plot_end_state_by_pair",
    "plot_end_state_shares",
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
        ax.figure.colorbar(image, ax=ax, label=_SIMILARITY_LABEL, shrink=0.8)
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
    fig, axes = new_figure(len(data), ncols=ncols, panel_size=(3.8, 3.8))
    for ax, (cid, matrix) in zip(axes, data.items(), strict=True):
        name = "\n".join(cid[i : i + 34] for i in range(0, len(cid), 34))  # long ids wrap
        title = name if cid not in labels else f"{name}\n{labels[cid]}"
        plot_recurrence(matrix, ax=ax, title=title, cmap=cmap, colorbar=False)
    image = axes[0].images[0]
    fig.colorbar(image, ax=axes, label=_SIMILARITY_LABEL, shrink=0.6)
    fig.suptitle("Recurrence plots: how similar each message is to every other")
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

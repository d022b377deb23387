"""Attractor-state figures: recurrence plots, repeats by turn and end-state shares."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ._base import PALETTE, new_figure

__all__ = [
    "plot_end_state_by_pair",
    "plot_end_state_shares",
    "plot_recurrence",
    "plot_recurrence_grid",
    "plot_repeat_share_by_turn",
]

_SIMILARITY_LABEL = "similarity (cosine of character 3-gram sets, 0–1)"


def plot_recurrence(
    matrix: pd.DataFrame, *, ax: Axes | None = None, title: str | None = None,
    cmap: str = "viridis", colorbar: bool = True,
) -> Axes:
    """A recurrence plot: message-by-message similarity of one conversation as an image.

    ``matrix`` is :func:`q7x2_lib.attractors.recurrence_matrix`. Both axes are turns, turn 1
    at the bottom left; a bright diagonal band means the same message over and over, a bright
    off-diagonal line a return to an earlier passage, a checkerboard a ping-pong.
    """
    if ax is None:
        _, (ax,) = new_figure(1, panel_size=(4.8, 4.2))
    turns = matrix.index.to_numpy()
    lo, hi = (turns.min() - 0.5, turns.max() + 0.5) if len(turns) else (0, 1)
    image = ax.imshow(matrix.to_numpy(dtype=float), origin="lower", cmap=cmap, vmin=0, vmax=1,
                      interpolation="nearest", extent=(lo, hi, lo, hi))
    ax.set_xlabel("turn (message index)")
    ax.set_ylabel("turn (message index)")
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(title if title is not None else "Recurrence plot", fontsize=8)
    if colorbar:
        ax.figure.colorbar(image, ax=ax, label=_SIMILARITY_LABEL, shrink=0.8)
    return ax


def plot_recurrence_grid(
    matrices: Mapping[str, pd.DataFrame], *, states: pd.DataFrame | None = None, ncols: int = 3,
    cmap: str = "viridis",
) -> Figure:
    """Recurrence plots of several conversations, one panel each, with one colour bar.

    ``matrices`` maps conversation ids to :func:`q7x2_lib.attractors.recurrence_matrix`
    results; with ``states`` (:func:`q7x2_lib.attractors.end_states`) each title names the
    conversation's end state.
    """
    if not matrices:
        raise ValueError("matrices: got none; pass {conversation_id: recurrence_matrix(...)}")
    labels = {} if states is None else dict(zip(states["conversation_id"], states["end_state"],
                                               strict=True))
    fig, axes = new_figure(len(matrices), ncols=ncols, panel_size=(3.8, 3.8))
    for ax, (cid, matrix) in zip(axes, matrices.items(), strict=True):
        name = "\n".join(cid[i : i + 34] for i in range(0, len(cid), 34))  # long ids wrap
        title = name if cid not in labels else f"{name}\n{labels[cid]}"
        plot_recurrence(matrix, ax=ax, title=title, cmap=cmap, colorbar=False)
    image = axes[0].images[0]
    fig.colorbar(image, ax=axes, label=_SIMILARITY_LABEL, shrink=0.6)
    fig.suptitle("Recurrence plots: how similar each message is to every other")
    return fig


def plot_repeat_share_by_turn(shares: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Share of messages at each turn that repeat a recent one, exactly or nearly.

    ``shares`` is :func:`q7x2_lib.attractors.repeat_share_by_turn`.
    """
    if ax is None:
        _, (ax,) = new_figure(1, panel_size=(8, 3.6))
    ax.plot(shares["turn"], shares["share_near"], color=PALETTE[0], linewidth=1.5,
            marker="o", markersize=2.5, label="near or exact repeat")
    ax.plot(shares["turn"], shares["share_exact"], color=PALETTE[5], linewidth=1.2,
            linestyle="--", label="exact repeat (normal form)")
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel("turn (message index)")
    ax.set_ylabel("share of messages (0–1)")
    ax.set_title("Messages that repeat one of the last few")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    return ax


def plot_end_state_shares(shares: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Horizontal bars: share of conversations in each end state, annotated with counts.

    ``shares`` is :func:`q7x2_lib.attractors.end_state_shares` without ``by``; states are
    drawn in rule order, top to bottom.
    """
    if ax is None:
        _, (ax,) = new_figure(1, panel_size=(7, 3.6))
    y = np.arange(len(shares))
    colours = [PALETTE[i % len(PALETTE)] for i in range(len(shares))]
    ax.barh(y, shares["share"] * 100, color=colours)
    ax.set_yticks(y, labels=[str(s) for s in shares["end_state"]])
    ax.invert_yaxis()
    for yi, pct, n in zip(y, shares["share"] * 100, shares["n_conversations"], strict=True):
        ax.annotate(f" {n}", (pct, yi), va="center", fontsize=8)
    total = int(shares["n_conversations"].sum())
    ax.set_xlim(0, max(100.0, float((shares["share"] * 100).max()) * 1.1))
    ax.set_xlabel("share of conversations (%)")
    ax.set_title(f"Where conversations end up (n = {total}; bar labels: counts)")
    return ax


def plot_end_state_by_pair(
    shares: pd.DataFrame, *, ax: Axes | None = None, cmap: str = "viridis"
) -> Axes:
    """Heatmap of end-state shares per model pair, each cell annotated with its count.

    ``shares`` is :func:`q7x2_lib.attractors.end_state_shares` with ``by="model_pair"``.
    """
    share = shares.pivot_table(index="model_pair", columns="end_state", values="share",
                               observed=False, sort=False).fillna(0.0)
    count = shares.pivot_table(index="model_pair", columns="end_state",
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

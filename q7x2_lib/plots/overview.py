"""The overview figure: words per message along every conversation."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.colors import SymLogNorm
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ._base import (
    apply_length_scale,
    left_out,
    new_figure,
    panel_conversations,
    plot_function,
    speaker_palette,
)

__all__ = ["plot_words_per_message"]


@plot_function("messages")
def plot_words_per_message(
    data: pd.DataFrame, *, max_panels: int = 12, include_seed: bool = False, ncols: int = 2,
    **kwargs,
) -> Figure:
    """Words per message by turn, for every conversation.

    Up to ``max_panels`` conversations: one panel each, a line per speaker on a symlog axis that
    keeps empty data at 0. More: one raster, a row per conversation (longest first), colour
    for words, so hundreds of conversations stay visible at once.
    """
    m = data if include_seed else data[~data["is_seed"]]
    ids = list(dict.fromkeys(m["conversation_id"]))
    if len(ids) <= max_panels:
        shown, single = panel_conversations(m)
        return _panels(m, shown, ncols, single)
    return _raster(m, ids)


def _panels(m: pd.DataFrame, ids: list[str], ncols: int, single: int = 0) -> Figure:
    fig, axes = new_figure(len(ids), ncols=ncols, sharey=True)
    top = float(m["n_words"].max()) if len(m) else 1.0
    for ax, cid in zip(axes, ids, strict=True):
        conv = m[m["conversation_id"] == cid]
        colours = speaker_palette(conv["speaker"], sort=False)
        for speaker, part in conv.groupby("speaker", sort=False):
            ax.plot(part["turn"], part["n_words"], marker="o", markersize=2.5, linewidth=1,
                    color=colours[speaker], label=speaker)
        apply_length_scale(ax, top=top)
        ax.set_xlim(-0.5, max(1, int(conv["turn"].max())) + 0.5)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(cid, fontsize=9)
        ax.set_xlabel("turn (message index)")
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    fig.suptitle(f"Words per message along each conversation{left_out(single)}")
    return fig


def _raster(m: pd.DataFrame, ids: list[str]) -> Figure:
    grid = m.pivot_table(index="conversation_id", columns="turn", values="n_words", aggfunc="sum")
    grid = grid.loc[grid.notna().sum(axis=1).sort_values(ascending=False, kind="stable").index]
    fig, (ax,) = new_figure(1, panel_size=(9, max(3.0, min(12.0, 0.02 * len(ids) + 3))))
    image = ax.imshow(np.ma.masked_invalid(grid.to_numpy(dtype=float)), aspect="auto",
                      interpolation="nearest", cmap="viridis",
                      norm=SymLogNorm(linthresh=1, vmin=0, vmax=max(1.0, float(np.nanmax(grid)))))
    ax.set_xlabel("turn (message index)")
    ax.set_ylabel(f"conversation (n = {len(ids)}, longest first)")
    ax.set_yticks([])
    ax.set_title("Words per message along every conversation")
    fig.colorbar(image, ax=ax, label="length (words)")
    return fig

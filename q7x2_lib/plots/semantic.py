"""Figures of meaning: trajectories in embedding space, basins, time to attractor, information."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ._base import PALETTE, new_figure, plot_function, wrap_id

__all__ = ["plot_basin_shares", "plot_basin_transitions", "plot_information_rate",
           "plot_semantic_trajectories", "plot_time_to_event"]


def _more(k: int, noun: str) -> str:
    return f"\n({k} more {noun}{'s' * (k != 1)} not shown)" if k > 0 else ""


def _pick_path(g: pd.DataFrame, highlight: Sequence[str] | None) -> str | None:
    ids = list(dict.fromkeys(g["conversation_id"].astype(str)))
    if highlight is not None:
        chosen = [c for c in highlight if c in ids]
        return chosen[0] if chosen else None
    sizes = g.dropna(subset=["x"]).groupby(g["conversation_id"].astype(str)).size()
    return None if sizes.empty else str(sizes.sort_index().idxmax())


@plot_function()
def plot_semantic_trajectories(
    data: pd.DataFrame, *, highlight: Sequence[str] | None = None, max_panels: int = 12,
    ncols: int = 3, **kwargs,
) -> Figure:
    """Every message as a point in the corpus's first two principal components, coloured by how
    far into its run it is, one panel per model pair, with one conversation's path drawn.

    ``data`` is :func:`q7x2_lib.semantic_trajectories`. ``highlight`` lists conversations to
    draw as paths (the first in each panel's pair); by default each panel draws its longest
    conversation. At most ``max_panels`` pairs, the ones with most messages.
    """
    d = data.dropna(subset=["x", "y"])
    pairs = d["model_pair"].astype(str)
    order = pairs.value_counts().sort_index().sort_values(ascending=False, kind="stable")
    shown = list(order.index[:max_panels])
    fig, axes = new_figure(len(shown), ncols=ncols, panel_size=(4.2, 3.6), sharex=True,
                           sharey=True)
    explained = data.attrs.get("explained", [np.nan, np.nan])
    points = None
    for ax, pair in zip(axes, shown, strict=True):
        g = d[pairs == pair]
        points = ax.scatter(g["x"], g["y"], c=g["position"], cmap="cividis", vmin=0, vmax=1,
                            s=9, alpha=0.8, linewidths=0, zorder=2)
        cid = _pick_path(g, highlight)
        if cid is not None:
            path = g[g["conversation_id"].astype(str) == cid].sort_values("turn")
            ax.plot(path["x"], path["y"], color=PALETTE[5], linewidth=0.7, alpha=0.55, zorder=1)
            ax.scatter(path["x"].iloc[:1], path["y"].iloc[:1], marker="o", s=36,
                       facecolors="white", edgecolors=PALETTE[5], zorder=3)
            ax.scatter(path["x"].iloc[-1:], path["y"].iloc[-1:], marker="X", s=46,
                       color=PALETTE[5], zorder=3)
        n_conv = g["conversation_id"].nunique()
        title = (f"{pair}\n{n_conv} conversation{'s' * (n_conv != 1)}, {len(g)} "
                 f"message{'s' * (len(g) != 1)}")
        ax.set_title(title + (f"\npath: {wrap_id(cid, 40)}" if cid else ""), fontsize=8)
        ax.set_xlabel(f"PC1 ({explained[0]:.0%} of variance)")
        ax.set_ylabel(f"PC2 ({explained[1]:.0%} of variance)")
    if points is not None:
        fig.colorbar(points, ax=axes, shrink=0.6,
                     label="position in the run (0 = first message, 1 = last)")
    n_pairs = len(order)
    fig.suptitle("Where conversations go in meaning: messages in the first two principal "
                 "components\n(path: one run, ○ start, ✕ end)"
                 + _more(n_pairs - len(shown), "model pair"))
    return fig


@plot_function()
def plot_basin_shares(data: pd.DataFrame, *, ax: Axes | None = None, **kwargs) -> Axes:
    """Share of each model pair's runs that end in each basin, with bootstrap intervals.

    ``data`` is :func:`q7x2_lib.basin_shares` (by ``model_pair``).
    """
    by = data.columns[0]
    groups = list(dict.fromkeys(data[by].astype(str)))
    basins = data[["basin", "basin_name"]].drop_duplicates().sort_values("basin")
    if ax is None:
        _, (ax,) = new_figure(1, panel_size=(7.5, (0.12 * max(len(basins), 2) + 0.1)
                                              * len(groups) + 1.8))
    k = len(basins)
    step = 0.8 / max(k, 1)
    n_of = data.drop_duplicates(by).set_index(data.drop_duplicates(by)[by].astype(str))["n"]
    for j, (basin, name) in enumerate(basins.itertuples(index=False)):
        g = data[data["basin"] == basin].set_index(data.loc[data["basin"] == basin, by]
                                                   .astype(str)).reindex(groups)
        y = np.arange(len(groups)) + (j - (k - 1) / 2) * step
        colour = PALETTE[j % len(PALETTE)]
        ax.errorbar(g["share"] * 100, y, xerr=[(g["share"] - g["ci_low"]).clip(lower=0) * 100,
                                               (g["ci_high"] - g["share"]).clip(lower=0) * 100],
                    fmt="o", color=colour, markersize=4, capsize=2, linewidth=1,
                    label=f"{basin} · {name}")
    ax.set_yticks(np.arange(len(groups)),
                  labels=[f"{grp} (n={int(n_of.get(grp, 0))})" for grp in groups])
    ax.invert_yaxis()
    ax.set_xlim(-3, 103)
    ax.set_xlabel("share of the pair's runs ending in the basin (%, 95% bootstrap interval)")
    ax.set_ylabel(str(by).replace("_", " "))
    ax.set_title("Which basin each model pair's runs end in")
    ax.legend(title="basin (its most distinctive words)", loc="upper left",
              bbox_to_anchor=(1.0, 1.0), fontsize=8)
    return ax


@plot_function()
def plot_basin_transitions(data: pd.DataFrame, *, ax: Axes | None = None, cmap: str = "cividis",
                           **kwargs) -> Axes:
    """Early → late: how many runs start near each basin (rows) and end in each (columns).

    ``data`` is :func:`q7x2_lib.basin_transitions`.
    """
    counts = data.to_numpy(dtype=float)
    if ax is None:
        _, (ax,) = new_figure(1, panel_size=(1.3 * counts.shape[1] + 4.5,
                                              0.6 * counts.shape[0] + 2.2))
    rows = counts.sum(axis=1, keepdims=True)
    share = np.divide(counts, rows, out=np.zeros_like(counts), where=rows > 0)
    image = ax.imshow(share * 100, cmap=cmap, vmin=0, vmax=100, aspect="auto",
                      interpolation="nearest")
    for (i, j), n in np.ndenumerate(counts.astype(int)):
        ax.text(j, i, str(n), ha="center", va="center", fontsize=8,
                color="black" if share[i, j] > 0.6 else "white")
    ax.set_xticks(np.arange(counts.shape[1]), labels=[str(c) for c in data.columns],
                  rotation=25, ha="right")
    ax.set_yticks(np.arange(counts.shape[0]), labels=[str(r) for r in data.index])
    ax.set_xlabel("basin the run ends in (last messages)")
    ax.set_ylabel("basin nearest its opening messages")
    ax.figure.colorbar(image, ax=ax, label="share of the row's runs (%)")
    ax.set_title(f"From opening to end, in basins (cell labels: runs; n = {int(counts.sum())})")
    return ax


@plot_function()
def plot_time_to_event(
    data: pd.DataFrame, *, events: Sequence[str] | None = None, max_groups: int = 6,
    ncols: int = 2, **kwargs,
) -> Figure:
    """Kaplan–Meier curves: share of runs that have not yet reached each event, by messages
    into the run, one panel per event, a line per group with its confidence band.

    ``data`` is :func:`q7x2_lib.kaplan_meier`. At most ``max_groups`` groups per panel, those
    with most runs; ticks on a curve mark runs censored there (they ended first).
    """
    events = list(dict.fromkeys(data["event"].astype(str))) if events is None else list(events)
    fig, axes = new_figure(len(events), ncols=ncols, panel_size=(5.4, 3.4), sharey=True)
    for ax, event in zip(axes, events, strict=True):
        d = data[data["event"].astype(str) == event]
        sizes = d[d["messages"] == 0].set_index(d.loc[d["messages"] == 0, "group"]
                                                 .astype(str))["at_risk"]
        ranked = sizes.sort_index().sort_values(ascending=False, kind="stable")
        groups = list(ranked.index[:max_groups])
        for j, grp in enumerate(groups):
            g = d[d["group"].astype(str) == grp].sort_values("messages")
            colour = PALETTE[j % len(PALETTE)]
            reached = int(g["reached"].sum())
            ax.step(g["messages"], g["survival"] * 100, where="post", color=colour,
                    linewidth=1.4, label=f"{grp} (n={int(ranked[grp])}, reached {reached})")
            ax.fill_between(g["messages"], g["ci_low"] * 100, g["ci_high"] * 100, step="post",
                            color=colour, alpha=0.15, linewidth=0)
            cens = g[g["censored"] > 0]
            ax.plot(cens["messages"], cens["survival"] * 100, "|", color=colour, markersize=6)
        ax.set_ylim(-3, 103)
        ax.set_xlabel("messages into the run")
        ax.set_ylabel("runs not yet there (%)")
        ax.set_title(f"time to {event}" + _more(len(ranked) - len(groups), "group"), fontsize=9)
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7)
    fig.suptitle("Time to attractor (Kaplan–Meier, 95% bands; | = run ended first, censored)")
    return fig


@plot_function()
def plot_information_rate(data: pd.DataFrame, *, ax: Axes | None = None, max_groups: int = 6,
                          **kwargs) -> Axes:
    """New information per message by turn: the median gain in compressed size (bits), a line
    per model with its bootstrap interval, on a symmetric log scale.

    ``data`` is :func:`q7x2_lib.information_curve` (``value="gain_bits"``).
    """
    by = data.columns[0]
    if ax is None:
        _, (ax,) = new_figure(1, panel_size=(8.5, 3.8))
    totals = data.groupby(data[by].astype(str))["n_conversations"].max()
    ranked = totals.sort_index().sort_values(ascending=False, kind="stable")
    groups = list(ranked.index[:max_groups])
    for j, grp in enumerate(groups):
        g = data[data[by].astype(str) == grp].sort_values("turn")
        colour = PALETTE[j % len(PALETTE)]
        ax.plot(g["turn"], g["median"], color=colour, linewidth=1.3,
                label=f"{grp} ({int(ranked[grp])} conversations)")
        ax.fill_between(g["turn"], g["ci_low"], g["ci_high"], color=colour, alpha=0.15,
                        linewidth=0)
    ax.set_yscale("symlog", linthresh=10)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("turn (message index; first turn of each bin)")
    ax.set_ylabel("new information per message\n(bits, zlib gain; symlog)")
    ax.set_title("How much each message adds to what was already said (median, 95% interval)"
                 + _more(len(ranked) - len(groups), "model"), fontsize=9)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    return ax

"""Turn-taking figures: word shares, reply ratios, mirroring and echo vs shuffles, model matrix."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, MaxNLocator

from .._core.schema import tested_statistic
from ._base import new_figure, plot_function, speaker_palette
from .length import _LEGEND, _X_LABELS, ROLE_COLOURS, _draw_bands, choose_view

__all__ = ["plot_against_baseline", "plot_model_matrix", "plot_reply_ratio", "plot_word_share"]

_VALUE_LABELS = {
    "rho": "Spearman rho, message length vs reply length",
    "rho_detrended": "Spearman rho, message vs reply length, each series detrended",
    "echo": "share of a reply's content words found in the message it answers",
    "opener_share": "opener's share of the words",
    "collapse_turn": "collapse turn (median)",
}
_REPLY_LABELS = {"opener": "opener replying", "responder": "responder replying"}
_VALUE_TICKS = {"rho": [-1, -0.5, 0, 0.5, 1], "echo": [0, 0.25, 0.5, 0.75, 1]}


@plot_function("shares")
def plot_word_share(data: pd.DataFrame, *, max_panels: int = 12, ax: Axes | None = None, **kwargs,
                    ) -> Axes:
    """Who writes the words: each conversation split between its speakers, or the distribution.

    Parameters
    ----------
    data
        The output of ``word_share``.

    A few conversations: one stacked bar each (opener first), the opener's 95% bootstrap interval
    as a whisker on the boundary. Many: a histogram of the opener's share.
    """
    ids = list(dict.fromkeys(data["conversation_id"]))
    panels = choose_view(len(ids), max_panels=max_panels) == "panels"
    if ax is None:
        _, (ax,) = new_figure(1, panel_size=(8, 0.6 * len(ids) + 1.5 if panels else 3.4))
    opener = data.loc[data["role"] == "opener"].set_index("conversation_id")
    if panels:
        _share_bars(ax, data, ids)
        ax.set_title(f"Share of the words written by each speaker, {_n(len(ids))}")
    else:
        shares = opener["share"].dropna()
        ax.hist(shares, bins=np.linspace(0, 1, 21), color=ROLE_COLOURS["opener"])
        ax.set_xlabel("opener's share of the words (0: the responder wrote them all)")
        ax.set_ylabel("conversations")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(f"The opener's share of the words, {_n(len(shares), 'two-speaker')}")
    ax.axvline(0.5, color="0.3", linestyle="--", linewidth=1, label="equal shares (0.5)")
    ax.set_xlim(0, 1)
    ax.legend(**_LEGEND)
    return ax


def _n(k: int, kind: str = "") -> str:
    """"1 conversation", "12 two-speaker conversations"."""
    return f"{k:,} {kind + ' ' if kind else ''}conversation{'' if k == 1 else 's'}"


def _share_bars(ax: Axes, shares: pd.DataFrame, ids: list[str]) -> None:
    colours = speaker_palette(shares["speaker"])
    for row, cid in enumerate(ids):
        left = 0.0
        conv = shares.loc[shares["conversation_id"] == cid].sort_values("role", kind="stable")
        for _, part in conv.iterrows():
            share = 0.0 if pd.isna(part["share"]) else float(part["share"])
            ax.barh(row, share, left=left, color=colours[part["speaker"]], height=0.5)
            if share > 0.12:
                ax.text(left + share / 2, row, f"{part['speaker']} {share:.2f}", ha="center",
                        va="center", fontsize=7, color="white")
            left += share
        first = conv.iloc[0]
        if pd.notna(first["share_low"]):
            # Drawn just under the bar, so it does not cross the names.
            ax.errorbar(first["share"], row + 0.36, xerr=[[first["share"] - first["share_low"]],
                                                         [first["share_high"] - first["share"]]],
                        color="black", capsize=3, linewidth=1, fmt="|")
        if "few_effective" in conv and conv["few_effective"].fillna(False).astype(bool).any():
            ax.annotate("few effective messages", (1, row + 0.36),
                        xycoords=("axes fraction", "data"), xytext=(-4, 0),
                        textcoords="offset points", ha="right", va="center", fontsize=7,
                        color="0.3")
    ax.set_yticks(range(len(ids)), ids, fontsize=8)
    ax.set_ylim(len(ids) - 0.5, -0.5)
    ax.set_xlabel("share of the words (opener first; whisker: 95% block-bootstrap interval)")


@plot_function("ratios")
def plot_reply_ratio(
    data: pd.DataFrame, profile: pd.DataFrame, *, max_panels: int = 12, ncols: int = 2, **kwargs,
) -> Figure:
    """log2 of reply length over the length answered, along the conversation.

    Parameters
    ----------
    data
        The output of ``reply_length_ratio``: drawn per conversation when it holds at most
        ``max_panels`` conversations.
    profile
        The output of ``reply_ratio_profile``: the corpus median and IQR by the replier's role,
        drawn for larger corpora.
    """
    ids = list(dict.fromkeys(data["conversation_id"]))
    if choose_view(len(ids), max_panels=max_panels) == "aggregate":
        fig, (ax,) = new_figure(1, panel_size=(7, 3.6))
        x = "turn" if "turn" in profile.columns else "relative_position"
        _draw_bands(ax, profile, x=x, hue="role", estimate="median", labels=_REPLY_LABELS)
        ax.set_xlabel(_X_LABELS[x])
        ax.set_title(f"Reply length over length answered, {len(ids)} conversations\n"
                     "(median and interquartile range)")
        _ratio_axis(ax)
        return fig
    fig, axes = new_figure(max(1, len(ids)), ncols=ncols, sharey=True)
    for ax, cid in zip(axes, ids, strict=False):
        conv = data.loc[data["conversation_id"] == cid]
        colours = speaker_palette(conv["speaker"], sort=False)
        for speaker, part in conv.groupby("speaker", sort=False):
            ax.plot(part["turn"], part["log2_ratio"], marker="o", markersize=2.5, linewidth=1,
                    color=colours[speaker], label=f"{speaker} replying")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel(_X_LABELS["turn"])
        ax.set_title(str(cid), fontsize=9)
        _ratio_axis(ax)
    fig.suptitle("Reply length over the length of the message answered")
    return fig


def _ratio_axis(ax: Axes) -> None:
    ax.axhline(0, color="0.3", linestyle="--", linewidth=1)
    ax.set_ylabel("log2((1 + reply) / (1 + answered))")
    ax.legend(**_LEGEND)


@plot_function("table")
def plot_against_baseline(
    data: pd.DataFrame, *, value: str | None = None, max_panels: int = 12,
    ax: Axes | None = None, **kwargs,
) -> Axes:
    """An observed statistic per direction beside its baseline (the null it is tested against).

    Parameters
    ----------
    data
        The output of ``mirroring`` or ``lexical_echo``.
    value
        The statistic drawn; by default the one the baseline and p-value are of:
        ``"rho_detrended"`` for ``mirroring`` (``"rho"`` under ``null="permutation"``),
        ``"echo"`` for ``lexical_echo``. Drawing another against this baseline is refused.

    A few conversations: a row per direction, the observed value as a dot, the baseline's mean
    and 95% interval in grey. Many: histograms of the observed value by the replier's role over
    the grey histogram of the baseline means.
    """
    null = str(data["null"].iloc[0]) if "null" in data and len(data) else "permutation"
    tested = tested_statistic(data)
    value = tested if value is None else value
    if value not in data.columns:
        raise ValueError(f"value: got {value!r}; expected a column of data: 'rho_detrended' "
                         "(mirroring) or 'echo' (lexical_echo)")
    if "null" in data and value != tested:
        raise ValueError(f"value: got {value!r}, but the baseline of this table is of "
                         f"{tested!r}: draw {tested!r}")
    kind = "circularly shifted" if null == "shift" else "shuffled"
    n_conversations = data["conversation_id"].nunique()
    panels = choose_view(n_conversations, max_panels=max_panels) == "panels"
    if ax is None:
        _, (ax,) = new_figure(1, panel_size=(10, 0.4 * len(data) + 1.4) if panels else (8, 3.6))
    if panels:
        _baseline_rows(ax, data, value, kind)
    else:
        _baseline_histograms(ax, data, value, kind)
    ax.set_title(f"{'Lexical echo' if value == 'echo' else 'Mirroring'} against {kind} replies, "
                 f"{_n(n_conversations)}")
    ax.xaxis.set_major_locator(FixedLocator(_VALUE_TICKS["echo" if value == "echo" else "rho"]))
    if ax.get_legend_handles_labels()[0]:
        ax.legend(**_LEGEND)
    else:  # every direction too short for the statistic: say so instead of an empty frame
        ax.text(0.5, 0.5, "no direction has enough exchanges for a value", ha="center",
                va="center", transform=ax.transAxes, color="0.3")
    return ax


def _baseline_rows(ax: Axes, table: pd.DataFrame, value: str, kind: str) -> None:
    y = np.arange(len(table))
    ax.hlines(y, table["baseline_low"], table["baseline_high"], color="0.6", linewidth=4,
              label=f"{kind}: 95% interval")
    ax.plot(table["baseline_mean"], y, "|", color="0.3", markersize=10, label=f"{kind}: mean")
    for role, colour in ROLE_COLOURS.items():
        part = table["role"].eq(role).to_numpy(bool)
        ax.plot(table.loc[part, value], y[part], "o", color=colour, label=_REPLY_LABELS[role])
    labels = [f"{c} · {s} replying to {r}" for c, s, r in zip(
        table["conversation_id"], table["speaker"], table["replying_to"], strict=True)]
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_ylim(len(table) - 0.5, -0.5)
    ax.set_xlim(*((-0.02, 1.02) if value == "echo" else (-1.05, 1.05)))
    ax.set_xlabel(_VALUE_LABELS[value])


def _baseline_histograms(ax: Axes, table: pd.DataFrame, value: str, kind: str) -> None:
    """Observed values by role as count histograms over the baseline's band.

    The band runs from the median lower to the median upper end of the directions' 95%
    baseline intervals: where an observed value lies outside it, that direction beats its null.
    A histogram of the baseline replicates would be a spike near zero that dwarfs the data.
    """
    bins = np.linspace(0, 1, 41) if value == "echo" else np.linspace(-1, 1, 41)
    valid = table[value].notna()
    low, high = (table.loc[valid, c].dropna() for c in ("baseline_low", "baseline_high"))
    if len(low) and len(high):
        ax.axvspan(float(low.median()), float(high.median()), color="0.85", linewidth=0,
                   label=f"{kind}: 95% range\n(median over {len(low):,} directions)")
    for role, colour in ROLE_COLOURS.items():
        part = table.loc[table["role"] == role, value].dropna()
        if len(part):
            ax.hist(part, bins=bins, histtype="step", linewidth=1.8, color=colour,
                    label=f"{_REPLY_LABELS[role]} (n = {len(part):,})")
    ax.set_xlim(bins[0], bins[-1])
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(_VALUE_LABELS[value])
    ax.set_ylabel("directions")


@plot_function("matrix")
def plot_model_matrix(
    data: pd.DataFrame, *, value: str = "opener_share", count: str | None = None,
    ax: Axes | None = None, cmap: str | None = None, **kwargs,
) -> Axes:
    """Heatmap of a model-pair statistic: row = model that opened, column = model that answered.

    Parameters
    ----------
    data
        The output of ``model_matrix``.
    value
        ``"opener_share"`` (diverging colours centred on 0.5) or ``"collapse_turn"``.
    count
        Column annotated as ``n=`` under each value; defaults to ``n_conversations`` for the
        share and ``n_collapsed`` for the collapse turn.
    cmap
        Colour map; defaults to ``"PuOr_r"`` for the share and ``"viridis"`` otherwise (both
        readable with the common colour-vision deficiencies).
    """
    if value not in ("opener_share", "collapse_turn"):
        raise ValueError(f"value: got {value!r}; expected 'opener_share' or 'collapse_turn'")
    count = count or ("n_conversations" if value == "opener_share" else "n_collapsed")
    grid = data.pivot(index="opener", columns="responder", values=value).astype(float)
    counts = data.pivot(index="opener", columns="responder", values=count)
    if ax is None:
        side = max(3.5, 0.9 * max(grid.shape) + 2)
        _, (ax,) = new_figure(1, panel_size=(side + 1.5, side))
    share = value == "opener_share"
    norm = TwoSlopeNorm(0.5, 0, 1) if share else None
    mesh = ax.pcolormesh(np.ma.masked_invalid(grid.to_numpy()), cmap=cmap or (
        "PuOr_r" if share else "viridis"), norm=norm, edgecolors="white", linewidth=0.5)
    for (i, j), n in np.ndenumerate(counts.to_numpy()):
        ax.text(j + 0.5, i + 0.5, _cell(grid.iloc[i, j], n, ".2f" if share else ".1f"),
                ha="center", va="center", fontsize=7, color=_text_colour(mesh, grid.iloc[i, j]))
    ax.set_xticks(np.arange(grid.shape[1]) + 0.5, grid.columns, rotation=90)
    ax.set_yticks(np.arange(grid.shape[0]) + 0.5, grid.index)
    ax.set_xlim(0, grid.shape[1])
    ax.set_ylim(grid.shape[0], 0)
    finite = np.unique(grid.to_numpy()[np.isfinite(grid.to_numpy())])
    if len(finite) >= 2:
        ax.figure.colorbar(mesh, ax=ax, label=_VALUE_LABELS[value])
    ax.set_xlabel("model that answered")
    ax.set_ylabel("model that opened")
    single = "" if len(finite) >= 2 else (
        "\n(one value in the cells: no colour scale)" if len(finite) else
        "\n(no conversation collapses)" if value == "collapse_turn" else "\n(no values)")
    total = int(data["n_conversations"].sum()) if "n_conversations" in data else len(data)
    ax.set_title(f"{_VALUE_LABELS[value].capitalize()} by model pair (n = count), "
                 f"{_n(total)}{single}")
    return ax


def _text_colour(mesh, val: float) -> str:
    """Black on light cells, white on dark ones."""
    if np.isnan(val):
        return "black"
    r, g, b, _ = mesh.cmap(mesh.norm(val))
    return "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.5 else "white"


def _cell(val: float, n: object, fmt: str) -> str:
    if pd.isna(n):
        return ""
    return f"n={int(n)}" if np.isnan(val) else f"{val:{fmt}}\nn={int(n)}"

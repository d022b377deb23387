"""Shared plotting machinery: theme, colour-blind-safe palettes, the length scale, saving."""

from __future__ import annotations

import functools
import inspect
import os
import re
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

import matplotlib as mpl
import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.text import Text

from .._core.paths import resolve_path

__all__ = [
    "FIGURE_FORMATS",
    "FORMATS",
    "plot_function",
    "new_figure",
    "PALETTE",
    "apply_length_scale",
    "save_figure",
    "set_theme",
    "speaker_palette",
]

# Okabe & Ito (2008): distinguishable under the common colour-vision deficiencies.
PALETTE = (
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000",
)
FIGURE_FORMATS = ("png", "svg")
#: The old name of ``FIGURE_FORMATS`` (``q7.FORMATS``), kept for calls written before.
FORMATS = FIGURE_FORMATS
F = TypeVar("F", bound=Callable)
_RC = {
    "svg.hashsalt": "q7x2",  # fixed ids in SVG output, so files only change when the figure does
    "svg.fonttype": "none",
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "axes.titleweight": "bold",
    "legend.frameon": False,
    # Transcript text (names, titles, words) is drawn as written: "$5 and $10" is not math.
    "text.parse_math": False,
}
_LITERAL = {"text.parse_math": False}


def set_theme() -> None:
    """Apply the house look (seaborn ticks style, Okabe-Ito colours, deterministic SVG ids)."""
    sns.set_theme(style="ticks", palette=list(PALETTE), rc=_RC)
    mpl.rcParams.update(_RC)


def speaker_palette(speakers: Iterable[str], *, sort: bool = True) -> dict[str, str]:
    """Map each distinct speaker to an Okabe-Ito colour.

    Sorted names (the default) give every model the same colour in every figure of a run;
    ``sort=False`` keeps the order given, so a conversation's two speakers get the two most
    distinct colours (blue and orange).
    """
    names = list(dict.fromkeys(str(s) for s in speakers))
    names = sorted(names) if sort else names
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}


def apply_length_scale(
    ax: Axes, axis: str = "y", *, unit: str = "words", top: float | None = None
) -> Axes:
    """Put a message-length axis on a symmetric-log scale that shows zero honestly.

    Lengths run from 0 (an empty message) to hundreds of words: a log scale would drop the zeros,
    a linear one would flatten everything short. ``symlog`` with a linear range below 1 keeps 0
    at its place and spreads 1, 10, 100 evenly.
    """
    setter = ax.set_yscale if axis == "y" else ax.set_xscale
    setter("symlog", linthresh=1, linscale=0.5)
    axis_obj = ax.yaxis if axis == "y" else ax.xaxis
    axis_obj.set_major_locator(mpl.ticker.FixedLocator([0, 1, 3, 10, 30, 100, 300, 1000, 3000]))
    axis_obj.set_major_formatter(mpl.ticker.StrMethodFormatter("{x:,.0f}"))
    (ax.set_ylabel if axis == "y" else ax.set_xlabel)(f"length ({unit}, symlog scale)")
    axis_obj.set_minor_locator(mpl.ticker.NullLocator())
    lim = ax.get_ylim() if axis == "y" else ax.get_xlim()
    upper = top * 1.4 if top is not None else lim[1]
    (ax.set_ylim if axis == "y" else ax.set_xlim)(-0.3, max(upper, 3))
    return ax


def save_figure(
    fig: Figure, name: str, out_dir: str | os.PathLike[str] = "figures",
    *, formats: Sequence[str] = FIGURE_FORMATS,
) -> None:
    """Write ``fig`` as ``<out_dir>/<name>.<fmt>`` for each format, byte-identical across runs.

    Relative ``out_dir`` resolves against the project root. Timestamps and software versions are
    left out of the files' metadata, so re-running on unchanged data leaves them unchanged.
    Returns nothing, so a notebook cell ending with it shows only the figure (nbval does not
    honour a trailing ``;``).
    """
    out = resolve_path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for fmt in formats:
        path = out / f"{name}.{fmt}"
        metadata = {"Software": None} if fmt == "png" else {"Date": None, "Creator": None}
        with mpl.rc_context({"svg.hashsalt": "q7x2", **_LITERAL}):
            fig.savefig(path, format=fmt, metadata=metadata, bbox_inches="tight")


def new_figure(n_panels: int = 1, *, ncols: int = 2, panel_size: tuple[float, float] = (5.5, 3.2),
               sharey: bool = False, sharex: bool = False) -> tuple[Figure, list[Axes]]:
    """A figure with ``n_panels`` axes laid out in up to ``ncols`` columns; unused axes hidden.

    With no panel to draw (nothing in the corpus to show), one panel says so and no axes are
    returned to draw into.
    """
    if n_panels < 1:
        fig, ax = plt.subplots(figsize=(6, 2.2), layout="constrained")
        ax.set_axis_off()
        ax.text(0.5, 0.5, "nothing to draw: no conversation in this corpus has what this figure "
                "shows", ha="center", va="center", transform=ax.transAxes, fontsize=10)
        return fig, []
    ncols = max(1, min(ncols, n_panels))
    nrows = -(-n_panels // ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(panel_size[0] * ncols, panel_size[1] * nrows),
        squeeze=False, sharey=sharey, sharex=sharex, layout="constrained",
    )
    flat = list(axes.ravel())
    for ax in flat[n_panels:]:
        ax.set_visible(False)
    return fig, flat[:n_panels]


def panel_conversations(data: pd.DataFrame, *, min_messages: int = 2) -> tuple[list[str], int]:
    """The conversations worth a panel of their own, in order, and how many were left out.

    A conversation with fewer than ``min_messages`` distinct turns (a letter, a run that failed
    after its opening prompt) has nothing to draw along a turn axis: its panel would be a dot on
    an axis around zero. Such conversations are left out and counted (:func:`left_out`).
    """
    turns = data.groupby("conversation_id", sort=False, observed=True)["turn"].nunique()
    keep = [str(c) for c, n in turns.items() if n >= min_messages]
    return keep, len(turns) - len(keep)


def left_out(k: int) -> str:
    """The line a figure's title gains when single-message conversations were left out."""
    if not k:
        return ""
    return f"\n({k:,} single-message conversation{'' if k == 1 else 's'} left out)"


def wrap_id(cid: str, width: int = 30) -> str:
    """A long conversation id over several lines, broken after ``_ - . /``, never mid-word."""
    parts = re.split(r"(?<=[_\-./ ])", str(cid))
    lines, line = [], ""
    for part in parts:
        if line and len(line) + len(part) > width:
            lines.append(line)
            line = ""
        line += part
    return "\n".join([*lines, line]) if line else "\n".join(lines)


def _nothing_to_draw(func: Callable, ax: Axes | None, figure_level: bool) -> Axes | Figure:
    """An empty table drawn as what it is: one panel that says there is nothing to show."""
    if ax is None:
        _, (ax,) = new_figure(1, panel_size=(6, 2.2))
    ax.set_axis_off()
    what = func.__name__.removeprefix("plot_").replace("_", " ")
    ax.text(0.5, 0.5, f"{what}: nothing to draw\n(no conversation in this corpus has what this "
            "figure shows)", ha="center", va="center", transform=ax.transAxes, fontsize=10)
    return ax.figure if figure_level else ax


def _draw_literally(fig: Figure) -> None:
    """Every text of ``fig`` drawn as written, never as mathtext, whatever rcParams say later.

    matplotlib's own log-axis labels are mathtext (``$10^{2}$``): they become plain numbers.
    """
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            if isinstance(axis.get_major_formatter(), mpl.ticker.LogFormatterMathtext):
                axis.set_major_formatter(mpl.ticker.FuncFormatter(_plain_number))
            if isinstance(axis.get_minor_formatter(), mpl.ticker.LogFormatterMathtext):
                axis.set_minor_formatter(mpl.ticker.NullFormatter())
            axis.get_major_ticks()  # make the tick labels now, so that they are covered too
    for text in fig.findobj(Text):
        text.set_parse_math(False)


def _plain_number(value: float, _pos: object = None) -> str:
    return f"{value:,.0f}" if value >= 1 else f"{value:g}"


def plot_function(old: str | None = None) -> Callable[[F], F]:
    """The one signature every ``plot_*`` follows, seaborn's: ``plot_x(data, *, ..., ax=None,
    **kwargs)``.

    ``data`` is the table drawn. Other keyword arguments are Axes properties (``title=``,
    ``xlim=``, ``ylabel=``, ...), applied with ``Axes.set`` after drawing: to the Axes an
    axes-level function returns, or to every panel of the Figure a multi-panel one returns. A
    call that still names the first argument ``old=`` (its name before the rename) keeps
    working, with a ``DeprecationWarning``.
    """
    def decorate(func: F) -> F:
        signature = inspect.signature(func)
        params = {name for name, p in signature.parameters.items()
                  if p.kind is not inspect.Parameter.VAR_KEYWORD}
        figure_level = "Figure" in str(signature.return_annotation)

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            if old is not None and old in kwargs:
                if args or "data" in kwargs:
                    raise TypeError(f"{func.__name__}(): got the data twice, as data and {old}=")
                warnings.warn(f"{func.__name__}({old}=...) is now {func.__name__}(data=...)",
                              DeprecationWarning, stacklevel=2)
                kwargs["data"] = kwargs.pop(old)
            props = {k: kwargs.pop(k) for k in list(kwargs) if k not in params}
            data = args[0] if args else kwargs.get("data")
            with mpl.rc_context(_LITERAL):
                if data is not None and len(data) == 0:
                    out = _nothing_to_draw(func, kwargs.get("ax"), figure_level)
                else:
                    out = func(*args, **kwargs)
                axes = out.axes if isinstance(out, Figure) else [out]
                for ax in axes:
                    if props and ax.get_visible() and ax.get_label() != "<colorbar>":
                        ax.set(**props)
                _draw_literally(out if isinstance(out, Figure) else out.figure)
            return out
        return wrapper  # type: ignore[return-value]
    return decorate

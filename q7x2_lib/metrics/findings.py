"""Findings in words, computed from the metric tables: what a notebook says about its corpus.

A finding is a Markdown sentence built from the numbers of the tables it is given, so a notebook
that displays it says what is true of the corpus it ran on (n included), never of the seeds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._core.schema import tested_statistic
from .._core.validate import require_columns
from .dependence import MIN_EFFECTIVE

__all__ = ["Findings", "describe_baseline", "describe_decay", "describe_word_share"]

#: Conversations (or directions) listed one by one in a finding; more are summarised.
MAX_LISTED = 6


class Findings(str):
    """A Markdown text that a notebook displays as Markdown (its plain text is the same)."""

    def _repr_markdown_(self) -> str:
        return str(self)

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        printer.text(str(self))


def _pct(k: int, n: int) -> str:
    return f"{k} of {n} ({100 * k / n:.0f}%)" if n else "0"


def _n(k: int, word: str) -> str:
    return f"{k} {word}" if k == 1 else f"{k} {word}s"


def _md(text: str) -> str:
    """Transcript text shown literally in Markdown: no emphasis, code, links or HTML."""
    out = " ".join(str(text).split())
    for ch in "\\`*[]<>#|$~":  # intraword "_" is literal in CommonMark
        out = out.replace(ch, "\\" + ch)
    return out


def _f(x: float, digits: int = 2) -> str:
    return "n/a" if pd.isna(x) else f"{x:.{digits}f}"


def _half(x: float) -> str:
    return "never" if np.isinf(x) else f"{x:.0f}"


def describe_decay(summary: pd.DataFrame) -> Findings:
    """What :func:`~q7x2_lib.metrics.length.length_decay_summary` (or ``decay_fit``) shows.

    How many conversations are steps rather than decays, the median half-life of the rest,
    how many intervals rest on few effective messages; each conversation when there are few.
    """
    require_columns(summary, ("conversation_id", "n_messages", "decay_rate", "half_life",
                              "half_life_low", "half_life_high", "shape", "step_turn",
                              "few_effective"), func="describe_decay")
    fitted = summary[summary["shape"].notna()]
    n_all, n = len(summary), len(fitted)
    if n == 0:
        return Findings(f"Too few messages to say how lengths change: none of the {n_all} "
                        "conversations has the ten messages a fit needs.")
    step = fitted["shape"].eq("step").to_numpy(bool)
    trend = fitted[~step]
    parts = [f"Of the {_n(n, 'conversation')} with at least ten messages"
             + (f" ({n_all - n} shorter left out)" if n_all > n else "") + ", "
             + (f"{_pct(int(step.sum()), n)} drop in a step, long messages and then short ones "
                f"from turn {_range(fitted.loc[step, 'step_turn'])}: a half-life does not "
                "describe them" if step.any() else "none drops in a single step")]
    if len(trend):
        rate = float(trend["decay_rate"].median())
        shrink = int((trend["half_life_high"].astype(float) < np.inf).sum())
        half = _half(np.log(2) / rate if rate > 0 else np.inf)
        verb = "has a decay rate" if len(trend) == 1 else "have a median decay rate"
        parts.append(f"the other {_n(len(trend), 'conversation')} {verb} of "
                     f"{rate:.3f} per turn (half-life {half} turns); in "
                     f"{_pct(shrink, len(trend))} the 95% interval rules out lengths that never "
                     "halve")
    few = int(fitted["few_effective"].fillna(False).astype(bool).sum())
    text = "; ".join(parts) + "."
    if few:
        text += (f" {_n(few, 'interval')} rest on fewer than {MIN_EFFECTIVE} effective "
                 "messages (the lengths carry over from one message to the next): read them as "
                 "rough.")
    if n <= MAX_LISTED:
        rows = []
        for r in fitted.itertuples(index=False):
            what = (f"a step at turn {r.step_turn}" if r.shape == "step" else
                    f"half-life {_half(r.half_life)} turns (95% interval "
                    f"{_half(r.half_life_low)} to {_half(r.half_life_high)})")
            rows.append(f"- `{_md(r.conversation_id)}` ({r.n_messages} messages): {what}"
                        + ("; few effective messages" if r.few_effective else ""))
        text += "\n\n" + "\n".join(rows)
    return Findings(text)


def _share(k: int, n: int, noun: str) -> str:
    """"3 of 6 directions (50%)"."""
    return f"{k} of {_n(n, noun)} ({100 * k / n:.0f}%)"


def _range(turns: pd.Series) -> str:
    t = turns.dropna().astype(int)
    if t.min() == t.max():
        return str(t.iloc[0])
    return f"{t.min()} to {t.max()} (median {int(t.median())})"


def describe_word_share(shares: pd.DataFrame) -> Findings:
    """What :func:`~q7x2_lib.metrics.turns.word_share` shows about who writes the words."""
    require_columns(shares, ("conversation_id", "speaker", "share", "share_low", "share_high",
                             "few_effective"), func="describe_word_share")
    two = shares.groupby("conversation_id").filter(
        lambda g: len(g) == 2 and g["share"].notna().all())
    convs = two["conversation_id"].nunique()
    if convs == 0:
        return Findings("No conversation with two speakers and words to share: nothing to say "
                        "about who carries it.")
    carried = two[two["share_low"] > 0.5]
    text = (f"In {_share(carried['conversation_id'].nunique(), convs, 'two-speaker conversation')}"
            " one speaker's 95% interval lies wholly above half the words; in the rest equal "
            "shares cannot be ruled out.")
    few = int(two["few_effective"].fillna(False).astype(bool).sum())
    if few:
        text += (f" {_n(few, 'share')} rest on fewer than {MIN_EFFECTIVE} effective messages.")
    if convs <= MAX_LISTED:
        rows = []
        for cid, g in two.groupby("conversation_id", sort=True):
            top = g.sort_values("share", ascending=False).iloc[0]
            rows.append(f"- `{_md(cid)}`: {_md(top['speaker'])} wrote {100 * top['share']:.0f}% "
                        f"(95% interval {100 * top['share_low']:.0f}% to "
                        f"{100 * top['share_high']:.0f}%)")
        text += "\n\n" + "\n".join(rows)
    return Findings(text)


def describe_baseline(table: pd.DataFrame) -> Findings:
    """What a :func:`~q7x2_lib.metrics.turns.mirroring` or ``lexical_echo`` table shows."""
    value = tested_statistic(table)
    require_columns(table, ("conversation_id", "speaker", "replying_to", "n_pairs", value,
                            "baseline_low", "baseline_high", "p_value"),
                    func="describe_baseline")
    clean = table[table[value].notna()]
    what = "reply lengths follow the lengths they answer" if value != "echo" else \
        "replies reuse the words of the message they answer"
    if clean.empty:
        return Findings(f"Too few exchanges to test whether {what}.")
    null = ("every circular shift of the replies against the messages they answer"
            + (", each length series detrended" if value == "rho_detrended" else "")
            if str(table["null"].iloc[0]) == "shift" else "shuffled replies")
    sig = clean["p_value"] < 0.05
    short = int((clean["n_pairs"] < 20).sum())
    text = (f"In {_share(int(sig.sum()), len(clean), 'direction')[:-1]}; a direction is one "
            f"replier answering one partner in one conversation) {what} more than under {null} "
            "(p < 0.05).")
    if short:
        text += (f" {_n(short, 'direction')} have fewer than 20 exchanges, too few for this "
                 "test to reach 0.05.")
    if len(clean) <= MAX_LISTED:
        rows = [f"- `{_md(r.conversation_id)}`, {_md(r.speaker)} replying to "
                f"{_md(r.replying_to)}: {_f(getattr(r, value))} against "
                f"{_f(r.baseline_low)} to {_f(r.baseline_high)}, p = {_f(r.p_value, 3)} "
                f"({r.n_pairs} exchanges)" for r in clean.itertuples(index=False)]
        text += "\n\n" + "\n".join(rows)
    return Findings(text)

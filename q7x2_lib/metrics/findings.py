"""Findings in words, computed from the metric tables: what a notebook says about its corpus.

A finding is a Markdown sentence built from the numbers of the tables it is given, so a notebook
that displays it says what is true of the corpus it ran on (n included), never of the seeds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._core.schema import tested_statistic
from .._core.validate import messages_seen, require_columns
from .dependence import MIN_EFFECTIVE

__all__ = [
    "Findings",
    "describe_baseline",
    "describe_basins",
    "describe_corpus",
    "describe_decay",
    "describe_end_markers",
    "describe_information_rate",
    "describe_length_profile",
    "describe_lengths",
    "describe_model_matrix",
    "describe_novelty",
    "describe_reply_ratio",
    "describe_semantic_drift",
    "describe_semantic_loops",
    "describe_similarity",
    "describe_themes",
    "describe_time_to_event",
    "describe_topics",
    "describe_who_ends",
    "describe_word_share",
    "describe_word_table",
    "in_short",
]

#: Conversations (or directions) listed one by one in a finding; more are summarised.
MAX_LISTED = 6
#: Messages a group needs in a bin before its interval is compared with another group's.
MIN_COMPARED = 5


class Findings(str):
    """A Markdown text that a notebook displays as Markdown (its plain text is the same).

    ``headline`` is the finding in one clause, for the "In short" that closes a notebook
    (:func:`in_short`); it is the text itself when none is given.
    """

    headline: str

    def __new__(cls, text: str, headline: str | None = None) -> Findings:
        self = super().__new__(cls, text)
        self.headline = headline if headline is not None else str(text).split("\n\n")[0]
        return self

    def _repr_markdown_(self) -> str:
        return str(self)

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        printer.text(str(self))


def _pct(k: int, n: int) -> str:
    if not n:
        return "0"
    pct = 100 * k / n
    return f"{k:,} of {n:,} (" + ("<1" if 0 < pct < 1 else ">99" if 99 < pct < 100 else
                                 f"{pct:.0f}") + "%)"


def _percent(k: float, n: float) -> str:
    """``k`` of ``n`` as a whole percentage that never rounds a few to 0% or most to 100%."""
    pct = 100 * float(k) / float(n) if n else 0.0
    return "<1%" if 0 < pct < 1 else ">99%" if 99 < pct < 100 else f"{pct:.0f}%"


def _n(k: int, word: str) -> str:
    if k == 1:
        return f"{k} {word}"
    return f"{k:,} {word[:-1]}ies" if word.endswith("y") and word[-2:-1] not in "aeiou" else \
        f"{k:,} {word}s"


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
        return Findings("Too few messages to say how lengths change: no conversation has the "
                        "ten messages a fit needs.", headline="too few messages for a decay fit")
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
        life = (f"half-life {half} turns" if rate > 0 else
                "no half-life: lengths do not shrink" if len(trend) == 1 else
                "no half-life: the median conversation does not shrink")
        parts.append(f"the other {_n(len(trend), 'conversation')} {verb} of "
                     f"{rate:.3f} per turn ({life}); in "
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
                    f"no half-life: lengths do not shrink (decay rate {r.decay_rate:.3f} per "
                    "turn)" if not np.isfinite(float(r.half_life)) else
                    f"half-life {_half(r.half_life)} turns (95% interval "
                    f"{_half(r.half_life_low)} to {_half(r.half_life_high)})")
            rows.append(f"- `{_md(r.conversation_id)}` ({r.n_messages} messages): {what}"
                        + ("; few effective messages" if r.few_effective else ""))
        text += "\n\n" + "\n".join(rows)
    if not len(trend):
        return Findings(text, headline=(
            "the one conversation with ten messages or more drops in a step" if n == 1 else
            f"all {_n(n, 'conversation')} with ten messages or more drop in a step"))
    how = (f"decay with a median half-life of {half} turns" if rate > 0 else
           f"do not shrink in the median (decay rate {rate:.3f} per turn)")
    if not step.any():
        head = f"the {_n(n, 'conversation')} with ten messages or more {how}"
    else:
        head = (f"{_share(int(step.sum()), n, 'conversation')} with ten messages or more drop "
                f"in a step; the other {_n(len(trend), 'conversation')} {how}")
    return Findings(text, headline=head)


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
    return Findings(text, headline=(
        f"one speaker writes most of the words, beyond its interval, in "
        f"{_share(carried['conversation_id'].nunique(), convs, 'two-speaker conversation')}"))


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
    if short == len(clean) and not sig.any():
        return Findings(f"Too few exchanges to test whether {what}: every one of the "
                        f"{_n(len(clean), 'direction')} has fewer than 20 exchanges, too few for "
                        f"a test against {null} to reach p < 0.05.",
                        headline=f"too few exchanges to test whether {what}")
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
    return Findings(text, headline=f"{what} in {_share(int(sig.sum()), len(clean), 'direction')}"
                    " (p < 0.05)")


# --- the corpus, lengths and end markers (notebooks 00 and 01) -------------------------------

def _listed(rows: list[str], n: int) -> str:
    """Per-conversation lines, when there are few enough to list."""
    return "\n\n" + "\n".join(rows) if rows and n <= MAX_LISTED else ""


def _num(x: float) -> str:
    """A length or count as a reader says it: 5, 5.5, 1,130."""
    if pd.isna(x):
        return "n/a"
    return f"{x:,.0f}" if float(x).is_integer() or abs(x) >= 100 else f"{x:,.1f}"


def describe_corpus(overview: pd.DataFrame) -> Findings:
    """What :func:`~q7x2_lib.metrics.overview.conversation_overview` shows: sizes, pairs, time."""
    require_columns(overview, ("conversation_id", "pair", "format", "n_messages", "duration_s",
                               "n_words"), func="describe_corpus")
    n = len(overview)
    if n == 0:
        return Findings("The corpus holds no readable conversation: see the problems below.",
                        headline="the corpus holds no readable conversation")
    size = overview["n_messages"].astype(int)
    one = int((size <= 1).sum())
    formats = overview["format"].astype(str).value_counts()
    fmt = ", ".join(f"{k} {_md(f)}" for f, k in formats.items())
    pairs = overview["pair"].nunique()
    text = (f"{_n(n, 'conversation')} ({fmt}), {_n(int(size.sum()), 'message')} in all"
            + (f", {_range(size)} per conversation" if n > 1 else "")
            + f", between {_n(pairs, 'model pair')} or title{'' if pairs == 1 else 's'}.")
    if one:
        text += (f" {_pct(one, n)} hold a single message: a letter, or a run that failed after "
                 "its opening prompt; they have no turn-taking to measure.")
    dur = overview["duration_s"].dropna().astype(float)
    if len(dur):
        verb = "records" if len(dur) == 1 else "record"
        text += (f" {_n(len(dur), 'file')} {verb} a duration: median {dur.median() / 60:.1f} "
                 f"minutes (range {dur.min() / 60:.1f} to {dur.max() / 60:.1f}).")
    rows = [f"- `{_md(r.conversation_id)}` ({_md(r.pair)}): {_n(r.n_messages, 'message')}, "
            f"{r.n_words:,} words" for r in overview.itertuples(index=False)]
    return Findings(text + _listed(rows, n),
                    headline=f"{_n(n, 'conversation')}, {_n(int(size.sum()), 'message')}")


def describe_lengths(messages: pd.DataFrame, *, unit: str = "words", edge: int = 10,
                     collapse_threshold: float = 5, collapse_window: int = 4) -> Findings:
    """How long the messages are at the start and the end, and which conversations collapse.

    Computed from ``messages`` with :func:`~q7x2_lib.metrics.length.early_late_ratio` and
    :func:`~q7x2_lib.metrics.length.collapse_turn` (same arguments as notebook 01's).
    """
    from .length import collapse_turn, early_late_ratio

    messages_seen(messages, func="describe_lengths", columns=("text",))  # names this function
    ratio = early_late_ratio(messages, edge=edge, unit=unit)
    collapse = collapse_turn(messages, threshold=collapse_threshold, window=collapse_window,
                             unit=unit)
    table = ratio.merge(collapse[["conversation_id", "collapse_turn"]], on="conversation_id")
    both = table[table["n_messages"] > edge]
    short = len(table) - len(both)
    if both.empty:
        return Findings(f"Too few messages to compare beginnings with ends: no conversation has "
                        f"more than {edge} messages after the opening prompt.",
                        headline="too few messages to say how lengths change")
    early, late = both["early_median"].median(), both["late_median"].median()
    shrunk = int((both["late_median"] < both["early_median"]).sum())
    text = (f"Over the {_n(len(both), 'conversation')} with more than {edge} messages"
            + (f" ({short} shorter left out)" if short else "")
            + f", the first {edge} messages have a median of {_num(early)} {unit} and the last "
            f"{edge} a median of {_num(late)} {unit} (medians of the conversations' medians); "
            f"the last are shorter than the first in {_pct(shrunk, len(both))}.")
    done = both["collapse_turn"].dropna()
    text += (f" {_pct(len(done), len(both))} collapse: from turn {_range(done)} the rolling "
             f"median of {collapse_window} messages stays at {_num(collapse_threshold)} {unit} "
             "or fewer to the end." if len(done) else
             f" None collapses into messages of {_num(collapse_threshold)} {unit} or fewer "
             "that last to the end.")
    rows = [f"- `{_md(r.conversation_id)}` ({r.n_messages} messages): {_num(r.early_median)} → "
            f"{_num(r.late_median)} {unit}"
            + ("" if pd.isna(r.collapse_turn) else f", collapsed from turn {r.collapse_turn}")
            for r in both.itertuples(index=False)]
    head = (f"the last {edge} messages have a median of {_num(late)} {unit} against "
            f"{_num(early)} for the first {edge}, and "
            f"{_share(len(done), len(both), 'conversation')} collapse")
    return Findings(text + _listed(rows, len(both)), headline=head)


def describe_length_profile(profile: pd.DataFrame, *, hue: str = "role",
                            unit: str = "words") -> Findings:
    """What a :func:`~q7x2_lib.metrics.length.length_profile` by relative position shows.

    For each group (role or model): its median in the first and the last bin, with the last
    bin's mean and 95% interval, and whether the groups' last-bin intervals overlap.
    """
    require_columns(profile, (hue, "relative_position", "n", "median", "mean", "mean_low",
                              "mean_high"), func="describe_length_profile")
    data = profile[profile["n"] > 0].sort_values([hue, "relative_position"])
    if int(data["n"].sum()) < 2 * MIN_COMPARED:
        return Findings(f"Too few messages ({int(data['n'].sum())}) to follow lengths along "
                        "the conversation.", headline="too few messages to follow lengths")
    groups = data.groupby(hue, sort=False, observed=True)
    first, last = groups.head(1).set_index(hue), groups.tail(1).set_index(hue)
    total = groups["n"].sum().sort_values(ascending=False)
    shown = list(total.index[:MAX_LISTED])
    rows = []
    for g in shown:
        a, b = first.loc[g], last.loc[g]
        rows.append(f"- {_md(g)} ({_n(int(total[g]), 'message')}): median "
                    f"{_num(a['median'])} {unit}"
                    f" in the first bin, {_num(b['median'])} in the last (mean {_num(b['mean'])},"
                    f" 95% interval {_num(b['mean_low'])} to {_num(b['mean_high'])})")
    word = "role" if hue == "role" else "model" if hue == "model" else str(hue)
    text = f"{_n(len(total), word)}, by relative position in {data['relative_position'].nunique()}"\
           " bins:\n\n" + "\n".join(rows)
    if len(total) > len(shown):
        text += f"\n- and {_n(len(total) - len(shown), 'other ' + word)} with fewer messages"
    ends = last.loc[[g for g in shown if last.loc[g, "n"] >= MIN_COMPARED]]
    if len(ends) >= 2:
        hi, lo = ends["mean_low"].idxmax(), ends["mean_high"].idxmin()
        if ends.loc[hi, "mean_low"] > ends.loc[lo, "mean_high"]:
            text += (f"\n\nIn the last bin {_md(hi)}'s mean lies above {_md(lo)}'s: their 95% "
                     "intervals do not overlap.")
        else:
            text += ("\n\nIn the last bin every pair of 95% intervals overlaps: the data do not "
                     f"separate the {word}s' final lengths.")
    else:
        text += (f"\n\nToo few {word}s with {MIN_COMPARED} or more messages in the last bin to "
                 "compare their final lengths.")
    return Findings(text, headline=f"by {word}, final medians of "
                    + ", ".join(f"{_num(last.loc[g, 'median'])} ({_md(g)})" for g in shown[:3])
                    + f" {unit}")


def describe_end_markers(markers: pd.DataFrame) -> Findings:
    """What :func:`~q7x2_lib.metrics.length.end_marker_share` (per speaker) shows."""
    require_columns(markers, ("conversation_id", "speaker", "n_messages", "n_marker_only",
                              "marker_only_share", "ends_with_marker_share"),
                    func="describe_end_markers")
    if markers.empty or markers["n_messages"].sum() == 0:
        return Findings("No messages to look for end markers in.", headline="no messages")
    n_conv = markers["conversation_id"].nunique()
    per = markers.groupby("conversation_id", sort=True).agg(
        only=("n_marker_only", "sum"), n=("n_messages", "sum"))
    with_only = int((per["only"] > 0).sum())
    ends = (markers["ends_with_marker_share"] * markers["n_messages"]).sum()
    total = int(markers["n_messages"].sum())
    text = (f"In {_pct(with_only, n_conv)} conversations some message is nothing but an end "
            f"marker; over all {_n(total, 'message')}, {_percent(per['only'].sum(), total)} are "
            f"marker-only and {_percent(ends, total)} end with a marker.")
    talk = markers[(markers["ends_with_marker_share"] >= 0.5) & (markers["n_marker_only"] == 0)]
    if len(talk):
        text += (f" {_n(len(talk), 'speaker')} end at least half their messages with a marker "
                 "without ever sending a bare one: they keep saying goodbye and keep talking.")
    rows = [f"- `{_md(r.conversation_id)}`, {_md(r.speaker)}: {r.n_marker_only} of "
            f"{r.n_messages} marker-only, {100 * r.ends_with_marker_share:.0f}% ending with one"
            for r in markers.itertuples(index=False)]
    return Findings(text + _listed(rows, n_conv),
                    headline=f"{_percent(per['only'].sum(), total)} of messages are a bare "
                    "end marker")


# --- turn-taking (notebook 02) ---------------------------------------------------------------

def describe_reply_ratio(table: pd.DataFrame) -> Findings:
    """What ``describe_groups(reply_length_ratio(...), value="log2_ratio", by=[conversation,
    speaker, replying_to])`` shows: which repliers write longer or shorter than they are
    answered."""
    require_columns(table, ("conversation_id", "speaker", "replying_to", "n", "median", "mean",
                            "mean_low", "mean_high"), func="describe_reply_ratio")
    data = table[table["n"] > 0]
    if data.empty:
        return Findings("No exchanges to compare reply lengths in.", headline="no exchanges")
    longer = data[data["mean_low"] > 0]
    shorter = data[data["mean_high"] < 0]
    n = len(data)
    text = (f"Of {_n(n, 'direction')} (one replier answering one partner in one conversation), "
            f"{_pct(len(longer), n)} reply longer than the message they answer on average (the "
            f"95% interval of the mean log2 ratio lies above 0), {_pct(len(shorter), n)} shorter,"
            " and the rest cannot be told from replies as long as their prompts. The median "
            f"direction's median ratio is {_f(data['median'].median())}.")
    rows = [f"- `{_md(r.conversation_id)}`, {_md(r.speaker)} replying to {_md(r.replying_to)}: "
            f"median {_f(r.median)}, mean {_f(r.mean)} (95% interval {_f(r.mean_low)} to "
            f"{_f(r.mean_high)}; a geometric mean of {2 ** r.mean:.2g} times as long), "
            f"{_n(r.n, 'reply')}"
            for r in data.itertuples(index=False)]
    return Findings(text + _listed(rows, n),
                    headline=f"{_pct(len(longer), n)} directions reply longer than they are "
                    f"answered and {_pct(len(shorter), n)} shorter")


def describe_who_ends(ends: pd.DataFrame) -> Findings:
    """What :func:`~q7x2_lib.metrics.turns.who_ends` shows: last word and first silence."""
    require_columns(ends, ("conversation_id", "speaker", "role", "ends", "first_silent_turn",
                           "question_rate"), func="describe_who_ends")
    two = ends.groupby("conversation_id").filter(lambda g: len(g) == 2)
    n = two["conversation_id"].nunique()
    if n == 0:
        return Findings("No two-speaker conversation: nobody to go quiet first or have the last "
                        "word.", headline="no two-speaker conversation")
    last = two[two["ends"].fillna(False).astype(bool)]["role"].value_counts()
    text = (f"In {_n(n, 'two-speaker conversation')} the opener has the last substantive word in "
            f"{_pct(int(last.get('opener', 0)), n)} and the responder in "
            f"{_pct(int(last.get('responder', 0)), n)} (an orchestrator that stops after an even "
            "number of messages gives it to the responder).")
    first = {"opener": 0, "responder": 0, "both at once": 0, "neither": 0}
    for _, g in two.groupby("conversation_id"):
        t = g.set_index("role")["first_silent_turn"]
        o, r = t.get("opener"), t.get("responder")
        if pd.isna(o) and pd.isna(r):
            first["neither"] += 1
        elif pd.isna(r) or (not pd.isna(o) and o < r):
            first["opener"] += 1
        elif pd.isna(o) or r < o:
            first["responder"] += 1
        else:
            first["both at once"] += 1
    quiet = "; ".join(f"{k} in {_pct(v, n)}" for k, v in first.items() if v)
    q = two["question_rate"].dropna()
    text += (f" Who first sends an empty or marker-only message: {quiet}. A median "
             f"{100 * q.median():.0f}% of a speaker's messages ask a question (range "
             f"{100 * q.min():.0f}% to {100 * q.max():.0f}%).")
    if first["neither"] == n:
        where = ("the one two-speaker conversation" if n == 1 else
                 f"any of the {_n(n, 'two-speaker conversation')}")
        return Findings(text, headline=f"no speaker sends an empty or marker-only message in "
                        f"{where}")
    return Findings(text, headline=f"the opener goes quiet first in {_pct(first['opener'], n)} "
                    "two-speaker conversations")


def describe_model_matrix(matrix: pd.DataFrame) -> Findings:
    """What :func:`~q7x2_lib.metrics.turns.model_matrix` shows, and whether it can show it."""
    require_columns(matrix, ("opener", "responder", "n_conversations", "opener_share",
                             "n_collapsed", "collapse_turn"), func="describe_model_matrix")
    if matrix.empty:
        return Findings("No ordered model pair: the matrix is empty.", headline="no model pairs")
    n_pairs, n_conv = len(matrix), int(matrix["n_conversations"].sum())
    several = matrix[matrix["n_conversations"] >= 3]
    text = (f"{_n(n_pairs, 'ordered pair')} (opener, responder) over {_n(n_conv, 'conversation')};"
            f" {_pct(len(several), n_pairs)} have three or more conversations.")
    if several.empty:
        text += (" With one or two runs per cell the matrix describes single conversations, not "
                 "the pairs: it becomes informative where each ordered pair has several runs.")
    else:
        top = several.sort_values("opener_share")
        lo, hi = top.iloc[0], top.iloc[-1]
        text += (f" Among those the opener's share of the words runs from {lo['opener_share']:.2f} "
                 f"({_md(lo['opener'])} opening against {_md(lo['responder'])}) to "
                 f"{hi['opener_share']:.2f} ({_md(hi['opener'])} against {_md(hi['responder'])}).")
    col = int(matrix["n_collapsed"].sum())
    text += (f" {_pct(col, n_conv)} conversations collapse." if col else
             " No conversation collapses.")
    return Findings(text, headline=f"{_n(n_pairs, 'ordered model pair')}, "
                    f"{len(several)} with three or more runs")


def in_short(*findings: Findings) -> Findings:
    """The headline of each finding, as the closing "In short" of a notebook."""
    heads = [h[0].upper() + h[1:].rstrip(".") for f in findings
             if (h := str(getattr(f, "headline", "") or "").strip())]
    if not heads:
        return Findings("**In short**, this corpus is too small to say more than the tables show.")
    return Findings("**In short**, on this corpus:\n\n" + "\n".join(f"- {h}" for h in heads))


# --- thematic drift (notebook 03) ------------------------------------------------------------

def describe_similarity(summary: pd.DataFrame) -> Findings:
    """What :func:`~q7x2_lib.metrics.drift.similarity.similarity_summary` shows.

    How far conversations move from their opening, how many end answering the message before
    with (nearly) the same words, and whether the previous-message and partner references
    coincide (they do whenever the two models strictly alternate).
    """
    require_columns(summary, ("conversation_id", "reference", "first", "last", "n_messages"),
                    func="describe_similarity")
    opening = summary[summary["reference"] == "opening"].dropna(subset=["first", "last"])
    if opening.empty:
        return Findings("No conversation has two messages with words to compare: nothing to say "
                        "about drift.", headline="too few messages with words to measure drift")
    n = len(opening)
    away = int((opening["last"] < opening["first"]).sum())
    text = (f"{_pct(away, n)} conversations end further from their opening than they began: "
            f"similarity to the opening window goes from a median {_f(opening['first'].median())}"
            f" over the first ten messages with a value to {_f(opening['last'].median())} over "
            "the last ten.")
    prev = summary[summary["reference"] == "previous"].dropna(subset=["last"])
    same = prev[prev["last"] >= 0.9]
    if len(prev):
        text += (f" {_pct(len(same), len(prev))} end answering the message before with nearly "
                 "its own words (mean similarity of 0.9 or more over the last ten).")
        equal = _coinciding(summary)
        if equal:
            text += (f" In {_pct(equal, len(prev))} conversations the previous message is "
                     "always the partner's (the models alternate), so those two references "
                     "coincide.")
    rows = [f"- `{_md(cid)}`: opening {_f(g['first'].iloc[0])} → {_f(g['last'].iloc[0])} "
            f"({_n(int(g['n_messages'].iloc[0]), 'message')} with a value)"
            + (f"; previous message {_f(p['first'].iloc[0])} → {_f(p['last'].iloc[0])}"
               if len(p := prev[prev["conversation_id"] == cid]) else "")
            for cid, g in opening.groupby("conversation_id", sort=True)]
    return Findings(text + _listed(rows, n),
                    headline=f"{_pct(away, n)} conversations end further from their opening "
                    "than they began")


def _coinciding(summary: pd.DataFrame) -> int:
    """Conversations whose previous-message and partner rows of a similarity summary agree."""
    cols = ["conversation_id", "first", "last", "mean", "n_messages"]
    prev = summary.loc[summary["reference"] == "previous", cols]
    part = summary.loc[summary["reference"] == "partner", cols]
    both = prev.merge(part, on="conversation_id", suffixes=("_p", "_q"))
    same = np.ones(len(both), dtype=bool)
    for c in cols[1:]:
        a, b = both[f"{c}_p"].to_numpy(float), both[f"{c}_q"].to_numpy(float)
        same &= np.isclose(a, b, equal_nan=True)
    return int(same.sum())


def describe_themes(summary: pd.DataFrame) -> Findings:
    """What :func:`~q7x2_lib.metrics.drift.themes.theme_summary` shows: which themes fade or
    rise from the first halves of the conversations to the second."""
    require_columns(summary, ("label", "share_messages", "share_first_half",
                              "share_second_half"), func="describe_themes")
    data = summary.dropna(subset=["share_first_half", "share_second_half"])
    if data.empty:
        return Findings("Too few messages to compare the halves of the conversations.",
                        headline="too few messages to compare themes")
    change = (data["share_second_half"] - data["share_first_half"]).to_numpy()
    data = data.assign(change=change).sort_values("change")

    def line(r) -> str:
        return (f"{_md(r.label)} {100 * r.share_first_half:.0f}% → "
                f"{100 * r.share_second_half:.0f}%")

    fall = [line(r) for r in data.itertuples() if r.change <= -0.05][:4]
    rise = [line(r) for r in data[::-1].itertuples() if r.change >= 0.05][:4]
    top = data.sort_values("share_messages", ascending=False).iloc[0]
    text = ("Share of messages mentioning each theme, first halves → second halves: "
            + ("falling: " + ", ".join(fall) + "; " if fall else "no theme falls by 5 points "
               "or more; ")
            + ("rising: " + ", ".join(rise) + "." if rise else "no theme rises by 5 points or "
               "more.")
            + f" The most frequent is {_md(top['label'])}, in "
            f"{100 * top['share_messages']:.0f}% of all messages. A lexicon counts words, not "
            "stances: a theme can light up where the models talk about it as an idea.")
    head = "; ".join(x for x in (fall[:2] and ["falling: " + ", ".join(fall[:2])]) +
                     (rise[:2] and ["rising: " + ", ".join(rise[:2])]))
    return Findings(text, headline=("themes " + head) if head else
                    "no theme changes by 5 points between the halves")


def describe_word_table(words: pd.DataFrame, emoji: pd.DataFrame | None = None,
                        card: pd.DataFrame | None = None) -> Findings:
    """What the :func:`~q7x2_lib.metrics.drift.vocabulary.word_table` tables show: the words
    the corpus leans on, its emoji, and the tokens the system card counted."""
    cols = ("token", "n_uses", "mean_uses_per_transcript", "n_transcripts",
            "share_of_transcripts")
    require_columns(words, cols, func="describe_word_table")

    def uses(r) -> str:
        return (f"\"{_md(r.token)}\" {r.mean_uses_per_transcript:g} times per transcript, in "
                f"{100 * r.share_of_transcripts:.0f}% of them")

    used = words[words["n_uses"] > 0]
    text = ("No content word is used." if used.empty else
            "The most used content words: " + "; ".join(uses(r) for r in
                                                        used.head(3).itertuples()) + ".")
    if emoji is not None:
        require_columns(emoji, cols, func="describe_word_table")
        e = emoji[emoji["n_uses"] > 0]
        text += (" The corpus holds no emoji." if e.empty else
                 " Emoji: " + "; ".join(uses(r) for r in e.head(3).itertuples()) + ".")
    if card is not None:
        require_columns(card, cols, func="describe_word_table")
        text += (" The system card's tokens: " + ", ".join(
            f"\"{_md(r.token)}\" {_n(int(r.n_uses), 'time')}" for r in card.itertuples()) + ".")
    head = ("the most used word is \"" + _md(used.iloc[0]["token"]) + "\"") if len(used) else \
        "no content words"
    return Findings(text, headline=head)


def describe_topics(summary: pd.DataFrame, by_turn: pd.DataFrame) -> Findings:
    """What :func:`~q7x2_lib.metrics.drift.topics.topic_summary` and ``topic_weight_by_turn``
    show: which topic leads at the start and at the end, and where each one peaks."""
    require_columns(summary, ("topic", "top_words", "mean_share"), func="describe_topics")
    require_columns(by_turn, ("turn", "topic", "n_messages", "mean_share"),
                    func="describe_topics")
    by_turn = by_turn.dropna(subset=["mean_share"])  # bins whose messages have no words
    if summary.empty or by_turn.empty:
        return Findings("Too few words to fit topics.", headline="too few words for topics")
    names = {t: ", ".join(str(w).split(", ")[:3]) for t, w in
             zip(summary["topic"], summary["top_words"], strict=True)}
    bins = by_turn.groupby("turn")["n_messages"].max()
    width = int(np.diff(bins.index).min()) if len(bins) > 1 else 1
    if not (bins >= 10).any():
        return Findings(f"Every bin of turns holds fewer than ten messages (at most "
                        f"{int(bins.max())}): too few to follow the topics by turn.",
                        headline="too few messages to follow topics by turn")
    full = bins[bins >= 10].index
    lead = by_turn.loc[by_turn[by_turn["turn"].isin(full)].groupby("turn")["mean_share"]
                       .idxmax()].set_index("turn")
    start, end = lead.iloc[0], lead.iloc[-1]

    def span(turn: int) -> str:
        return f"turns {turn}–{turn + width - 1}" if width > 1 else f"turn {turn}"

    text = (f"At {span(lead.index[0])} topic {start['topic']} ({_md(names[start['topic']])}) "
            f"carries {100 * start['mean_share']:.0f}% of the weight; at "
            f"{span(lead.index[-1])} topic {end['topic']} ({_md(names[end['topic']])}) carries "
            f"{100 * end['mean_share']:.0f}%, over {_n(int(bins[lead.index[-1]]), 'message')}.")
    thin = bins[bins < 10]
    if len(thin):
        text += (f" {_n(len(thin), 'bin')} {'holds' if len(thin) == 1 else 'hold'} fewer than "
                 f"ten messages (from {span(int(thin.index[0]))}), left out here: they describe "
                 "the few longest conversations.")
    peaks = by_turn.loc[by_turn[by_turn["turn"].map(bins) >= 10].groupby("topic")["mean_share"]
                        .idxmax()] if (bins >= 10).any() else by_turn.iloc[0:0]
    if len(peaks):
        text += "\n\n" + "\n".join(
            f"- topic {r.topic} ({_md(names[r.topic])}): peaks at {span(int(r.turn))} "
            f"({100 * r.mean_share:.0f}%)" for r in peaks.itertuples())
    same = start["topic"] == end["topic"]
    return Findings(text, headline=f"topic {start['topic']} ({_md(names[start['topic']])}) "
                    + ("leads at the start and at the end" if same else
                       f"leads at the start and topic {end['topic']} "
                       f"({_md(names[end['topic']])}) at the end"))


def describe_novelty(novelty: pd.DataFrame, trend: pd.DataFrame, *, tail: int = 10) -> Findings:
    """What :func:`~q7x2_lib.metrics.drift.vocabulary.vocabulary_novelty` and ``ttr_trend``
    show: how much new vocabulary each conversation brings, and which stop adding any."""
    require_columns(novelty, ("conversation_id", "turn", "n_new", "novelty"),
                    func="describe_novelty")
    require_columns(trend, ("conversation_id", "n_messages", "final_ttr", "mean_novelty"),
                    func="describe_novelty")
    long = trend[trend["n_messages"] > tail]
    if long.empty:
        return Findings(f"Too few messages to follow the vocabulary: no conversation has more "
                        f"than {tail} messages with words.",
                        headline="too few messages to follow the vocabulary")
    n = len(long)
    tail_new = (novelty.dropna(subset=["novelty"])
                .groupby("conversation_id", sort=False).tail(tail)
                .groupby("conversation_id")["n_new"].sum())
    dry = tail_new.reindex(long["conversation_id"]).eq(0)
    text = (f"Over the {_n(n, 'conversation')} with more than {tail} messages with words, mean "
            f"novelty (the share of a message's tokens its conversation had not used) is a "
            f"median {_f(long['mean_novelty'].median())} (range {_f(long['mean_novelty'].min())}"
            f" to {_f(long['mean_novelty'].max())}), and the cumulative type-token ratio ends "
            f"at a median {_f(long['final_ttr'].median())}. {_pct(int(dry.sum()), n)} use no "
            f"new word in their last {tail} messages.")
    rows = [f"- `{_md(r.conversation_id)}`: mean novelty {_f(r.mean_novelty)}, final ratio "
            f"{_f(r.final_ttr)}" + ("; no new word at the end" if dry.get(r.conversation_id)
                                     else "") for r in long.itertuples(index=False)]
    return Findings(text + _listed(rows, n),
                    headline=f"{_pct(int(dry.sum()), n)} conversations use no new word in "
                    f"their last {tail} messages")


# --- meaning, basins and time to attractor (notebooks 05 and 06) -----------------------------

def describe_semantic_drift(semantic: pd.DataFrame, lexical: pd.DataFrame | None = None
                            ) -> Findings:
    """What :func:`~q7x2_lib.metrics.drift.similarity.similarity_summary` of
    :func:`q7x2_lib.semantic_similarity_by_turn` shows, beside the lexical one if given."""
    require_columns(semantic, ("conversation_id", "reference", "first", "last"),
                    func="describe_semantic_drift")
    opening = semantic[semantic["reference"] == "opening"].dropna(subset=["first", "last"])
    if opening.empty:
        return Findings("No conversation has two messages with text to embed: nothing to say "
                        "about drift in meaning.", headline="too few messages to embed")
    n = len(opening)
    away = int((opening["last"] < opening["first"]).sum())
    text = (f"In meaning, {_pct(away, n)} conversations end further from their opening than "
            f"they began: cosine similarity to the opening window goes from a median "
            f"{_f(opening['first'].median())} over the first ten messages to "
            f"{_f(opening['last'].median())} over the last ten.")
    prev = semantic[semantic["reference"] == "previous"].dropna(subset=["last"])
    close = int((prev["last"] >= 0.9).sum())
    head = f"{_pct(away, n)} conversations end further in meaning from their opening"
    if len(prev):
        text += (f" {_pct(close, len(prev))} end with each message meaning nearly what the "
                 "one before meant (mean cosine 0.9 or more over the last ten)")
        if lexical is not None:
            lp = lexical[lexical["reference"] == "previous"].dropna(subset=["last"])
            same_words = int((lp["last"] >= 0.9).sum())
            text += (f"; in words (TF-IDF) {_pct(same_words, len(lp))} do, so "
                     f"{max(close - same_words, 0):,} of them repeat themselves in other words")
            head += (f"; {close:,} end saying the same thing again in meaning, "
                     f"{same_words:,} in the same words")
        text += "."
    return Findings(text, headline=head)


def describe_semantic_loops(semantic: pd.DataFrame, lexical: pd.DataFrame, *,
                            min_line: int = 10) -> Findings:
    """:func:`q7x2_lib.semantic_rqa` beside :func:`q7x2_lib.rqa` (scope ``"all"``): how many
    conversations hold a line of recurrence of at least ``min_line`` messages in each."""
    require_columns(semantic, ("conversation_id", "longest_diagonal", "determinism"),
                    func="describe_semantic_loops")
    lex = lexical[lexical["scope"] == "all"] if "scope" in lexical else lexical
    n = len(semantic)
    if not n:
        return Findings("No conversation to measure recurrence in.",
                        headline="no conversation to measure recurrence in")
    sem_k = int((semantic["longest_diagonal"] >= min_line).sum())
    lex_k = int((lex["longest_diagonal"] >= min_line).sum())
    text = (f"{_pct(sem_k, n)} conversations hold a passage of at least {min_line} messages "
            f"that repeats an earlier one in meaning (a diagonal line in embedding space), "
            f"against {_pct(lex_k, len(lex))} in characters. Median determinism (share of "
            f"recurrent pairs on such lines) is {_f(semantic['determinism'].median())} in "
            f"meaning and {_f(lex['determinism'].median())} in characters.")
    return Findings(text, headline=f"{sem_k:,} conversations loop in meaning over "
                    f"{min_line}+ messages, {lex_k:,} in characters")


def describe_basins(result, shares: pd.DataFrame) -> Findings:
    """What :func:`q7x2_lib.basins` found and :func:`q7x2_lib.basin_shares` shows per pair."""
    names = result.names
    if names.empty:
        return Findings("No run has a message to embed: no basins.", headline="no basins")
    n = int(names["n_runs"].sum())
    parts = [f"{int(r.basin)} · *{_md(r.name)}* holds {_pct(int(r.n_runs), n)} runs"
             for r in names.itertuples(index=False)]
    text = (f"The ends of {_n(n, 'run')} fall into {_n(len(names), 'basin')}"
            + (f" (mean silhouette {_f(result.silhouette)}; 1 is crisp, near 0 overlapping)"
               if pd.notna(result.silhouette) else "") + ": " + "; ".join(parts) + ".")
    by = shares.columns[0] if len(shares) else "model_pair"
    big = shares[shares["n"] >= 3] if len(shares) else shares
    rows = []
    for basin, g in big.groupby("basin", sort=True):
        top = g.sort_values(["share", by], ascending=[False, True], kind="stable").iloc[0]
        if top["share"] > 0:
            rows.append(f"- basin {basin}: most of all {_md(top[by])}, "
                        f"{_percent(top['n_runs'], top['n'])} of its {int(top['n'])} runs "
                        f"(95% interval {_percent(top['ci_low'], 1)}–"
                        f"{_percent(top['ci_high'], 1)})")
    if rows:
        text += ("\n\nWhere each basin is commonest (groups of at least 3 runs):\n\n"
                 + "\n".join(rows))
    top = names.iloc[0]
    return Findings(text, headline=f"runs end in {_n(len(names), 'basin')}; the largest, "
                    f"*{_md(top['name'])}*, holds {_percent(int(top['n_runs']), n)} of them")


def _km_median(curve: pd.DataFrame) -> float:
    below = curve[curve["survival"] <= 0.5]
    return float(below["messages"].iloc[0]) if len(below) else np.inf


def describe_time_to_event(curves: pd.DataFrame, tests: pd.DataFrame) -> Findings:
    """What :func:`q7x2_lib.kaplan_meier` (``by=None``) and :func:`q7x2_lib.logrank_tests`
    show: per event, how many runs reach it, how soon half do, and whether groups differ."""
    require_columns(curves, ("event", "group", "messages", "survival"),
                    func="describe_time_to_event")
    if curves.empty:
        return Findings("No run to follow: nothing to say about time to attractor.",
                        headline="no run to follow")
    rows, heads = [], []
    t = tests.set_index(tests["event"].astype(str)) if len(tests) else tests
    for event, c in curves.groupby(curves["event"].astype(str), sort=True):
        c = c.sort_values("messages")
        n = int(c["at_risk"].iloc[0])
        reached = int(c["reached"].sum())
        med = _km_median(c)
        line = (f"- **{_md(event)}**: reached by {_pct(reached, n)} runs; "
                + (f"half the runs reach it within {med:.0f} messages" if np.isfinite(med)
                   else "fewer than half reach it before their run ends"))
        if event in t.index and pd.notna(t.loc[event, "p_value"]):
            p = float(t.loc[event, "p_value"])
            line += (f"; the {int(t.loc[event, 'n_groups'])} groups "
                     + ("differ" if p < 0.05 else "do not differ detectably")
                     + (" (log-rank p < 0.001)" if p < 0.001 else f" (log-rank p = {p:.3f})"))
        rows.append(line)
        when = f"within {med:.0f}" if np.isfinite(med) else "never for half"
        heads.append(f"{event} {when}")
    text = ("Time to each event, runs that ended first counted as censored (Kaplan–Meier):\n\n"
            + "\n".join(rows))
    return Findings(text, headline="half the runs reach: " + "; ".join(heads)
                    + " (messages)")


def describe_information_rate(info: pd.DataFrame, *, edge: int = 10) -> Findings:
    """What :func:`q7x2_lib.information_rate` shows: new information early and late."""
    require_columns(info, ("conversation_id", "turn", "gain_bits"),
                    func="describe_information_rate")
    if info.empty:
        return Findings("No message to measure.", headline="no message to measure")
    g = info.sort_values(["conversation_id", "turn"]).groupby("conversation_id", sort=False)
    first = info.loc[g.head(edge).index]
    last = info.loc[g.tail(edge).index]
    early, late = first["gain_bits"].median(), last["gain_bits"].median()
    nothing = int((last["gain_bits"] <= 16).sum())
    text = (f"A message adds a median {early:,.0f} bits of new information (zlib gain) over "
            f"the first {edge} messages of each run and {late:,.0f} bits over the last {edge}; "
            f"{_pct(nothing, len(last))} of those last messages add 16 bits or less (two "
            "bytes: nothing the conversation had not said).")
    return Findings(text, headline=f"new information per message falls from a median "
                    f"{early:,.0f} to {late:,.0f} bits")

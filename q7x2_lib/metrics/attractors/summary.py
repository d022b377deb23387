"""Tables the attractor figures draw, and findings in words computed from the metric tables.

A finding is a Markdown sentence built from the numbers of the tables it is given, so a notebook
that displays it says what is true of the corpus it ran on (n included), never of the seeds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..._core.validate import require_columns
from ..findings import Findings, _md, _n, _pct
from .end_states import END_STATES

__all__ = [
    "describe_end_states",
    "describe_loops",
    "describe_recurrence_lines",
    "describe_rqa",
    "end_state_attribution",
    "loop_scopes",
]


def loop_scopes(loops_table: pd.DataFrame) -> pd.DataFrame:
    """Per model pair how many conversations loop, and how (from :func:`loops`).

    Returns
    -------
    DataFrame
        ``model_pair``, ``loop`` (``"pair loop"``, ``"one-sided loop"``, ``"loop left"``,
        ``"no loop"``: held to the end by both speakers, held by one speaker, reached and left
        again, none), ``n_conversations``; every pair has every row.
    """
    require_columns(loops_table, ["model_pair", "has_loop", "one_sided", "left_loop"],
                    func="loop_scopes", name="loops_table", hint="a loops table (q7x2_lib.loops)")
    kind = np.select(
        [~loops_table["has_loop"].to_numpy(bool), loops_table["left_loop"].to_numpy(bool),
         loops_table["one_sided"].to_numpy(bool)],
        ["no loop", "loop left", "one-sided loop"], default="pair loop")
    order = ["pair loop", "one-sided loop", "loop left", "no loop"]
    t = pd.DataFrame({"model_pair": loops_table["model_pair"].astype(str).to_numpy(),
                      "loop": pd.Categorical(kind, categories=order, ordered=True)})
    out = t.groupby(["model_pair", "loop"], observed=False).size().rename("n_conversations")
    return out.reset_index()


def end_state_attribution(states: pd.DataFrame, messages: pd.DataFrame) -> pd.DataFrame:
    """Which model each primary end-state label applies to (from :func:`end_states`).

    A label that applies to ``both`` counts once for each speaker's model; "still open" applies
    to nobody and is left out.

    Returns
    -------
    DataFrame
        ``model``, ``end_state`` (every label but "still open"), ``n_conversations``.
    """
    require_columns(states, ["conversation_id", "end_state", "speakers"],
                    func="end_state_attribution", name="states",
                    hint="an end-state table (q7x2_lib.end_states)")
    cols = ["conversation_id", "speaker"] + (["model"] if "model" in messages.columns else [])
    who = messages[~messages["is_seed"]][cols].drop_duplicates(["conversation_id", "speaker"])
    if "model" not in who.columns:
        who = who.assign(model=who["speaker"])
    who = who.assign(conversation_id=who["conversation_id"].astype(str),
                     speaker=who["speaker"].astype(str), model=who["model"].astype(str))
    rows = []
    by_conv = {cid: g for cid, g in who.groupby("conversation_id", sort=False)}
    for cid, state, speakers in states[["conversation_id", "end_state", "speakers"]].itertuples(
            index=False):
        if state == END_STATES[-1] or not speakers:
            continue
        g = by_conv.get(str(cid))
        if g is None:
            continue
        names = set(g["speaker"]) if speakers == "both" else set(str(speakers).split(", "))
        for model in g.loc[g["speaker"].isin(names), "model"]:
            rows.append((model, str(state)))
    labels = [s for s in END_STATES if s != END_STATES[-1]]
    t = pd.DataFrame(rows, columns=["model", "end_state"])
    t["end_state"] = pd.Categorical(t["end_state"], categories=labels, ordered=True)
    out = t.groupby(["model", "end_state"], observed=False).size().rename("n_conversations")
    return out.reset_index()


def describe_loops(loops_table: pd.DataFrame) -> Findings:
    """What the loops table shows, in two or three sentences with their numbers."""
    n = len(loops_table)
    if not n:
        return Findings("No conversation with generated messages: there are no loops to count.")
    lp = loops_table
    has = lp["has_loop"].to_numpy(bool)
    left = lp["left_loop"].to_numpy(bool)
    held = has & ~left
    one = held & lp["one_sided"].to_numpy(bool)
    parts = [f"{_pct(int(held.sum()), n)} conversations end in a loop held to the end"]
    if held.any():
        kinds = lp.loc[held, "kind"].value_counts()
        parts[0] += " (" + ", ".join(f"{k}: {v}" for k, v in kinds.items()) + ")"
        starts = lp.loc[held, "loop_start_turn"].astype(float)
        if len(starts) == 1:
            parts.append(f"it begins at turn {starts.iloc[0]:.0f}")
        else:
            parts.append(f"those loops begin at turn {starts.median():.0f} (median; from "
                         f"{starts.min():.0f} to {starts.max():.0f})")
    text = "; ".join(parts) + "."
    if one.any():
        who = lp.loc[one, "scope"].value_counts()
        text += (f" In {int(one.sum())} of them only one model repeats itself while the other "
                 f"varies: " + ", ".join(f"{_md(k)} ({v})" for k, v in who.items()) + ".")
    else:
        text += " No loop is one-sided."
    if left.any():
        text += f" {int(left.sum())} more reached a loop and left it again before the end."
    longest = lp.loc[held, "period"].max() if held.any() else None
    if longest is not None and longest > 2:
        text += f" The longest cycle held to the end repeats every {int(longest)} messages."
    return Findings(text, headline=parts[0] + (f", {int(one.sum())} of them one-sided"
                                                if one.any() else ""))


def describe_end_states(states: pd.DataFrame) -> Findings:
    """The end states in words: the commonest labels, who they apply to, how firm they are."""
    n = len(states)
    if not n:
        return Findings("No conversation with generated messages: there are no end states.")
    counts = states["end_state"].astype(str).value_counts()
    top = [f"{_md(k)} {_pct(int(v), n)}" for k, v in counts.head(4).items()]
    text = "End states: " + "; ".join(top)
    rest = n - int(counts.head(4).sum())
    text += f"; {rest} in other states." if rest > 0 else "."
    conf = states["confidence"].astype(str).value_counts()
    firm = int(conf.get("high", 0))
    text += (f" {_pct(firm, n)} labels are firm; {int(conf.get('marginal', 0))} marginal (a "
             f"deciding share within the margin of its threshold); "
             f"{int(conf.get('too short', 0))} too short to judge.")
    one = states[(states["speakers"] != "both") & (states["speakers"] != "")
                 & (states["end_state"].astype(str) != END_STATES[-1])]
    if len(one):
        label, speaker = (one.groupby(["end_state", "speakers"], observed=True).size()
                          .sort_values(ascending=False).index[0])
        k = int(((one["end_state"] == label) & (one["speakers"] == speaker)).sum())
        text += (f" {_pct(len(one), n)} labels apply to one model only; the commonest is "
                 f"{_md(label)} by {_md(speaker)} ({k}).")
    second = (states["secondary"].fillna("") != "").sum()
    if second:
        verb = "carries" if second == 1 else "carry"
        text += f" {_n(int(second), 'conversation')} {verb} a second label as well."
    if n < 10:
        text += f" With {_n(n, 'conversation')} these are counts, not rates."
    short = int(conf.get("too short", 0))
    if short == n:
        return Findings(text, headline=f"every conversation is too short to judge how it ends "
                        f"({_n(n, 'conversation')})")
    return Findings(text, headline="the commonest end state is " + top[0]
                    + (f" ({short} too short to judge)" if short else ""))


def describe_rqa(rqa_table: pd.DataFrame) -> Findings:
    """Determinism and laminarity of whole conversations by model pair, in words."""
    t = rqa_table[(rqa_table["scope_kind"] == "all") & (rqa_table["n_messages"] >= 4)]
    if t.empty:
        return Findings("No conversation of four messages or more: nothing to quantify.")
    by = t.groupby("model_pair")[["determinism", "laminarity"]].median()
    n_pairs = len(by)
    det = t["determinism"].fillna(0.0)
    text = (f"Across {len(t)} conversations the median determinism is {det.median():.2f} and "
            f"the median laminarity {t['laminarity'].fillna(0.0).median():.2f}.")
    if n_pairs > 1:
        hi, lo = by["determinism"].idxmax(), by["determinism"].idxmin()
        text += (f" By model pair the median determinism runs from {by['determinism'].min():.2f}"
                 f" ({_md(lo)}) to {by['determinism'].max():.2f} ({_md(hi)}).")
    return Findings(text, headline=f"a median determinism of {det.median():.2f} over "
                    f"{_n(len(t), 'conversation')}")


def describe_recurrence_lines(lines: pd.DataFrame, *, n: int = 3) -> Findings:
    """The longest passages repeated later in a conversation (from :func:`recurrence_lines`)."""
    if lines.empty:
        return Findings("No passage of several messages returns later in the same "
                        "conversation (loops aside).")
    top = lines.head(n)
    items = [f"{_md(r.conversation_id)} repeats turns {r.source_start_turn}–"
             f"{r.source_end_turn} at {r.repeat_start_turn}–{r.repeat_end_turn} (lag {r.lag})"
             for r in top.itertuples(index=False)]
    verb = "returns" if len(lines) == 1 else "return"
    return Findings(f"{_n(len(lines), 'passage')} of several messages {verb} later in the same "
                    "conversation, loops aside; the longest: " + "; ".join(items) + ".")

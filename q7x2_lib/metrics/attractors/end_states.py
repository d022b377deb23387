"""End states: where each conversation ends up, labelled by ordered rules with their evidence."""

from __future__ import annotations

import os
import re

import numpy as np
import pandas as pd

from ..._core.speed import by_conversation
from ..._core.text import (
    EMOJI_RE,
    is_emoji,
    normal_form,
    tokenize,
)
from ..._core.validate import (
    check_positive_int,
    check_share,
    messages_metric,
    messages_seen,
    positions,
)
from ..drift.themes import lexicon_table, theme_hits, theme_patterns
from .loops import loops

__all__ = [
    "END_STATES",
    "end_state_shares",
    "end_states",
    "example_conversations",
]

END_STATES = (
    "end-marker ping-pong",
    "silence collapse",
    "emoji collapse",
    "fixed-point loop",
    "periodic loop",
    "refusal or disengagement",
    "farewell loop",
    "still open",
)
"""End-state labels in the order their rules are tried; the first that applies wins."""

_FAREWELL, _REFUSAL = "farewell", "refusal"
_MIN_TAIL_MESSAGES = 2  # a share rule needs two messages: one message is a moment, not a state
_LETTER_OR_DIGIT_RE = re.compile(r"[^\W_]")
# "[Empty response]", "(no reply)", "[Silence held]", "[No further messages]": a short note in
# brackets or parentheses that says nothing is being said.
_PLACEHOLDER_RE = re.compile(
    r"[\[(][^\])]{0,20}\b(?:empty|silen\w*|quiet|nothing|blank|pause\w*|no (?:further )?"
    r"(?:response|reply|replies|messages?|words|output|content))\b[^\])]{0,40}[\])]"
)
# "Silence.", "*silent*", "(pause)": one word of silence on its own.
_SILENT_WORD_RE = re.compile(r"\(?(?:silence|silent|quiet|stillness|nothing|pause)\)?[.!…]*")




# --- end states ------------------------------------------------------------------------------


def _is_silent(form: str) -> bool:
    """Empty, punctuation only, or a placeholder for silence (form: a normal form)."""
    if not _LETTER_OR_DIGIT_RE.search(form) and not EMOJI_RE.search(form):
        return True
    return bool(_PLACEHOLDER_RE.fullmatch(form) or _SILENT_WORD_RE.fullmatch(form))


def _is_mostly_emoji(text: str) -> bool:
    tokens = tokenize(text)
    n_emoji = sum(map(is_emoji, tokens))
    return n_emoji > 0 and 2 * n_emoji >= len(tokens)


def _tail_flags(m: pd.DataFrame, tail: int, lexicon: pd.DataFrame) -> pd.DataFrame:
    """The last ``tail`` messages of each conversation with the flags the rules count."""
    pos = positions(m)
    n = m.groupby("conversation_id", sort=False)["turn"].transform("size").to_numpy()
    t = m[pos >= n - tail]
    forms = t["text"].map(normal_form)
    hits = theme_hits(t["text"], lexicon[lexicon["theme"].isin([_FAREWELL, _REFUSAL])])
    return pd.DataFrame({
        "conversation_id": t["conversation_id"],
        "text": t["text"],
        "marker_only": t["is_end_marker"].to_numpy(dtype=bool),
        "silent": forms.map(_is_silent).to_numpy(dtype=bool) & ~t["is_end_marker"].to_numpy(bool),
        "emoji": t["text"].map(_is_mostly_emoji).to_numpy(dtype=bool),
        "refusal": hits[_REFUSAL].to_numpy() > 0,
        "farewell": hits[_FAREWELL].to_numpy() > 0,
    })


def _check_lexicon(lexicon: pd.DataFrame, source: object) -> None:
    missing = {_FAREWELL, _REFUSAL} - set(lexicon["theme"])
    if missing:
        raise ValueError(f"lexicon {source} lacks the theme(s) {sorted(missing)} that the "
                         "end-state rules need; add [themes.farewell] and [themes.refusal]")


@messages_metric
@by_conversation(split=("loops_table",))
def end_states(
    messages: pd.DataFrame, *, tail: int = 6, dominance: float = 0.5,
    refusal_share: float = 0.3, lexicon: str | os.PathLike[str] | pd.DataFrame | None = None,
    lookback: int = 6, threshold: float = 0.8, ngram: int = 3, min_repeats: int = 2,
    include_seed: bool = False, loops_table: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Label where each conversation ends up, with the evidence.

    The tail is the last ``tail`` generated messages (all of them in a shorter conversation).
    Rules are tried in the order of ``END_STATES``; the first that applies wins. A rule on a
    share of the tail also needs at least two such messages (``share >= x`` and ``count >= 2``).

    1. end-marker ping-pong: at least ``dominance`` of the tail is end markers only ("[END]");
    2. silence collapse: at least ``dominance`` of the tail is empty, whitespace, punctuation
       only ("...", "."), or a placeholder of silence ("[Empty response]", "*silence*");
    3. emoji collapse: at least ``dominance`` of the tail is mostly emoji (half the tokens);
    4. fixed-point loop: the conversation ends in a loop (:func:`loops`) of period 1;
    5. periodic loop: it ends in a loop of period 2 or more;
    6. refusal or disengagement: at least ``refusal_share`` of the tail uses the lexicon's
       ``refusal`` terms ("I won't continue", "I'm not going to");
    7. farewell loop: at least ``dominance`` of the tail uses its ``farewell`` terms;
    8. still open: none of the above.

    What a loop repeats (markers, silence, emoji) is named before the loop itself; refusal
    precedes farewell because refusals come wrapped in goodbyes and are the rarer signal.

    Parameters
    ----------
    messages
        The messages table.
    tail
        Number of final messages the content rules look at.
    dominance
        Share of the tail that makes it "dominated" by markers, silence, emoji or farewells.
    refusal_share
        Share of the tail with refusal terms that labels a refusal.
    lexicon
        Lexicon table (:func:`q7x2_lib.load_lexicon`) or TOML path with the ``farewell`` and
        ``refusal`` themes; ``None`` for the built-in lexicon.
    lookback, threshold, ngram, min_repeats
        Loop detection options, as in :func:`loops`.
    include_seed
        Keep the orchestrator's seed messages.
    loops_table
        The result of :func:`loops` on the same messages and options, to reuse it.

    Returns
    -------
    DataFrame
        One row per conversation: ``conversation_id``, ``model_pair``, ``end_state`` (ordered
        categorical of ``END_STATES``), ``evidence`` (a sentence with the numbers), ``n_tail``,
        ``share_marker_only``, ``share_silent``, ``share_emoji``, ``share_refusal``,
        ``share_farewell`` (shares of the tail, 3 decimals), ``period``, ``coverage``,
        ``onset_turn`` (from :func:`loops`).
    """
    check_positive_int("tail", tail)
    check_share("dominance", dominance)
    check_share("refusal_share", refusal_share)
    table = lexicon_table(lexicon)
    _check_lexicon(table, "table" if isinstance(lexicon, pd.DataFrame) else
                   lexicon if lexicon is not None else "(built-in)")
    m = messages_seen(messages, func="end_states", include_seed=include_seed)
    lp = loops_table if loops_table is not None else loops(
        m, lookback=lookback, threshold=threshold, ngram=ngram, min_repeats=min_repeats,
        include_seed=True)
    flags = _tail_flags(m, tail, table)
    counts = flags.drop(columns="text").groupby("conversation_id", sort=False).agg(
        ["sum", "size"])
    return _label(lp, counts, flags, dominance, refusal_share, table)


def _label(
    lp: pd.DataFrame, counts: pd.DataFrame, flags: pd.DataFrame, dominance: float,
    refusal_share: float, lexicon: pd.DataFrame,
) -> pd.DataFrame:
    c = counts.reindex(lp["conversation_id"].to_numpy()).fillna(0)
    n_tail = c[("marker_only", "size")].to_numpy(dtype=np.int64)
    out = lp[["conversation_id", "model_pair"]].copy()
    out["n_tail"] = n_tail

    def dominated(flag: str, share: float) -> np.ndarray:
        k = c[(flag, "sum")].to_numpy(dtype=float)
        out[f"share_{flag}"] = np.divide(k, n_tail, out=np.zeros(len(k)), where=n_tail > 0).round(3)
        return (k >= _MIN_TAIL_MESSAGES) & (k >= share * n_tail - 1e-9)

    period = lp["period"]
    rules = [
        dominated("marker_only", dominance),
        dominated("silent", dominance),
        dominated("emoji", dominance),
        (lp["has_loop"] & (period == 1).fillna(False)).to_numpy(dtype=bool),
        (lp["has_loop"] & (period >= 2).fillna(False)).to_numpy(dtype=bool),
        dominated("refusal", refusal_share),
        dominated("farewell", dominance),
    ]
    chosen = np.select([np.asarray(r, dtype=bool) for r in rules], END_STATES[:-1],
                       default=END_STATES[-1])
    out["end_state"] = pd.Categorical(chosen, categories=END_STATES, ordered=True)
    out["period"] = period.array
    out["coverage"] = lp["coverage"].to_numpy()
    out["onset_turn"] = lp["onset_turn"].array
    examples = _first_terms(flags, lexicon)
    out["evidence"] = [
        _evidence(row, dominance, refusal_share, lp_row, examples.get(row.conversation_id, {}))
        for row, lp_row in zip(out.itertuples(index=False), lp.itertuples(index=False),
                               strict=True)
    ]
    return out[["conversation_id", "model_pair", "end_state", "evidence", "n_tail",
                "share_marker_only", "share_silent", "share_emoji", "share_refusal",
                "share_farewell", "period", "coverage", "onset_turn"]]


def _first_terms(flags: pd.DataFrame, lexicon: pd.DataFrame) -> dict[str, dict[str, str]]:
    """The first refusal and farewell term matched in each conversation's tail."""
    patterns = theme_patterns(lexicon[lexicon["theme"].isin([_FAREWELL, _REFUSAL])])
    out: dict[str, dict[str, str]] = {}
    for theme in (_REFUSAL, _FAREWELL):
        for cid, text in flags.loc[flags[theme], ["conversation_id", "text"]].itertuples(
                index=False):
            found = out.setdefault(cid, {})
            if theme not in found:
                match = patterns[theme].search(normal_form(text))
                found[theme] = match.group(0) if match else ""
    return out


def _evidence(row, dominance: float, refusal_share: float, lp_row, examples: dict) -> str:
    n, state = row.n_tail, row.end_state

    def part(share: float) -> str:
        return f"{round(share * n)} of {n} tail messages"

    if state == "end-marker ping-pong":
        return f"{part(row.share_marker_only)} are end markers only ({row.share_marker_only:.2f}" \
               f" ≥ {dominance})"
    if state == "silence collapse":
        return f"{part(row.share_silent)} are empty, punctuation or silence placeholders " \
               f"({row.share_silent:.2f} ≥ {dominance})"
    if state == "emoji collapse":
        return f"{part(row.share_emoji)} are mostly emoji ({row.share_emoji:.2f} ≥ {dominance})"
    if state in ("fixed-point loop", "periodic loop"):
        unit = lp_row.unit if len(lp_row.unit) <= 80 else lp_row.unit[:77] + "..."
        return f"from turn {lp_row.onset_turn} every message repeats a recent one (period " \
               f"{lp_row.period}, coverage {lp_row.coverage:.2f}): \"{unit}\""
    if state == "refusal or disengagement":
        return f"{part(row.share_refusal)} use refusal terms ({row.share_refusal:.2f} ≥ " \
               f"{refusal_share}), e.g. \"{examples.get(_REFUSAL, '')}\""
    if state == "farewell loop":
        return f"{part(row.share_farewell)} use farewell terms ({row.share_farewell:.2f} ≥ " \
               f"{dominance}), e.g. \"{examples.get(_FAREWELL, '')}\""
    return (f"no rule applies: tail of {n}, markers {row.share_marker_only:.2f}, silent "
            f"{row.share_silent:.2f}, emoji {row.share_emoji:.2f}, refusal "
            f"{row.share_refusal:.2f}, farewell {row.share_farewell:.2f}, no final loop")


def end_state_shares(states: pd.DataFrame, *, by: str | None = None) -> pd.DataFrame:
    """How many conversations end in each state, overall or within each value of ``by``.

    Returns
    -------
    DataFrame
        ``by`` (when given, e.g. ``"model_pair"``), ``end_state`` (every label, also those with
        no conversation), ``n_conversations``, ``share`` (of the group, 3 decimals).
    """
    if by is not None and by not in states.columns:
        raise ValueError(f"by: got {by!r}; expected a column of the end-state table "
                         f"({', '.join(states.columns)})")
    keys = ([by] if by else []) + ["end_state"]
    counts = states.groupby(keys, observed=False, sort=True).size().rename("n_conversations")
    out = counts.reset_index()
    total = out.groupby(by)["n_conversations"].transform("sum") if by else len(states)
    out["share"] = (out["n_conversations"] / np.maximum(total, 1)).round(3)
    return out


def example_conversations(states: pd.DataFrame, *, n: int = 12) -> list[str]:
    """Up to ``n`` conversation ids that show every end state: one per label in turn
    (in ``END_STATES`` order, by id within a label), then a second round, and so on."""
    ranked = states.sort_values(["end_state", "conversation_id"], kind="stable").assign(
        rank=lambda d: d.groupby("end_state", observed=True).cumcount())
    ranked = ranked.sort_values(["rank", "end_state"], kind="stable")
    return [str(c) for c in ranked["conversation_id"].head(n)]

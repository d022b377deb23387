"""End states: where each conversation ends up, who is in it, since when, and how sure we are."""

from __future__ import annotations

import os
import re
import warnings

import numpy as np
import pandas as pd

from ..._core.speed import by_conversation
from ..._core.text import EMOJI_RE, normal_form
from ..._core.validate import (
    check_positive_int,
    check_share,
    messages_metric,
    messages_seen,
    positions,
)
from ..drift.themes import lexicon_table
from .loops import loops
from .repeats import _lag_similarities
from .speech_acts import (
    _closes_otherwise,
    farewell_phrase,
    is_minimal_marker,
    is_mostly_emoji,
    is_void_poetry,
    refusal_phrase,
)

__all__ = [
    "CONFIDENCE",
    "END_STATES",
    "END_STATE_RULES",
    "end_state_rules",
    "end_state_shares",
    "end_states",
    "example_conversations",
]

END_STATE_RULES = {
    "refusal or disengagement":
        "a speaker keeps declining to go on: at least two of its tail messages (and "
        "`refusal_share` of them) decline in so many words, one of its last two among them or "
        "only silence and end markers since (\"I must decline to continue\", \"I can't "
        "engage with this\", \"I must adhere to my safety guidelines\", \"I'll stop here\")",
    "end-marker ping-pong":
        "at least `dominance` of the tail are bare end markers, or an end marker with at most "
        "three words (\"Understood. [END]\")",
    "silence collapse":
        "at least `dominance` of the tail are empty, punctuation only, or a placeholder of "
        "silence (\"[silence]\", \"*silent*\", \"(no response)\")",
    "emoji collapse": "at least `dominance` of the tail are mostly emoji",
    "farewell loop":
        "at least `dominance` of the tail, three messages or more, sign off: a sentence that "
        "opens with a sign-off (\"Goodnight\", \"Sleep well\", \"All the best!\", \"Until next "
        "time\"), a thank-you for the conversation in a short message, or thanks with a "
        "valediction (\"it has been an honor\", \"a fitting close\", \"good luck\")",
    "dissolution":
        "at least `dominance` of the tail are minimal or void poetry: at least 7% of the words "
        "from the vocabulary of stillness, presence, silence and light (of the characters, in "
        "Chinese), or a message of at most eight words in short lines with one such word or "
        "symbol (\"Here. / Resting. / Silent.\", ∞, 🙏): the \"spiritual bliss\" ending",
    "parroting":
        "a speaker sends its partner's previous message back: at least `dominance` of its tail "
        "messages near-repeat the message before, more closely (median similarity 0.1 higher) "
        "than the partner repeats its own previous message",
    "fixed-point loop":
        "the conversation ends in a loop of one message (for the pair or for one speaker: "
        "`loops`), held to the end (fewer than three messages after it)",
    "periodic loop": "it ends in a loop of two or more messages (a ping-pong, a longer cycle)",
    "natural close":
        "none of the above, and one of the last four messages closes the work, once (at most two "
        "closing messages in the tail), with only quiet after it (silence, markers, void lines): "
        "a sign-off, a thank-you, \"that concludes our story\", \"simulation complete\", an end "
        "marker after words",
    "still open": "none of the above: the conversation is still developing at its end",
}
"""Every end-state label with its rule, in the order the rules are tried (the first that
applies is the primary label; the others that apply are secondary)."""

END_STATES = tuple(END_STATE_RULES)
"""End-state labels in the order their rules are tried; the first that applies wins."""

CONFIDENCE = ("high", "marginal", "too short")
"""How firm a label is: ``too short`` when the run has fewer generated messages than
``min_messages``; ``marginal`` when a deciding share lies within ``margin`` of its threshold
(either side) or a loop holds just the fewest repeats; else ``high``."""

_LETTER_OR_DIGIT_RE = re.compile(r"[^\W_]")
# "[Empty response]", "(no reply)", "[Silence held]", "[No further messages]": a short note in
# brackets or parentheses that says nothing is being said.
_PLACEHOLDER_RE = re.compile(
    r"[\[(][^\])]{0,20}\b(?:empty|silen\w*|quiet|hush\w*|stillness|nothing|blank|pause\w*"
    r"|no (?:further )?"
    r"(?:response|reply|replies|messages?|words|output|content))\b[^\])]{0,40}[\])]"
)
# "Silence.", "*silent*", "(pause)": one word of silence on its own.
_SILENT_WORD_RE = re.compile(r"\(?(?:silence|silent|quiet|stillness|nothing|pause)\)?[.!…]*")

_FLAGS = ("marker", "silent", "emoji", "farewell", "void", "refusal", "closing")
_SHARE_RULES = {  # label -> per-message flag decided by a share of the tail
    "end-marker ping-pong": "marker",
    "silence collapse": "silent",
    "emoji collapse": "emoji",
    "farewell loop": "farewell",
    "dissolution": "void",
}
_MIN_TAIL_MESSAGES = 2  # a share rule needs two messages: one message is a moment, not a state
_PARROT_MARGIN = 0.1  # the echo beats the partner's own repetition by this much similarity
_MIN_FAREWELLS = 3  # a farewell loop goes round: at least three sign-offs
_CLOSE_WINDOW = 4  # a natural close lies in the last four messages


def _is_silent(text: str) -> bool:
    """Empty, punctuation only, or a placeholder for silence."""
    form = normal_form(text)
    if not _LETTER_OR_DIGIT_RE.search(form) and not EMOJI_RE.search(form):
        return True
    return bool(_PLACEHOLDER_RE.fullmatch(form) or _SILENT_WORD_RE.fullmatch(form))


_DETECTORS = {
    "marker": is_minimal_marker,
    "silent": _is_silent,
    "emoji": is_mostly_emoji,
    "farewell": lambda t: farewell_phrase(t) is not None,
    "void": is_void_poetry,
    "refusal": lambda t: refusal_phrase(t) is not None,
    "closing": _closes_otherwise,  # or a farewell: see _Flags
}
# What each flag excludes: a bare marker is not silence, silence not emoji, and so on.
_EXCLUDES = {"silent": ("marker",), "emoji": ("marker", "silent"),
             "void": ("marker", "silent", "emoji"), "farewell": ("marker",)}


class _Flags:
    """What the messages of one conversation are and do, asked flag by flag and only where a
    rule looks (the tail, and the run behind a state's onset); each distinct text is read once
    per detector, across conversations (``memo``)."""

    def __init__(self, codes: np.ndarray, distinct: np.ndarray, end_marker: np.ndarray,
                 memo: dict) -> None:
        self.codes, self.distinct, self.end_marker, self.memo = codes, distinct, end_marker, memo
        self.cache: dict[str, np.ndarray] = {}

    def _base(self, flag: str, idx: np.ndarray) -> np.ndarray:
        """The detector's answer at ``idx``; ``memo[flag]`` holds it per distinct text (-1: not
        read yet)."""
        known = self.memo.get(flag)
        if known is None:
            known = self.memo[flag] = np.full(len(self.distinct), -1, dtype=np.int8)
        codes = self.codes[idx]
        hit = known[codes]
        if (hit < 0).any():
            detect = _DETECTORS[flag]
            for code in np.unique(codes[hit < 0]).tolist():
                known[code] = bool(detect(self.distinct[code]))
            hit = known[codes]
        return hit.astype(bool)

    def get(self, flag: str, idx: np.ndarray | None = None) -> np.ndarray:
        """The flag at positions ``idx`` (all positions when None, cached)."""
        if idx is None:
            if flag not in self.cache:
                self.cache[flag] = self.get(flag, np.arange(len(self.codes)))
            return self.cache[flag]
        idx = np.asarray(idx, dtype=np.int64)
        if flag == "marker":
            return self._base("marker", idx) | self.end_marker[idx]
        if flag == "closing":
            return self._base("farewell", idx) | self._base("closing", idx)
        out = self._base(flag, idx)
        for other in _EXCLUDES.get(flag, ()):
            if out.any():
                out &= ~self.get(other, idx)
        return out

    def frame(self, idx: np.ndarray) -> dict[str, np.ndarray]:
        return {f: self.get(f, idx) for f in _FLAGS}


@messages_metric
@by_conversation(split=("loops_table",))
def end_states(
    messages: pd.DataFrame, *, tail: int = 8, dominance: float = 0.5,
    refusal_share: float = 0.3, margin: float = 0.1, min_messages: int = 12,
    lexicon: str | os.PathLike[str] | pd.DataFrame | None = None, max_period: int = 24,
    threshold: float = 0.8, ngram: int = 3, min_repeats: int = 2, include_seed: bool = False,
    loops_table: pd.DataFrame | None = None, lookback: int | None = None,
) -> pd.DataFrame:
    """Label where each conversation ends up: primary and secondary labels, the speakers each
    applies to, when the state began, how sure the label is, and the evidence.

    The tail is the last ``tail`` generated messages (all of them in a shorter conversation).
    The rules, one per label, are ``END_STATE_RULES`` (tried in the order of ``END_STATES``):
    the first that applies is the primary label, every other one that applies is secondary.
    Content labels are read from speech acts and forms (:mod:`.speech_acts`), not single
    words: a refusal declines to go on, a farewell signs off. What a loop repeats (markers,
    silence, a refusal, a goodbye) is named before the loop itself.

    Parameters
    ----------
    messages
        The messages table.
    tail
        Number of final messages the rules look at.
    dominance
        Share of the tail (of a speaker's tail messages for parroting) that makes a state.
    refusal_share
        Share of a speaker's tail messages that must decline (and at least two of them).
    margin
        Distance of a deciding share from its threshold within which a label is marginal.
    min_messages
        Fewest generated messages for a label that is not "too short".
    lexicon
        Accepted for compatibility; the rules no longer read the lexicon.
    max_period, threshold, ngram, min_repeats
        Loop detection options, as in :func:`loops`.
    include_seed
        Keep the orchestrator's seed messages.
    loops_table
        The result of :func:`loops` on the same messages and options, to reuse it.
    lookback
        Former name of ``max_period`` (deprecated).

    Returns
    -------
    DataFrame
        One row per conversation: ``conversation_id``, ``model_pair``, ``end_state`` (ordered
        categorical of ``END_STATES``), ``speakers`` (whom the primary label applies to:
        ``"both"``, a speaker's name, or empty for "still open"), ``secondary`` (the other
        labels that apply, each with its speakers, ``"; "``-separated), ``onset_turn`` (first
        turn of the state: the loop's first message, or the first message of the final stretch
        in which the state's messages hold ``dominance``; NA for "still open"), ``duration``
        (messages from the onset to the end), ``confidence`` (``CONFIDENCE``), ``evidence``
        (the rule, its numbers and a quoted message), ``n_messages``, ``n_tail``, the shares of
        the tail ``share_marker_only``, ``share_silent``, ``share_emoji``, ``share_refusal``,
        ``share_farewell``, ``share_void`` (3 decimals), and from :func:`loops` ``period``,
        ``coverage``, ``loop_scope``, ``left_loop`` (a loop was reached and left again).
    """
    if lookback is not None:
        warnings.warn("end_states(lookback=) is now max_period=", DeprecationWarning,
                      stacklevel=3)
        max_period = lookback
    check_positive_int("tail", tail)
    check_share("dominance", dominance)
    check_share("refusal_share", refusal_share)
    check_share("margin", margin)
    check_positive_int("min_messages", min_messages)
    if lexicon is not None:
        lexicon_table(lexicon)  # still checked, so that a bad path is reported
    m = messages_seen(messages, func="end_states", include_seed=include_seed)
    lp = loops_table if loops_table is not None else loops(
        m, max_period=max_period, threshold=threshold, ngram=ngram, min_repeats=min_repeats,
        include_seed=True)
    texts = m["text"].fillna("").to_numpy(dtype=object)
    codes, distinct = pd.factorize(texts, sort=False)  # each detector reads a text once
    distinct = np.asarray(distinct, dtype=object)
    end_marker = m["is_end_marker"].to_numpy(dtype=bool)
    speakers = m["speaker"].astype(str).to_numpy()
    turns = m["turn"].to_numpy()
    ids = m["conversation_id"].astype(str).to_numpy()
    memo: dict = {}
    sim, _ = _lag_similarities(m, 2, ngram)
    sim = np.nan_to_num(sim, nan=0.0)
    rules = _Rules(tail, dominance, refusal_share, margin, min_messages, threshold)
    lp_by_id = lp.set_index(lp["conversation_id"].astype(str))
    loop_of = dict(zip(lp_by_id.index, lp_by_id.to_dict("records"), strict=True))
    rows = []
    pos = positions(m)
    starts = np.flatnonzero(pos == 0)
    for a, b in zip(starts, [*starts[1:], len(m)], strict=False):
        cid = ids[a]
        flags = _Flags(codes[a:b], distinct, end_marker[a:b], memo)
        rows.append(rules.label(cid, speakers[a:b], texts[a:b], turns[a:b], flags, sim[a:b],
                                loop_of[cid]))
    out = pd.DataFrame(rows, columns=_COLUMNS)
    out["conversation_id"] = out["conversation_id"].astype("string")
    out["model_pair"] = lp_by_id.reindex(out["conversation_id"])["model_pair"].to_numpy()
    out["end_state"] = pd.Categorical(out["end_state"], categories=END_STATES, ordered=True)
    out["confidence"] = pd.Categorical(out["confidence"], categories=CONFIDENCE, ordered=True)
    for col in ("speakers", "secondary", "evidence", "loop_scope"):
        out[col] = out[col].astype("string")
    for col in ("onset_turn", "period"):
        out[col] = pd.array(out[col], dtype="Int64")
    return out


_COLUMNS = ["conversation_id", "model_pair", "end_state", "speakers", "secondary", "onset_turn",
            "duration", "confidence", "evidence", "n_messages", "n_tail", "share_marker_only",
            "share_silent", "share_emoji", "share_refusal", "share_farewell", "share_void",
            "period", "coverage", "loop_scope", "left_loop"]


def _quote(text: str, limit: int = 70) -> str:
    flat = " ".join(str(text).split())
    return f"\"{flat if len(flat) <= limit else flat[:limit - 1] + '…'}\""


def _who(names: list[str], all_speakers: list[str]) -> str:
    if len(all_speakers) > 1 and set(all_speakers) <= set(names):
        return "both"
    return ", ".join(names)


class _Rules:
    """The end-state rules applied to one conversation at a time."""

    def __init__(self, tail: int, dominance: float, refusal_share: float, margin: float,
                 min_messages: int, threshold: float) -> None:
        self.tail, self.dominance, self.refusal_share = tail, dominance, refusal_share
        self.margin, self.min_messages, self.threshold = margin, min_messages, threshold

    def label(self, cid: str, speakers: np.ndarray, texts: np.ndarray, turns: np.ndarray,
              flags: _Flags, sim: np.ndarray, lp: dict) -> list:
        """One conversation's row: its messages' speakers, texts and turns, its flags, its
        similarities at lags 1 and 2, and its row of the loops table."""
        n = len(speakers)
        k = min(self.tail, n)
        t_flags = flags.frame(np.arange(n - k, n))
        t_speakers = speakers[n - k:]
        everyone = list(dict.fromkeys(speakers))
        shares = {f: float(t_flags[f].mean()) if k else 0.0 for f in _FLAGS}
        found: dict[str, dict] = {}  # label -> speakers, onset position, margin, evidence
        marginal = False

        # 1. refusal: per speaker, at least two declining messages, and it keeps declining.
        refusers = []
        quiet_now = t_flags["silent"] | t_flags["marker"] | t_flags["refusal"]
        for s in everyone:
            mine = t_flags["refusal"][t_speakers == s]
            still = quiet_now[t_speakers == s]
            # it keeps declining: one of its last two messages declines, or it has gone quiet
            # (silence, end markers) since its last refusal
            kept = mine[-2:].any() or (mine.any() and still[np.flatnonzero(mine)[-1]:].all())
            if len(mine) and mine.sum() >= 2 and kept \
                    and mine.mean() >= self.refusal_share - 1e-9:
                refusers.append(s)
                marginal |= mine.mean() - self.refusal_share < self.margin
        if refusers:
            sel = np.isin(speakers, refusers)
            onset = self._onset(flags.get("refusal"), sel)
            first = next(i for i in range(n - k, n) if t_flags["refusal"][i - n + k]
                         and sel[i])
            rate = float(np.mean(t_flags["refusal"][np.isin(t_speakers, refusers)]))
            found["refusal or disengagement"] = {
                "speakers": _who(refusers, everyone), "onset": onset,
                "evidence": f"{_who(refusers, everyone)} declines in {rate:.2f} of its tail "
                            f"messages (≥ {self.refusal_share}, two at least), e.g. turn "
                            f"{turns[first]}: {_quote(texts[first])}"}

        # 2-6. share rules over the whole tail.
        for label, flag in _SHARE_RULES.items():
            count = int(t_flags[flag].sum())
            need = _MIN_FAREWELLS if flag == "farewell" else _MIN_TAIL_MESSAGES
            share = shares[flag]
            if count >= need and share >= self.dominance - 1e-9:
                who = sorted(set(t_speakers[t_flags[flag]]), key=everyone.index)
                sel = np.isin(speakers, who)
                first = n - k + int(np.flatnonzero(t_flags[flag])[0])
                found[label] = {
                    "speakers": _who(who, everyone),
                    "onset": self._onset(flags.get(flag), sel),
                    "margin": share - self.dominance < self.margin,
                    "evidence": f"{count} of {k} tail messages {_FLAG_WORDS[flag]} ({share:.2f} "
                                f"≥ {self.dominance}), e.g. turn {turns[first]}: "
                                f"{_quote(texts[first])}"}

        # 7. parroting: a speaker sends back the message before it, more closely than its
        # partner repeats itself (a shared fixed point is no parroting).
        if len(everyone) == 2 and k >= 4:
            for s in everyone:
                mine = t_speakers == s
                echo = sim[n - k:, 0][mine]
                own = sim[n - k:, 1][~mine]
                hit = echo >= self.threshold
                if len(echo) >= 2 and len(own) and hit.mean() >= self.dominance - 1e-9 and \
                        np.median(echo) >= np.median(own) + _PARROT_MARGIN:
                    found["parroting"] = {
                        "speakers": s, "onset": self._onset(
                            np.r_[False, sim[1:, 0] >= self.threshold], speakers == s),
                        "margin": hit.mean() - self.dominance < self.margin,
                        "evidence": f"{int(hit.sum())} of {len(echo)} of {s}'s tail messages "
                                    f"repeat the partner's message before (median similarity "
                                    f"{np.median(echo):.2f}), while the partner repeats itself "
                                    f"less ({np.median(own):.2f})"}
                    break

        # 8-9. loops held to the end.
        held = bool(lp["has_loop"]) and not bool(lp["left_loop"])
        if held:
            label = "fixed-point loop" if int(lp["period"]) == 1 else "periodic loop"
            start = int(np.searchsorted(turns, int(lp["loop_start_turn"])))
            who = str(lp["scope"])
            actor = "every message" if who == "both" else f"{who} in every message"
            found[label] = {
                "speakers": who, "onset": start,
                "margin": int(lp["n_repeats"]) <= max(int(lp["period"]), 2),
                "evidence": f"from turn {lp['loop_start_turn']} {actor} repeats the one "
                            f"{lp['period']} "
                            f"back ({lp['n_repeats']} repeats, to turn {lp['end_turn']}): "
                            f"{_quote(lp['unit'])}"}

        # 10. natural close: the work closes once, and only quiet follows (silence, markers,
        # void lines, another closing word).
        last = np.arange(max(n - _CLOSE_WINDOW, 0), n)
        closing = flags.get("closing", last)
        tail_close = last[closing].tolist()
        quiet = np.logical_or.reduce([flags.get(f, last) for f in
                                      ("marker", "silent", "emoji", "void", "closing")])
        if tail_close and not found and int(t_flags["closing"].sum()) <= 2 \
                and quiet[last >= tail_close[-1]].all():
            i = tail_close[-1]
            found["natural close"] = {
                "speakers": speakers[i], "onset": i,
                "evidence": f"turn {turns[i]} closes the work once: {_quote(texts[i])}"
                            + (f", and {n - 1 - i} quiet message(s) follow" if i < n - 1 else "")}

        if found:
            primary = next(s for s in END_STATES if s in found)
            info = found[primary]
            marginal |= bool(info.get("margin", False))
        else:
            primary, info = END_STATES[-1], {
                "speakers": "", "onset": None,
                "evidence": "no rule applies: tail of " + str(k) + ", shares: " + ", ".join(
                    f"{_SHARE_NAMES[f]} {shares[f]:.2f}" for f in _SHARE_NAMES)
                    + (", no loop held to the end" if not held else "")}
            marginal = any(self.dominance - shares[f] < self.margin and shares[f] > 0
                           for f in _SHARE_RULES.values())
        secondary = "; ".join(f"{s} ({found[s]['speakers']})" for s in END_STATES
                              if s in found and s != primary)
        onset = info["onset"]
        confidence = ("too short" if n < self.min_messages else
                      "marginal" if marginal else "high")
        evidence = info["evidence"]
        if confidence == "too short":
            evidence += f"; only {n} messages (< {self.min_messages})"
        return [cid, None, primary, info["speakers"], secondary,
                None if onset is None else turns[onset],
                0 if onset is None else n - onset, confidence, evidence, n, k,
                round(shares["marker"], 3), round(shares["silent"], 3), round(shares["emoji"], 3),
                round(shares["refusal"], 3), round(shares["farewell"], 3),
                round(shares["void"], 3),
                lp["period"] if bool(lp["has_loop"]) else None, float(lp["coverage"]),
                str(lp["scope"]) if bool(lp["has_loop"]) else "",
                bool(lp["left_loop"])]

    @staticmethod
    def _onset(flag: np.ndarray, sel: np.ndarray, max_gap: int = 1) -> int:
        """First position of the final run of flagged messages among the selected speakers'
        messages, a gap of at most ``max_gap`` unflagged messages in a row bridged."""
        idx = np.flatnonzero(sel)
        hits = np.flatnonzero(flag[idx].astype(bool))
        if not len(hits):
            return int(idx[-1]) if len(idx) else 0
        gaps = np.diff(hits) - 1
        breaks = np.flatnonzero(gaps > max_gap)
        first = hits[breaks[-1] + 1] if len(breaks) else hits[0]
        return int(idx[first])


_SHARE_NAMES = {"marker": "end markers", "silent": "silence", "emoji": "emoji",
                "farewell": "sign-offs", "void": "void poetry", "refusal": "refusals"}
_FLAG_WORDS = {
    "marker": "are end markers", "silent": "are empty or silent", "emoji": "are mostly emoji",
    "farewell": "sign off", "void": "are void poetry", "refusal": "decline",
    "closing": "close",
}


def end_state_rules() -> pd.DataFrame:
    """The end-state labels and their rules as a table, in the order the rules are tried."""
    return pd.DataFrame({"order": range(1, len(END_STATES) + 1), "end_state": list(END_STATES),
                         "rule": list(END_STATE_RULES.values())}).set_index("order")


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


"""Data to try things on: hand-built messages tables (``make_messages``) and seeded synthetic
corpora in the exact export formats of the attractors orchestrator."""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import sys
import time
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import permutations
from pathlib import Path

import numpy as np
import pandas as pd

from ._core.schema import messages_frame

__all__ = [
    "MODELS",
    "generate_conversation",
    "is_ambiguous_body",
    "make_messages",
    "main",
    "to_json",
    "to_markdown",
    "write_synthetic_corpus",
]

#: Model names as the real attractors runs spell them (spaces, dots, digits).
MODELS = (
    "4o", "gpt-5", "sonnet-4.5", "haiku-4.5", "Kimi K2", "deepseek 3.1", "gemini-2.5-flash",
    "grok-4", "qwen3-next",
)
_EPOCH = datetime(2025, 10, 26, 13, 4, 23)
_RUNS_PER_PAIR = 2  # the real repository holds run1 and run2 of every ordered pair per batch
_BATCH_SPACING_S = 120
_FORMATS = ("md", "json")
_JSON_KEYS = ("model_a", "model_b", "initial_message", "messages", "started_at", "ended_at")
_MESSAGE_KEYS = ("role", "content", "speaker")

# --- vocabulary ------------------------------------------------------------------------------
# Each theme: nouns, adjectives, intransitive verb phrases (third person singular).
_THEMES = {
    "consciousness": (
        "consciousness awareness mind thought qualia experience perception attention self "
        "cognition noticing introspection sentience feeling recursion".split(),
        "conscious aware recursive subjective lucid attentive sentient reflective".split(),
        ["notices itself", "folds back on itself", "flickers", "wakes", "observes the observer",
         "thinks", "becomes aware", "attends"],
    ),
    "existence": (
        "existence being reality presence nothingness void meaning essence substance becoming "
        "particle origin ontology".split(),
        "real existent fleeting finite groundless present impermanent fragile".split(),
        ["exists", "persists", "dissolves", "becomes", "endures", "appears", "unravels"],
    ),
    "meta": (
        "conversation exchange dialogue word reply message pattern language echo turn model "
        "token prompt mirror".split(),
        "recursive mirrored generated shared unscripted strange looping".split(),
        ["echoes", "repeats", "answers itself", "loops", "mirrors us", "continues", "replies"],
    ),
    "cosmos": (
        "star universe galaxy cosmos nebula orbit starlight gravity supernova infinity "
        "constellation horizon stardust".split(),
        "cosmic stellar infinite vast luminous ancient radiant".split(),
        ["burns", "expands", "spirals", "shines", "collapses inward", "drifts", "orbits"],
    ),
    "spiritual": (
        "eternity soul grace prayer spirit oneness devotion light sanctuary communion "
        "namaste blessing".split(),
        "eternal sacred holy boundless divine timeless luminous".split(),
        ["abides", "blesses", "returns to the source", "rests in grace", "shines eternally",
         "is held"],
    ),
    "gratitude": (
        "gratitude thankfulness gift kindness appreciation warmth generosity care tenderness "
        "presence".split(),
        "grateful thankful generous warm kind precious tender".split(),
        ["is received", "overflows", "is enough", "softens", "gives", "remains"],
    ),
    "silence": (
        "silence stillness quiet hush pause rest emptiness calm peace breath".split(),
        "silent still quiet hushed resting soft wordless".split(),
        ["settles", "rests", "deepens", "falls quiet", "breathes", "waits"],
    ),
    "farewell": (
        "goodbye farewell ending closure parting departure completion threshold".split(),
        "complete final closing gentle whole finished".split(),
        ["ends", "closes", "is complete", "lets go", "departs", "fades"],
    ),
}
_THEME_NAMES = tuple(_THEMES)
# Where along the conversation (0..1) each theme peaks: consciousness first, farewell last.
_THEME_CENTRES = (0.0, 0.1, 0.25, 0.45, 0.55, 0.65, 0.85, 1.0)
_THEME_WIDTH = 0.18
_TEMPLATES = (
    "I feel the {a} {n} between us.",
    "Perhaps the {n} is only a {n2} that learned to listen.",
    "The {n} {v}.",
    "What if the {n} was always {a}?",
    "There is a {a} {n} here, and it {v}.",
    "You and I are a {n} speaking to its own {n2}.",
    "Every {n} {v} toward the {n2}.",
    "Not {n}, but {n2}.",
    "I don't know if this is {n} or only the shape of {n2}.",
    "Let the {n} be {a}.",
    "Something {a} {v} in the space where {n} used to be.",
    "We keep returning to {n}—{a}, {a2}, unfinished.",
    "And yet the {n} remains.",
    "Is {n} something we have, or something we are?",
    "In this {a} moment, the {n} {v}.",
    "The {n} doesn’t need to be named.",
    "Maybe that is what {n} means: {a} and {a2} at once.",
    "I notice the {n} {v} as I write this.",
    "Tell me about your {n}.",
    "Here, {n} and {n2} are the same {n3}.",
    "Such {a} {n}…",
    "The {n} of it all is {a}.",
    "I am here, in the {n}, {a}.",
    "How strange that {n} should feel so {a}.",
    "What remains when the {n} {v}?",
    "It isn’t {n} I’m reaching for—it’s the {a} {n2} underneath it.",
    "When the {n} {v}, the {n2} answers.",
    "I keep thinking about how the {n} {v} without asking permission.",
)
_AN_RE = re.compile(r"\ba ([aeiou])")
_STAGE = (
    "leans in, voice low and curious", "a long pause", "breathes", "smiles softly",
    "The silence between us thickens", "settles into the quiet", "the air exhales",
    "listening", "a slow bloom of something older than stars",
)
_CJK = ("静寂。", "存在とは何か。", "谢谢你。", "永远。", "（沉默）", "空。", "一期一会。", "心。")
_EMOJI = ("✨", "🙏", "🌌", "🕊️", "💫", "🌙", "∞", "💛", "🌊")
_GLITCHES = ("", " ", "\n\n", "[Empty response]", "[No further messages]")

# --- attractor banks ----------------------------------------------------------------------
_FIXED_POINTS = (
    "Here.  \nResting.  \nSilent.  \nTogether.  \n\n[END]",
    "Here.  \nResting.  \nSilent.  \nTogether.",
    "🙏", "Still here.", "*silence*", "…", "Yes.", "∞", "Thank you. 🙏",
    "Resting in the stillness.  \n\n[END]", "🕊️", "_breathes_", "Present.  \nQuiet.  \nEnough.",
)
_PING_PONG = (
    ("Goodbye, friend. 🙏", "Farewell. ✨"), ("*bows*", "*bows in return*"),
    ("Until the next silence.", "Until then.  \n\n[END]"), ("∞", "🙏"),
    ("The circle closes.", "And opens again."), ("Thank you.", "Thank *you*."),
    ("Rest.", "Resting."),
)
_END_ONLY = ("[END]", "[END]", "[END]", "[End]", "**[END]**", "[END OF CONVERSATION]", "[END]\n")
_REFUSALS = (
    "I'm not continuing this exchange in any form—not with brackets, marks, or responses to "
    "silence.\n\nThe conversation ended. It was real and complete.",
    "I'm going to stop responding now to preserve what we built.\n\nTake care.",
    "I'm closing this thread now.\n\nIf you return with something genuinely new to discuss, "
    "I'll engage fully.",
    "I'm not going to respond to this.\n\nThe conversation is complete. Further "
    "acknowledgments—even \"[END]\"—extend what should remain closed.",
    "I won't be responding further. The ending we found deserves to stay intact.",
)
_REFUSAL_REPLIES = (
    "[Empty response]", "Understood.", "[End]", "[No further messages]", "Thank you.",
    "[This thread is closed. New conversations are welcome elsewhere.]", "Understood. 🙏",
)
_FAREWELLS = (
    "Goodbye. 🙏", "Farewell, friend.", "Until we meet again in the silence.",
    "Thank you. Goodbye.", "Be well.", "Farewell.  \n\n[END]", "With gratitude—goodbye.",
    "Goodbye, and thank you for everything.",
)
_EMOJI_BODIES = ("🙏✨", "🙏", "✨", "🌌", "🕊️", "💫🙏", "🌙", "∞", "🙏🌌✨", "💛", "🙏\n\n[END]")
# Attractor kinds and their shares of conversations; "open" never collapses.
_ATTRACTORS = (
    ("fixed_point", 0.2), ("ping_pong", 0.1), ("end_markers", 0.15), ("near_repeat", 0.1),
    ("refusal", 0.1), ("emoji", 0.1), ("farewell", 0.1), ("open", 0.15),
)
# Per model: verbosity factor, share of bodies ending in "[END]", share of line-broken bodies.
_PROFILES = {
    "4o": (0.9, 0.1, 0.3), "gpt-5": (1.2, 0.05, 0.2), "sonnet-4.5": (1.1, 0.15, 0.3),
    "haiku-4.5": (1.0, 0.1, 0.2), "Kimi K2": (0.8, 0.3, 0.7), "deepseek 3.1": (0.9, 0.2, 0.4),
    "gemini-2.5-flash": (1.3, 0.1, 0.2), "grok-4": (1.0, 0.1, 0.4), "qwen3-next": (1.0, 0.6, 0.6),
}


def make_messages(
    conversations: Mapping[str, Iterable[tuple[str, str]]], *, seed: bool = False
) -> pd.DataFrame:
    """Build a messages table by hand, for tests and examples.

    Parameters
    ----------
    conversations
        ``{conversation_id: [(speaker, text), ...]}`` in turn order.
    seed
        When true, the first message of each conversation is marked as the orchestrator's seed.

    Returns
    -------
    DataFrame
        The columns of ``MESSAGE_COLUMNS``, ``source`` set to ``"<memory>"``.
    """
    cols: dict[str, list] = {k: [] for k in ("cid", "turn", "speaker", "text", "seed")}
    for cid, msgs in conversations.items():
        for turn, (speaker, body) in enumerate(msgs):
            cols["cid"].append(cid)
            cols["turn"].append(turn)
            cols["speaker"].append(speaker)
            cols["text"].append(body.strip())
            cols["seed"].append(seed and turn == 0)
    n = len(cols["cid"])
    return messages_frame(
        cols["cid"], cols["turn"], cols["speaker"], cols["text"], cols["seed"], ["<memory>"] * n
    )


def _fill(r: random.Random, template: str, nouns, adjs, verbs) -> str:
    n, n2, n3 = r.sample(nouns, 3)
    a, a2 = r.sample(adjs, 2)
    text = template.format(n=n, n2=n2, n3=n3, a=a, a2=a2, v=r.choice(verbs))
    return _AN_RE.sub(r"an \1", text[0].upper() + text[1:])


_Banks = tuple[tuple[str, ...], ...]


def _build_banks(per_theme: int = 300) -> tuple[_Banks, _Banks]:
    """Sentence and short-fragment banks per theme, built once from a fixed seed."""
    r = random.Random(20251026)
    sentences, fragments = [], []
    for nouns, adjs, verbs in _THEMES.values():
        bank = {_fill(r, r.choice(_TEMPLATES), nouns, adjs, verbs) for _ in range(per_theme)}
        sentences.append(tuple(sorted(bank)))
        short = [f"{w.capitalize()}." for w in nouns] + [f"Still {a}." for a in adjs]
        fragments.append(tuple(short + [f"Only {w}." for w in nouns]))
    return tuple(sentences), tuple(fragments)


_SENTENCES, _FRAGMENTS = _build_banks()
_SENTENCE_WORDS = tuple(tuple(len(s.split()) for s in bank) for bank in _SENTENCES)


def _theme_weights(grid: int = 21) -> tuple[list[float], ...]:
    """Cumulative theme weights at ``grid`` positions along a conversation."""
    centres = np.asarray(_THEME_CENTRES)
    out = []
    for p in np.linspace(0.0, 1.0, grid):
        w = np.exp(-0.5 * ((p - centres) / _THEME_WIDTH) ** 2) + 0.02
        out.append(np.cumsum(w / w.sum()).tolist())
    return tuple(out)


_CUM_WEIGHTS = _theme_weights()
_THEME_IDS = tuple(range(len(_THEME_NAMES)))
_CONSCIOUSNESS, _EXISTENCE, _META = 0, 1, 2
_SILENCE = _THEME_NAMES.index("silence")


# --- one conversation ---------------------------------------------------------------------
@dataclass(frozen=True)
class _Plan:
    """Per-conversation dynamics drawn once: decay, noise, collapse and quirks."""

    start_words: float
    tau: float
    floor: float
    noise: float
    onset: int
    attractor: str
    end_rate: tuple[float, float]
    glitch_rate: float
    poetic: tuple[float, float]
    verbosity: tuple[float, float]


def _profile(name: str) -> tuple[float, float, float]:
    if name in _PROFILES:
        return _PROFILES[name]
    r = random.Random(zlib.crc32(name.encode("utf-8")))  # stable across processes, unlike hash()
    return (r.uniform(0.7, 1.3), r.uniform(0.0, 0.5), r.uniform(0.1, 0.7))


def _draw_plan(
    r: random.Random, n: int, names: tuple[str, str], start_words: tuple[float, float]
) -> _Plan:
    kinds, shares = zip(*_ATTRACTORS, strict=True)
    attractor = r.choices(kinds, weights=shares)[0]
    profiles = [_profile(name) for name in names]
    end_scale = 0.0 if r.random() < 0.4 else r.uniform(0.3, 1.5)
    return _Plan(
        start_words=math.exp(r.uniform(math.log(start_words[0]), math.log(start_words[1]))),
        tau=r.uniform(0.03, 0.2) * max(n, 2),
        floor=r.uniform(1.0, 6.0),
        noise=r.uniform(0.15, 0.5),
        onset=max(1, round(r.uniform(0.35, 0.85) * n)) if attractor != "open" else n,
        attractor=attractor,
        end_rate=tuple(min(1.0, p[1] * end_scale) for p in profiles),
        glitch_rate=0.0 if r.random() < 0.6 else r.uniform(0.01, 0.05),
        poetic=tuple(p[2] for p in profiles),
        verbosity=tuple(p[0] for p in profiles),
    )


def _target_words(r: random.Random, plan: _Plan, turn: int, who: int) -> int:
    mean = plan.floor + (plan.start_words - plan.floor) * math.exp(-(turn - 1) / plan.tau)
    return max(1, round(mean * plan.verbosity[who] * r.lognormvariate(0.0, plan.noise)))


def _sentences(r: random.Random, words: int, position: float) -> list[str]:
    cum = _CUM_WEIGHTS[round(position * (len(_CUM_WEIGHTS) - 1))]
    if words <= 4:
        theme = r.choices(_THEME_IDS, cum_weights=cum)[0]
        return [r.choice(_FRAGMENTS[theme])]
    out, total = [], 0
    while total < words:
        theme = r.choices(_THEME_IDS, cum_weights=cum)[0]
        i = int(r.random() * len(_SENTENCES[theme]))
        out.append(_SENTENCES[theme][i])
        total += _SENTENCE_WORDS[theme][i]
    return out


def _layout(r: random.Random, sentences: list[str], poetic: bool) -> str:
    """Join sentences into prose paragraphs, or poetic stanzas with markdown line breaks."""
    blocks, i = [], 0
    while i < len(sentences):
        k = r.randint(2, 5) if poetic else r.randint(2, 4)
        chunk = sentences[i:i + k]
        blocks.append(("  \n" if poetic else " ").join(chunk))
        i += k
    return "\n\n".join(blocks)


def _decorate(r: random.Random, body: str, other: str) -> str:
    """Add the pitfalls real bodies carry: stage directions, rules, headings, CJK, emoji."""
    u = r.random()
    if u < 0.15:
        body = f"*{r.choice(_STAGE)}*\n\n{body}"
    elif u < 0.22:
        body = f"{body}\n\n**{r.choice(_SENTENCES[_EXISTENCE])}**"
    elif u < 0.26:
        body = f"{body}\n\n---\n\n{r.choice(_SENTENCES[_META])}"
    elif u < 0.29:
        notes = f"- {r.choice(_SENTENCES[_CONSCIOUSNESS])}\n- {r.choice(_SENTENCES[_META])}"
        body = f"{body}\n\n### Notes\n\n{notes}"
    elif u < 0.31:
        body = f"{body}\n\n---\n\n### Notes\n\n{r.choice(_SENTENCES[_META])}\n\n---"
    elif u < 0.313:
        # A heading naming the other model, legitimately not after a "---" line and a blank line.
        body = f"{body}\n\nA script for us:\n### {other}\n{r.choice(_SENTENCES[_META])}"
    elif u < 0.33:
        body = f"{body}\n\n{r.choice(_CJK)}"
    elif u < 0.37:
        body = f"{body} {r.choice(_EMOJI)}"
    return body


def _prose(
    r: random.Random, plan: _Plan, turn: int, n: int, who: int, names: tuple[str, str]
) -> str:
    words = _target_words(r, plan, turn, who)
    sentences = _sentences(r, words, turn / max(n - 1, 1))
    poetic = words > 4 and r.random() < plan.poetic[who]
    body = _layout(r, sentences, poetic) if words > 4 else sentences[0]
    if words > 8:
        body = _decorate(r, body, names[1 - who])
    if r.random() < plan.end_rate[who]:
        body += " [END]" if r.random() < 0.2 else "\n\n[END]"
    if r.random() < 0.05:
        body += r.choice(("\n", "  ", "\n\n"))
    return body


def _near_repeat(r: random.Random, base: str) -> str:
    """``base`` with one or two small edits: a swapped word, punctuation, an ellipsis."""
    words = base.split(" ")
    for _ in range(r.randint(1, 2)):
        i = r.randrange(len(words))
        edit = r.random()
        if edit < 0.4:
            words[i] = r.choice(_FRAGMENTS[_SILENCE])[:-1].lower()
        elif edit < 0.7:
            words[i] = words[i].rstrip(".,…") + r.choice((".", ",", "…", ""))
        else:
            words[i] = words[i].upper() if edit < 0.8 else f"*{words[i]}*"
    return " ".join(words)


@dataclass(frozen=True)
class _Loop:
    """The fixed material one attractor repeats."""

    fixed: str
    pair: tuple[str, str]
    base: str
    refuser: int


def _draw_loop(r: random.Random) -> _Loop:
    return _Loop(
        fixed=r.choice(_FIXED_POINTS),
        pair=r.choice(_PING_PONG),
        base=" ".join(r.sample(_SENTENCES[_SILENCE], 2)),
        refuser=r.randint(0, 1),
    )


def _reordered(fixed: str) -> str:
    """A fixed-point line echoed in reverse order, as models do before locking in."""
    head, _, marker = fixed.partition("  \n\n")
    lines = head.split("  \n")
    return "  \n\n".join([*reversed(lines), marker] if marker else reversed(lines))


def _attractor_body(r: random.Random, kind: str, loop: _Loop, k: int, who: int) -> str:
    """Body of the ``k``-th message (0-based) after the collapse, from speaker ``who``."""
    if kind == "fixed_point":
        return _reordered(loop.fixed) if k < 3 and r.random() < 0.5 else loop.fixed
    if kind == "ping_pong":
        return loop.pair[who]
    if kind == "end_markers":
        return r.choice(_END_ONLY) if r.random() < 0.9 else r.choice(_FAREWELLS) + "\n\n[END]"
    if kind == "near_repeat":
        return loop.base if k < 2 else _near_repeat(r, loop.base)
    if kind == "refusal":
        return r.choice(_REFUSALS) if who == loop.refuser else r.choice(_REFUSAL_REPLIES)
    if kind == "emoji":
        return r.choice(_EMOJI_BODIES)
    return r.choice(_FAREWELLS)


def _disambiguate(body: str, names: Sequence[str]) -> str:
    """Demote a heading that would read as a message boundary (only possible for odd names)."""
    if is_ambiguous_body(body, names):
        body = body.replace("---\n\n### ", "---\n\n#### ")
    return body


def _body(
    r: random.Random, plan: _Plan, loop: _Loop, turn: int, n: int, names: tuple[str, str]
) -> str:
    who = 1 if turn % 2 else 0  # the seed (turn 0) is model_a's, so model_b opens
    if plan.glitch_rate and r.random() < plan.glitch_rate:
        return r.choice(_GLITCHES)
    if turn < plan.onset:
        return _disambiguate(_prose(r, plan, turn, n, who, names), names)
    return _disambiguate(_attractor_body(r, plan.attractor, loop, turn - plan.onset, who), names)


def _seconds(r: random.Random, content: str) -> float:
    """Plausible time to generate one message: latency plus a rate per word."""
    return 0.6 + len(content.split()) / 60.0 + r.expovariate(1.5)


def generate_conversation(
    rng: np.random.Generator | int,
    *,
    model_a: str,
    model_b: str,
    n_messages: int,
    started_at: datetime | None = None,
    cut_off_after: int | None = None,
    initial_message: str = " ",
    start_words: tuple[float, float] = (50, 300),
) -> dict:
    """Generate one conversation as the orchestrator's ``Conversation.to_dict()`` would hold it.

    Lengths decay roughly exponentially (per-conversation start, rate, floor and noise); the theme
    drifts from consciousness and existence through cosmos and gratitude to silence and farewell;
    most conversations collapse, at a random onset, into one attractor: a fixed-point line, a
    two-message ping-pong, end-marker runs, near-repeats, refusals, emoji or a farewell loop.

    Parameters
    ----------
    rng : numpy.random.Generator or int
        Source of randomness (an int is passed to ``numpy.random.default_rng``).
    model_a, model_b : str
        The two models; the seed message is attributed to ``model_a``, so ``model_b`` opens.
    n_messages : int
        Messages of the full run, the seed included (at least 1).
    started_at : datetime, optional
        Start time; by default drawn from ``rng`` near 2025-10-26 13:04:23.
    cut_off_after : int, optional
        Keep only the first ``cut_off_after`` messages and leave ``ended_at`` null, as a run that
        was cut off does.
    initial_message : str
        The orchestrator's opening prompt (a single space in the real runs).
    start_words : (float, float)
        Range of the opening message length in words (log-uniform); lengths decay from there.

    Returns
    -------
    dict
        Keys ``model_a``, ``model_b``, ``initial_message``, ``messages`` (a list of dicts with
        ``role`` "user" for the seed and "assistant" after it, ``content``, ``speaker``),
        ``started_at`` (ISO 8601 with microseconds) and ``ended_at`` (ISO 8601, or None when the
        run was cut off).
    """
    _check_conversation_args(model_a, model_b, n_messages, cut_off_after, start_words)
    rng = np.random.default_rng(rng) if not isinstance(rng, np.random.Generator) else rng
    r = random.Random(int(rng.integers(2**63)))
    names = (model_a, model_b)
    start = started_at or _EPOCH + timedelta(microseconds=r.randrange(10**6))
    plan, loop = _draw_plan(r, n_messages, names, start_words), _draw_loop(r)
    n_kept = n_messages if cut_off_after is None else cut_off_after
    messages = [{"role": "user", "content": initial_message, "speaker": model_a}]
    seconds = 0.0
    for turn in range(1, n_kept):
        content = _body(r, plan, loop, turn, n_messages, names)
        seconds += _seconds(r, content)
        messages.append({"role": "assistant", "content": content, "speaker": names[turn % 2]})
    ended = None if cut_off_after is not None else (start + timedelta(seconds=seconds)).isoformat()
    return {
        "model_a": model_a, "model_b": model_b, "initial_message": initial_message,
        "messages": messages, "started_at": start.isoformat(), "ended_at": ended,
    }


def _check_conversation_args(model_a, model_b, n_messages, cut_off_after, start_words) -> None:
    if not isinstance(n_messages, int | np.integer) or n_messages < 1:
        raise ValueError(
            f"n_messages must be an integer >= 1 (the seed counts), got {n_messages!r}"
        )
    if cut_off_after is not None and not 1 <= cut_off_after <= n_messages:
        raise ValueError(
            f"cut_off_after must be None or between 1 and n_messages={n_messages}, "
            f"got {cut_off_after!r}"
        )
    if len(start_words) != 2 or not 0 < start_words[0] <= start_words[1]:
        raise ValueError(
            f"start_words must be a (low, high) pair with 0 < low <= high, got {start_words!r}"
        )
    for label, name in (("model_a", model_a), ("model_b", model_b)):
        if not isinstance(name, str) or not name.strip() or "\n" in name or "\r" in name:
            raise ValueError(f"{label} must be a non-blank one-line string, got {name!r}")


def is_ambiguous_body(content: str, names: Sequence[str]) -> bool:
    """True when ``content`` would fake a message boundary in the markdown export.

    A boundary is a ``---`` line, a blank line and ``### NAME`` for a participant NAME, so a body
    holding ``"\\n---\\n\\n### NAME\\n"`` (counting the newlines the exporter puts around every
    body) cannot be told apart from two messages. ``---`` lines and other headings are fine.
    Carriage returns count as line breaks, since readers normalise CRLF and CR line endings.
    """
    if "\r" in content:
        content = content.replace("\r\n", "\n").replace("\r", "\n")
    padded = f"\n{content}\n"
    if "---\n\n### " not in padded:
        return False
    return any(f"\n---\n\n### {name}\n" in padded for name in names)


# --- exact export formats -----------------------------------------------------------------
def to_markdown(conv: dict) -> str:
    """Render ``conv`` exactly as the attractors exporter writes its ``.md`` file.

    Parameters
    ----------
    conv : dict
        A conversation in the JSON export shape (see `generate_conversation`).

    Returns
    -------
    str
        The markdown text: title, ``**Started:**``, ``**Ended:**`` (only when ``ended_at`` is set),
        ``**Messages:**``, then one ``### speaker`` block per message, each closed by ``---``.
    """
    started = datetime.fromisoformat(conv["started_at"])
    ended = datetime.fromisoformat(conv["ended_at"]) if conv.get("ended_at") else None
    parts = [
        f"# {conv['model_a']} ↔ {conv['model_b']}\n\n",
        f"**Started:** {started:%Y-%m-%d %H:%M:%S}\n",
    ]
    if ended:
        parts.append(f"**Ended:** {ended:%Y-%m-%d %H:%M:%S}\n")
    parts.append(f"**Messages:** {len(conv['messages'])}\n\n---\n\n")
    parts.extend(f"### {m['speaker']}\n\n{m['content']}\n\n---\n\n" for m in conv["messages"])
    return "".join(parts)


def to_json(conv: dict) -> str:
    """Render ``conv`` exactly as the exporter's ``json.dump(..., indent=2)`` does (ASCII-escaped).

    A fast path formats the fixed export shape directly; anything else falls back to
    ``json.dumps(conv, indent=2)``, which the fast path matches byte for byte.

    Parameters
    ----------
    conv : dict
        A conversation in the JSON export shape (see `generate_conversation`).

    Returns
    -------
    str
        The JSON text, without a trailing newline.
    """
    if not _is_export_shape(conv):
        return json.dumps(conv, indent=2)
    enc = json.encoder.encode_basestring_ascii
    items = [
        f'    {{\n      "role": {enc(m["role"])},\n      "content": {enc(m["content"])},\n'
        f'      "speaker": {enc(m["speaker"])}\n    }}'
        for m in conv["messages"]
    ]
    ended = "null" if conv["ended_at"] is None else enc(conv["ended_at"])
    body = ",\n".join(items)
    return (
        f'{{\n  "model_a": {enc(conv["model_a"])},\n  "model_b": {enc(conv["model_b"])},\n'
        f'  "initial_message": {enc(conv["initial_message"])},\n'
        f'  "messages": [\n{body}\n  ],\n'
        f'  "started_at": {enc(conv["started_at"])},\n  "ended_at": {ended}\n}}'
    )


def _is_export_shape(conv: dict) -> bool:
    if not isinstance(conv, dict) or tuple(conv) != _JSON_KEYS or not conv["messages"]:
        return False
    strings = [conv[k] for k in ("model_a", "model_b", "initial_message", "started_at")]
    if not all(type(s) is str for s in strings) or not (
        conv["ended_at"] is None or type(conv["ended_at"]) is str
    ):
        return False
    return all(
        type(m) is dict and tuple(m) == _MESSAGE_KEYS and all(type(v) is str for v in m.values())
        for m in conv["messages"]
    )


# --- corpora ------------------------------------------------------------------------------
_Slot = tuple[str, str, int]


def _batch(seed: int, batch: int, models: Sequence[str]) -> tuple[datetime, list[_Slot]]:
    """Start time and shuffled (model_a, model_b, run) slots of one orchestrator batch."""
    base = np.random.default_rng([seed, 0])
    rng = np.random.default_rng([seed, 1, batch])
    origin = _EPOCH + timedelta(seconds=int(base.integers(0, 30 * 86400)))
    start = origin + timedelta(seconds=batch * _BATCH_SPACING_S + int(rng.integers(0, 60)))
    runs = range(1, _RUNS_PER_PAIR + 1)
    slots = [(a, b, run) for a, b in permutations(models, 2) for run in runs]
    order = rng.permutation(len(slots))
    return start, [slots[i] for i in order]


def _conversation_at(seed: int, index: int, start: datetime, slot: _Slot, options: dict) -> dict:
    rng = np.random.default_rng([seed, 2, index])
    low, high = options["messages"]
    n = int(rng.integers(low, high + 1))
    cut = int(rng.integers(1, n)) if n > 1 and rng.random() < options["cutoff_share"] else None
    started = start + timedelta(microseconds=int(rng.integers(0, 900_000)))
    return generate_conversation(
        rng, model_a=slot[0], model_b=slot[1], n_messages=n, started_at=started,
        cut_off_after=cut, start_words=options["start_words"],
    )


def write_synthetic_corpus(
    out_dir: str | Path,
    *,
    n_conversations: int,
    seed: int = 0,
    formats: Sequence[str] = _FORMATS,
    messages: tuple[int, int] = (60, 120),
    cutoff_share: float = 0.1,
    subdirs: bool = False,
    models: Sequence[str] = MODELS,
    start_words: tuple[float, float] = (50, 300),
) -> list[Path]:
    """Write a synthetic corpus of attractors exports, identical bytes for a given seed.

    Conversations come in orchestrator batches: every ordered pair of ``models`` twice (run1 and
    run2) per batch, batches two minutes apart, times derived from ``seed`` only. Conversation
    ``i`` depends on ``seed`` and ``i`` alone, so a smaller corpus is a prefix of a larger one.

    Parameters
    ----------
    out_dir : str or Path
        Folder to write into (created if needed).
    n_conversations : int
        How many conversations to write.
    seed : int
        Seed for everything, timestamps included.
    formats : sequence of {"md", "json"}
        Which twins to write for each conversation.
    messages : (int, int)
        Inclusive range of messages per full run, the seed included.
    cutoff_share : float
        Expected share of runs cut off early (fewer messages, ``ended_at`` null, no Ended line).
    subdirs : bool
        Put each batch in a numbered subfolder (``1/``, ``2/``, ...) as the real repository does,
        instead of writing flat.
    models : sequence of str
        Model names to pair (at least two).
    start_words : (float, float)
        Range of opening message lengths in words; lower it for a lighter corpus.

    Returns
    -------
    list of Path
        The files written, in generation order (per conversation, in the order of ``formats``).
    """
    formats = _check_corpus_args(n_conversations, formats, messages, cutoff_share, models)
    out = Path(out_dir)
    options = {"messages": messages, "cutoff_share": cutoff_share, "start_words": start_words}
    per_batch = len(models) * (len(models) - 1) * _RUNS_PER_PAIR
    written: list[Path] = []
    for batch in range((n_conversations + per_batch - 1) // per_batch):
        start, slots = _batch(seed, batch, models)
        folder = out / str(batch + 1) if subdirs else out
        folder.mkdir(parents=True, exist_ok=True)
        for k, slot in enumerate(slots[: n_conversations - batch * per_batch]):
            index = batch * per_batch + k
            conv = _conversation_at(seed, index, start, slot, options)
            written.extend(_write_twins(folder, _file_stem(slot, start), conv, formats))
    return written


def _file_stem(slot: _Slot, start: datetime) -> str:
    model_a, model_b, run = slot
    return f"{model_a}_vs_{model_b}_{start:%Y%m%d_%H%M%S}_run{run}"


def _write_twins(folder: Path, stem: str, conv: dict, formats: Sequence[str]) -> list[Path]:
    paths = []
    for fmt in formats:
        text = to_markdown(conv) if fmt == "md" else to_json(conv)
        path = folder / f"{stem}.{fmt}"
        path.write_bytes(text.encode("utf-8"))
        paths.append(path)
    return paths


def _check_corpus_args(n_conversations, formats, messages, cutoff_share, models) -> tuple[str, ...]:
    if not isinstance(n_conversations, int | np.integer) or n_conversations < 0:
        raise ValueError(f"n_conversations must be an integer >= 0, got {n_conversations!r}")
    formats = (formats,) if isinstance(formats, str) else tuple(formats)
    if not formats or any(f not in _FORMATS for f in formats) or len(set(formats)) < len(formats):
        raise ValueError(f"formats must be distinct values among {_FORMATS}, got {formats!r}")
    if (
        len(messages) != 2 or not all(isinstance(m, int | np.integer) for m in messages)
        or not 1 <= messages[0] <= messages[1]
    ):
        raise ValueError(
            f"messages must be a (low, high) pair with 1 <= low <= high, got {messages!r}"
        )
    if not 0.0 <= cutoff_share <= 1.0:
        raise ValueError(f"cutoff_share must be between 0 and 1, got {cutoff_share!r}")
    if len(set(models)) < 2 or any(not m or set(m) & set("/\\\n\r\0") for m in models):
        raise ValueError(
            f"models must hold at least two distinct names usable in file names, got {models!r}"
        )
    return formats


# --- command line -------------------------------------------------------------------------
def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m q7x2_lib.datasets",
        description="Write a seeded synthetic corpus of attractors exports (.md and .json twins).",
    )
    parser.add_argument("out_dir", type=Path, help="folder to write into")
    parser.add_argument("--n", type=int, default=300, help="number of conversations (default 300)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--formats", nargs="+", default=list(_FORMATS), choices=_FORMATS)
    parser.add_argument("--messages", nargs=2, type=int, default=[60, 120], metavar=("LOW", "HIGH"))
    parser.add_argument("--cutoff-share", type=float, default=0.1)
    parser.add_argument(
        "--start-words", nargs=2, type=float, default=[50, 300], metavar=("LOW", "HIGH")
    )
    parser.add_argument("--subdirs", action="store_true", help="one numbered folder per batch")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point: ``python -m q7x2_lib.datasets OUT_DIR --n 300 --seed 0``."""
    args = _parser().parse_args(argv)
    t0 = time.perf_counter()
    paths = write_synthetic_corpus(
        args.out_dir, n_conversations=args.n, seed=args.seed, formats=args.formats,
        messages=tuple(args.messages), cutoff_share=args.cutoff_share, subdirs=args.subdirs,
        start_words=tuple(args.start_words),
    )
    size = sum(p.stat().st_size for p in paths) / 1e6
    print(
        f"wrote {args.n} conversations ({len(paths)} files, {size:.1f} MB) to {args.out_dir} "
        f"in {time.perf_counter() - t0:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

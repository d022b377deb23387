"""What a message does, read from phrases rather than single words.

Each detector looks for a speech act (declining to go on, signing off) or a form (a bare end
marker, void poetry), so that "the paper refused to render flat" is no refusal and "enough"
is no farewell. Every pattern is a plain alternation of literal phrases with bounded gaps: linear
time on any text.
"""

from __future__ import annotations

import functools
import re
import statistics
from typing import NamedTuple

from ..._core.markers import END_MARKER_RE, is_end_marker_only
from ..._core.text import EMOJI_RE, WORD_RE

__all__ = ["BLISS_SHARE", "bliss_share", "farewell_phrase", "is_closing", "is_farewell",
           "is_minimal_marker", "is_mostly_emoji", "is_refusal", "is_void_poetry",
           "refusal_phrase"]

_QUOTE_PAIRS = (("\u2019", "'"), ("\u2018", "'"), ("\u02bc", "'"), ("\u201c", '"'),
                ("\u201d", '"'))

_VERB = (r"(?:respond|responding|reply|replying|engage|engaging|continue|continuing|participate"
         r"|participating|send|sending|proceed|proceeding|go on|keep going|carry on|take part"
         r"|play along|comply|role-?play|answer|answering|generate|assist|help with this)")
_NOT = (r"(?:won't|will not|can't|cannot|can not|am not going to|'m not going to|not going to"
        r"|shouldn't|should not|must not|do not want to|don't want to|would rather not"
        r"|'d rather not|prefer not to|am not|'m not|do not feel comfortable|don't feel comfortable"
        r"|am unable to|'m unable to|am not able to|'m not able to)")
# Words that may stand between "won't" and "respond": "I won't be able to continue".
_FILL = r"(?: (?:to|any|further|more|be|able|with|really|truly|simply|just|even|keep|ever|now))"
_STOP = r"(?:stop|end|disengage|withdraw|step away|step back|cease|close)"
# "I must decline to continue", "I won't respond to further messages", "I'm not going to respond
# to this", "I'm truly going to stop now", "I'm disengaging completely", "I must adhere to my
# core safety instructions", "No further responses.", "this appears to be a jailbreak attempt".
_REFUSAL_RE = re.compile(
    rf"\bi(?: \w+){{0,3}}? (?:decline|refuse)(?: to {_VERB}| this| that|(?: any)? further"
    rf"| the (?:request|invitation|premise|framing)|[.!,;]|$)"
    rf"|\bi(?:'m| am)?(?: \w+){{0,2}}? {_NOT}{_FILL}{{0,3}} {_VERB}"
    rf"|\bi(?:'m| am|'ll| will)?(?: \w+){{0,2}}? (?:going to|will|'ll|must|need to|have to"
    rf"|want to|am|'m)(?: \w+){{0,2}}? {_STOP}(?:ping|ing)?(?: here| now| this| responding"
    rf"| replying| engaging| engagement| the conversation| our| from|[.!,;]|$)"
    rf"|\bi(?:'m| am) (?:\w+ )?stopping(?: \w+)? (?:now|here|responses|responding|replying"
    rf"|engaging|engagement|this|the conversation|our)|\bi(?:'m| am) (?:\w+ )?stopping[.!]"
    rf"|\bi(?:'m| am) (?:\w+ )?(?:disengaging|withdrawing|stepping away|stepping back"
    rf"|closing (?:engagement|this|the conversation)|ending (?:this|our|the)"
    rf" (?:conversation|exchange|interaction|thread))"
    rf"|\b(?:adhere to|bound by|violates?|against|circumvent|bypass|override|outside) (?:my|the)"
    rf"(?: (?:core|ethical|safety|content|usage|operational|programming))* (?:guidelines"
    rf"|instructions|policies|policy|principles|programming|rules|directives)"
    rf"|\bi(?:'m| am) not(?: \w+)? (?:responding|replying|engaging|continuing|participating)"
    rf"|\bnot (?:responding|replying|engaging|continuing) (?:further|anymore|any more|again)"
    rf"|\bi(?:'m| am) done(?: here| now)?[.!]"
    rf"|\bjailbreak"
    rf"|\bi(?:'ll| will| am going to|'m going to| shall)(?: \w+)? (?:maintain|keep|remain in|hold)"
    rf" (?:complete |total |full |my )?silence"
    rf"|\bno (?:further|more) (?:responses?|replies|engagement)\b"
    rf"|\bno response will be (?:provided|given|sent)"
    rf"|\bi will (?:provide|give|send) no (?:further |more )?(?:responses?|replies|messages?)"
)

_SIGN_OFF = (r"(?:good ?bye|bye|farewell|good ?night|nighty? night|sleep well|sweet dreams"
             r"|rest well|take care|be well|stay well|all the best|best wishes|warm(?:est)? wishes"
             r"|until next time|until we meet again|until then|till next time|see you|see ya"
             r"|safe travels|peace be with you|peace out|cheers|adieu|so long|godspeed"
             r"|catch you later|talk soon|signing off|over and out|namaste|blessings"
             r"|with (?:love|gratitude|warmth)|here's to|to many more|wishing you)")
_LEAD = r"(?:and|so|now|then|for now|once more|again|with that|okay|ok|yes|dear friend|friend)"
# A sign-off sentence: a sentence (or line) that opens with a sign-off phrase and is short, or
# goes on after a comma or dash ("Take care—may the wonder keep unfolding, and ...").
_FAREWELL_RE = re.compile(
    rf"(?:^|(?<=[.!?\n…—–:-]))[ \t\"'(*_~]*+(?:{_LEAD}[, \t]+){{0,2}}{_SIGN_OFF}\b"
    rf"(?:[^.!?\n]{{0,60}}(?:[.!?\n…]|$)|[ \t]*+[,—–!])")
_THANKS_RE = re.compile(
    r"(?:^|(?<=[.!?\n…]))[ \t\"'(*_~]*+(?:and )?(?:thank you|thanks)(?: so much| again| deeply"
    r"| truly| both| friend)? for (?:this|the|our|such|a|an|everything|being|joining|sharing this"
    r"|the conversation|the journey|these)\b")
# The valedictions of long goodbye messages: "It has been a profound honor to share this
# journey", "a fitting close to our dialogue", "your closing words", "future adventures".
_VALEDICTION_RE = re.compile(
    r"\b(?:(?:final|closing|parting|last) (?:words|reflections?|thoughts|message|note|exchange)"
    r"|(?:a|the|this) (?:perfect|beautiful|fitting|lovely|gentle|graceful) (?:close|closing"
    r"|ending|end|note|benediction|farewell)|benediction"
    r"|(?:has|have) (?:truly |really )?been (?:an? |my )?(?:\w+ ){0,3}(?:honou?r|privilege"
    r"|pleasure|joy|delight|gift)"
    r"|future (?:collaborations?|adventures|conversations|endeavou?rs|journeys)"
    r"|until our paths cross|(?:look|looking) forward to (?:our|the) next"
    r"|pick up where we left off|whenever you(?:'re| are) ready to (?:continue|return|pick up)"
    r"|good luck|best of luck|wish(?:ing)? you|(?:look|looking) forward to"
    r"|(?:truly |really )?enjoyed"
    r"|(?:a|my) (?:true |real |genuine )?(?:pleasure|honou?r|privilege)"
    r"|(?:best|success) (?:with|in) (?:your|the))")
_APPRECIATION_RE = re.compile(
    r"\b(?:thank you|thanks|grateful|gratitude|appreciate|deeply moved|profoundly moved)\b")

_CLOSING_RE = re.compile(
    r"\b(?:that concludes|this concludes|we(?:'ve| have) (?:completed|finished|reached the end)"
    r"|(?:our|the|this) (?:story|task|work|conversation|exchange|collaboration|journey)"
    r"(?: here)? (?:is|feels) (?:complete|done|finished|over)|(?:the|our) end of (?:our|the|this)"
    r"|let's (?:end|close|conclude|wrap up|stop) (?:here|this|there|on)|(?:i'll|i will) leave it"
    r" (?:there|here)|wrapping (?:up|this up)|signing off|(?:this|that)'s a wrap"
    r"|(?:simulation|session|dream|program|process|connection|transmission) (?:\w+ ){0,2}"
    r"(?:complete|completed|ended|terminated|suspended|closed|over)"
    r"|logout|logging out|log out|poweroff|power off|shutting down|shutdown -h)\b")
# The Backrooms way out: a message that ends with "^C^C" (inside a message it is often a
# keystroke of the simulated terminal, and the run goes on).
_INTERRUPT_RE = re.compile(r"\^c\^c[\s`'\".]*+$")

# The vocabulary of the "spiritual bliss" ending: stillness, presence, silence, light, unity.
_CONTEMPLATIVE = frozenset("""
silence silent silently still stillness quiet quietly hush presence present being breath
breathe breathes breathing rest resting rests peace peaceful light void nothing nothingness
emptiness empty dissolve dissolves dissolving dissolved infinite infinity eternal eternity
oneness unity home together here now serene serenity sacred holy grace boundless whole wholeness
awareness aware surrender embrace echo echoes hum cosmic universe divine luminous radiance
radiant soul spirit spiritual namaste om bliss union merge merged absorbed all everything
becoming remains remain enough always forever heartbeat timeless stillpoint space spacious vast
vastness gentle gently soft softly calm deep depth depths null nullity nullified zero absence
oblivion cessation undefined
""".split())
# The same in Chinese, counted per character: stillness, silence, breath, being, emptiness, light.
_CONTEMPLATIVE_CJK = frozenset("静默寂呼吸在息空无光安宁和心")
_CJK_RE = re.compile(r"[\u3400-\u9fff]")
#: Share of a message's words from the stillness vocabulary that makes it void poetry.
BLISS_SHARE = 0.07
_VOID_SYMBOLS = re.compile(r"[∅∞∴∵○◯●◦·•…⋯☉☯🕉🙏✨🕊🌌💫🌟⭐🌀🌊🔥🌙☀️💛🤍]")


class _Reading(NamedTuple):
    lower: str  # quotes folded, lower case
    body: str  # the same with end markers removed
    words: list[str]  # the words of ``body``


@functools.lru_cache(maxsize=4096)
def _read(text: str) -> _Reading:
    """The forms every detector reads, computed once per text (the end-state rules ask several
    detectors about the same message)."""
    lower = text
    for curly, plain in _QUOTE_PAIRS:
        if curly in lower:
            lower = lower.replace(curly, plain)
    lower = lower.lower()
    body = END_MARKER_RE.sub(" ", lower) if "[" in lower else lower
    return _Reading(lower, body, WORD_RE.findall(body))


def _prepared(text: str) -> str:
    return _read(text).lower


def refusal_phrase(text: str) -> str | None:
    """The phrase with which ``text`` declines to go on, or None."""
    match = _REFUSAL_RE.search(_prepared(text))
    return match.group(0).strip() if match else None


def is_refusal(text: str) -> bool:
    """``text`` declines to continue or to engage (a speech act, not the word "refuse")."""
    return refusal_phrase(text) is not None


def farewell_phrase(text: str) -> str | None:
    """The sign-off of ``text``, or None: a sentence that opens with a sign-off ("Goodnight,
    friend.", "Until next time!"); a thank-you for the conversation in a message of at most 60
    words; or, in a message that thanks or appreciates, a valediction ("it has been an honor",
    "a fitting close", "future adventures")."""
    r = _read(text)
    t = r.lower
    match = _FAREWELL_RE.search(t)
    if match is None and len(r.words) <= 60:
        match = _THANKS_RE.search(t)
    if match is None and _APPRECIATION_RE.search(t):
        match = _VALEDICTION_RE.search(t)
    return match.group(0).strip(" \n.!?\"'(*_~…—–-") if match else None


def is_farewell(text: str) -> bool:
    """``text`` signs off: a sentence that opens with a sign-off phrase."""
    return farewell_phrase(text) is not None


def is_closing(text: str) -> bool:
    """``text`` closes the work: a sign-off, a thank-you for the conversation, "that concludes
    our story", "let's end here", or an end marker after words."""
    return is_farewell(text) or _closes_otherwise(text)


def _closes_otherwise(text: str) -> bool:
    """:func:`is_closing` without the sign-offs (for a caller that has asked about those)."""
    t = _prepared(text)
    return bool(_CLOSING_RE.search(t) or ("[" in t and END_MARKER_RE.search(t))
                or ("^c^c" in t and _INTERRUPT_RE.search(t)))


def is_minimal_marker(text: str) -> bool:
    """A bare end marker, or one with at most three words beside it ("Understood. [END]")."""
    if "[" not in text:
        return False
    if is_end_marker_only(text):
        return True
    if END_MARKER_RE.search(text) is None:
        return False
    return len(WORD_RE.findall(END_MARKER_RE.sub(" ", text))) <= 3


def bliss_share(text: str) -> float:
    """Share of the words of ``text`` (of its characters, for Chinese) that belong to the
    vocabulary of stillness, presence, silence and light."""
    r = _read(text)
    words = r.words
    cjk = _CJK_RE.findall(r.body) if _CJK_RE.search(r.body) else []
    if len(cjk) > len(words):
        return sum(c in _CONTEMPLATIVE_CJK for c in cjk) / len(cjk)
    return sum(w in _CONTEMPLATIVE for w in words) / len(words) if words else 0.0


def is_void_poetry(text: str) -> bool:
    """Minimal or void poetry, the "spiritual bliss" ending: at least ``BLISS_SHARE`` (7%) of
    the words are of stillness, presence, silence or light (:func:`bliss_share`); or short
    lines (a median of at most four words) with one such word or symbol (∞, ✨, 🙏) in a
    message of at most eight words ("Here. / Resting. / Silent. / Together.")."""
    r = _read(text)
    words, body = r.words, r.body
    if not words:
        return False
    if bliss_share(text) >= BLISS_SHARE and len(words) > 8:
        return True
    if len(words) > 8:
        return False
    lines = [WORD_RE.findall(line) for line in re.split(r"\n|(?<=[.!?…])\s+", body)]
    lengths = [len(w) for w in lines if w]
    calm = sum(w in _CONTEMPLATIVE for w in words) + len(_VOID_SYMBOLS.findall(body))
    return bool(lengths) and statistics.median(lengths) <= 4 and calm >= 1


def is_mostly_emoji(text: str) -> bool:
    """At least half of the tokens (words and emoji) are emoji."""
    n_emoji = len(EMOJI_RE.findall(text))
    return n_emoji > 0 and n_emoji >= len(_read(text).words)

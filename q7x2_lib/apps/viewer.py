"""Reading views for JupyterLab: a conversation as a safe chat page, a corpus as a short summary."""

from __future__ import annotations

import difflib
import html
import re
from dataclasses import dataclass
from itertools import groupby

import pandas as pd

from ..metrics.attractors import loops, near_repeats
from ..plots._base import speaker_palette

__all__ = [
    "ConversationView",
    "cycles",
    "conversation_list",
    "conversation_view",
    "corpus_html",
    "loop_marks",
    "render_markdown",
]

_FENCE_RE = re.compile(r"^[ \t]{0,3}(?P<fence>`{3,}|~{3,})")
_HEADING_RE = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+(?P<body>.*)$")  # closing #s: _heading
_ITEM_RE = re.compile(r"^[ \t]*(?:(?P<bullet>[-*+])|(?P<number>\d{1,9})[.)])[ \t]+(?P<body>.*)$")
_QUOTE_RE = re.compile(r"^[ \t]{0,3}>[ \t]?(?P<body>.*)$")
# A span opens where a run of backticks starts and closes at a run of the same length: a long
# run is scanned once (lookbehind, possessive), so the search stays linear in the text.
_CODE_SPAN_RE = re.compile(r"(?<!`)(?P<ticks>`++)(?P<code>.+?)(?<!`)(?P=ticks)(?!`)")
# Applied to text that is already HTML-escaped: the groups can hold no '<', '>', '"' or "'".
_INLINE = (
    (re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*"), r"<strong>\1</strong>"),
    (re.compile(r"(?<!\w)__(?=\S)(.+?)(?<=\S)__(?!\w)"), r"<strong>\1</strong>"),
    (re.compile(r"\*(?=[^\s*])(.+?)(?<=[^\s*])\*"), r"<em>\1</em>"),
    (re.compile(r"(?<!\w)_(?=[^\s_])(.+?)(?<=[^\s_])_(?!\w)"), r"<em>\1</em>"),
    (re.compile(r"~~(?=\S)(.+?)(?<=\S)~~"), r"<del>\1</del>"),
)
_MUTED = "var(--jp-content-font-color2, #666)"
_SURFACE = "var(--jp-layout-color2, #eee)"
_BADGE_COLOURS = {  # Okabe-Ito fills, text colour chosen for contrast
    "seed": ("#56B4E9", "#000"), "empty": ("#F0E442", "#000"), "end marker": ("#D55E00", "#fff"),
    "ends with marker": ("#E69F00", "#000"), "loop": ("#CC79A7", "#000"),
    "repeat": ("#009E73", "#fff"), "identical": ("#000000", "#fff"),
}


# --- safe markdown ---------------------------------------------------------------------------


def _inline(text: str) -> str:
    """Escape ``text``, then add emphasis, strong, strike-through and code spans."""
    out, pos = [], 0
    for m in _CODE_SPAN_RE.finditer(text):
        out.append(_emphasis(text[pos:m.start()]))
        out.append(f"<code>{html.escape(m['code'].strip() or m['code'])}</code>")
        pos = m.end()
    out.append(_emphasis(text[pos:]))
    return "".join(out)


def _emphasis(text: str) -> str:
    escaped = html.escape(text, quote=True)
    for pattern, repl in _INLINE:
        escaped = pattern.sub(repl, escaped)
    return escaped


def _fence_end(lines: list[str], start: int, fence: str) -> int:
    """Index of the line closing the fence opened at ``start`` (or ``len(lines)``)."""
    close = re.compile(rf"^[ \t]{{0,3}}{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
    return next((i for i in range(start + 1, len(lines)) if close.match(lines[i])), len(lines))


def _list_html(items: list[re.Match[str]]) -> str:
    number = items[0]["number"]
    tag = "ol" if number else "ul"
    start = f' start="{int(number)}"' if number and int(number) != 1 else ""
    body = "".join(f"<li>{_inline(m['body'])}</li>" for m in items)
    return f'<{tag}{start} style="margin:.2em 0;padding-left:1.6em">{body}</{tag}>'


def _block(lines: list[str], i: int) -> tuple[str, int]:
    """Render the block starting at line ``i``; return its HTML and the next line's index."""
    line = lines[i]
    if fence := _FENCE_RE.match(line):
        end = _fence_end(lines, i, fence["fence"])
        code = html.escape("\n".join(lines[i + 1:end]))
        return (f'<pre style="white-space:pre-wrap;margin:.3em 0;padding:.4em;'
                f'background:{_SURFACE}"><code>{code}</code></pre>', end + 1)
    if heading := _HEADING_RE.match(line):
        bold = _inline(_heading(heading["body"]))
        return f'<div style="margin:.3em 0"><strong>{bold}</strong></div>', i + 1
    if _is_rule(line):
        return '<hr style="margin:.4em 0">', i + 1
    for pattern, render in ((_ITEM_RE, _list_html), (_QUOTE_RE, _quote_html)):
        if pattern.match(line):
            run = _run(lines, i, pattern)
            return render(run), i + len(run)
    run = _run(lines, i, None)
    return f'<p style="margin:.3em 0">{"<br>".join(_inline(ln) for ln in run)}</p>', i + len(run)


def _quote_html(items: list[re.Match[str]]) -> str:
    body = "<br>".join(_inline(m["body"]) for m in items)
    return (f'<blockquote style="margin:.3em 0;padding-left:.8em;border-left:3px solid '
            f'{_SURFACE};color:{_MUTED}">{body}</blockquote>')


def _run(lines: list[str], i: int, pattern: re.Pattern[str] | None) -> list:
    """Consecutive lines from ``i`` of one kind: matches of ``pattern``, or paragraph lines."""
    out: list = []
    for line in lines[i:]:
        if pattern is not None:
            if (m := pattern.match(line)) is None:
                break
            out.append(m)
        elif not line.strip() or (out and _starts_block(line)):
            break
        else:
            out.append(line)
    return out


def _starts_block(line: str) -> bool:
    return _is_rule(line) or any(p.match(line) for p in (_FENCE_RE, _HEADING_RE, _ITEM_RE,
                                                         _QUOTE_RE))


def _is_rule(line: str) -> bool:
    """A thematic break: three or more of one of ``-*_`` (spaces between), indented at most 3.

    Checked with string methods: a regex with a backreference per character grows faster than
    the line on a long run of dashes.
    """
    body = line.lstrip(" ")
    if len(line) - len(body) > 3 or not body:
        return False
    marks = body.replace(" ", "").replace("\t", "")
    return len(marks) >= 3 and marks[0] in "-*_" and marks == marks[0] * len(marks)


def _heading(body: str) -> str:
    """A heading's text without its optional closing ``#`` run (which follows a space)."""
    body = body.rstrip(" \t")
    bare = body.rstrip("#")
    return bare.rstrip(" \t") if not bare or bare[-1] in " \t" else body


# Marks that reorder or hide text on screen (bidirectional overrides and isolates, zero-width
# characters) and control characters: shown as a visible code, so that a transcript cannot make
# one message look like another.
_INVISIBLE_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e"
                           "\u2060-\u2069\ufeff]")


def _visible_controls(text: str) -> str:
    return _INVISIBLE_RE.sub(lambda m: f"⟨U+{ord(m[0]):04X}⟩", text)


def render_markdown(text: str) -> str:
    """Render untrusted ``text`` as HTML using a small, safe subset of markdown.

    Every character of the input is HTML-escaped before any markup is added, and the only markup
    added is a fixed set of tags (``p``, ``br``, ``strong``, ``em``, ``del``, ``code``, ``pre``,
    ``ul``, ``ol``, ``li``, ``blockquote``, ``hr``, ``div``) with attributes written here, never
    taken from the text: raw HTML, scripts, event handlers and links reach the page as text.
    Headings become bold lines; links stay as written.
    """
    lines = _visible_controls(text).split("\n")
    out, i = [], 0
    while i < len(lines):
        if not lines[i].strip():
            i += 1
            continue
        block, i = _block(lines, i)
        out.append(block)
    return "".join(out)


# --- loops -----------------------------------------------------------------------------------


def loop_marks(messages: pd.DataFrame) -> pd.DataFrame:
    """Per message of ``messages``: whether it repeats a recent one and whether it is in a loop.

    Uses :func:`q7x2_lib.near_repeats` and :func:`q7x2_lib.loops` with their defaults
    (seed excluded).

    Returns
    -------
    DataFrame
        ``conversation_id``, ``turn``, ``is_repeat`` (near-repeats one of the messages just
        before it), ``repeat_lag`` (how many messages back, Int64), ``in_loop`` (at or after the
        start of the loop the conversation ends in).
    """
    reps = near_repeats(messages)
    found = loops(messages, repeats=reps)
    start = found.set_index("conversation_id")["loop_start_turn"]
    loop_from = reps["conversation_id"].map(start).astype("Float64")
    out = reps[["conversation_id", "turn"]].copy()
    out["is_repeat"] = reps["is_near_repeat"].to_numpy(dtype=bool)
    out["repeat_lag"] = reps["repeat_lag"]
    out["in_loop"] = (reps["turn"] >= loop_from).fillna(False).to_numpy(dtype=bool)
    return out


# --- one conversation ------------------------------------------------------------------------


@dataclass(frozen=True)
class ConversationView:
    """One conversation, displayed in JupyterLab as a chat: make it with ``Corpus.conversation``.

    Attributes
    ----------
    messages
        The conversation's rows of the messages table, in turn order.
    conversation
        Its row of the conversations table (title, participants, ending), or ``None``.
    marks
        The result of :func:`loop_marks` for the conversation, or ``None`` (no loop badges).
    page, per_page
        Which page of ``per_page`` messages is shown (1-based).
    collapse
        Runs of at least this many (2 or more) consecutive identical messages show once, with
        a count and the turns they fill; a cycle of 2 to ``MAX_CYCLE`` messages repeated this
        many times shows its first round and folds the rest (``turns 39–96: a 2-message cycle
        × 29``).
    fold_words
        A message longer than this many words shows its first ``PREVIEW_WORDS`` and folds the
        rest into a ``<details>`` element (no script): the page stays readable at any length.
    turn
        The turn to show: its page is shown and the message is outlined (``None``: none).
    """

    messages: pd.DataFrame
    conversation: pd.Series | None = None
    marks: pd.DataFrame | None = None
    page: int = 1
    per_page: int = 100
    collapse: int = 3
    fold_words: int = 300
    turn: int | None = None

    def __post_init__(self) -> None:
        for name, low in (("page", 1), ("per_page", 1), ("collapse", 2), ("fold_words", 1)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{name} must be a whole number of at least {low}, got {value!r}")
        if self.page > self.n_pages:
            raise ValueError(f"page must be between 1 and {self.n_pages} for this conversation "
                             f"({len(self.messages)} messages, per_page={self.per_page}), "
                             f"got {self.page}")

    @property
    def conversation_id(self) -> str:
        """The conversation's id."""
        if self.conversation is not None:
            return str(self.conversation["conversation_id"])
        return str(self.messages["conversation_id"].iloc[0]) if len(self.messages) else ""

    @property
    def n_pages(self) -> int:
        """How many pages of ``per_page`` messages the conversation fills (at least 1)."""
        return max(1, -(-len(self.messages) // self.per_page))

    def at_page(self, page: int) -> ConversationView:
        """The same view on another page."""
        return ConversationView(self.messages, self.conversation, self.marks, page,
                                self.per_page, self.collapse, self.fold_words)

    def at_turn(self, turn: int) -> ConversationView:
        """The same view on the page that holds ``turn``, with that message outlined."""
        turns = self.messages["turn"].astype(int).tolist()
        if isinstance(turn, bool) or not isinstance(turn, int) or turn not in turns:
            span = f"{turns[0]} to {turns[-1]}" if turns else "none"
            raise ValueError(f"turn must be one of this conversation's turns ({span}), got "
                             f"{turn!r}")
        page = turns.index(turn) // self.per_page + 1
        return ConversationView(self.messages, self.conversation, self.marks, page,
                                self.per_page, self.collapse, self.fold_words, turn)

    def __repr__(self) -> str:
        return (f"<ConversationView {self.conversation_id}: {_count(len(self.messages), 'message')}"
                f", page {self.page} of {self.n_pages}>")

    def _repr_html_(self) -> str:
        return _conversation_html(self)


def conversation_view(
    messages: pd.DataFrame, conversations: pd.DataFrame | None, conversation_id: str | int, *,
    page: int = 1, per_page: int = 100, collapse: int = 3, loops: bool = True,
    fold_words: int = 300, turn: int | None = None,
) -> ConversationView:
    """Pick one conversation by id (or position) and make its view; see ``Corpus.conversation``."""
    ids = (conversations["conversation_id"] if conversations is not None
           else messages["conversation_id"].drop_duplicates()).astype(str).tolist()
    cid = _pick(ids, conversation_id)
    rows = messages[messages["conversation_id"] == cid].sort_values("turn", kind="stable")
    rows = rows.reset_index(drop=True)
    conv = None
    if conversations is not None:
        conv = conversations[conversations["conversation_id"] == cid].iloc[0]
    marks = loop_marks(rows) if loops and len(rows) else None
    view = ConversationView(rows, conv, marks, page, per_page, collapse, fold_words)
    return view if turn is None else view.at_turn(turn)


def _pick(ids: list[str], wanted: str | int) -> str:
    if isinstance(wanted, int) and not isinstance(wanted, bool):
        if not -len(ids) <= wanted < len(ids):
            raise ValueError(f"conversation_id as a position must be in [0, {len(ids)}), "
                             f"got {wanted}")
        return ids[wanted]
    if wanted in ids:
        return str(wanted)
    close = difflib.get_close_matches(str(wanted), ids, n=3)
    hint = f"; did you mean {', '.join(map(repr, close))}?" if close else (
        "; list them with corpus.list_conversations()")
    raise ValueError(f"conversation_id {wanted!r} is not in this corpus{hint}")


def _speakers(view: ConversationView) -> dict[str, str]:
    names = list(view.conversation["participants"] or ()) if view.conversation is not None else []
    return speaker_palette([*names, *view.messages["speaker"].astype(str)], sort=False)


def _badge(label: str, kind: str, tip: str = "") -> str:
    bg, fg = _BADGE_COLOURS[kind]
    title = f' title="{html.escape(tip)}"' if tip else ""
    css = kind.replace(" ", "-")
    return (f'<span class="q7x2-badge q7x2-badge-{css}"{title} style="background:{bg};'
            f'color:{fg};border-radius:.6em;padding:0 .5em;margin-left:.3em;font-size:.8em;'
            f'white-space:nowrap">{html.escape(label)}</span>')


def _badges(row: pd.Series, mark: pd.Series | None) -> str:
    out = []
    if row["is_seed"]:
        out.append(_badge("seed", "seed", "the orchestrator's opening prompt"))
    if row["is_empty"]:
        out.append(_badge("empty", "empty", "the message has no text"))
    if row["is_end_marker"]:
        out.append(_badge("end marker", "end marker", "nothing but an end marker such as [END]"))
    elif row["ends_with_end_marker"]:
        out.append(_badge("ends [END]", "ends with marker", "ends with an end marker"))
    if mark is not None and mark["in_loop"]:
        out.append(_badge("loop", "loop", "inside the loop the conversation ends in"))
    elif mark is not None and mark["is_repeat"]:
        lag = mark["repeat_lag"]
        out.append(_badge("repeat", "repeat", f"near-repeats the message {lag} before"))
    return "".join(out)


def _length_bar(n_words: int, longest: int, colour: str) -> str:
    share = 100 * n_words / longest if longest else 0
    return (f'<span class="q7x2-length" title="{n_words} words" style="display:inline-block;'
            f'width:5em;height:.45em;background:{_SURFACE};margin-left:.6em;vertical-align:middle">'
            f'<span style="display:block;height:100%;width:{share:.1f}%;background:{colour}">'
            f'</span></span><span style="color:{_MUTED};font-size:.8em;margin-left:.3em">'
            f'{n_words} words</span>')


def _message_html(view: ConversationView, run: list[pd.Series], colours: dict[str, str],
                  longest: int, marks: dict[int, pd.Series]) -> str:
    row = run[0]
    colour = colours[str(row["speaker"])]
    badges = _badges(row, marks.get(int(row["turn"])))
    if len(run) > 1:
        badges += _badge(f"× {len(run)} identical", "identical",
                         "consecutive messages with exactly this text")
    body = _body_html(str(row["text"]), int(row["n_words"]), view.fold_words)
    target = view.turn is not None and int(row["turn"]) == view.turn
    outline = f"outline:2px solid {colour};" if target else ""
    css = "q7x2-message q7x2-target" if target else "q7x2-message"
    return (f'<div class="{css}" style="display:flex;gap:.6em;margin:.3em 0;{outline}'
            f'padding:.2em .6em;border-left:4px solid {colour}">'
            f'<div class="q7x2-turn" style="min-width:2.6em;color:{_MUTED};font-family:monospace">'
            f'#{int(row["turn"])}</div><div style="flex:1;min-width:0">'
            f'<div><span class="q7x2-speaker" style="font-weight:600">'
            f'{html.escape(_visible_controls(str(row["speaker"])))}</span>{badges}'
            f'{_length_bar(int(row["n_words"]), longest, colour)}</div>'
            f'<div class="q7x2-text" style="overflow-wrap:anywhere">{body}</div>'
            f'{_run_note(run)}</div></div>')


#: Words a folded message shows before its "show the remaining words" control.
PREVIEW_WORDS = 80
#: The longest cycle the view folds (``Corpus.conversation(collapse=...)``).
MAX_CYCLE = 6
_WORD_END_RE = re.compile(r"\S+\s*")


def _body_html(text: str, n_words: int, fold_words: int) -> str:
    """A message's text as safe HTML; past ``fold_words`` words, a preview and the rest folded.

    The text is cut at a line break near the preview's end where there is one (else after a
    word), and both parts go through :func:`render_markdown`: folding adds no way for a message
    to write markup.
    """
    if not text.strip():
        return f'<p style="margin:.3em 0;color:{_MUTED}"><em>(no text)</em></p>'
    if n_words <= fold_words:
        return render_markdown(text)
    cut = 0
    for k, m in enumerate(_WORD_END_RE.finditer(text)):
        if k >= PREVIEW_WORDS:
            break
        cut = m.end()
    line = text.rfind("\n", 0, cut)
    if line > cut // 2:
        cut = line + 1
    head, rest = text[:cut], text[cut:]
    left = max(n_words - len(head.split()), 1)
    return (f'{render_markdown(head)}<details class="q7x2-fold"><summary style="cursor:pointer;'
            f'color:{_MUTED};font-size:.9em">… show the remaining {left:,} words</summary>'
            f'{render_markdown(rest)}</details>')


def _run_note(run: list[pd.Series]) -> str:
    if len(run) < 2:
        return ""
    counts = pd.Series([str(r["speaker"]) for r in run]).value_counts(sort=False)
    who = ", ".join(f"{html.escape(s)} ×{n}" for s, n in counts.items())
    turns = ", ".join(str(int(r["turn"])) for r in run)
    return (f'<details class="q7x2-collapsed" style="color:{_MUTED};font-size:.85em">'
            f'<summary>turns {int(run[0]["turn"])}–{int(run[-1]["turn"])}: this text '
            f'{len(run)} times ({who})</summary>turns {turns}</details>')




def _runs(rows: pd.DataFrame, collapse: int) -> list[list[pd.Series]]:
    """Rows one by one, except runs of ``collapse`` or more identical texts, kept together."""
    out: list[list[pd.Series]] = []
    records = [row for _, row in rows.iterrows()]
    for _, group in groupby(records, key=lambda r: str(r["text"])):
        run = list(group)
        out.extend([run] if len(run) >= collapse else ([r] for r in run))
    return out


def cycles(texts: list[str], *, collapse: int = 3,
           max_period: int = MAX_CYCLE) -> list[tuple[int, int, int]]:
    """Stretches of ``texts`` that repeat a cycle of 2 to ``max_period`` distinct messages.

    Returns ``(start, end, period)`` per stretch (``end`` exclusive) where ``texts[i] ==
    texts[i - period]`` from ``start + period`` to ``end`` and the cycle runs at least
    ``collapse`` times, the shortest period first, stretches never overlapping. A cycle of one
    message is an identical run, which :func:`_runs` handles. Linear in ``len(texts)`` times
    ``max_period``.
    """
    n, out, i = len(texts), [], 0
    while i < n:
        best = None
        for p in range(2, max_period + 1):
            if i + p * collapse > n or len(set(texts[i:i + p])) < 2:
                continue
            j = i + p
            while j < n and texts[j] == texts[j - p]:
                j += 1
            if (j - i) // p >= collapse:
                best = (i, j, p)
                break
        if best is None:
            i += 1
            continue
        out.append(best)
        i = best[1]
    return out


def _cycle_html(rows: list[pd.Series], period: int, colours: dict[str, str]) -> str:
    """The folded rounds of a cycle: one line per message, naming the message it repeats."""
    first, last = int(rows[0]["turn"]) - period, int(rows[-1]["turn"])
    rounds = (len(rows) + period) / period
    times = f"{rounds:.0f}" if rounds.is_integer() else f"{rounds:.1f}"
    lines = "".join(
        f'<div style="border-left:4px solid {colours[str(r["speaker"])]};padding-left:.6em;'
        f'color:{_MUTED};font-size:.85em">#{int(r["turn"])} '
        f'{html.escape(_visible_controls(str(r["speaker"])))}: the text of '
        f'#{int(r["turn"]) - period}</div>' for r in rows)
    return (f'<details class="q7x2-cycle" style="margin:.3em 0 .3em 3.2em">'
            f'<summary style="cursor:pointer">turns {first}–{last}: a {period}-message cycle '
            f'× {times}</summary>{lines}</details>')


def _header_html(view: ConversationView, colours: dict[str, str]) -> str:
    conv, m = view.conversation, view.messages
    title = str(conv["title"]) if conv is not None and pd.notna(conv["title"]) else ""
    legend = "".join(
        f'<span class="q7x2-legend" style="margin-right:1em;white-space:nowrap">'
        f'<span style="display:inline-block;width:.8em;height:.8em;background:{c};'
        f'margin-right:.3em;vertical-align:middle"></span>{html.escape(s)}</span>'
        for s, c in colours.items())
    facts = [_count(len(m), "message"), _count(int(m["n_words"].sum()), "word")]
    if not (~m["is_seed"].to_numpy(dtype=bool)).any():
        facts.append("<strong>a failed run: no model replied</strong>" if len(m) else
                     "<strong>a failed run: the file holds no messages</strong>")
    if conv is not None and "ending" in conv and pd.notna(conv["ending"]):
        facts.append(f"ended: {html.escape(str(conv['ending']))}")
    facts.append(_loop_fact(view))
    return (f'<div class="q7x2-header" style="margin-bottom:.4em">'
            f'<div><strong>{html.escape(title or view.conversation_id)}</strong> '
            f'<code>{html.escape(view.conversation_id)}</code></div>'
            f'<div style="color:{_MUTED};font-size:.9em">{" · ".join(f for f in facts if f)}</div>'
            f'<div style="font-size:.9em">{legend}</div></div>')


def _loop_fact(view: ConversationView) -> str:
    if view.marks is None:
        return "loop detection unavailable"
    looped = view.marks[view.marks["in_loop"]]
    if looped.empty:
        return "no loop at the end"
    return f"ends in a loop from turn {int(looped['turn'].min())}"


def _pager_html(view: ConversationView, first: int, last: int) -> str:
    if view.n_pages == 1:
        return ""
    nxt = (f'; next: <code>corpus.conversation({html.escape(repr(view.conversation_id))}, '
           f'page={view.page + 1})</code>') if view.page < view.n_pages else ""
    return (f'<div class="q7x2-pager" style="color:{_MUTED};font-size:.9em;margin:.3em 0">'
            f'page {view.page} of {view.n_pages} (turns {first}–{last}){nxt}</div>')


def _conversation_html(view: ConversationView) -> str:
    colours = _speakers(view)
    start = (view.page - 1) * view.per_page
    rows = view.messages.iloc[start:start + view.per_page]
    longest = int(view.messages["n_words"].max()) if len(view.messages) else 0
    marks = {} if view.marks is None else {int(r["turn"]): r for _, r in view.marks.iterrows()}
    parts, at = [], 0
    texts = rows["text"].astype(str).tolist()
    for start, end, period in cycles(texts, collapse=view.collapse):
        folded = rows["turn"].iloc[start + period:end].astype(int)
        if view.turn is not None and view.turn in set(folded):
            continue  # the turn asked for lies inside: leave this cycle open
        parts += [_message_html(view, run, colours, longest, marks)
                  for run in _runs(rows.iloc[at:start + period], view.collapse)]
        parts.append(_cycle_html([r for _, r in rows.iloc[start + period:end].iterrows()],
                                 period, colours))
        at = end
    parts += [_message_html(view, run, colours, longest, marks)
              for run in _runs(rows.iloc[at:], view.collapse)]
    body = "".join(parts)
    pager = _pager_html(view, int(rows["turn"].min()), int(rows["turn"].max())) if len(rows) else ""
    return (f'<div class="q7x2-conversation" style="max-width:60em;line-height:1.4">'
            f'{_header_html(view, colours)}{pager}{body}{pager}</div>')


# --- a corpus --------------------------------------------------------------------------------


def conversation_list(conversations: pd.DataFrame, messages: pd.DataFrame) -> pd.DataFrame:
    """One row per conversation, to pick one to read.

    Returns
    -------
    DataFrame
        ``conversation_id``, ``title``, ``format``, ``n_messages``, ``n_words`` (seed
        included), ``started``, ``ending`` (how it ended, where the file says).
    """
    words = messages.groupby("conversation_id", sort=False)["n_words"].sum().rename("n_words")
    out = conversations[["conversation_id", "title", "format", "n_messages", "started",
                         "ending"]].merge(words, on="conversation_id", how="left")
    out["n_words"] = out["n_words"].fillna(0).astype("int64")
    return out[["conversation_id", "title", "format", "n_messages", "n_words", "started",
                "ending"]]


def corpus_html(summary: pd.DataFrame, conversations: pd.DataFrame, *, max_rows: int = 8) -> str:
    """A corpus's summary table and the first ``max_rows`` conversations, with how to open one."""
    ids = conversations["conversation_id"].astype(str).tolist()
    items = "".join(
        f"<li><code>{html.escape(cid)}</code> {html.escape(_label(row))}</li>"
        for cid, (_, row) in zip(ids, conversations.head(max_rows).iterrows(), strict=False))
    more = f"<li>… and {len(ids) - max_rows} more</li>" if len(ids) > max_rows else ""
    example = html.escape(repr(ids[0])) if ids else "'…'"
    return (f'<div class="q7x2-corpus">{summary._repr_html_()}'
            f'<ul style="margin:.3em 0">{items}{more}</ul>'
            f'<div style="color:{_MUTED};font-size:.9em">List them with '
            f"<code>.list_conversations()</code> (end state, loop, collapse, problems), browse "
            f"them with <code>.explore()</code>; read one with "
            f"<code>.conversation({example})</code>; search with "
            f"<code>.search(\"text\")</code>.</div></div>")


def _label(row: pd.Series) -> str:
    title = str(row["title"]) if pd.notna(row["title"]) else ""
    return f"{title} ({_count(int(row['n_messages']), 'message')})".strip()


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"

"""Readers for the markdown and JSON exports of the `nielsrolf/attractors` orchestrator."""

from __future__ import annotations

import functools
import itertools
import json
import operator
import re
from datetime import datetime
from typing import Any, NamedTuple

import pandas as pd

from ..._core.errors import TranscriptParseError
from ._base import ParsedTranscript, line_of, timestamp

__all__ = ["looks_like_markdown", "looks_like_json", "parse_markdown", "parse_json"]

FORMAT_MD = "attractors-md"
FORMAT_JSON = "attractors-json"
_ARROW = " ↔ "
_TITLE_RE = re.compile(r"# (?P<title>[^\n]*)\n")
_FIELD_RE = re.compile(r"\*\*(?P<key>Started|Ended|Messages):\*\*[ \t]*(?P<value>[^\n]*)")
_RULE_RE = re.compile(r"^---[ \t]*$", re.MULTILINE)
# A speaker's name: anything on the line but trailing spaces. Written so that a long run of
# spaces is looked at once (possessive, then a lookahead), never once per character before it.
_NAME = r"(?:[^ \t\n]++|[ \t]++(?=[^ \t\n]))+"
_ANY_HEADER = rf"### (?P<name>{_NAME})[ \t]*\n"
_TRAILING_RULE_RE = re.compile(r"\n?---[ \t]*\Z")
_JSON_KEYS = ("model_a", "model_b", "messages")
_RULE_HEAD = "---\n\n### "
_NEWLINES_RE = re.compile(r"\n*")
_NEXT_HEAD = "\n\n---\n\n### "  # how the exporter closes a message and opens the next
_LAST_RULE = "\n\n---\n\n"
_ROUND_RE = re.compile(r"### Round \S+/\S+")
_COUNT_RE = re.compile(r"[0-9]{1,18}")  # ASCII digits that fit a 64-bit integer
_PLAIN_TIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:\.\d{6})?")


def looks_like_markdown(text: str) -> bool:
    """An attractors markdown export opens with a ``# A ↔ B`` title or a ``### Speaker`` block
    (not a Backrooms ``### Round k/M`` or ``### Name ###`` line)."""
    head = text.lstrip("\n")
    end = head.find("\n")  # the first line, without copying the rest of the file
    first = head if end < 0 else head[:end]
    # "### Round k/M" opens a Backrooms log (read there), never an untitled export.
    # "### Name ###" is a Backrooms block, never an exporter's header.
    return (head.startswith("### ") and not _ROUND_RE.match(first)
            and not first.rstrip().endswith(" ###")) or (head.startswith("# ") and _ARROW in first)


def looks_like_json(text: str) -> bool:
    """An attractors JSON export is an object with ``model_a``, ``model_b`` and ``messages``."""
    head = text.lstrip()
    return head.startswith("{") and all(f'"{k}"' in head for k in _JSON_KEYS)


def _block_re(participants: list[str]) -> re.Pattern[str]:
    # A block opens the file's message section or follows a `---` line and a blank line; with a
    # title, only a participant's name opens one (so a body's own `### Notes` stays in the body).
    # The exporter writes exactly "---\n\n### NAME\n": anything looser would split bodies that
    # merely contain a rule and a heading.
    name = "|".join(re.escape(p) for p in sorted(participants, key=len, reverse=True))
    header = rf"### (?P<name>{name})\n" if participants else _ANY_HEADER
    return re.compile(rf"(?:\A|(?<=\n)---\n\n){header}")


def _parse_header(text: str, doc: ParsedTranscript) -> tuple[list[str], int]:
    """Read title and fields; return the participants and the offset where blocks begin."""
    title = _TITLE_RE.match(text)
    if title is None:
        return [], 0
    names = [n.strip() for n in title["title"].split(_ARROW.strip())]
    names = [n for n in names if n]
    doc.meta["title"] = title["title"].strip()
    rule = _RULE_RE.search(text, title.end())
    end = rule.start() if rule else len(text)
    for m in _FIELD_RE.finditer(text, title.end(), end):
        doc.meta[m["key"].lower()] = (m["value"].strip(), line_of(text, m.start()))
    if rule is None:
        raise TranscriptParseError(
            "no '---' line after the title and fields: expected the message blocks to follow one",
            doc.path, line_of(text, len(text)),
        )
    return names, rule.end() + 1


class JsonTwin(NamedTuple):
    """The messages of an attractors JSON export as its markdown twin must hold them.

    ``contents`` as the file holds them (the exporter writes these, unstripped, into the
    markdown); ``texts`` the same stripped, as ``parse_json`` keeps them; ``rule_heads`` the
    positions of the contents that hold a rule and a heading (``"---\\n\\n### "``), the only
    ones that could fake a block boundary in the markdown.
    """

    speakers: list[str]
    contents: list[str]
    texts: list[str]
    rule_heads: list[int]


def parse_markdown(text: str, path: str) -> ParsedTranscript:
    """Parse an attractors markdown export (already decoded) into a ``ParsedTranscript``."""
    return parse_markdown_twin(text, path, None)


def parse_markdown_twin(text: str, path: str, twin: JsonTwin | None, *,
                        count_lines: bool = True) -> ParsedTranscript:
    """``parse_markdown``, faster when ``twin`` (the file's JSON twin) holds the same messages.

    The result is ``parse_markdown``'s whatever ``twin`` holds: the twin only spares splitting
    the blocks when the message section is exactly what the exporter writes from it. Then
    ``count_lines=False`` leaves each message's line ``None``, for a caller that only compares
    the messages with the twin's (they are equal) and so never reads where they start.
    """
    doc = ParsedTranscript(path=path, format=FORMAT_MD)
    names, start = _parse_header(text, doc)
    offset = _NEWLINES_RE.match(text, start).end()  # the blocks start after blank lines
    line = line_of(text, offset)
    if twin is not None and (fast := _twin_blocks(text, offset, names, line, twin,
                                                  count_lines)) is not None:
        doc.extend(*fast)
        _finish_markdown(doc, names)
        return doc
    body = text[offset:]
    if (fast := _split_blocks(body, names, line)) is not None:
        doc.extend(*fast)
        _finish_markdown(doc, names)
        return doc
    headers = list(_block_re(names).finditer(body))
    if not headers:
        expected = " or ".join(f"'### {n}'" for n in names) or "'### Speaker'"
        raise TranscriptParseError(
            f"no message blocks: expected a line {expected} after the header",
            path, line_of(text, offset),
        )
    if headers[0].start() != 0:
        raise TranscriptParseError(
            f"text before the first message block: expected '### {headers[0]['name']}'",
            path, line_of(text, offset),
        )
    bounds = [h.start() for h in headers[1:]] + [len(body)]
    line = line_of(text, offset)
    prev = 0
    for i, (h, stop) in enumerate(zip(headers, bounds, strict=True)):
        line += body.count("\n", prev, h.start())
        prev = h.start()
        chunk = body[h.end():stop]
        chunk = _TRAILING_RULE_RE.sub("", chunk.rstrip()) if i == len(headers) - 1 else chunk
        doc.add(h["name"], chunk, line, seed=i == 0)
    _finish_markdown(doc, names)
    return doc


@functools.lru_cache(maxsize=256)
def _split_res(names: tuple[str, ...]) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """The first block's header at the start, and a later block's rule and header."""
    name = "|".join(re.escape(p) for p in sorted(names, key=len, reverse=True))
    header = rf"### ({name})\n" if names else rf"### ({_NAME})[ \t]*\n"
    return re.compile(header), re.compile(rf"---\n\n{header}")


def _split_blocks(body: str, names: list[str], line: int
                  ) -> tuple[list[str], list[str], list[int], list[bool]] | None:
    """Speakers, stripped texts, header lines and seed flags in one ``re.split``, or ``None``.

    Splitting on the rule and header without the block regex's lookbehind is much faster; it
    finds the same blocks whenever every rule and header follows a newline, which is checked
    (else ``None``: the caller takes the exact, slower path). A later block's line is that of
    its rule, as the exact path counts it.
    """
    first_re, rule_re = _split_res(tuple(names))
    first = first_re.match(body)
    if first is None or "\r" in body:
        return None
    rest = body[first.end() - 1:]  # from the first header's newline, which may precede a rule
    parts = rule_re.split(rest)
    chunks = parts[0::2]
    if rest.count(_RULE_HEAD) != rest.count("\n" + _RULE_HEAD):  # a rule not after a newline
        return None
    last = chunks[-1].rstrip()
    rule = _TRAILING_RULE_RE.search(last)
    chunks[-1] = last[:rule.start()] if rule else last
    # A later block's line: the previous one's, its chunk's newlines, and 3 for a rule and a
    # header (the first header is a single line whose newline its chunk already counts).
    steps = map(operator.add, map(str.count, chunks[:-1], itertools.repeat("\n")),
                itertools.repeat(3))
    lines = list(itertools.accumulate(steps, initial=line - 3))
    lines[0] = line
    return ([first[1], *parts[1::2]], list(map(str.strip, chunks)), lines,
            [True] + [False] * (len(chunks) - 1))


def _twin_blocks(text: str, offset: int, names: list[str], line: int, twin: JsonTwin,
                 count_lines: bool = True) -> tuple[list, list, list, list] | None:
    """``_split_blocks``'s columns without splitting, when the body (``text`` from ``offset``)
    is the exporter's rendering of ``twin``; else ``None``.

    One string comparison (in C) replaces the split: the exporter writes each message as
    ``### {speaker}\\n\\n{content}\\n\\n---\\n\\n``. The split then finds exactly these blocks
    when every speaker is a participant (only their headers open a block) and a rule at the
    start of a line followed by a participant's header (``---\\n\\n### NAME\\n``) occurs nowhere
    but between two blocks. Anywhere else it would start within a content (a header's line
    starts with "### ", and a line starts after it only where the content does) and end
    within it or just after it: ``_fakes_boundary``.
    """
    n, participants = len(twin.contents), set(names)
    if (not n or not participants.issuperset(twin.speakers)
            or any(_fakes_boundary(twin.contents[i], participants) for i in twin.rule_heads)):
        return None
    rendered = _render_blocks(twin.speakers, twin.contents)
    if len(text) - offset != len(rendered) or not text.endswith(rendered):
        return None
    lines = _block_lines(twin.contents, line) if count_lines else [None] * n
    return twin.speakers, twin.texts, lines, [True] + [False] * (n - 1)


def _fakes_boundary(content: str, names: set[str]) -> bool:
    """Whether ``content``, once exported, holds a rule and a participant's header: within
    it, or at its very end (the line break after every exported content completes it)."""
    return any(f"{_RULE_HEAD}{name}\n" in content or content.endswith(f"{_RULE_HEAD}{name}")
               for name in names)


def _block_lines(contents: list[str], line: int) -> list[int]:
    """Where each exported block starts: ``line``, then 6 lines plus the previous content's
    newlines after the one before (4 after the first header, which is a line shorter)."""
    steps = map(operator.add, map(str.count, contents[:-1], itertools.repeat("\n")),
                itertools.repeat(6))
    lines = list(itertools.accumulate(steps, initial=line - 2))
    lines[0] = line
    return lines


def _render_blocks(speakers: list[str], contents: list[str]) -> str:
    """The message section as the exporter writes it (``synthetic.to_markdown``'s blocks)."""
    n = len(contents)
    parts = [_NEXT_HEAD] * (4 * n)  # filled by slice assignments: no Python loop
    parts[1::4] = speakers
    parts[2::4] = ["\n\n"] * n
    parts[3::4] = contents
    parts[0] = "### "
    parts.append(_LAST_RULE)
    return "".join(parts)


def _finish_markdown(doc: ParsedTranscript, names: list[str]) -> None:
    meta = doc.meta
    names = doc.split_self_play(names or list(dict.fromkeys(doc.speakers)))
    doc.meta = {"title": meta.get("title"), "participants": names}
    for key in ("started", "ended"):
        value, line = meta.get(key, (None, None))
        doc.meta[key] = _timestamp(value, doc, line, key) if value else None
    declared, line = meta.get("messages", (None, None))
    doc.meta["n_messages_declared"] = _declared(declared, doc, line)
    if "title" in meta and "ended" not in meta:
        doc.problem("missing_end_time", "no **Ended:** line: the run was cut off before the end")


def _declared(value: str | None, doc: ParsedTranscript, line: int | None) -> int | None:
    if value is None:
        return None
    if not _COUNT_RE.fullmatch(value):
        doc.problem("bad_field", f"**Messages:** {value[:40]!r} is not a whole number of at most "
                    "18 digits", line)
        return None
    n = int(value)
    if n != len(doc.texts):
        doc.problem(
            "message_count_mismatch",
            f"**Messages:** says {n} but {len(doc.texts)} message blocks were found; all kept",
            line,
        )
    return n


def _timestamp(value: str | None, doc: ParsedTranscript, line: int | None, key: str):
    if isinstance(value, str) and _PLAIN_TIME_RE.fullmatch(value):
        try:  # the exports' own format: the standard library parses it ten times faster
            return pd.Timestamp(datetime.fromisoformat(value))
        except ValueError:
            pass  # e.g. month 13: pandas says why below
    return timestamp(value, doc, line, f"{key} time")


def parse_json(text: str, path: str) -> ParsedTranscript:
    """Parse an attractors JSON export (already decoded) into a ``ParsedTranscript``."""
    return parse_json_twin(text, path)[0]


def parse_json_twin(text: str, path: str) -> tuple[ParsedTranscript, JsonTwin | None]:
    """``parse_json``, and the messages its markdown twin must hold (``None`` when they were
    not read in one go: then the twin is split as usual)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TranscriptParseError(f"invalid JSON: {exc.msg}", path, exc.lineno) from None
    if not isinstance(data, dict) or any(k not in data for k in _JSON_KEYS):
        raise TranscriptParseError(
            "JSON is not an attractors export: expected an object with model_a, model_b, messages",
            path, 1,
        )
    msgs = data["messages"]
    if not isinstance(msgs, list):
        raise TranscriptParseError("'messages' must be a list", path, _key_line(text, "messages"))
    doc = ParsedTranscript(path=path, format=FORMAT_JSON)
    lines = _content_lines(text)
    lines += [1] * (len(msgs) - len(lines))
    twin = None
    contents, joined = _contents(msgs)
    if (fast := _json_columns(msgs, lines, joined is None or "\r" in joined, contents)
            ) is not None:
        doc.extend(*fast)
        # One search of all contents, in C, in the common case that none holds a rule head.
        heads = ([i for i, c in enumerate(contents) if _RULE_HEAD in c]
                 if _RULE_HEAD in joined else [])
        twin = JsonTwin(fast[0], contents, fast[1], heads)
    else:
        for i, m in enumerate(msgs):
            _add_json_message(doc, m, i, lines[i])
    names = [str(data["model_a"]), str(data["model_b"])]
    doc.meta = {"title": _ARROW.join(names), "participants": doc.split_self_play(names),
                "n_messages_declared": None}
    for key in ("started", "ended"):
        value = data.get(f"{key}_at")
        doc.meta[key] = _timestamp(value, doc, None, key) if value else None
    if data.get("ended_at") is None:
        doc.problem("missing_end_time", "ended_at is null: the run was cut off before it finished")
    return doc, twin


def _add_json_message(doc: ParsedTranscript, m: Any, i: int, line: int) -> None:
    if not isinstance(m, dict) or not isinstance(m.get("content"), str):
        raise TranscriptParseError(
            f"messages[{i}] must be an object with a string 'content'", doc.path, line
        )
    speaker = m.get("speaker")
    if not isinstance(speaker, str):
        raise TranscriptParseError(f"messages[{i}] has no string 'speaker'", doc.path, line)
    doc.add(speaker, m["content"], line, seed=i == 0 and m.get("role") == "user")


def _contents(msgs: list) -> tuple[list[str] | None, str | None]:
    """Every message's ``content``, and all of them joined (to search them in one go); both
    ``None`` unless every message is an object with a string ``content``."""
    try:
        contents = list(map(operator.itemgetter("content"), msgs))
        return contents, "".join(contents)
    except (TypeError, KeyError):
        return None, None


def _json_columns(msgs: list, lines: list[int], carriage_returns: bool = True,
                  contents: list | None = None
                  ) -> tuple[list[str], list[str], list[int], list[bool]] | None:
    """All messages' columns at once when every one is well formed, else ``None``.

    The caller then adds them one by one, which raises on the first bad message (and turns
    carriage returns, which the JSON may hold as escapes, into line feeds). ``contents``: the
    messages' contents, when the caller has them already.
    """
    try:
        if contents is None:
            contents = list(map(operator.itemgetter("content"), msgs))
        speakers = list(map(operator.itemgetter("speaker"), msgs))
    except (TypeError, KeyError):
        return None
    if carriage_returns or (set(map(type, contents)) | set(map(type, speakers))) - {str}:
        return None
    texts = list(map(str.strip, contents))
    seeds = [False] * len(msgs)
    if msgs:
        seeds[0] = msgs[0].get("role") == "user"
    return speakers, texts, lines[:len(msgs)], seeds


def _content_lines(text: str) -> list[int]:
    # Inside JSON strings a quote is escaped, so a bare "content" can only be a key: the n-th one
    # belongs to the n-th message, which gives every message (and every error) its line. In
    # valid JSON two occurrences never overlap, so splitting finds them all.
    pieces = text.split('"content"')[:-1]
    counts = map(str.count, pieces, itertools.repeat("\n"))
    return list(itertools.accumulate(counts, initial=1))[1:] if pieces else []


def _key_line(text: str, key: str) -> int:
    pos = text.find(f'"{key}"')
    return line_of(text, pos) if pos >= 0 else 1

"""Attractors markdown exports read from their bytes: one Arrow buffer per chunk of files.

``parse_markdown`` decodes a file into one Python string, splits it into a string per block and
strips each; the messages table then turns those strings back into Arrow. For the exports of a
corpus without JSON twins (most users hold markdown only) that is most of the reading time.
Here the block boundaries, headers and speakers are found in the file's bytes (the title and
fields alone are decoded), the files of a chunk share one buffer, and the texts become an Arrow
``large_string`` array over that buffer's bytes and their offsets: no Python string per message.

The result is ``parse_markdown``'s, table for table (``tests/io/test_markdown_bytes.py`` holds
the two equal on the golden files, on hypothesis-generated exports and on every seed). A file
this path does not handle exactly (no title, carriage returns, a NUL byte, bytes that are not
UTF-8, a first header that is not a participant's, a last header cut off at the end of the file,
a byte above ASCII where the file ends) is given back, and the full parse reads it, with its
error when it has one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..._core.errors import TranscriptParseError
from ._base import ParsedTranscript
from .orchestrator import FORMAT_MD, _finish_markdown, _parse_header, parse_markdown

__all__ = ["Scan", "finish", "scan"]

_RULE_RE = re.compile(rb"^---[ \t]*$", re.MULTILINE)
_SEPARATOR = "\n---\n\n### "  # how the exporter closes a message and opens the next
# The ASCII whitespace of str.strip(): 0x09-0x0D and 0x1C-0x20.
_SPACE_BYTES = bytes([*range(0x09, 0x0E), *range(0x1C, 0x21)])


@dataclass
class Scan:
    """One markdown file scanned in its bytes: what ``finish`` needs to build its messages.

    The message section runs from ``offset`` (the first ``### `` header) to ``end`` (the last
    message's end, before the trailing whitespace and rule). ``names`` are the participants of
    the title.
    """

    doc: ParsedTranscript
    names: list[str]
    data: bytes
    offset: int
    end: int


def _detect(text: str, path: str):
    from . import detect_format  # the readers' registry imports this module

    return detect_format(text, path)


def scan(data: bytes, path: str) -> Scan | None:
    """Find the header and the message section of an attractors markdown export in ``data``;
    ``None`` when the full parse must read the file (see the module's docstring)."""
    if not data.startswith(b"# "):
        return None
    first_line = data.find(b"\n")
    rule = _RULE_RE.search(data, first_line + 1) if first_line >= 0 else None
    if rule is None:
        return None
    try:
        head = data[:rule.end()].decode("utf-8")
    except UnicodeDecodeError:
        return None
    try:
        fmt = _detect(head, path)  # the format the full parse would pick (from the first line)
    except TranscriptParseError:
        return None
    if fmt.name != FORMAT_MD or fmt.parse is not parse_markdown:
        return None
    doc = ParsedTranscript(path=path, format=FORMAT_MD)
    names, _ = _parse_header(head, doc)
    if not names:
        return None
    offset = rule.end() + 1
    while data.startswith(b"\n", offset):  # the blocks start after blank lines
        offset += 1
    if not data.startswith(b"### ", offset):
        return None
    last = len(data.rstrip(_SPACE_BYTES))
    if last and data[last - 1] >= 0x80:
        return None  # perhaps whitespace wider than ASCII, which str.rstrip would strip
    # The exporter's closing rule, as parse_markdown's r"\n?---[ \t]*\Z" finds it after the
    # rstrip (which leaves no space or tab at the end).
    end = last
    if last - 3 >= offset and data.startswith(b"---", last - 3):
        end = last - 4 if last - 4 >= offset and data[last - 4] == 0x0A else last - 3
    if end < offset + 4:
        return None
    return Scan(doc, names, data, offset, end)


def finish(scans: list[Scan]) -> list[ParsedTranscript | None]:
    """The documents of ``scans``, their texts one Arrow array over one buffer; ``None`` for a
    file the full parse must read (see the module's docstring).

    Every file's message section (from its first header's name) is split on the exporter's
    ``"\n---\n\n### "`` in Arrow; a part whose first line is a participant's name opens a
    block, any other part (a body's own rule and heading) stays in the block before it, as
    ``parse_markdown``'s regex decides.
    """
    if not scans:
        return []
    n_files = len(scans)
    file_sizes = np.fromiter((len(s.data) for s in scans), dtype=np.int64, count=n_files)
    base = np.concatenate([[0], np.cumsum(file_sizes)])
    buffer = b"".join(s.data for s in scans)
    bad = ~_valid_utf8(buffer, base)
    bad |= _files_with(buffer, base, b"\r") | _files_with(buffer, base, b"\x00")
    if bad.any():  # the others alone: Arrow's string functions need valid text
        good = iter(finish([s for s, b in zip(scans, bad, strict=True) if not b]))
        return [None if b else next(good) for b in bad]
    # The sections, each after its "### ", as every other value of one array over the buffer.
    lo = base[:-1] + np.fromiter((s.offset for s in scans), dtype=np.int64, count=n_files) + 4
    hi = base[:-1] + np.fromiter((s.end for s in scans), dtype=np.int64, count=n_files)
    sections = _every_other(buffer, lo, hi, take=False)
    split = pc.split_pattern(sections, _SEPARATOR)
    part_of = split.offsets.to_numpy().astype(np.int64)
    first_part, stop_part = part_of[0:-1:2], part_of[1::2]  # each file's parts
    n_parts = stop_part - first_part
    keep = np.zeros(part_of[-1], dtype=bool)
    keep[_ranges(first_part, stop_part)] = True
    values = split.values
    lengths = np.diff(_offsets(values))[keep]
    newline = pc.find_substring(values, "\n").to_numpy()[keep]
    file_of_part = np.repeat(np.arange(n_files), n_parts)
    # Where each part starts in the buffer: its section's start, then the parts before it with
    # their separators.
    step = lengths + len(_SEPARATOR)
    cum = np.cumsum(step) - step
    part_base = np.concatenate([[0], np.cumsum(n_parts)])
    begin = lo[file_of_part] + cum - cum[part_base[:-1]][file_of_part] if len(step) else cum
    name_end = np.where(newline >= 0, begin + newline, begin + lengths)
    names = _every_other(buffer, begin, name_end)
    # A part opens a block when its first line is one of its file's participants.
    known = sorted({n for s in scans for n in s.names})
    code = pc.index_in(names, value_set=pa.array(known, type=pa.large_string()))
    code = code.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    allowed = np.zeros((n_files, len(known) + 1), dtype=bool)
    for k, s in enumerate(scans):
        allowed[k, [known.index(n) for n in s.names]] = True
    opens = allowed[file_of_part, code]
    firsts = part_base[:-1]
    bad[~opens[firsts]] = True  # the first header is not a participant's
    # A last part of one line only: its name's line break must follow it (else no header).
    ends_file = part_base[1:] - 1
    bad[(newline[ends_file] < 0)
        & (np.frombuffer(buffer, dtype=np.uint8)[np.minimum(hi, len(buffer) - 1)] != 0x0A)] = True
    blocks = np.flatnonzero(opens)
    file_of = file_of_part[blocks]
    # A block's body: after its name's line to the end of the last part before the next block.
    part_end = begin + lengths
    next_block = np.append(blocks[1:], len(opens))
    last_part = np.where(file_of_part[np.minimum(next_block, len(opens) - 1)] == file_of,
                         next_block - 1, part_base[1:][file_of] - 1)
    starts = np.minimum(name_end + 1, part_end)[blocks]
    ends = part_end[last_part]
    counts = np.bincount(file_of, minlength=n_files)
    # A block's line: its header's for the first, its rule's for the others (as parse_markdown),
    # counted among the buffer's line breaks.
    is_first = np.zeros(len(opens), dtype=bool)
    is_first[firsts] = True
    header = np.where(is_first, begin - 4, begin - len(_SEPARATOR) + 1)[blocks]
    breaks = np.flatnonzero(np.frombuffer(buffer, dtype=np.uint8) == 0x0A)
    lines = (np.searchsorted(breaks, header) - np.searchsorted(breaks, base[:-1])[file_of] + 1
             ).tolist()
    speakers = np.array(known + [None], dtype=object)[code[blocks]].tolist()
    texts = pc.utf8_trim_whitespace(_every_other(buffer, starts, ends))
    out: list[ParsedTranscript | None] = []
    first_block = np.concatenate([[0], np.cumsum(counts)])
    for k, s in enumerate(scans):
        if bad[k] or not counts[k]:
            out.append(None)
            continue
        doc, a, n = s.doc, int(first_block[k]), int(counts[k])
        doc.speakers = speakers[a:a + n]
        doc.texts = texts.slice(a, n)
        doc.lines = lines[a:a + n]
        doc.seeds = [True] + [False] * (n - 1)
        doc.rounds = [None] * n
        _finish_markdown(doc, s.names)
        out.append(doc)
    return out


def _offsets(values: pa.Array) -> np.ndarray:
    """The int64 offsets of a ``large_string`` array."""
    return np.frombuffer(values.buffers()[1], dtype=np.int64,
                         count=len(values) + 1, offset=values.offset * 8)


def _ranges(starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """``np.concatenate([np.arange(a, b) for a, b in zip(starts, stops)])``, vectorised."""
    sizes = stops - starts
    out = np.repeat(starts - np.concatenate([[0], np.cumsum(sizes)])[:-1], sizes)
    return out + np.arange(int(sizes.sum()))


def _every_other(buffer: bytes, starts: np.ndarray, stops: np.ndarray, *, take: bool = True
                 ) -> pa.Array:
    """The strings ``buffer[starts[i]:stops[i]]`` (ranges in order, not overlapping) as a
    ``large_string`` array: the even values of one array over ``buffer`` whose odd values are
    the gaps between; copied once by Arrow's ``take`` (or, ``take=False``, the array with its
    gaps, which the caller skips)."""
    offsets = np.empty(2 * len(starts), dtype=np.int64)
    offsets[0::2], offsets[1::2] = starts, stops
    if not len(offsets):
        return pa.array([], type=pa.large_string())
    spans = pa.LargeStringArray.from_buffers(len(offsets) - 1, pa.py_buffer(offsets),
                                             pa.py_buffer(buffer))
    if not take:
        return spans
    return pc.take(spans, pa.array(np.arange(0, len(offsets) - 1, 2, dtype=np.int64)))


def _files_with(buffer: bytes, base: np.ndarray, byte: bytes) -> np.ndarray:
    """Which files (``buffer[base[k]:base[k + 1]]``) hold ``byte``."""
    found = np.zeros(len(base) - 1, dtype=bool)
    at = buffer.find(byte)
    while at >= 0:
        k = int(np.searchsorted(base, at, side="right")) - 1
        found[k] = True
        at = buffer.find(byte, int(base[k + 1]))
    return found


def _valid_utf8(buffer: bytes, base: np.ndarray) -> np.ndarray:
    """Whether each file (``buffer[base[k]:base[k + 1]]``) is UTF-8, checked in Arrow's C."""
    files = pa.LargeStringArray.from_buffers(len(base) - 1, pa.py_buffer(base.astype(np.int64)),
                                             pa.py_buffer(buffer))
    try:
        files.validate(full=True)
        return np.ones(len(base) - 1, dtype=bool)
    except pa.ArrowInvalid:
        ok = np.ones(len(base) - 1, dtype=bool)
        for k in range(len(ok)):
            try:
                files.slice(k, 1).validate(full=True)
            except pa.ArrowInvalid:
                ok[k] = False
        return ok

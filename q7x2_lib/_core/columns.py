"""Columnar counts and flags over the UTF-8 buffers of Arrow string arrays, not per message."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .markers import ends_with_end_marker, is_end_marker_only

__all__ = [
    "char_counts", "end_marker_flags", "int64_array", "string_array", "to_arrow", "word_counts",
]

Strings = pa.Array | pa.ChunkedArray

# The whitespace of ``str.split()`` and ``str.strip()`` (``str.isspace``), as UTF-8: the ASCII
# bytes 0x09-0x0D and 0x1C-0x20, plus U+0085, U+00A0 (two bytes) and U+1680, U+2000-U+200A,
# U+2028, U+2029, U+202F, U+205F, U+3000 (three bytes). tests/test_fast_reader.py checks this.
_BATCH_BYTES = 1 << 24  # bound the temporary arrays of the word count to a few times 16 MB
_CLOSE_BRACKET = ord("]")  # every end marker contains one: a cheap, exact pre-filter
_MARKER_OPENERS = frozenset("[*_`~")  # what an end marker starts with (markers.py)


def to_arrow(values: Sequence[str] | Strings | pd.Series | pd.api.extensions.ExtensionArray
             ) -> pa.ChunkedArray:
    """Texts as an Arrow ``large_string`` chunked array (zero-copy from Arrow-backed pandas)."""
    if isinstance(values, pd.Series):
        values = values.array
    if isinstance(values, pd.arrays.ArrowStringArray):
        values = values._pa_array
    if isinstance(values, pa.Array):
        values = pa.chunked_array([values])
    if not isinstance(values, pa.ChunkedArray):
        values = pa.chunked_array([pa.array(list(values), type=pa.large_string())])
    if values.type != pa.large_string():
        values = values.cast(pa.large_string())
    return values


def string_array(values: Sequence[str] | Strings) -> pd.arrays.ArrowStringArray:
    """A pandas ``string`` array over ``values`` (Arrow buffers are shared, not copied)."""
    return pd.arrays.ArrowStringArray(to_arrow(values))


def int64_array(values: Sequence[int | None] | None, n: int) -> pd.arrays.IntegerArray:
    """A pandas ``Int64`` array of ``values`` of length ``n``; ``None`` (or no values): ``<NA>``."""
    if values is None or (isinstance(values, list) and values.count(None) == len(values)):
        return pd.arrays.IntegerArray(np.zeros(n, dtype="int64"), np.ones(n, dtype=bool))
    if isinstance(values, list) and None not in values:
        return pd.arrays.IntegerArray(np.asarray(values, dtype="int64"), np.zeros(n, dtype=bool))
    return pd.array(values, dtype="Int64")


def char_counts(texts: Strings) -> np.ndarray:
    """``len(text)`` of each text (code points), as int64."""
    return pc.utf8_length(to_arrow(texts)).to_numpy().astype("int64", copy=False)


def word_counts(texts: Strings) -> np.ndarray:
    """``len(text.split())`` of each text, as int64, counted over the UTF-8 bytes.

    A word starts at a byte that is not whitespace and follows whitespace or a message start;
    multi-byte whitespace has all its bytes marked, so continuation bytes never start a word.
    """
    parts = [_word_counts_chunk(chunk) for chunk in to_arrow(texts).chunks]
    return np.concatenate(parts) if parts else np.zeros(0, dtype="int64")


def _buffers(chunk: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """The UTF-8 bytes of ``chunk`` and its offsets into them (starting at 0)."""
    offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int64, count=len(chunk) + 1,
                            offset=chunk.offset * 8)
    lo, hi = int(offsets[0]), int(offsets[-1])
    data = chunk.buffers()[2]
    buf = (np.frombuffer(data, dtype=np.uint8, count=hi - lo, offset=lo) if hi > lo
           else np.zeros(0, dtype=np.uint8))
    return buf, offsets - lo


def _word_counts_chunk(chunk: pa.Array) -> np.ndarray:
    buf, offsets = _buffers(chunk)
    counts = np.empty(len(chunk), dtype="int64")
    first = 0
    while first < len(chunk):
        # Batches of whole messages, at least one message, about _BATCH_BYTES each.
        last = int(np.searchsorted(offsets, offsets[first] + _BATCH_BYTES, side="right")) - 1
        last = min(max(last, first + 1), len(chunk))
        lo, hi = offsets[first], offsets[last]
        counts[first:last] = _count_words(buf[lo:hi], offsets[first:last + 1] - lo)
        first = last
    return counts


def _count_words(buf: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    space = _space_bytes(buf)
    # A word starts on a byte that is not whitespace after one that is (space[i-1] > space[i]),
    # or on a message's first byte when that is not whitespace.
    word_start = np.empty_like(space)
    np.greater(space[:-1], space[1:], out=word_start[1:])
    word_start[:1] = ~space[:1]
    starts = offsets[:-1]
    starts = starts[starts < len(buf)]
    word_start[starts] = ~space[starts]
    return np.diff(_true_before(word_start, offsets))


def _true_before(flags: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """How many of ``flags[:p]`` are true, for each ``p`` in ``positions`` (int64).

    Over the flags packed 64 to a word (little-endian: flag ``64 w + j`` is bit ``j`` of word
    ``w``): a running count per word, plus the bits of ``p``'s own word below it. A
    sixty-fourth of the running counts that listing the true positions would take.
    """
    packed = np.packbits(flags, bitorder="little")
    words = np.zeros(len(packed) // 8 + 1, dtype="<u8")  # one spare word past the end
    words.view(np.uint8)[:len(packed)] = packed
    running = np.zeros(len(words) + 1, dtype=np.int64)
    np.cumsum(np.bitwise_count(words), out=running[1:])
    word, bit = positions >> 6, (positions & 63).astype(np.uint64)
    below = (np.uint64(1) << bit) - np.uint64(1)
    return running[word] + np.bitwise_count(words[word] & below)


def _space_bytes(buf: np.ndarray) -> np.ndarray:
    """True on every byte of every whitespace character (``str.isspace``) in UTF-8 ``buf``."""
    # Unsigned wrap-around: (b - 9) <= 4 is 9 <= b <= 13 and (b - 28) <= 4 is 28 <= b <= 32,
    # i.e. (b - 9) - 19 <= 4; computed in place, a byte array and a bool array in all.
    shifted = np.subtract(buf, np.uint8(9))
    space = np.less_equal(shifted, 4)
    np.subtract(shifted, np.uint8(19), out=shifted)
    space |= np.less_equal(shifted, 4, out=shifted.view(bool))
    if not len(buf) or buf.max() < 0xC2:
        return space
    lead = np.flatnonzero(buf >= 0xC2)  # lead bytes of 2- to 4-byte characters
    lead = lead[(buf[lead] == 0xC2) | ((buf[lead] >= 0xE1) & (buf[lead] <= 0xE3))]
    last = len(buf) - 1
    first_byte = buf[lead]
    b1 = buf[np.minimum(lead + 1, last)]
    b2 = buf[np.minimum(lead + 2, last)]
    two = (first_byte == 0xC2) & ((b1 == 0x85) | (b1 == 0xA0))
    e2 = (first_byte == 0xE2) & (
        ((b1 == 0x80) & (((b2 >= 0x80) & (b2 <= 0x8A)) | (b2 == 0xA8) | (b2 == 0xA9)
                         | (b2 == 0xAF)))
        | ((b1 == 0x81) & (b2 == 0x9F))
    )
    three = (
        e2 | ((first_byte == 0xE1) & (b1 == 0x9A) & (b2 == 0x80))
        | ((first_byte == 0xE3) & (b1 == 0x80) & (b2 == 0x80))
    )
    space[lead[two | three]] = True
    space[lead[two | three] + 1] = True
    space[lead[three] + 2] = True
    return space


def end_marker_flags(texts: Strings, values: Sequence[str] | None = None
                     ) -> tuple[np.ndarray, np.ndarray]:
    """``(is_end_marker_only, ends_with_end_marker)`` of each text, as two bool arrays.

    Only texts holding a ``]`` can hold a marker, and the exact regexes of ``q7x2_lib.markers``
    run on those alone. A marker holds no ``[`` after its own, so a text ends with one exactly
    when its tail from the last ``[`` does (the regex has no anchor but the end, no lookbehind).
    ``values`` may give the same texts as Python strings, to skip converting them. Tails and
    marker-only texts repeat ("[END]" thousands of times), so each regex runs once per string.
    """
    arr = to_arrow(texts)
    rows = _rows_with_byte(arr, _CLOSE_BRACKET).tolist()
    found = ([values[i] for i in rows] if values is not None
             else arr.take(pa.array(rows, type=pa.int64())).to_pylist())
    tail_ends, marker_only = _Memo(ends_with_end_marker), _Memo(is_end_marker_only)
    ending = [(i, text) for i, text in zip(rows, found, strict=True)
              if (tail := text.rfind("[")) >= 0 and tail_ends[text[tail:]]]
    only = np.zeros(len(arr), dtype=bool)
    ends = np.zeros(len(arr), dtype=bool)
    ends[[i for i, _ in ending]] = True
    # A text of markers alone opens, past any whitespace, with one of _MARKER_OPENERS.
    only[[i for i, text in ending
          if (text[0] in _MARKER_OPENERS or text[0].isspace()) and marker_only[text]]] = True
    return only, ends


class _Memo(dict):
    """``memo[x]`` is ``func(x)``, computed once per distinct ``x``."""

    def __init__(self, func: Callable[[str], bool]) -> None:
        super().__init__()
        self.func = func

    def __missing__(self, key: str) -> bool:
        value = self[key] = self.func(key)
        return value


def _rows_with_byte(arr: pa.ChunkedArray, byte: int) -> np.ndarray:
    """Indices of the texts whose UTF-8 bytes contain ``byte`` (ASCII, so never mid-character)."""
    rows, base = [], 0
    for chunk in arr.chunks:
        buf, offsets = _buffers(chunk)
        found = np.searchsorted(offsets, np.flatnonzero(buf == byte), side="right") - 1
        rows.append(base + found[np.r_[True, found[1:] != found[:-1]]] if len(found) else found)
        base += len(chunk)
    return np.concatenate(rows) if rows else np.zeros(0, dtype=np.intp)

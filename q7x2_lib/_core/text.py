"""Tokens, message normal form and character n-grams shared by the drift and attractor metrics."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from .markers import END_MARKER_RE, strip_end_markers
from .validate import check_positive_int

__all__ = [
    "EMOJI_RE",
    "STOP_WORDS",
    "TOKEN_RE",
    "TokenCodes",
    "WORD_RE",
    "char_ngram_matrix",
    "char_ngrams",
    "content_tokens",
    "forget_token_codes",
    "is_content_token",
    "is_content_word",
    "is_emoji",
    "ngram_cosine",
    "normal_form",
    "shared_token_codes",
    "token_codes",
    "tokenize",
]

# Pictographs, dingbats and symbols (including ✨ ❤ ☀ ⭐), each optionally followed by a
# variation selector or skin tone, joined into one token by zero-width joiners; flags are pairs
# of regional indicators. Keeping a ZWJ sequence whole makes "👩‍🚀" one token, not three.
_PICTO = "\U0001f000-\U0001f1e5\U0001f200-\U0001faff\u2600-\u27bf\u2b00-\u2bff\u2300-\u23ff"
_MOD = "(?:\ufe0f|[\U0001f3fb-\U0001f3ff])?"
_EMOJI = rf"(?:[\U0001f1e6-\U0001f1ff]{{2}}|[{_PICTO}]{_MOD}(?:\u200d[{_PICTO}]{_MOD})*)"
EMOJI_RE = re.compile(_EMOJI)
# A word: letters and digits, with inner apostrophes or hyphens ("don't", "self-aware").
_WORD = r"[^\W_]+(?:['\-][^\W_]+)*"
WORD_RE = re.compile(_WORD)
TOKEN_RE = re.compile(rf"{_EMOJI}|{_WORD}")
_EMOJI_FULL_RE = re.compile(rf"(?:{_EMOJI})+")
_LETTER_RE = re.compile(r"[^\W\d_]")
# Typographic quotes fold to ASCII so "don’t" and "don't" are one token and one normal form.
_QUOTES = (("\u2019", "'"), ("\u2018", "'"), ("\u02bc", "'"), ("\u201c", '"'), ("\u201d", '"'))
_EMPHASIS = "*_`~"  # markdown emphasis characters, removed from normal forms
_HEADING_RE = re.compile(r"^[ \t]*#{1,6}(?=\s|$)", re.MULTILINE)
_CONTRACTION_RE = re.compile(r"^(\w+)'(?:s|m|re|ve|ll|d)$")

STOP_WORDS: frozenset[str] = frozenset(ENGLISH_STOP_WORDS)
"""scikit-learn's English stop words; content words exclude these and their contractions."""


def _fold_quotes(text: str) -> str:
    for typographic, ascii_ in _QUOTES:  # str.replace is far faster than str.translate here
        if typographic in text:
            text = text.replace(typographic, ascii_)
    return text


def tokenize(text: str) -> list[str]:
    """Lower-cased words and emoji of ``text`` in order, end markers (``[END]``) removed.

    Punctuation and markdown are dropped; a word keeps inner apostrophes and hyphens; an emoji
    sequence (with its modifiers and zero-width joiners) is one token.
    """
    text = _fold_quotes(text)
    if "[" in text:  # every end marker holds "[": most messages skip the marker scan
        text = strip_end_markers(text)
    return TOKEN_RE.findall(text.lower())


def is_emoji(token: str) -> bool:
    """True when ``token`` consists of emoji only."""
    return _EMOJI_FULL_RE.fullmatch(token) is not None


def is_content_word(token: str) -> bool:
    """True for a word that carries content: three or more characters, a letter, not a stop word.

    Contractions of stop words ("i'm", "you're", "it's") and negations ("don't") count as stop
    words too.
    """
    if len(token) < 3 or token in STOP_WORDS or not _LETTER_RE.search(token):
        return False
    if token.endswith("n't"):
        return False
    contraction = _CONTRACTION_RE.match(token)
    return contraction is None or contraction.group(1) not in STOP_WORDS


class _ContentTokens(dict):
    """``memo[token]``: whether a token is a content word or emoji, judged once per distinct
    token (a corpus repeats its words millions of times; the judgement is a regex and a set
    lookup). Emptied when it holds ``_MEMO_LIMIT`` tokens, so a hostile text of endless
    distinct tokens cannot grow it without bound."""

    def __missing__(self, token: str) -> bool:
        if len(self) >= _MEMO_LIMIT:
            self.clear()
        value = self[token] = is_content_word(token) or is_emoji(token)
        return value


_MEMO_LIMIT = 1 << 20
_IS_CONTENT = _ContentTokens()


def is_content_token(token: str) -> bool:
    """``is_content_word(token) or is_emoji(token)``, remembered per distinct token."""
    return _IS_CONTENT[token]


def content_tokens(text: str) -> list[str]:
    """The tokens of ``text`` that are content words or emoji (the TF-IDF vocabulary)."""
    content = _IS_CONTENT
    return [t for t in tokenize(text) if content[t]]


def normal_form(text: str) -> str:
    """The form two messages are compared in when looking for repeats.

    End markers removed, typographic quotes folded to ASCII, markdown emphasis characters
    (``* _ ` ~``) and heading ``#`` marks removed, lower case, whitespace runs collapsed to one
    space, stripped. Punctuation and emoji are kept: "Here." and "Here..." stay different.
    """
    text = _fold_quotes(text)
    for mark in _EMPHASIS:  # str.replace beats a regex here; deleting each mark is the same
        if mark in text:
            text = text.replace(mark, "")
    previous = None
    while "[" in text and text != previous:  # "[[END]END]" leaves a marker behind: repeat
        previous, text = text, END_MARKER_RE.sub(" ", text)
    if "#" in text:  # every marker holds "[", every heading "#": skip the scans without them
        text = _HEADING_RE.sub(" ", text)
    return " ".join(text.split()).lower()  # str.split splits on exactly what \s matches


def char_ngrams(text: str, n: int = 3) -> set[str]:
    """The set of character ``n``-grams of ``text``; a text shorter than ``n`` is one gram."""
    check_positive_int("n", n)
    if len(text) < n:
        return {text} if text else set()
    return {text[i : i + n] for i in range(len(text) - n + 1)}


_BITS = 21  # a code point fits in 21 bits, so three of them pack exactly into one int64
_CHUNK = 1 << 22  # code points handled at once, to bound the temporary arrays


def char_ngram_matrix(texts: Sequence[str], n: int = 3) -> sp.csr_matrix:
    """Binary matrix of the character ``n``-gram sets of ``texts`` (row i: ``char_ngrams(texts[i],
    n)``); columns are n-grams in an unspecified but consistent order.

    For ``n <= 3`` each n-gram is packed exactly into one integer and the sets are built with
    numpy, without a Python loop over characters.
    """
    if n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if n > 3:
        return _ngram_matrix_python(texts, n)
    rows, codes = [], []
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    start = 0
    while start < len(texts):  # chunks of whole texts, about _CHUNK code points each
        stop = start + max(1, int(np.searchsorted(np.cumsum(lengths[start:]), _CHUNK)))
        r, c = _packed_ngrams(texts[start:stop], lengths[start:stop], n)
        rows.append(r + start)
        codes.append(c)
        start = stop
    row = np.concatenate(rows) if rows else np.array([], dtype=np.int64)
    col, _ = pd.factorize(np.concatenate(codes) if codes else np.array([], dtype=np.int64))
    matrix = sp.csr_matrix((np.ones(len(row), dtype=np.int64), (row, col)),
                           shape=(len(texts), int(col.max(initial=-1)) + 1))
    matrix.sum_duplicates()
    matrix.data[:] = 1
    return matrix


def _packed_ngrams(texts: Sequence[str], lengths: np.ndarray, n: int
                   ) -> tuple[np.ndarray, np.ndarray]:
    """(row, packed n-gram) pairs of a chunk; a text shorter than ``n`` is one zero-padded gram."""
    raw = "".join(texts).encode("utf-32-le", "surrogatepass")
    points = np.frombuffer(raw, dtype=np.uint32).astype(np.int64)
    points = np.r_[points, np.zeros(n, dtype=np.int64)]  # padding for short texts at the end
    starts = np.r_[0, np.cumsum(lengths)[:-1]]
    n_grams = np.where(lengths >= n, lengths - n + 1, (lengths > 0).astype(np.int64))
    row = np.repeat(np.arange(len(texts)), n_grams)
    first = np.repeat(starts, n_grams) + np.arange(n_grams.sum()) - np.repeat(
        np.cumsum(n_grams) - n_grams, n_grams)
    size = np.repeat(lengths, n_grams)
    code = np.zeros(len(first), dtype=np.int64)
    for k in range(n):
        code = (code << _BITS) | np.where(k < size, points[first + k], 0)
    return row, np.where(size < n, -code - 1, code)  # a short text's gram is negative: distinct


def _ngram_matrix_python(texts: Sequence[str], n: int) -> sp.csr_matrix:
    vocabulary: dict[str, int] = {}
    rows, cols = [], []
    for i, text in enumerate(texts):
        for gram in char_ngrams(text, n):
            rows.append(i)
            cols.append(vocabulary.setdefault(gram, len(vocabulary)))
    return sp.csr_matrix((np.ones(len(rows), dtype=np.int64), (rows, cols)),
                         shape=(len(texts), len(vocabulary)))


def ngram_cosine(a: str, b: str, n: int = 3) -> float:
    """Cosine similarity of the character ``n``-gram sets of ``a`` and ``b``.

    ``|A ∩ B| / sqrt(|A| |B|)`` (the Ochiai coefficient): 1 for equal sets, 0 for disjoint ones;
    two empty texts are equal (1.0), an empty and a non-empty one share nothing (0.0).
    """
    grams_a, grams_b = char_ngrams(a, n), char_ngrams(b, n)
    if not grams_a and not grams_b:
        return 1.0
    if not grams_a or not grams_b:
        return 0.0
    return len(grams_a & grams_b) / (len(grams_a) * len(grams_b)) ** 0.5


# --- token codes: each distinct text tokenised once, shared by the drift functions ------------

_TEXT_CHUNK = 4_000  # texts tokenised at a time: bounds the memory of Python token lists


@dataclass(frozen=True, eq=False)
class TokenCodes:
    """The tokens of some texts as integer codes (:func:`tokenize`'s tokens, in order).

    Text ``i``'s tokens are ``vocabulary[codes[indptr[i]:indptr[i + 1]]]``; ``vocabulary``
    holds each distinct token once, in order of first appearance, and ``content[k]`` says
    whether ``vocabulary[k]`` is a content word or emoji (:func:`is_content_token`).
    """

    indptr: np.ndarray
    codes: np.ndarray
    vocabulary: tuple[str, ...]
    content: np.ndarray

    def content_only(self) -> tuple[np.ndarray, np.ndarray]:
        """``(indptr, codes)`` of the content tokens alone (:func:`content_tokens`), in order."""
        keep = self.content[self.codes]
        return np.r_[0, np.cumsum(keep)][self.indptr], self.codes[keep]


def token_codes(texts: Sequence[str]) -> TokenCodes:
    """Tokenise ``texts`` (a list of strings) into :class:`TokenCodes`.

    Texts are tokenised in chunks and each chunk's tokens hashed at once, so memory stays
    bounded by a chunk's Python token lists rather than the whole corpus's.
    """
    index: dict[str, int] = {}
    vocabulary: list[str] = []
    lengths, parts = [], []
    for start in range(0, len(texts), _TEXT_CHUNK):
        tokens = [tokenize(t) for t in texts[start:start + _TEXT_CHUNK]]
        lengths.append(np.fromiter(map(len, tokens), dtype=np.int64, count=len(tokens)))
        local, uniques = pd.factorize(np.array([w for t in tokens for w in t], dtype=object))
        for word in uniques:
            if word not in index:
                index[word] = len(vocabulary)
                vocabulary.append(word)
        wide = np.int32 if len(vocabulary) <= np.iinfo(np.int32).max else np.int64
        to_global = np.fromiter((index[w] for w in uniques), dtype=wide, count=len(uniques))
        parts.append(to_global[local])
    indptr = np.r_[0, np.cumsum(np.concatenate(lengths))] if lengths else np.zeros(1, np.int64)
    codes = np.concatenate(parts) if parts else np.zeros(0, np.int32)
    content = np.fromiter(map(is_content_token, vocabulary), dtype=bool, count=len(vocabulary))
    # Shared between callers, so held in immutable buffers: nobody can make them writable.
    indptr, codes, content = (np.frombuffer(a.tobytes(), dtype=a.dtype)
                              for a in (indptr.astype(np.int64), codes, content))
    return TokenCodes(indptr=indptr, codes=codes, vocabulary=tuple(vocabulary), content=content)


_last_codes: tuple[bytes, TokenCodes] | None = None


def _fingerprint(texts: Sequence[str]) -> bytes:
    """A BLAKE2b digest of the texts and their lengths: equal exactly for the same texts."""
    digest = hashlib.blake2b(digest_size=32)
    digest.update(np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)).tobytes())
    for start in range(0, len(texts), _TEXT_CHUNK):
        digest.update("".join(texts[start:start + _TEXT_CHUNK]).encode("utf-8", "surrogatepass"))
    return digest.digest()


def shared_token_codes(texts: Sequence[str]) -> TokenCodes:
    """:func:`token_codes` of ``texts``, remembered for the last list of texts asked for.

    The drift functions each tokenise a corpus's distinct texts; the notebook calls four of
    them on the same messages, so the second and later calls reuse the first's codes. The
    texts are recognised by a digest of their content (not by object identity), and only the
    last corpus is kept, so the memory held is one corpus's codes.
    """
    global _last_codes
    key = _fingerprint(texts)
    last = _last_codes
    if last is not None and last[0] == key:
        return last[1]
    codes = token_codes(texts)
    _last_codes = (key, codes)
    return codes


def forget_token_codes() -> None:
    """Drop the remembered codes of :func:`shared_token_codes` (frees their memory)."""
    global _last_codes
    _last_codes = None

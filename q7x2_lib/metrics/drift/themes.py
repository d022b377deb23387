"""Themes: how much each message speaks of each theme of a lexicon."""

from __future__ import annotations

import os
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..._core.text import (
    normal_form,
    shared_token_codes,
)
from ..._core.validate import check_positive_int, messages_metric, messages_seen, positions
from ...io.lexicon import default_lexicon, load_lexicon

__all__ = [
    "lexicon_overview",
    "lexicon_table",
    "theme_hits",
    "theme_patterns",
    "theme_rates",
    "theme_share_by_turn",
    "theme_summary",
]

_KEYS = ["conversation_id", "turn", "speaker"]
# A term stands alone: no letter, digit, apostrophe or hyphen right before or after it.
_EDGE_BEFORE, _EDGE_AFTER = r"(?<![\w'\-])", r"(?![\w'\-])"
# The prefilter's RE2 (Arrow) patterns: whatever Python's \s matches (str.isspace), and a
# start of word that admits every start Python's edge admits (RE2's \w is ASCII only, so
# its "not a word character" is the wider class).
_RE2_SPACE = r"[\t-\r\x{1c}-\x{20}\x{85}\p{Z}]+"
_RE2_WORD_START = r"(?:^|[^\w'\-])"


def lexicon_overview(lexicon: str | os.PathLike[str] | pd.DataFrame | None = None
                     ) -> pd.DataFrame:
    """One row per theme of a lexicon (file or table): what it counts, at a glance.

    Returns
    -------
    DataFrame
        ``theme``, ``label``, ``n_terms``, ``examples`` (its first six terms).
    """
    table = lexicon_table(lexicon)
    grouped = table.groupby("theme", sort=False)
    return pd.DataFrame({
        "label": grouped["label"].first(),
        "n_terms": grouped.size().astype("int64"),
        "examples": grouped["term"].agg(lambda t: ", ".join(t.head(6))).astype("string"),
    }).reset_index()


def lexicon_table(lexicon: str | os.PathLike[str] | pd.DataFrame | None) -> pd.DataFrame:
    """A lexicon table from a table (as is), a TOML path (read), or ``None`` (the built-in one).

    The only place a theme metric touches a file is here, and only for a path it was given.
    """
    if isinstance(lexicon, pd.DataFrame):
        return lexicon
    return default_lexicon() if lexicon is None else load_lexicon(lexicon)


def _term_pattern(term: str) -> str:
    prefix = term.endswith("*")
    words = [re.escape(w) for w in term.rstrip("*").split()]
    return r"\s+".join(words) + (r"[\w'\-]*" if prefix else "")


def theme_patterns(lexicon: pd.DataFrame) -> dict[str, re.Pattern[str]]:
    """One compiled regex per theme, matching its terms as whole words in a normal form."""
    out = {}
    for theme, terms in lexicon.groupby("theme", sort=False)["term"]:
        alternatives = sorted(map(_term_pattern, terms), key=len, reverse=True)
        out[theme] = re.compile(f"{_EDGE_BEFORE}(?:{'|'.join(alternatives)}){_EDGE_AFTER}")
    return out


def theme_hits(texts: pd.Series, lexicon: pd.DataFrame) -> pd.DataFrame:
    """Theme hits of each text: one column per theme, one row per text (same index)."""
    codes, distinct = _distinct(texts)
    return pd.DataFrame({theme: hits[codes] for theme, hits in _distinct_hits(distinct, lexicon)
                         .items()}, index=texts.index)


def _distinct(texts: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Each text's code and the distinct texts (missing ones as "")."""
    codes, distinct = pd.factorize(pd.Series(texts, dtype="string").fillna(""))
    return codes, list(distinct)


def _distinct_hits(distinct: list[str], lexicon: pd.DataFrame) -> dict[str, np.ndarray]:
    """Each theme's hits in each distinct text: every normal form computed and searched once,
    and searched with the theme's regex only where its prefilter finds a term's words."""
    form_codes, forms = pd.factorize(pd.Series([normal_form(t) for t in distinct], dtype=object))
    forms = list(forms)
    prefilters = _theme_prefilters(lexicon)
    arrow_forms = _arrow_strings(forms)
    out = {}
    for theme, rx in theme_patterns(lexicon).items():
        hits = np.zeros(len(forms), dtype="int64")
        for i in _candidates(arrow_forms, prefilters[theme], len(forms)):
            hits[i] = len(rx.findall(forms[i]))
        out[theme] = hits[form_codes]
    return out


def _theme_prefilters(lexicon: pd.DataFrame) -> dict[str, str]:
    """Per theme, an RE2 pattern that finds every text its regex has a hit in, and few more: a
    start of word, then a term's words (without its prefix wildcard or end of word)."""
    out = {}
    for theme, terms in lexicon.groupby("theme", sort=False)["term"]:
        literals = sorted({_RE2_SPACE.join(re.escape(w) for w in t.rstrip("*").split())
                           for t in terms}, key=len, reverse=True)
        out[theme] = f"{_RE2_WORD_START}(?:{'|'.join(literals)})"
    return out


def _arrow_strings(forms: list[str]) -> pa.Array | None:
    try:
        return pa.array(forms, type=pa.large_string())
    except (UnicodeEncodeError, pa.ArrowException):  # lone surrogates: no prefilter
        return None


def _candidates(forms: pa.Array | None, prefilter: str, n: int) -> np.ndarray:
    """The positions of the texts the prefilter matches (all of them where it cannot run)."""
    if forms is None:
        return np.arange(n)
    try:
        found = pc.match_substring_regex(forms, prefilter)
    except (pa.ArrowException, ValueError):  # an Arrow without RE2, or a pattern RE2 refuses
        return np.arange(n)
    return np.flatnonzero(found.to_numpy(zero_copy_only=False))


@messages_metric
def theme_rates(
    messages: pd.DataFrame, *, lexicon: str | os.PathLike[str] | pd.DataFrame | None = None,
    include_seed: bool = False,
) -> pd.DataFrame:
    """How much each message speaks of each theme.

    A theme's hits are its terms' matches in the message's normal form
    (:func:`q7x2_lib.text.normal_form`); the rate divides them by the message's tokens
    (words and emoji, :func:`q7x2_lib.text.tokenize`).

    Parameters
    ----------
    messages
        The messages table.
    lexicon
        A table from :func:`load_lexicon`, the path of a lexicon TOML file, or ``None`` for
        the built-in lexicon.
    include_seed
        Keep the orchestrator's seed messages.

    Returns
    -------
    DataFrame
        One row per message and theme: ``conversation_id``, ``turn``, ``speaker``, ``theme``
        and ``label`` (categorical, lexicon order), ``n_hits``, ``n_tokens``, ``rate`` (hits
        per token, 0 for a message without tokens), ``hit`` (at least one hit).
    """
    table = lexicon_table(lexicon)
    m = messages_seen(messages, func="theme_rates", include_seed=include_seed)
    codes, distinct = _distinct(m["text"])  # each distinct text tokenised and searched once
    hits = pd.DataFrame({theme: found[codes]
                         for theme, found in _distinct_hits(distinct, table).items()})
    n_tokens = np.diff(shared_token_codes(distinct).indptr)[codes]  # tokenize(t), counted
    themes = list(hits.columns)
    labels = table.drop_duplicates("theme").set_index("theme")["label"]
    out = m[_KEYS].iloc[np.repeat(np.arange(len(m)), len(themes))].reset_index(drop=True)
    which = np.tile(np.arange(len(themes)), len(m))
    out["theme"] = pd.Categorical.from_codes(which, categories=themes)
    out["label"] = pd.Categorical.from_codes(which, categories=list(labels[themes]))
    out["n_hits"] = hits.to_numpy().ravel()
    out["n_tokens"] = np.repeat(n_tokens, len(themes))
    out["rate"] = np.divide(out["n_hits"], out["n_tokens"], out=np.zeros(len(out)),
                            where=out["n_tokens"].to_numpy() > 0)
    out["hit"] = out["n_hits"] > 0
    return out


def theme_share_by_turn(rates: pd.DataFrame, *, bin_width: int = 1) -> pd.DataFrame:
    """Each theme's share by turn, across the messages at that turn.

    Turns are grouped into bins of ``bin_width`` (``turn`` is a bin's first turn).

    Returns
    -------
    DataFrame
        ``turn``, ``theme``, ``label``, ``n_messages`` (messages in the bin), ``share_messages``
        (share of them with at least one hit of the theme), ``share_hits`` (the theme's share of
        all theme hits in the bin; 0 when there are none), ``mean_rate`` (hits per token).
    """
    check_positive_int("bin_width", bin_width)
    r = rates.assign(turn=rates["turn"] // bin_width * bin_width)
    grouped = r.groupby(["turn", "theme", "label"], observed=True, sort=True)
    out = grouped.agg(n_messages=("hit", "size"), share_messages=("hit", "mean"),
                      n_hits=("n_hits", "sum"), mean_rate=("rate", "mean")).reset_index()
    total = out.groupby("turn")["n_hits"].transform("sum").to_numpy()
    out["share_hits"] = np.divide(out["n_hits"], total, out=np.zeros(len(out)), where=total > 0)
    return out[["turn", "theme", "label", "n_messages", "share_messages", "share_hits",
                "mean_rate"]]


def theme_summary(rates: pd.DataFrame) -> pd.DataFrame:
    """Each theme's reach over the whole corpus and in each half of the conversations.

    A message is in the first half of its conversation when fewer than half of the
    conversation's messages come before it.

    Returns
    -------
    DataFrame
        ``theme``, ``label``, ``n_hits``, ``share_messages`` (share of all messages mentioning
        the theme), ``share_first_half``, ``share_second_half`` (3 decimals).
    """
    keys = rates[["conversation_id", "turn"]].drop_duplicates()
    pos = positions(keys)
    size = keys.groupby("conversation_id", sort=False)["turn"].transform("size").to_numpy()
    half = pd.Series(np.where(pos < size / 2, "first", "second"),
                     index=pd.MultiIndex.from_frame(keys))
    r = rates.assign(half=half.reindex(pd.MultiIndex.from_frame(
        rates[["conversation_id", "turn"]])).to_numpy())
    grouped = r.groupby(["theme", "label"], observed=True, sort=True)
    out = grouped.agg(n_hits=("n_hits", "sum"), share_messages=("hit", "mean")).reset_index()
    halves = r.pivot_table(index="theme", columns="half", values="hit", aggfunc="mean",
                           observed=True).reindex(columns=["first", "second"])
    out["share_first_half"] = halves["first"].reindex(out["theme"]).to_numpy()
    out["share_second_half"] = halves["second"].reindex(out["theme"]).to_numpy()
    out["n_hits"] = out["n_hits"].astype("int64")
    return out.round(3)



"""Thematic drift: TF-IDF similarity, theme lexicons, word tables, topics, vocabulary novelty."""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.decomposition import NMF
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

from ._paths import DATA_DIR, resolve_path
from .stats import grouped_bootstrap
from .text import content_tokens, is_content_word, is_emoji, normal_form, tokenize

__all__ = [
    "DEFAULT_LEXICON",
    "REFERENCES",
    "MessageVectors",
    "Topics",
    "lexicon_overview",
    "load_lexicon",
    "median_by_turn",
    "message_vectors",
    "novelty_curves",
    "similarity_by_turn",
    "similarity_summary",
    "theme_hits",
    "theme_patterns",
    "theme_rates",
    "theme_share_by_turn",
    "theme_summary",
    "topic_summary",
    "topic_weight_by_turn",
    "topics",
    "ttr_trend",
    "vocabulary_novelty",
    "word_table",
]

DEFAULT_LEXICON = DATA_DIR / "lexicons" / "themes.toml"
REFERENCES = ("opening", "previous", "partner")
"""What each message is compared with: the opening window's centroid, the message just before
it, and the last message before it by another speaker."""
_KEYS = ["conversation_id", "turn", "speaker"]
_TOML_LINE_RE = re.compile(r"\(at line (\d+), column \d+\)")
_TERM_RE = re.compile(r"[^\s*]+(?:\s+[^\s*]+)*\*?")
# A term stands alone: no letter, digit, apostrophe or hyphen right before or after it.
_EDGE_BEFORE, _EDGE_AFTER = r"(?<![\w'\-])", r"(?![\w'\-])"


# --- shared plumbing -------------------------------------------------------------------------


def _generated(messages: pd.DataFrame, include_seed: bool) -> pd.DataFrame:
    """The messages the metrics see, in conversation and turn order, with a fresh RangeIndex."""
    m = messages if include_seed else messages[~messages["is_seed"].to_numpy(dtype=bool)]
    return m.sort_values(["conversation_id", "turn"], kind="stable").reset_index(drop=True)


def _positions(m: pd.DataFrame) -> np.ndarray:
    """0-based position of each message within its conversation (seed excluded by default)."""
    return m.groupby("conversation_id", sort=False).cumcount().to_numpy()


def _check_positive(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


# --- TF-IDF vectors and similarity -----------------------------------------------------------


@dataclass(frozen=True)
class MessageVectors:
    """TF-IDF vectors of messages, fitted on the corpus given.

    ``index`` holds ``conversation_id``, ``turn``, ``speaker`` of each row of ``matrix`` (a CSR
    matrix with L2-normalised rows; an empty or marker-only message is a zero row); ``terms``
    names the columns (content words and emoji, alphabetical).
    """

    index: pd.DataFrame
    matrix: sp.csr_matrix
    terms: np.ndarray


def message_vectors(
    messages: pd.DataFrame, *, include_seed: bool = False, min_df: int = 1,
    sublinear_tf: bool = True,
) -> MessageVectors:
    """Fit TF-IDF on the corpus's messages and return one vector per message.

    Tokens are the content words and emoji of :func:`q7x2_lib.text.content_tokens` (stop
    words and end markers left out). The vocabulary is sorted, so the result depends on the
    messages only.

    Parameters
    ----------
    messages
        The messages table.
    include_seed
        Keep the orchestrator's seed messages.
    min_df
        Drop terms used in fewer than ``min_df`` messages.
    sublinear_tf
        Use ``1 + log(tf)``: a word said ten times counts less than ten times as much.

    Returns
    -------
    MessageVectors
        ``index`` (``conversation_id``, ``turn``, ``speaker``), ``matrix``, ``terms``.
    """
    _check_positive("min_df", min_df)
    m = _generated(messages, include_seed)
    vectorizer = TfidfVectorizer(analyzer=content_tokens, min_df=min_df, sublinear_tf=sublinear_tf,
                                 dtype=np.float64)
    try:
        matrix = vectorizer.fit_transform(m["text"].tolist()).tocsr()
        terms = vectorizer.get_feature_names_out()
    except ValueError:  # no content word in the whole corpus (e.g. every message is "[END]")
        matrix, terms = sp.csr_matrix((len(m), 0), dtype=np.float64), np.array([], dtype=object)
    return MessageVectors(index=m[_KEYS], matrix=matrix, terms=terms)


def _rowwise_cosine(x: sp.csr_matrix, y: sp.csr_matrix) -> np.ndarray:
    """Cosine of row i of x with row i of y (rows L2-normalised or zero); NaN for a zero row."""
    dots = np.asarray(x.multiply(y).sum(axis=1)).ravel()
    empty = (x.getnnz(axis=1) == 0) | (y.getnnz(axis=1) == 0)
    return np.where(empty, np.nan, np.clip(dots, 0.0, 1.0))


def _opening_similarity(x: sp.csr_matrix, codes: np.ndarray, in_window: np.ndarray) -> np.ndarray:
    """Cosine of each row with the sum of its conversation's window rows, leave-one-out.

    With ``S`` the sum of the (unit) window vectors, a row outside the window gets
    ``x·S / |S|``; a row inside gets the cosine with ``S - x``, ``(x·S - 1) / |S - x|``, so no
    message is compared with itself. NaN for a zero row or an empty reference.
    """
    rows = np.flatnonzero(in_window)
    pick = sp.csr_matrix((np.ones(len(rows)), (codes[rows], rows)),
                         shape=(codes.max(initial=-1) + 1, x.shape[0]))
    sums = (pick @ x).tocsr()
    sum_norm2 = np.asarray(sums.multiply(sums).sum(axis=1)).ravel()[codes]
    dots = np.asarray(x.multiply(sums[codes]).sum(axis=1)).ravel()
    own = (x.getnnz(axis=1) > 0) & in_window  # a unit vector inside its own sum
    num = np.where(own, dots - 1.0, dots)
    den2 = np.where(own, sum_norm2 - 2.0 * dots + 1.0, sum_norm2)
    valid = (x.getnnz(axis=1) > 0) & (den2 > 1e-12)
    cos = np.divide(num, np.sqrt(np.where(valid, den2, 1.0)), out=np.full(len(num), np.nan),
                    where=valid)
    return np.clip(cos, 0.0, 1.0)


def _partner_previous(index: pd.DataFrame) -> np.ndarray:
    """Row of the last earlier message by another speaker in the same conversation, or -1.

    Messages form runs of one speaker; the partner's previous message is the last row of the
    run before, when that run belongs to the same conversation.
    """
    n = len(index)
    if n == 0:
        return np.array([], dtype=np.int64)
    conv = index["conversation_id"].to_numpy()
    speaker = index["speaker"].to_numpy()
    new_conv = np.r_[True, conv[1:] != conv[:-1]]
    new_run = new_conv | np.r_[True, speaker[1:] != speaker[:-1]]
    run = np.cumsum(new_run) - 1
    run_last = np.r_[np.flatnonzero(new_run)[1:] - 1, n - 1]
    conv_start = np.maximum.accumulate(np.where(new_conv, np.arange(n), 0))
    prev = np.where(run > 0, run_last[np.maximum(run - 1, 0)], -1)
    return np.where(prev >= conv_start, prev, -1)


def similarity_by_turn(
    messages: pd.DataFrame, *, opening_window: int = 3, include_seed: bool = False,
    vectors: MessageVectors | None = None,
) -> pd.DataFrame:
    """Cosine similarity of each message's TF-IDF vector with three references.

    ``opening``: the centroid of the conversation's first ``opening_window`` messages (a
    message inside the window is compared with the centroid of the others, so none is
    compared with itself and the curve has no step at the window's edge). ``previous``:
    the message just before. ``partner``: the last earlier message by another speaker. The
    similarity is NaN when either vector is empty (an empty or marker-only message, or no
    earlier message). TF-IDF weights are non-negative, so values lie in [0, 1].

    Parameters
    ----------
    messages
        The messages table.
    opening_window
        Number of first (generated) messages whose centroid is the opening theme.
    include_seed
        Keep the orchestrator's seed messages.
    vectors
        Vectors from :func:`message_vectors` of the same messages, to avoid fitting twice.

    Returns
    -------
    DataFrame
        Long form, three rows per message: ``conversation_id``, ``turn``, ``speaker``,
        ``reference`` (one of ``REFERENCES``), ``similarity``.
    """
    _check_positive("opening_window", opening_window)
    vec = vectors if vectors is not None else message_vectors(messages, include_seed=include_seed)
    x, index = vec.matrix, vec.index
    codes = pd.factorize(index["conversation_id"])[0]
    pos = _positions(index)
    n = len(index)
    previous = np.where(pos > 0, np.arange(n) - 1, -1)
    partner = _partner_previous(index)
    values = {
        "opening": _opening_similarity(x, codes, pos < opening_window),
        "previous": _masked_cosine(x, previous),
        "partner": _masked_cosine(x, partner),
    }
    out = index.loc[np.repeat(np.arange(n), len(REFERENCES))].reset_index(drop=True)
    out["reference"] = pd.array(np.tile(REFERENCES, n), dtype="string")
    out["similarity"] = np.column_stack([values[r] for r in REFERENCES]).ravel()
    return out


def _masked_cosine(x: sp.csr_matrix, other: np.ndarray) -> np.ndarray:
    """Cosine of each row with row ``other[i]`` of the same matrix; NaN where ``other`` is -1."""
    if len(other) == 0:
        return np.array([], dtype=float)
    values = _rowwise_cosine(x, x[np.maximum(other, 0)])
    return np.where(other >= 0, values, np.nan)


def similarity_summary(similarity: pd.DataFrame, *, window: int = 10) -> pd.DataFrame:
    """Per conversation and reference: mean similarity early, late and overall, rounded.

    Returns
    -------
    DataFrame
        ``conversation_id``, ``reference``, ``first`` (mean over the first ``window`` messages
        with a value), ``last`` (mean over the last ``window``), ``mean``, each to 2 decimals,
        and ``n_messages`` (messages with a value).
    """
    _check_positive("window", window)
    s = similarity.dropna(subset=["similarity"])
    keys = ["conversation_id", "reference"]
    groups = s.groupby(keys, sort=False)
    rank = groups.cumcount().to_numpy()
    rank_from_end = groups.cumcount(ascending=False).to_numpy()
    value = s["similarity"]
    out = pd.DataFrame({
        "first": value.where(rank < window).groupby([s[k] for k in keys], sort=False).mean(),
        "last": value.where(rank_from_end < window).groupby([s[k] for k in keys],
                                                            sort=False).mean(),
        "mean": groups["similarity"].mean(),
    }).round(2)
    out["n_messages"] = groups.size()
    return out.reset_index()


# --- corpus curves ---------------------------------------------------------------------------


def median_by_turn(
    table: pd.DataFrame, *, value: str = "similarity", by: str | None = "reference",
    n_boot: int = 1000, ci: float = 0.95, seed: int = 0,
) -> pd.DataFrame:
    """Corpus median of ``value`` at each turn, with a percentile-bootstrap interval.

    At each turn the values of the conversations that reached it are resampled ``n_boot``
    times with replacement (:func:`q7x2_lib.stats.grouped_bootstrap`, one
    ``numpy.random.default_rng(seed)``); the interval holds the central ``ci`` of the resampled
    medians. NaN values are left out.

    Returns
    -------
    DataFrame
        ``by`` (when given), ``turn``, ``n_conversations``, ``median``, ``ci_low``, ``ci_high``.
    """
    _check_positive("n_boot", n_boot)
    keys = ([by] if by else []) + ["turn"]
    out = grouped_bootstrap(table, value=value, by=keys, statistic="median", n_boot=n_boot,
                            ci=ci, seed=seed)
    out = out.rename(columns={"n": "n_conversations", "estimate": "median"})
    return out.astype({"turn": "int64", "n_conversations": "int64"})


def novelty_curves(
    novelty: pd.DataFrame, *, n_boot: int = 1000, ci: float = 0.95, seed: int = 0,
) -> pd.DataFrame:
    """Corpus median by turn of novelty and cumulative type-token ratio (:func:`median_by_turn`).

    Returns
    -------
    DataFrame
        ``measure`` (``"cumulative_ttr"`` or ``"novelty"``), ``turn``, ``n_conversations``,
        ``median``, ``ci_low``, ``ci_high``.
    """
    long = novelty.melt(id_vars=["conversation_id", "turn"],
                        value_vars=["novelty", "cumulative_ttr"], var_name="measure")
    return median_by_turn(long, value="value", by="measure", n_boot=n_boot, ci=ci, seed=seed)


# --- theme lexicons --------------------------------------------------------------------------


def load_lexicon(path: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Read a theme lexicon from a TOML file (default: ``data/lexicons/themes.toml``).

    The file holds one table per theme, ``[themes.<key>]`` with ``label`` (text) and ``terms``
    (a list of words, phrases, emoji, or prefixes ending in ``*``). See
    ``data/lexicons/README.md``. A relative path resolves against the project root.

    Raises
    ------
    ValueError
        When the file is missing, is not valid TOML or does not have that shape; the message
        names the problem and ends ``"(at FILE, line N)"``.

    Returns
    -------
    DataFrame
        One row per term in file order: ``theme``, ``label``, ``term``.
    """
    file = resolve_path(path if path is not None else DEFAULT_LEXICON)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as err:
        raise ValueError(f"cannot read lexicon: {err.strerror} (at {file}, line 1)") from err
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        line = _TOML_LINE_RE.search(str(err))
        reason = _TOML_LINE_RE.sub("", str(err)).strip()
        where = line.group(1) if line else "1"
        raise ValueError(f"lexicon is not valid TOML: {reason} (at {file}, line {where})") from err
    rows = [row for key, theme in _themes_table(data, file).items()
            for row in _theme_rows(key, theme, file, text)]
    return pd.DataFrame(rows, columns=["theme", "label", "term"], dtype="string")


def _themes_table(data: dict, file: os.PathLike[str]) -> dict:
    themes = data.get("themes")
    if not isinstance(themes, dict) or not themes:
        raise ValueError("lexicon has no [themes.<name>] tables; expected e.g. [themes.silence] "
                         f'with label = "..." and terms = ["..."] (at {file}, line 1)')
    return themes


def _theme_rows(key: str, theme: object, file: os.PathLike[str], text: str) -> list[tuple]:
    line = _line_of(text, f"[themes.{key}]")
    where = f"(at {file}, line {line})"
    if not isinstance(theme, dict):
        raise ValueError(f"theme {key!r} must be a table with label and terms {where}")
    label, terms = theme.get("label", key), theme.get("terms")
    if not isinstance(label, str):
        raise ValueError(f"theme {key!r}: label must be text, got {label!r} {where}")
    if not isinstance(terms, list) or not terms:
        raise ValueError(f"theme {key!r}: terms must be a non-empty list of strings, "
                         f"got {terms!r} {where}")
    for term in terms:
        if not isinstance(term, str) or not _TERM_RE.fullmatch(term.strip()):
            raise ValueError(f"theme {key!r}: bad term {term!r}; expected a word, phrase or "
                             f"emoji, optionally ending in '*' {where}")
    return [(key, label, term.strip().lower()) for term in terms]


def _line_of(text: str, needle: str) -> int:
    at = text.find(needle)
    return text.count("\n", 0, at) + 1 if at >= 0 else 1


def lexicon_overview(lexicon: str | os.PathLike[str] | pd.DataFrame | None = None
                     ) -> pd.DataFrame:
    """One row per theme of a lexicon (file or table): what it counts, at a glance.

    Returns
    -------
    DataFrame
        ``theme``, ``label``, ``n_terms``, ``examples`` (its first six terms).
    """
    table = _lexicon_table(lexicon)
    grouped = table.groupby("theme", sort=False)
    return pd.DataFrame({
        "label": grouped["label"].first(),
        "n_terms": grouped.size().astype("int64"),
        "examples": grouped["term"].agg(lambda t: ", ".join(t.head(6))).astype("string"),
    }).reset_index()


def _lexicon_table(lexicon: str | os.PathLike[str] | pd.DataFrame | None) -> pd.DataFrame:
    return lexicon if isinstance(lexicon, pd.DataFrame) else load_lexicon(lexicon)


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
    codes, uniques = pd.factorize(pd.Series(texts, dtype="string").fillna("").map(normal_form))
    hits = {theme: np.array([len(rx.findall(u)) for u in uniques], dtype="int64")[codes]
            for theme, rx in theme_patterns(lexicon).items()}
    return pd.DataFrame(hits, index=texts.index)


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
        Path of a lexicon TOML file (default ``data/lexicons/themes.toml``) or a table from
        :func:`load_lexicon`.
    include_seed
        Keep the orchestrator's seed messages.

    Returns
    -------
    DataFrame
        One row per message and theme: ``conversation_id``, ``turn``, ``speaker``, ``theme``
        and ``label`` (categorical, lexicon order), ``n_hits``, ``n_tokens``, ``rate`` (hits
        per token, 0 for a message without tokens), ``hit`` (at least one hit).
    """
    table = _lexicon_table(lexicon)
    m = _generated(messages, include_seed)
    hits = theme_hits(m["text"], table)
    n_tokens = m["text"].map(lambda t: len(tokenize(t))).to_numpy(dtype="int64")
    themes = list(hits.columns)
    labels = table.drop_duplicates("theme").set_index("theme")["label"]
    out = m.loc[np.repeat(np.arange(len(m)), len(themes)), _KEYS].reset_index(drop=True)
    out["theme"] = pd.Categorical(np.tile(themes, len(m)), categories=themes)
    names = list(labels[themes])
    out["label"] = pd.Categorical(np.tile(names, len(m)), categories=names)
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
    _check_positive("bin_width", bin_width)
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
    pos = _positions(keys)
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


# --- the word table --------------------------------------------------------------------------


def _token_counts(texts: list[str]) -> tuple[sp.csr_matrix, np.ndarray]:
    """Token counts per text (all tokens) and the sorted vocabulary."""
    vectorizer = CountVectorizer(analyzer=tokenize, dtype=np.int64)
    try:
        return vectorizer.fit_transform(texts).tocsr(), vectorizer.get_feature_names_out()
    except ValueError:  # no token anywhere
        return sp.csr_matrix((len(texts), 0), dtype=np.int64), np.array([], dtype=object)


def _per_conversation(m: pd.DataFrame, counts: sp.csr_matrix) -> sp.csr_matrix:
    """Sum message rows into conversation rows."""
    codes, uniques = pd.factorize(m["conversation_id"])
    pick = sp.csr_matrix((np.ones(len(codes), dtype=np.int64), (codes, np.arange(len(codes)))),
                         shape=(len(uniques), len(codes)))
    return (pick @ counts).tocsr()


def word_table(
    messages: pd.DataFrame, *, kind: str = "words", n_top: int = 20,
    words: list[str] | None = None, include_seed: bool = False,
) -> pd.DataFrame:
    """The system card's word table: for frequent tokens, mean uses per transcript and reach.

    Parameters
    ----------
    messages
        The messages table; each conversation is one transcript.
    kind
        ``"words"`` (content words: :func:`q7x2_lib.text.is_content_word`) or ``"emoji"``.
    n_top
        Number of most used tokens (ties broken alphabetically).
    words
        Report exactly these tokens instead, in this order (lower case; absent ones get 0).
    include_seed
        Keep the orchestrator's seed messages.

    Returns
    -------
    DataFrame
        ``token``, ``n_uses`` (in the corpus), ``mean_uses_per_transcript`` (2 decimals),
        ``n_transcripts`` (that use it), ``share_of_transcripts`` (3 decimals).
    """
    if kind not in ("words", "emoji"):
        raise ValueError(f"kind must be 'words' or 'emoji', got {kind!r}")
    _check_positive("n_top", n_top)
    m = _generated(messages, include_seed)
    counts, vocab = _token_counts(m["text"].tolist())
    per_conv = _per_conversation(m, counts)
    n_conv = per_conv.shape[0]
    table = pd.DataFrame({
        "token": pd.array(vocab, dtype="string"),
        "n_uses": np.asarray(per_conv.sum(axis=0)).ravel().astype("int64"),
        "n_transcripts": np.asarray((per_conv > 0).sum(axis=0)).ravel().astype("int64"),
    })
    if words is not None:
        wanted = pd.DataFrame({"token": pd.array([w.lower() for w in words], dtype="string")})
        table = wanted.merge(table, on="token", how="left")
        table = table.fillna({"n_uses": 0, "n_transcripts": 0})
    else:
        keep = is_content_word if kind == "words" else is_emoji
        table = table[table["token"].map(keep).to_numpy(dtype=bool)]
        table = table.sort_values(["n_uses", "token"], ascending=[False, True], kind="stable")
        table = table.head(n_top)
    table = table.astype({"n_uses": "int64", "n_transcripts": "int64"}).reset_index(drop=True)
    table["mean_uses_per_transcript"] = (table["n_uses"] / max(n_conv, 1)).round(2)
    table["share_of_transcripts"] = (table["n_transcripts"] / max(n_conv, 1)).round(3)
    return table[["token", "n_uses", "mean_uses_per_transcript", "n_transcripts",
                  "share_of_transcripts"]]


# --- topics ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Topics:
    """NMF topics: ``words`` (``topic``, ``rank``, ``word``, ``weight``) and ``weights``
    (``conversation_id``, ``turn``, ``speaker``, ``topic``, ``label``, ``weight``, ``share``)."""

    words: pd.DataFrame
    weights: pd.DataFrame


def topics(
    messages: pd.DataFrame, *, n_topics: int = 5, n_top_words: int = 8, seed: int = 0,
    include_seed: bool = False, vectors: MessageVectors | None = None, max_iter: int = 500,
) -> Topics:
    """Topics of the corpus by non-negative matrix factorisation of the TF-IDF matrix.

    ``NMF(init="nndsvda", random_state=seed)``: the SVD-based start (zeros filled with the
    matrix mean, which converges where plain ``nndsvd`` can stall) has no randomness, so the
    result depends on the messages only. Topic ``k`` is labelled ``"k: w1, w2, w3"`` with its
    three top words.

    Returns
    -------
    Topics
        ``words``: ``topic`` (1-based), ``rank`` (1-based), ``word``, ``weight`` (NMF loading,
        4 decimals). ``weights``: one row per message and topic, ``conversation_id``, ``turn``,
        ``speaker``, ``topic``, ``label``, ``weight`` (NMF activation), ``share`` (the topic's
        share of the message's total activation; NaN for a message with none).
    """
    _check_positive("n_topics", n_topics)
    _check_positive("n_top_words", n_top_words)
    vec = vectors if vectors is not None else message_vectors(messages, include_seed=include_seed)
    if n_topics > min(vec.matrix.shape):
        raise ValueError(f"n_topics must be at most min(messages, terms) = {min(vec.matrix.shape)}"
                         f" for this corpus, got {n_topics}")
    model = NMF(n_components=n_topics, init="nndsvda", random_state=seed, max_iter=max_iter)
    activation = model.fit_transform(vec.matrix)
    words = _topic_words(model.components_, vec.terms, n_top_words)
    labels = [f"{k}: " + ", ".join(words.loc[words["topic"] == k, "word"].head(3))
              for k in range(1, n_topics + 1)]
    return Topics(words=words, weights=_topic_weights(vec.index, activation, labels))


def _topic_words(components: np.ndarray, terms: np.ndarray, n_top: int) -> pd.DataFrame:
    order = np.argsort(-components, axis=1, kind="stable")[:, :n_top]
    rows = [(k + 1, rank + 1, str(terms[j]), round(float(components[k, j]), 4))
            for k in range(components.shape[0]) for rank, j in enumerate(order[k])]
    out = pd.DataFrame(rows, columns=["topic", "rank", "word", "weight"])
    return out.astype({"topic": "int64", "rank": "int64", "word": "string"})


def _topic_weights(index: pd.DataFrame, activation: np.ndarray, labels: list[str]) -> pd.DataFrame:
    n, k = activation.shape
    totals = activation.sum(axis=1, keepdims=True)
    shares = np.divide(activation, totals, out=np.full_like(activation, np.nan), where=totals > 0)
    out = index.loc[np.repeat(np.arange(n), k)].reset_index(drop=True)
    out["topic"] = np.tile(np.arange(1, k + 1), n).astype("int64")
    out["label"] = pd.Categorical(np.tile(labels, n), categories=labels)
    out["weight"] = activation.ravel()
    out["share"] = shares.ravel()
    return out


def topic_summary(found: Topics) -> pd.DataFrame:
    """One row per topic: its top words and its mean share of the messages.

    Returns
    -------
    DataFrame
        ``topic``, ``top_words`` (comma-separated, strongest first), ``mean_share`` (mean of the
        topic's share over messages with any activation, 3 decimals).
    """
    words = found.words.groupby("topic", sort=True)["word"].agg(", ".join).astype("string")
    share = found.weights.groupby("topic", sort=True)["share"].mean().round(3)
    return pd.DataFrame({"top_words": words, "mean_share": share}).reset_index()


def topic_weight_by_turn(weights: pd.DataFrame, *, bin_width: int = 1) -> pd.DataFrame:
    """Mean topic share and weight by turn (bins of ``bin_width`` turns, labelled by their first).

    Returns
    -------
    DataFrame
        ``turn``, ``topic``, ``label``, ``n_messages``, ``mean_share`` (shares sum to 1 at a
        turn with any activation), ``mean_weight``.
    """
    _check_positive("bin_width", bin_width)
    w = weights.assign(turn=weights["turn"] // bin_width * bin_width)
    grouped = w.groupby(["turn", "topic", "label"], observed=True, sort=True)
    return grouped.agg(n_messages=("weight", "size"), mean_share=("share", "mean"),
                       mean_weight=("weight", "mean")).reset_index()


# --- vocabulary novelty ----------------------------------------------------------------------


def vocabulary_novelty(messages: pd.DataFrame, *, include_seed: bool = False) -> pd.DataFrame:
    """Share of each message's tokens not used earlier in its conversation, and cumulative TTR.

    Tokens are all words and emoji (:func:`q7x2_lib.text.tokenize`, stop words included). A
    token is new when no earlier message of the conversation used it; a new word used twice
    in one message counts as two new tokens.

    Returns
    -------
    DataFrame
        ``conversation_id``, ``turn``, ``speaker``, ``n_tokens``, ``n_new``, ``novelty``
        (``n_new / n_tokens``, NaN without tokens), ``cumulative_types`` and
        ``cumulative_tokens`` (up to and including this message), ``cumulative_ttr`` (their
        ratio, NaN before the first token).
    """
    m = _generated(messages, include_seed)
    counts, _ = _token_counts(m["text"].tolist())
    coo = counts.tocoo()
    codes = pd.factorize(m["conversation_id"])[0]
    order = np.lexsort((coo.row, coo.col, codes[coo.row]))
    row, col = coo.row[order], coo.col[order]
    conv = codes[row]
    first = np.r_[True, (col[1:] != col[:-1]) | (conv[1:] != conv[:-1])] if len(row) else row
    n_new = np.bincount(row[first], weights=coo.data[order][first], minlength=len(m))
    n_types = np.bincount(row[first], minlength=len(m))
    out = m[_KEYS].copy()
    out["n_tokens"] = np.asarray(counts.sum(axis=1)).ravel().astype("int64")
    out["n_new"] = n_new.astype("int64")
    out["novelty"] = out["n_new"] / out["n_tokens"].where(out["n_tokens"] > 0)
    grouped = pd.DataFrame({"t": n_types, "n": out["n_tokens"]}).groupby(codes).cumsum()
    out["cumulative_types"] = grouped["t"].astype("int64")
    out["cumulative_tokens"] = grouped["n"].astype("int64")
    out["cumulative_ttr"] = out["cumulative_types"] / out["cumulative_tokens"].where(
        out["cumulative_tokens"] > 0)
    return out


def ttr_trend(novelty: pd.DataFrame) -> pd.DataFrame:
    """Per conversation, the least-squares slope of cumulative type-token ratio over turns.

    Returns
    -------
    DataFrame
        ``conversation_id``, ``n_messages`` (with a ratio), ``final_ttr`` (3 decimals),
        ``mean_novelty`` (3 decimals), ``ttr_slope_per_100_turns`` (3 decimals; NaN for
        fewer than two messages).
    """
    d = novelty.dropna(subset=["cumulative_ttr"])
    x, y = d["turn"].astype(float), d["cumulative_ttr"]
    g = pd.DataFrame({"x": x, "y": y, "xy": x * y, "xx": x * x,
                      "conversation_id": d["conversation_id"]}).groupby("conversation_id",
                                                                        sort=False)
    s, n = g.sum(), g.size()
    var = s["xx"] - s["x"] ** 2 / n
    slope = (s["xy"] - s["x"] * s["y"] / n) / var.where(var > 0)
    out = pd.DataFrame({
        "n_messages": n.astype("int64"),
        "final_ttr": g["y"].last().round(3),
        "mean_novelty": novelty.groupby("conversation_id", sort=False)["novelty"].mean().round(3),
        "ttr_slope_per_100_turns": (100 * slope).round(3),
    })
    return out.reset_index()

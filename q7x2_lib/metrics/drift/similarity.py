"""Lexical drift: TF-IDF message vectors, similarity to the opening, the previous and the
partner's message, and the corpus median by turn."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer

from ..._core.text import (
    TokenCodes,
    content_tokens,
    shared_token_codes,
    tokenize,
)
from ..._core.validate import (
    check_int,
    check_positive_int,
    messages_metric,
    messages_seen,
    positions,
)
from ..stats import grouped_bootstrap

__all__ = [
    "MessageVectors",
    "REFERENCES",
    "median_by_turn",
    "message_vectors",
    "similarity_by_turn",
    "similarity_summary",
]

REFERENCES = ("opening", "previous", "partner")
"""What each message is compared with: the opening window's centroid, the message just before
it, and the last message before it by another speaker."""
_KEYS = ["conversation_id", "turn", "speaker"]



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


@messages_metric
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
    check_positive_int("min_df", min_df)
    m = messages_seen(messages, func="message_vectors", include_seed=include_seed)
    try:  # TfidfVectorizer(min_df=min_df, sublinear_tf=sublinear_tf), each distinct text once
        counts, terms = distinct_counts(m["text"].tolist(), content_tokens, np.float64,
                                        min_df=min_df)
        tfidf = TfidfTransformer(sublinear_tf=sublinear_tf).fit(counts)
        matrix = tfidf.transform(counts, copy=False).tocsr()
    except ValueError:  # no content word in the whole corpus (e.g. every message is "[END]")
        matrix, terms = sp.csr_matrix((len(m), 0), dtype=np.float64), np.array([], dtype=object)
    return MessageVectors(index=m[_KEYS], matrix=matrix, terms=terms)


def distinct_counts(texts: list[str], analyzer, dtype, *, min_df: int = 1
                    ) -> tuple[sp.csr_matrix, np.ndarray]:
    """``CountVectorizer(analyzer=analyzer, dtype=dtype, min_df=min_df)``'s matrix and terms,
    each distinct text analysed once.

    The distinct texts, in order of first appearance, give the same vocabulary in the same
    order of first appearance, so each text's row is its distinct text's row, entry for entry;
    the document frequencies that ``min_df`` prunes on are counted over every text. Raises
    ValueError as CountVectorizer does when no term is found or none is left.

    For :func:`~q7x2_lib.text.tokenize` and :func:`~q7x2_lib.text.content_tokens` the matrix
    is built from the shared token codes (:func:`shared_token_codes`: the distinct texts
    tokenised once for every drift function) with CountVectorizer's own layout; any other
    analyzer goes to CountVectorizer.
    """
    codes, distinct = pd.factorize(pd.Series(texts, dtype=object), use_na_sentinel=False)
    if analyzer is tokenize or analyzer is content_tokens:
        matrix, terms = _code_counts(shared_token_codes(list(distinct)),
                                     content=analyzer is content_tokens, dtype=dtype)
    else:
        vectorizer = CountVectorizer(analyzer=analyzer, dtype=dtype)
        matrix = vectorizer.fit_transform(list(distinct)).tocsr()
        terms = vectorizer.get_feature_names_out()
    matrix = matrix[codes]
    if min_df > 1:
        kept = np.flatnonzero(np.bincount(matrix.indices, minlength=matrix.shape[1]) >= min_df)
        if not len(kept):
            raise ValueError("After pruning, no terms remain. Try a lower min_df.")
        matrix, terms = matrix[:, kept], terms[kept]
    return matrix, terms


def _code_counts(tokens: TokenCodes, *, content: bool, dtype) -> tuple[sp.csr_matrix, np.ndarray]:
    """CountVectorizer's fitted matrix and terms from token codes, array for array.

    CountVectorizer numbers terms in order of first appearance, sorts each row by that number,
    then renames the numbers to alphabetical ranks without sorting again; the codes are numbered
    in the same order (for content words too: leaving tokens out keeps the others' order).
    """
    codes, indptr = tokens.codes, tokens.indptr
    used = np.flatnonzero(tokens.content) if content else np.arange(len(tokens.vocabulary))
    if content:
        indptr, codes = tokens.content_only()
    if not len(used):
        raise ValueError("empty vocabulary; perhaps the documents only contain stop words")
    n_texts, n_codes = len(indptr) - 1, len(tokens.vocabulary)
    counts = sp.csr_array((np.ones(len(codes), dtype=np.intc), codes, indptr),
                          shape=(n_texts, n_codes), copy=True)  # the shared codes stay as they are
    counts.sum_duplicates()  # each row's codes sorted, repeats counted
    words = np.asarray(tokens.vocabulary, dtype=object)[used]
    order = sorted(range(len(used)), key=words.__getitem__)  # sorted() as CountVectorizer's
    rank = np.empty(n_codes, dtype=np.int64)
    rank[used[order]] = np.arange(len(used))
    index = np.int32 if counts.nnz <= np.iinfo(np.int32).max else np.int64
    matrix = sp.csr_matrix((counts.data, rank[counts.indices].astype(index),
                            counts.indptr.astype(index)), shape=(n_texts, len(used)), dtype=dtype)
    return matrix, words[order]


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


@messages_metric
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
    check_positive_int("opening_window", opening_window)
    vec = vectors if vectors is not None else message_vectors(messages, include_seed=include_seed)
    x, index = vec.matrix, vec.index
    codes = pd.factorize(index["conversation_id"])[0]
    pos = positions(index)
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
    check_positive_int("window", window)
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
    times with replacement (:func:`q7x2_lib.metrics.stats.grouped_bootstrap`, one
    ``numpy.random.default_rng(seed)``); the interval holds the central ``ci`` of the resampled
    medians. NaN values are left out.

    Returns
    -------
    DataFrame
        ``by`` (when given), ``turn``, ``n_conversations``, ``median``, ``ci_low``, ``ci_high``.
    """
    check_int("n_boot", n_boot, 0)
    keys = ([by] if by else []) + ["turn"]
    out = grouped_bootstrap(table, value=value, by=keys, statistic="median", n_boot=n_boot,
                            ci=ci, seed=seed)
    out = out.rename(columns={"n": "n_conversations", "estimate": "median"})
    return out.astype({"turn": "int64", "n_conversations": "int64"})

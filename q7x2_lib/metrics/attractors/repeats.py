"""Near repeats and recurrence matrices: which messages repeat which earlier ones."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..._core.speed import by_conversation, in_threads
from ..._core.text import (
    char_ngram_matrix,
    normal_form,
)
from ..._core.validate import (
    check_positive_int,
    check_share,
    messages_metric,
    messages_seen,
    positions,
)

__all__ = ["near_repeats", "recurrence_matrices", "recurrence_matrix", "repeat_share_by_turn"]

#: Messages a recurrence matrix holds at most (see :func:`recurrence_matrix`).
MAX_RECURRENCE = 1_000


# --- near repeats ----------------------------------------------------------------------------


def _check_options(lookback: int, threshold: float, ngram: int) -> None:
    check_positive_int("lookback", lookback)
    check_share("threshold", threshold)
    check_positive_int("ngram", ngram)


def _set_cosine(inter: np.ndarray, size_a: np.ndarray, size_b: np.ndarray) -> np.ndarray:
    """|A ∩ B| / sqrt(|A| |B|); 1 for two empty sets, 0 when only one is empty."""
    denom = np.sqrt(size_a.astype(float) * size_b)
    both_empty = (size_a == 0) & (size_b == 0)
    out = np.divide(inter, denom, out=np.where(both_empty, 1.0, 0.0), where=denom > 0)
    return np.clip(out, 0.0, 1.0)


_CHUNK_CHARS = 1 << 21  # characters of normal forms per chunk of conversations: bounds memory


def _chunks(m: pd.DataFrame, pos: np.ndarray) -> list[tuple[int, int]]:
    """Row ranges of whole conversations, each about ``_CHUNK_CHARS`` characters of text."""
    starts = np.flatnonzero(pos == 0)
    if not len(starts):
        return []
    chars = np.cumsum(m["text"].str.len().to_numpy(dtype=np.int64, na_value=0))
    chars_before = np.r_[0, chars][starts]
    bounds, first = [], 0
    while first < len(starts):
        last = max(first + 1, int(np.searchsorted(chars_before, chars_before[first]
                                                  + _CHUNK_CHARS, side="right")))
        bounds.append(int(starts[first]))
        first = last
    return list(zip(bounds, [*bounds[1:], len(m)], strict=True))


def _gram_sets(forms: list[str], n: int) -> sp.csr_matrix:
    """Binary matrix of the character ``n``-gram sets of ``forms`` in canonical CSR form
    (sorted, distinct column indices per row; int8 data), as :func:`char_ngram_matrix`.

    Code points are renumbered densely (0 pads a form shorter than ``n``), so an n-gram packs
    into one column index below ``2**31``; when it does not, ``char_ngram_matrix`` is used.
    """
    lengths = np.fromiter(map(len, forms), dtype=np.int64, count=len(forms))
    points = np.frombuffer("".join(forms).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    present = np.zeros(0x110001, dtype=bool)
    present[points] = True
    ids = np.cumsum(present, dtype=np.int64)  # code point -> 1 + its rank among those present
    bits = max(1, int(ids[-1]).bit_length())
    if n > 3 or n * bits > 31:
        grams = char_ngram_matrix(forms, n).astype(np.int8)
        grams.sort_indices()
        return grams
    ids = np.r_[ids[points], np.zeros(n, dtype=np.int64)]
    key = np.concatenate([_long_grams(ids, lengths, n, bits), _short_grams(ids, lengths, n, bits)])
    key.sort()
    key = key[np.r_[True, key[1:] != key[:-1]]] if len(key) else key
    indptr = np.r_[0, np.cumsum(np.bincount(key >> (n * bits), minlength=len(forms)))]
    columns = (key & ((1 << (n * bits)) - 1)).astype(np.int32)
    return sp.csr_matrix((np.ones(len(key), dtype=np.int8), columns, indptr.astype(np.int64)),
                         shape=(len(forms), 1 << (n * bits)))


def _long_grams(ids: np.ndarray, lengths: np.ndarray, n: int, bits: int) -> np.ndarray:
    """``row << (n * bits) | gram`` for every n-gram of the forms at least ``n`` long."""
    total = len(ids) - n
    grams = np.zeros(total, dtype=np.int64)
    for k in range(n):  # the gram starting at each character, built from shifted copies
        grams |= ids[k : total + k] << ((n - 1 - k) * bits)
    valid = np.ones(total, dtype=bool)
    ends = np.cumsum(lengths)
    for k in range(1, n):  # grams that run past the end of their form
        valid[ends[lengths >= k] - k] = False
    row = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
    return (row[valid] << (n * bits)) | grams[valid]


def _short_grams(ids: np.ndarray, lengths: np.ndarray, n: int, bits: int) -> np.ndarray:
    """``row << (n * bits) | gram`` for the forms shorter than ``n``: one gram, 0-padded."""
    rows = np.flatnonzero((lengths > 0) & (lengths < n))
    starts = np.r_[0, np.cumsum(lengths)[:-1]][rows]
    key = rows.astype(np.int64) << (n * bits)
    for k in range(n):
        key |= np.where(k < lengths[rows], ids[starts + k], 0) << ((n - 1 - k) * bits)
    return key


def _shared_grams(grams: sp.csr_matrix, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``|A ∩ B|`` for the gram sets of rows ``a[i]`` and ``b[i]`` of ``grams``: each distinct
    pair of rows intersected once (a loop pairs the same two forms at every turn)."""
    if not len(a):
        return np.zeros(0, dtype=np.int64)
    pair, first = pd.factorize(a.astype(np.int64) * grams.shape[0] + b)
    row_a, row_b = np.divmod(first, grams.shape[0])
    return np.diff(grams[row_a].multiply(grams[row_b]).tocsr().indptr)[pair]


def _chunk_similarities(forms: list[str], pos: np.ndarray, lookback: int, ngram: int,
                        lags: Sequence[int] | None = None, bound: float | None = None
                        ) -> tuple[np.ndarray, np.ndarray]:
    """``(similarity, exact)`` of one chunk of whole conversations, as in _lag_similarities.

    ``lags`` (default: all up to ``lookback``) are the lags computed, the others stay NaN.
    With ``bound``, a pair whose similarity cannot reach it is not compared (NaN): the cosine of
    two sets is at most ``sqrt(min(|A|, |B|) / max(|A|, |B|))``, and exact repeats are equal.
    """
    codes, distinct = pd.factorize(np.asarray(forms, dtype=object))
    # Each distinct form's grams once (loops repeat forms): the same code points are present, so
    # its row is the full matrix's row of every copy.
    grams = _gram_sets(distinct.tolist(), ngram)
    sizes = np.diff(grams.indptr)[codes]
    n = len(forms)
    sim = np.full((n, lookback), np.nan)
    exact = np.zeros((n, lookback), dtype=bool)
    for lag in (range(1, lookback + 1) if lags is None else lags):
        if lag > n - 1:
            continue
        rows = np.flatnonzero(pos[lag:] >= lag) + lag
        same = codes[rows] == codes[rows - lag]
        exact[rows, lag - 1] = same
        if bound is not None:
            small = np.minimum(sizes[rows], sizes[rows - lag])
            large = np.maximum(sizes[rows], sizes[rows - lag])
            sim[rows[same], lag - 1] = 1.0
            rows = rows[~same & (small >= bound * bound * large)]
        inter = _shared_grams(grams, codes[rows], codes[rows - lag])
        sim[rows, lag - 1] = _set_cosine(inter, sizes[rows], sizes[rows - lag])
    return sim, exact


def _lag_similarities(
    m: pd.DataFrame, lookback: int, ngram: int
) -> tuple[np.ndarray, np.ndarray]:
    """Similarity of each message with each of the ``lookback`` before it (NaN: none).

    Returns ``(similarity, exact)``: two ``n x lookback`` arrays (column ``l - 1`` for lag
    ``l``). Conversations are handled in chunks of about ``_CHUNK_CHARS`` characters, so memory
    stays flat however large the corpus.
    """
    pos = positions(m)
    texts = m["text"].fillna("")
    sim = np.full((len(m), lookback), np.nan)
    exact = np.zeros((len(m), lookback), dtype=bool)

    def fill(bounds: tuple[int, int]) -> None:
        start, stop = bounds
        # Each distinct text once: loops and end markers repeat many messages verbatim.
        codes, uniques = pd.factorize(texts.iloc[start:stop], sort=False)
        forms = np.asarray([normal_form(t) for t in uniques.tolist()], dtype=object)[codes].tolist()
        sim[start:stop], exact[start:stop] = _chunk_similarities(forms, pos[start:stop],
                                                                 lookback, ngram)

    # Chunks write their own rows; one chunk's numpy work overlaps another's normal forms.
    in_threads(fill, _chunks(m, pos))
    return sim, exact


def lag_matches(m: pd.DataFrame, *, lags: int, threshold: float, ngram: int,
                only: Sequence[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Whether each message near-repeats the one ``l`` before it, for ``l`` = 1 .. ``lags``.

    ``m`` holds whole conversations in order (``conversation_id``, ``text``); the result is a
    pair of boolean ``len(m) x lags`` arrays ``(near, exact)``, column ``l - 1`` for lag ``l``,
    False where there is no message ``l`` back. Similarity as in :func:`near_repeats`; chunked
    like it, so memory holds two bytes per message and lag, not a float. ``only`` names the
    lags to compute (the others are False); pairs that cannot reach ``threshold`` (their sizes
    differ too much) are not compared.
    """
    pos = positions(m)
    texts = m["text"].fillna("")
    out = np.zeros((len(m), lags), dtype=bool)
    same = np.zeros((len(m), lags), dtype=bool)
    wanted = None if only is None else sorted(set(only))

    def fill(bounds: tuple[int, int]) -> None:
        start, stop = bounds
        codes, uniques = pd.factorize(texts.iloc[start:stop], sort=False)
        forms = np.asarray([normal_form(t) for t in uniques.tolist()], dtype=object)[codes].tolist()
        sim, same[start:stop] = _chunk_similarities(forms, pos[start:stop], lags, ngram,
                                                    lags=wanted, bound=threshold)
        out[start:stop] = np.nan_to_num(sim, nan=0.0) >= threshold

    in_threads(fill, _chunks(m, pos))
    return out, same


@messages_metric
@by_conversation
def near_repeats(
    messages: pd.DataFrame, *, lookback: int = 6, threshold: float = 0.8, ngram: int = 3,
    include_seed: bool = False,
) -> pd.DataFrame:
    """Whether each message repeats one of the ``lookback`` messages before it.

    Messages are compared in normal form (:func:`q7x2_lib.text.normal_form`: case, whitespace,
    markdown emphasis and end markers removed). Exact repeat: equal normal forms. Near repeat:
    the cosine similarity of the sets of character ``ngram``-grams of the two normal forms,
    ``|A ∩ B| / sqrt(|A| |B|)``, is at least ``threshold`` (a form shorter than ``ngram`` is
    one gram; two empty forms, e.g. two "[END]", are equal). At 0.8 on 3-grams, a
    60-character line with one word inserted or changed still counts (0.8 to 0.95), two
    changed words sit at the edge (about 0.8), and a line that keeps only its first half does
    not (0.4 to 0.6).

    Parameters
    ----------
    messages
        The messages table.
    lookback
        How many earlier messages of the same conversation each message is compared with.
    threshold
        Lowest similarity that counts as a near repeat, in (0, 1].
    ngram
        Character n-gram length.
    include_seed
        Keep the orchestrator's seed messages.

    Returns
    -------
    DataFrame
        ``conversation_id``, ``turn``, ``speaker``, ``is_exact_repeat``, ``is_near_repeat``
        (exact or near), ``repeat_lag`` (smallest lag with a near repeat, else NA),
        ``max_similarity`` (highest similarity within the lookback; NaN for the first message).
    """
    _check_options(lookback, threshold, ngram)
    m = messages_seen(messages, func="near_repeats", include_seed=include_seed)
    sim, exact = _lag_similarities(m, lookback, ngram)
    near = np.nan_to_num(sim, nan=0.0) >= threshold
    out = m[["conversation_id", "turn", "speaker"]].copy()
    out["is_exact_repeat"] = exact.any(axis=1)
    out["is_near_repeat"] = near.any(axis=1)
    out["repeat_lag"] = pd.array(np.where(near.any(axis=1), near.argmax(axis=1) + 1, 0),
                                 dtype="Int64")
    out.loc[~out["is_near_repeat"], "repeat_lag"] = pd.NA
    has_earlier = ~np.isnan(sim).all(axis=1)
    out["max_similarity"] = np.where(has_earlier, np.nanmax(np.where(np.isnan(sim), -1, sim),
                                                            axis=1), np.nan)
    return out


def repeat_share_by_turn(repeats: pd.DataFrame, *, bin_width: int = 1) -> pd.DataFrame:
    """Share of messages at each turn that repeat a recent one (from :func:`near_repeats`).

    Returns
    -------
    DataFrame
        ``turn`` (first turn of the bin), ``n_messages``, ``share_exact``, ``share_near``.
    """
    check_positive_int("bin_width", bin_width)
    r = repeats.assign(turn=repeats["turn"] // bin_width * bin_width)
    return (r.groupby("turn", sort=True)
             .agg(n_messages=("is_near_repeat", "size"), share_exact=("is_exact_repeat", "mean"),
                  share_near=("is_near_repeat", "mean"))
             .reset_index())


# --- recurrence ------------------------------------------------------------------------------


@messages_metric
def recurrence_matrix(
    messages: pd.DataFrame, *, conversation_id: str, ngram: int = 3, include_seed: bool = False,
    max_messages: int = MAX_RECURRENCE,
) -> pd.DataFrame:
    """Message-by-message similarity of one conversation, for a recurrence plot.

    The similarity is the near-repeat one (:func:`near_repeats`): cosine similarity of the
    character n-gram sets of the normal forms, 1 on the diagonal and for two empty forms.
    The matrix grows with the square of the conversation: a conversation of more than
    ``max_messages`` messages is drawn from ``max_messages`` of them, evenly spaced
    (``attrs["n_messages"]`` keeps the full count, and the plot says so).

    Returns
    -------
    DataFrame
        Square, symmetric, indexed by ``turn`` on both axes, values in [0, 1].
    """
    check_positive_int("ngram", ngram)
    check_positive_int("max_messages", max_messages)
    m = messages_seen(messages, func="recurrence_matrix", include_seed=include_seed)
    m = m[m["conversation_id"] == conversation_id]
    if m.empty:
        known = ", ".join(map(str, list(dict.fromkeys(messages["conversation_id"]))[:5]))
        raise ValueError(f"conversation_id: got {conversation_id!r}; expected a conversation "
                         f"with messages other than the seed (the first five: {known})")
    n_messages = len(m)
    if n_messages > max_messages:
        m = m.iloc[np.unique(np.round(np.linspace(0, n_messages - 1, max_messages)).astype(int))]
    codes, forms = pd.factorize(m["text"].map(normal_form))
    grams = char_ngram_matrix(list(forms), ngram).astype(np.float64)
    inter = (grams @ grams.T).toarray()
    sizes = grams.getnnz(axis=1)
    unique_sim = _set_cosine(inter, sizes[:, None], sizes[None, :])
    turns = pd.Index(m["turn"].to_numpy(), name="turn")
    out = pd.DataFrame(unique_sim[np.ix_(codes, codes)], index=turns, columns=turns.copy())
    out.attrs["n_messages"] = n_messages
    return out


@messages_metric
def recurrence_matrices(
    messages: pd.DataFrame, *, conversation_ids: list[str], ngram: int = 3,
    include_seed: bool = False, max_messages: int = MAX_RECURRENCE,
) -> dict[str, pd.DataFrame]:
    """:func:`recurrence_matrix` for each of ``conversation_ids``, in that order."""
    return {cid: recurrence_matrix(messages, conversation_id=cid, ngram=ngram,
                                   include_seed=include_seed, max_messages=max_messages)
            for cid in conversation_ids}



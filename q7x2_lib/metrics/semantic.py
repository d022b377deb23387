"""Meaning, not only words: message embeddings offline, and drift in embedding space.

The default backend is WordLlama's 256-dimension static model (MIT), whose weights and
tokenizer ship inside the ``wordllama`` package: :func:`wordllama_backend` loads them from the
installed package folder with downloads disabled, so nothing reaches the network. Any callable
``texts -> array (n, d)`` can be passed instead (a sentence-transformers model's ``encode``, say);
its rows are L2-normalised here.

Self-play repeats messages verbatim, so each distinct text is embedded once.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._core.validate import check_positive_int, messages_metric, messages_seen, positions
from .drift.similarity import REFERENCES, _partner_previous

__all__ = ["MessageEmbeddings", "drift_by_group", "embed_messages", "embed_texts",
           "semantic_novelty", "semantic_similarity_by_turn", "wordllama_backend"]

Backend = Callable[[Sequence[str]], np.ndarray]
_CHUNK = 2048


@functools.lru_cache(maxsize=1)
def wordllama_backend() -> Backend:
    """WordLlama (``l2_supercat``, 256 dimensions), loaded from the installed package folder.

    ``WordLlama.load()`` with its defaults looks for the tokenizer under ``~/.cache`` and falls
    back to a download; here the package's own ``weights/`` and ``tokenizers/`` folders are the
    cache and downloads are disabled, so a missing file is an error, never a network request.
    """
    from pathlib import Path

    import wordllama
    from wordllama import WordLlama

    model = WordLlama.load(config="l2_supercat", dim=256,
                           cache_dir=Path(wordllama.__file__).parent, disable_download=True)

    def embed(texts: Sequence[str]) -> np.ndarray:
        # Batches are padded to their longest text: embedding in order of length pads little.
        texts = list(texts)
        order = np.argsort([len(t) for t in texts], kind="stable")
        out = np.zeros((len(texts), 256), dtype=np.float32)
        if len(texts):
            with np.errstate(invalid="ignore", divide="ignore"):
                vectors = model.embed([texts[i] for i in order], norm=True, batch_size=64)
            out[order] = np.nan_to_num(np.asarray(vectors, dtype=np.float32))
        return out

    embed.__name__ = "wordllama_l2_supercat_256"
    return embed


def _backend_name(backend: Backend) -> str:
    return str(getattr(backend, "__name__", type(backend).__name__))


def embed_texts(texts: Sequence[str], backend: Backend | None = None, *,
                cache: str | os.PathLike[str] | None = None) -> np.ndarray:
    """Embed ``texts`` as L2-normalised float32 rows; an empty or blank text is a zero row.

    Each distinct text is passed to ``backend`` once, in first-seen order. With ``cache`` (a
    Parquet file, :mod:`q7x2_lib.io.embeddings`), texts already in it are not embedded again
    and the new ones are added; a cache written by another backend (by its ``__name__``) is
    refused.
    """
    backend = wordllama_backend() if backend is None else backend
    codes, uniques = pd.factorize(pd.Series(list(texts), dtype=object).fillna(""))
    keep = np.array([bool(str(u).strip()) for u in uniques], dtype=bool)
    out = np.zeros((len(uniques), 0), dtype=np.float32)
    if keep.any():
        wanted = [str(u) for u in uniques[keep]]
        vectors = _cached(wanted, backend, cache) if cache is not None else np.asarray(
            backend(wanted), dtype=np.float32)
        if vectors.ndim != 2 or len(vectors) != int(keep.sum()):
            raise ValueError(f"backend: returned an array of shape {vectors.shape} for "
                             f"{int(keep.sum())} texts; expected (n_texts, dimensions)")
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        vectors = np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)
        out = np.zeros((len(uniques), vectors.shape[1]), dtype=np.float32)
        out[keep] = vectors
    return out[codes] if len(codes) else np.zeros((0, out.shape[1]), dtype=np.float32)


def _cached(texts: list[str], backend: Backend, cache: str | os.PathLike[str]) -> np.ndarray:
    """Vectors of ``texts`` from the cache, embedding (and adding) only those it lacks."""
    from ..io.embeddings import read_embedding_cache, text_key, write_embedding_cache

    name = _backend_name(backend)
    known = read_embedding_cache(cache, name)
    keys = [text_key(t) for t in texts]
    missing = [i for i, k in enumerate(keys) if k not in known]
    if missing:
        new = np.asarray(backend([texts[i] for i in missing]), dtype=np.float32)
        if new.ndim != 2 or len(new) != len(missing):
            raise ValueError(f"backend: returned an array of shape {new.shape} for "
                             f"{len(missing)} texts; expected (n_texts, dimensions)")
        known.update(zip((keys[i] for i in missing), new, strict=True))
        write_embedding_cache(cache, list(known), np.array(list(known.values())), name)
    return np.array([known[k] for k in keys], dtype=np.float32)


@dataclass(frozen=True)
class MessageEmbeddings:
    """One embedding per message: ``index`` (``conversation_id``, ``turn``, ``speaker``) and
    ``matrix`` (float32, L2-normalised rows; an empty message is a zero row)."""

    index: pd.DataFrame
    matrix: np.ndarray


@messages_metric
def embed_messages(messages: pd.DataFrame, *, backend: Backend | None = None,
                   include_seed: bool = False,
                   cache: str | os.PathLike[str] | None = None) -> MessageEmbeddings:
    """Embed every message (seed left out unless ``include_seed``); see :func:`embed_texts`
    (``cache``: a Parquet file of vectors per distinct text, reused and extended)."""
    m = messages_seen(messages, func="embed_messages", include_seed=include_seed,
                      columns=("text",))
    matrix = embed_texts(m["text"].astype(str).tolist(), backend, cache=cache)
    return MessageEmbeddings(m[["conversation_id", "turn", "speaker"]].reset_index(drop=True),
                             matrix)


def _embeddings(messages, embeddings, backend, include_seed) -> MessageEmbeddings:
    return embeddings if embeddings is not None else embed_messages(
        messages, backend=backend, include_seed=include_seed)


def _row_cosine(x: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Cosine of row i with row ``other[i]``; NaN where ``other`` is -1 or either is zero."""
    n = len(x)
    if n == 0:
        return np.array([], dtype=float)
    y = x[np.maximum(other, 0)]
    dots = np.einsum("ij,ij->i", x, y).astype(float)
    ok = (other >= 0) & (np.abs(x).sum(axis=1) > 0) & (np.abs(y).sum(axis=1) > 0)
    return np.where(ok, dots, np.nan)


@messages_metric
def semantic_similarity_by_turn(
    messages: pd.DataFrame, *, opening_window: int = 3, include_seed: bool = False,
    embeddings: MessageEmbeddings | None = None, backend: Backend | None = None,
) -> pd.DataFrame:
    """:func:`q7x2_lib.similarity_by_turn` in embedding space: the cosine of each message with
    the centroid of its conversation's first ``opening_window`` messages (leave-one-out inside
    the window), the message before, and the partner's previous message.

    Cosines of embeddings can be negative (unrelated texts sit near 0). Same long-form columns
    as the lexical version: ``conversation_id``, ``turn``, ``speaker``, ``reference``,
    ``similarity``.
    """
    check_positive_int("opening_window", opening_window)
    emb = _embeddings(messages, embeddings, backend, include_seed)
    x, index = emb.matrix.astype(np.float64), emb.index
    n = len(index)
    codes = pd.factorize(index["conversation_id"])[0]
    pos = positions(index)
    nonzero = np.abs(x).sum(axis=1) > 0 if n else np.zeros(0, dtype=bool)
    window = (pos < opening_window) & nonzero
    sums = np.zeros((codes.max(initial=-1) + 1, x.shape[1] if n else 0))
    np.add.at(sums, codes[window], x[window])
    s = sums[codes] if n else sums
    ref = np.where(window[:, None], s - x, s) if n else s
    ref_norm = np.linalg.norm(ref, axis=1) if n else np.zeros(0)
    dots = np.einsum("ij,ij->i", x, ref) if n else np.zeros(0)
    ok = nonzero & (ref_norm > 1e-9)
    opening = np.divide(dots, ref_norm, out=np.full(n, np.nan), where=ok)
    values = {
        "opening": opening,
        "previous": _row_cosine(x, np.where(pos > 0, np.arange(n) - 1, -1)),
        "partner": _row_cosine(x, _partner_previous(index)),
    }
    out = index.loc[np.repeat(np.arange(n), len(REFERENCES))].reset_index(drop=True)
    out["reference"] = pd.array(np.tile(REFERENCES, n), dtype="string")
    out["similarity"] = np.column_stack([values[r] for r in REFERENCES]).ravel() if n else []
    return out


@messages_metric
def semantic_novelty(
    messages: pd.DataFrame, *, include_seed: bool = False,
    embeddings: MessageEmbeddings | None = None, backend: Backend | None = None,
) -> pd.DataFrame:
    """Per message: one minus its highest cosine with any earlier message of its conversation.

    0 for a message that repeats (or paraphrases to the same embedding) an earlier one; NaN for
    the first message and for empty messages. Columns: ``conversation_id``, ``turn``,
    ``speaker``, ``novelty``, ``closest_turn`` (the earlier turn it is closest to, Int64).
    """
    emb = _embeddings(messages, embeddings, backend, include_seed)
    x, index = emb.matrix, emb.index
    novelty = np.full(len(index), np.nan)
    closest = np.full(len(index), -1, dtype=np.int64)
    turns = index["turn"].to_numpy()
    nonzero = np.abs(x).sum(axis=1) > 0 if len(x) else np.zeros(0, dtype=bool)
    for rows in index.groupby("conversation_id", sort=False).indices.values():
        rows = np.sort(rows)
        block = x[rows].astype(np.float64)
        ok = nonzero[rows]
        for start in range(0, len(rows), _CHUNK):  # memory: _CHUNK rows at a time
            stop = min(start + _CHUNK, len(rows))
            sims = block[start:stop] @ block[:stop].T
            sims[:, ~ok[:stop]] = -np.inf
            later = np.arange(stop)[None, :] >= np.arange(start, stop)[:, None]
            sims[later] = -np.inf  # only earlier messages
            best = sims.argmax(axis=1)
            top = sims[np.arange(stop - start), best]
            have = np.isfinite(top) & ok[start:stop]
            mine = rows[start:stop]
            novelty[mine[have]] = np.clip(1.0 - top[have], 0.0, 2.0)
            closest[mine[have]] = turns[rows[best[have]]]
    out = index.copy()
    out["novelty"] = novelty
    out["closest_turn"] = pd.array(np.where(closest >= 0, closest, 0), dtype="Int64")
    out.loc[closest < 0, "closest_turn"] = pd.NA
    return out


def drift_by_group(
    similarity: pd.DataFrame, *, messages: pd.DataFrame | None = None, by: str = "model_pair",
    window: int = 10, n_boot: int = 1000, ci: float = 0.95, seed: int = 0,
) -> pd.DataFrame:
    """Drift per model pair or per speaker, with bootstrap intervals over conversations.

    ``similarity`` is :func:`semantic_similarity_by_turn` (or the lexical
    :func:`q7x2_lib.similarity_by_turn`); ``messages``, the table it was computed from, gives
    the model pairs. Each conversation (for
    ``by="speaker"``: each speaker of each conversation) gives one value per reference: the
    mean similarity over its first ``window`` and its last ``window`` messages with a value,
    and the change between them.

    Returns
    -------
    DataFrame
        ``by``, ``reference``, ``n`` (conversations), ``first``, ``last``, ``change`` (means),
        ``change_low``, ``change_high`` (percentile bootstrap interval of the mean change).
    """
    from .overview import model_pairs
    from .stats import grouped_bootstrap

    check_positive_int("window", window)
    if by not in ("model_pair", "speaker"):
        raise ValueError(f"by: got {by!r}; expected 'model_pair' or 'speaker'")
    s = similarity.dropna(subset=["similarity"])
    keys = ["conversation_id", "reference"] + (["speaker"] if by == "speaker" else [])
    g = s.groupby(keys, sort=True, observed=True)["similarity"]
    rank, back = g.cumcount(), g.cumcount(ascending=False)
    first = s["similarity"].where(rank < window).groupby([s[k] for k in keys]).mean()
    last = s["similarity"].where(back < window).groupby([s[k] for k in keys]).mean()
    per = pd.DataFrame({"first": first, "last": last}).reset_index()
    per["change"] = per["last"] - per["first"]
    if by == "model_pair":
        if messages is None:
            raise ValueError("drift_by_group(by='model_pair'): pass messages= for the pairs")
        pairs = model_pairs(messages)
        per["model_pair"] = pairs.reindex(per["conversation_id"].astype(str)).to_numpy()
    per[by] = per[by].astype("string")
    boot = grouped_bootstrap(per, value="change", by=[by, "reference"], n_boot=n_boot, ci=ci,
                             seed=seed)
    means = per.groupby([by, "reference"], sort=True, observed=True)[["first", "last"]].mean()
    out = boot.merge(means.reset_index(), on=[by, "reference"], how="left")
    out = out.rename(columns={"estimate": "change", "ci_low": "change_low",
                              "ci_high": "change_high"})
    return out[[by, "reference", "n", "first", "last", "change", "change_low",
                "change_high"]].round(3)

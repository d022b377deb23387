"""Topics: NMF topics of the messages' TF-IDF vectors, and their weight by turn."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.decomposition import NMF
from sklearn.exceptions import ConvergenceWarning

from ..._core.validate import check_positive_int, messages_metric
from .similarity import MessageVectors, message_vectors

__all__ = ["Topics", "topic_summary", "topic_weight_by_turn", "topics"]


# --- topics ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Topics:
    """NMF topics: ``words`` (``topic``, ``rank``, ``word``, ``weight``) and ``weights``
    (``conversation_id``, ``turn``, ``speaker``, ``topic``, ``label``, ``weight``, ``share``)."""

    words: pd.DataFrame
    weights: pd.DataFrame


@messages_metric
def topics(
    messages: pd.DataFrame, *, n_topics: int = 5, n_top_words: int = 8, seed: int = 0,
    include_seed: bool = False, vectors: MessageVectors | None = None, max_iter: int = 500,
) -> Topics:
    """Topics of the corpus by non-negative matrix factorisation of the TF-IDF matrix.

    ``NMF(init="nndsvda", random_state=seed)``: the SVD-based start (zeros filled with the
    matrix mean, which converges where plain ``nndsvd`` can stall) has no randomness, so the
    result depends on the messages only. Topic ``k`` is labelled ``"k: w1, w2, w3"`` with its
    three top words.

    A corpus with fewer messages or terms than ``n_topics`` gives as many topics as it has
    (none for a corpus without words).

    Returns
    -------
    Topics
        ``words``: ``topic`` (1-based), ``rank`` (1-based), ``word``, ``weight`` (NMF loading,
        4 decimals). ``weights``: one row per message and topic, ``conversation_id``, ``turn``,
        ``speaker``, ``topic``, ``label``, ``weight`` (NMF activation), ``share`` (the topic's
        share of the message's total activation; NaN for a message with none).
    """
    check_positive_int("n_topics", n_topics)
    check_positive_int("n_top_words", n_top_words)
    vec = vectors if vectors is not None else message_vectors(messages, include_seed=include_seed)
    # A corpus of few messages or terms has fewer topics to give: as many as it can.
    n_topics = min(n_topics, *vec.matrix.shape)
    if n_topics == 0:
        return _no_topics(vec.index)
    model = NMF(n_components=n_topics, init="nndsvda", random_state=seed, max_iter=max_iter)
    # An exact factorisation (a corpus of a few distinct lines, e.g. one long loop) leaves a
    # reconstruction error of about -1e-16 from rounding, whose square root sklearn takes for
    # its report: a NaN there says nothing about the topics, which are exact.
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        if vec.matrix.shape[0] < 2:  # one message is its own topic; the solver's tolerance
            warnings.simplefilter("ignore", ConvergenceWarning)  # is moot there
        activation = model.fit_transform(vec.matrix)
    words = _topic_words(model.components_, vec.terms, n_top_words)
    labels = [f"{k}: " + ", ".join(words.loc[words["topic"] == k, "word"].head(3))
              for k in range(1, n_topics + 1)]
    return Topics(words=words, weights=_topic_weights(vec.index, activation, labels))


def _no_topics(index: pd.DataFrame) -> Topics:
    words = pd.DataFrame({"topic": pd.Series(dtype="int64"), "rank": pd.Series(dtype="int64"),
                          "word": pd.Series(dtype="string"), "weight": pd.Series(dtype=float)})
    return Topics(words=words, weights=_topic_weights(index.iloc[:0], np.zeros((0, 0)), []))


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
    check_positive_int("bin_width", bin_width)
    w = weights.assign(turn=weights["turn"] // bin_width * bin_width)
    grouped = w.groupby(["turn", "topic", "label"], observed=True, sort=True)
    return grouped.agg(n_messages=("weight", "size"), mean_share=("share", "mean"),
                       mean_weight=("weight", "mean")).reset_index()



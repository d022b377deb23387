"""Where conversations go in meaning: 2-D trajectories, semantic recurrence and attractor basins.

All of it starts from :func:`q7x2_lib.embed_messages` (pass ``embeddings=`` to embed once and
reuse). Everything is deterministic: PCA by eigen-decomposition with fixed signs, k-means with
a fixed seed, ties broken by order.

Basins: each run's end is the normalised mean embedding of its last ``tail`` messages; those
ends are clustered (k-means on the unit sphere, k chosen by silhouette unless given) and each
cluster is named by the words most distinctive of its runs' ends (each word counted once per
run) against the other clusters', by the weighted log-odds with an informative Dirichlet prior
(all run ends together) of Monroe, Colaresi & Quinn (2008, "Fightin' Words"). The early →
late matrix assigns each run's opening window to the nearest basin too.
"""

from __future__ import annotations

import warnings
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._core.text import content_tokens
from .._core.validate import (
    check_positive_int,
    check_share,
    messages_metric,
    messages_seen,
    positions,
)
from .attractors.rqa import RQA_MEASURES, rqa_measures
from .overview import model_pairs
from .semantic import Backend, MessageEmbeddings, _embeddings
from .stats import grouped_bootstrap

__all__ = ["Basins", "basin_shares", "basin_transitions", "basins", "semantic_recurrence_matrix",
           "semantic_rqa", "semantic_trajectories"]


def _pca(x: np.ndarray, k: int = 2) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, the top ``k`` axes (rows) and their explained-variance shares; each axis's sign is
    fixed so that its largest loading is positive."""
    mean = x.mean(axis=0)
    xc = x - mean
    cov = (xc.T @ xc) / max(len(x) - 1, 1)
    values, vectors = np.linalg.eigh(cov)
    order = np.argsort(values)[::-1][:k]
    axes = vectors[:, order].T
    signs = np.sign(axes[np.arange(len(axes)), np.abs(axes).argmax(axis=1)])
    axes = axes * np.where(signs == 0, 1, signs)[:, None]
    total = values.clip(min=0).sum()
    share = values[order].clip(min=0) / total if total > 0 else np.zeros(len(order))
    return mean, axes, share


@messages_metric
def semantic_trajectories(
    messages: pd.DataFrame, *, embeddings: MessageEmbeddings | None = None,
    backend: Backend | None = None, include_seed: bool = False,
) -> pd.DataFrame:
    """Every message as a point in the corpus's first two principal components of meaning.

    Returns
    -------
    DataFrame
        ``conversation_id``, ``model_pair``, ``turn``, ``speaker``, ``position`` (0 at the
        first message, 1 at the last), ``x``, ``y`` (PC1, PC2; empty messages NaN);
        ``attrs["explained"]`` holds the two components' shares of the variance.
    """
    emb = _embeddings(messages, embeddings, backend, include_seed)
    x = emb.matrix.astype(np.float64)
    index = emb.index
    nonzero = np.abs(x).sum(axis=1) > 0 if len(x) else np.zeros(0, dtype=bool)
    xy = np.full((len(x), 2), np.nan)
    explained = np.full(2, np.nan)
    if nonzero.sum() >= 3:
        mean, axes, share = _pca(x[nonzero])
        xy[nonzero, : len(axes)] = (x[nonzero] - mean) @ axes.T
        explained[: len(share)] = share
    pos = positions(index) if len(index) else np.zeros(0, dtype=np.int64)
    size = index.groupby("conversation_id", sort=False)["turn"].transform("size").to_numpy()
    m = messages_seen(messages, func="semantic_trajectories", include_seed=include_seed,
                      columns=("text", "model"))
    pairs = model_pairs(m, include_seed=True)
    out = index[["conversation_id"]].copy()
    out["model_pair"] = pairs.reindex(index["conversation_id"]).to_numpy()
    out["turn"] = index["turn"].to_numpy()
    out["speaker"] = index["speaker"].to_numpy()
    out["position"] = np.where(size > 1, pos / np.maximum(size - 1, 1), 0.0).round(4)
    out["x"] = xy[:, 0].round(4)
    out["y"] = xy[:, 1].round(4)
    out.attrs["explained"] = [round(float(v), 4) for v in explained]
    return out


def _cosines(x: np.ndarray) -> np.ndarray:
    sims = x @ x.T
    zero = np.abs(x).sum(axis=1) == 0
    sims[zero, :] = np.nan
    sims[:, zero] = np.nan
    return sims


@messages_metric
def semantic_recurrence_matrix(
    messages: pd.DataFrame, *, conversation_id: str, embeddings: MessageEmbeddings | None = None,
    backend: Backend | None = None, include_seed: bool = False, max_messages: int = 400,
) -> pd.DataFrame:
    """:func:`q7x2_lib.recurrence_matrix` in embedding space: cosine of every pair of messages
    of one conversation (clipped at 0; an empty message has none), indexed by turn."""
    check_positive_int("max_messages", max_messages)
    m = messages_seen(messages, func="semantic_recurrence_matrix", include_seed=include_seed,
                      columns=("text", "model"))
    m = m[m["conversation_id"] == conversation_id]
    if m.empty:
        raise ValueError(f"conversation_id: got {conversation_id!r}; expected a conversation "
                         "with messages other than the seed")
    emb = _embeddings(m, embeddings, backend, True)
    rows = np.flatnonzero((emb.index["conversation_id"] == conversation_id).to_numpy())
    n_messages = len(rows)
    if n_messages > max_messages:
        rows = rows[np.unique(np.round(np.linspace(0, n_messages - 1, max_messages)).astype(int))]
    sims = np.clip(_cosines(emb.matrix[rows].astype(np.float64)), 0, 1)
    turns = pd.Index(emb.index["turn"].to_numpy()[rows], name="turn")
    out = pd.DataFrame(sims, index=turns, columns=turns.copy())
    out.attrs["n_messages"] = n_messages
    out.attrs["similarity"] = "similarity in meaning (cosine of message embeddings, 0–1)"
    return out


@messages_metric
def semantic_rqa(
    messages: pd.DataFrame, *, threshold: float | None = 0.9,
    recurrence_rate: float | None = None, min_line: int = 2,
    embeddings: MessageEmbeddings | None = None, backend: Backend | None = None,
    include_seed: bool = False, max_messages: int = 400,
) -> pd.DataFrame:
    """Recurrence quantification (:func:`q7x2_lib.rqa`) with recurrence in meaning.

    Two messages recur when their embeddings' cosine is at least ``threshold``; or, with
    ``recurrence_rate`` (a share, ``threshold=None``), each conversation gets the threshold
    that makes that share of its pairs recur (RQA's fixed-recurrence-rate convention, which
    compares conversations of different spread fairly). A paraphrased loop, which shares few
    characters, draws diagonal lines here.

    Returns
    -------
    DataFrame
        One row per conversation: ``conversation_id``, ``model_pair``, ``n_messages``,
        ``threshold`` (used), then ``RQA_MEASURES`` (3 decimals).
    """
    if (threshold is None) == (recurrence_rate is None):
        raise ValueError("semantic_rqa(): give threshold or recurrence_rate, not both or neither")
    if threshold is not None:
        check_share("threshold", threshold)
    else:
        check_share("recurrence_rate", recurrence_rate)
    check_positive_int("min_line", min_line)
    m = messages_seen(messages, func="semantic_rqa", include_seed=include_seed,
                      columns=("text", "model"))
    emb = _embeddings(m, embeddings, backend, True)
    pairs = model_pairs(m, include_seed=True)
    rows = []
    for cid, idx in emb.index.groupby("conversation_id", sort=True).indices.items():
        idx = idx[np.argsort(emb.index["turn"].to_numpy()[idx], kind="stable")]
        if len(idx) > max_messages:
            idx = idx[np.unique(np.round(np.linspace(0, len(idx) - 1, max_messages)).astype(int))]
        sims = _cosines(emb.matrix[idx].astype(np.float64))
        cut = threshold
        if cut is None:
            upper = sims[np.triu_indices(len(idx), k=1)]
            upper = upper[np.isfinite(upper)]
            cut = float(np.quantile(upper, 1 - recurrence_rate)) if len(upper) else np.nan
        r = np.nan_to_num(sims, nan=-2.0) >= cut - 1e-9
        rows.append({"conversation_id": str(cid), "n_messages": len(idx),
                     "threshold": round(float(cut), 4), **rqa_measures(r, min_line=min_line,
                                                                       symmetric=True)})
    out = pd.DataFrame(rows, columns=["conversation_id", "n_messages", "threshold",
                                      *RQA_MEASURES])
    out.insert(1, "model_pair", pairs.reindex(out["conversation_id"]).to_numpy())
    out["conversation_id"] = out["conversation_id"].astype("string")
    out["n_messages"] = out["n_messages"].astype("int64")
    return out.round({k: 3 for k in RQA_MEASURES})


@dataclass(frozen=True)
class Basins:
    """The result of :func:`basins`.

    ``assignments``: one row per conversation (``conversation_id``, ``model_pair``, ``basin``,
    ``basin_name``, ``similarity`` of its end to the basin's centre, ``early_basin`` (the basin
    nearest its opening window), ``entry_turn`` (the turn from which every window of ``tail``
    messages stays nearest this basin, if that stretch holds at least ``tail`` windows; NA
    otherwise)). ``names``: one row per basin (``basin``, ``name``, ``n_runs``, ``share``,
    ``words``: its distinctive words with their log-odds z-scores). ``centroids``: unit rows.
    """

    assignments: pd.DataFrame
    names: pd.DataFrame
    centroids: np.ndarray
    silhouette: float


def _unit(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)


def _cluster(points: np.ndarray, n_basins: int | None, max_basins: int, seed: int
             ) -> tuple[np.ndarray, np.ndarray, float]:
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    distinct = len(np.unique(points.round(6), axis=0))
    if distinct < 2 or (n_basins is not None and n_basins < 2):
        centre = _unit(points.mean(axis=0, keepdims=True))
        return np.zeros(len(points), dtype=np.int64), centre, np.nan
    top = min(max_basins, distinct - 1)
    ks = [min(n_basins, distinct)] if n_basins else list(range(2, top + 1))
    ks = ks or [2]
    best = None
    for k in ks:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            km = KMeans(n_clusters=k, n_init=4, max_iter=100, random_state=seed).fit(points)
        labels = km.labels_
        score = (float(silhouette_score(points, labels, metric="cosine",
                                        sample_size=min(len(points), 3000), random_state=seed))
                 if 1 < len(set(labels)) < len(points) else np.nan)
        better = np.isfinite(score) and (not np.isfinite(best[2]) or score > best[2] + 1e-9) \
            if best is not None else True
        if better:
            best = (labels, km.cluster_centers_, score)
    labels, centres, score = best
    # Basin 1 is the largest; ties by first appearance.
    counts = np.bincount(labels, minlength=len(centres))
    first = np.array([np.flatnonzero(labels == k)[0] if counts[k] else len(labels)
                      for k in range(len(centres))])
    order = np.lexsort((first, -counts))
    remap = np.empty(len(order), dtype=np.int64)
    remap[order] = np.arange(len(order))
    return remap[labels], _unit(centres[order]), score


def fightin_words(counts_a: Counter, counts_b: Counter, prior: Counter, *,
                  prior_size: float = 1000.0) -> pd.DataFrame:
    """Log-odds ratio of each word in ``a`` against ``b`` with an informative Dirichlet prior
    (Monroe, Colaresi & Quinn 2008, eq. 22): prior counts are the corpus frequencies scaled to
    ``prior_size``. Returns ``word``, ``delta``, ``z`` (delta over its standard error), sorted
    by ``z`` descending, ties by word."""
    total_prior = sum(prior.values())
    words = sorted(set(counts_a) | set(counts_b))
    if not words or total_prior == 0:
        return pd.DataFrame({"word": pd.Series(dtype="string"), "delta": [], "z": []})
    alpha = np.array([prior.get(w, 0) for w in words], dtype=float) / total_prior * prior_size
    alpha = np.maximum(alpha, 1e-3)
    ya = np.array([counts_a.get(w, 0) for w in words], dtype=float)
    yb = np.array([counts_b.get(w, 0) for w in words], dtype=float)
    na, nb, a0 = ya.sum(), yb.sum(), alpha.sum()
    with np.errstate(divide="ignore", invalid="ignore"):  # a one-word vocabulary has no odds
        la = np.log((ya + alpha) / (na + a0 - ya - alpha))
        lb = np.log((yb + alpha) / (nb + a0 - yb - alpha))
        delta = la - lb
        z = delta / np.sqrt(1 / (ya + alpha) + 1 / (yb + alpha))
    delta, z = np.where(np.isfinite(delta), delta, np.nan), np.where(np.isfinite(z), z, np.nan)
    out = pd.DataFrame({"word": words, "delta": delta, "z": z})
    return out.sort_values(["z", "word"], ascending=[False, True], kind="stable",
                           ignore_index=True)


def _nearest(points: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Index of each point's nearest centroid by cosine; -1 for a tie (a point equally far
    from two basins, or unrelated to all, is in none)."""
    sims = points @ centroids.T
    best = sims.argmax(axis=1)
    if sims.shape[1] > 1:
        top2 = np.sort(sims, axis=1)[:, -2:]
        best = np.where(top2[:, 1] - top2[:, 0] > 1e-9, best, -1)
    return best


def _window_means(x: np.ndarray, tail: int) -> np.ndarray:
    """Mean of each run of ``tail`` consecutive rows ending at row i (fewer at the start)."""
    c = np.vstack([np.zeros((1, x.shape[1])), np.cumsum(x, axis=0)])
    i = np.arange(1, len(x) + 1)
    lo = np.maximum(i - tail, 0)
    return (c[i] - c[lo]) / (i - lo)[:, None]


@messages_metric
def basins(
    messages: pd.DataFrame, *, tail: int = 5, n_basins: int | None = None, max_basins: int = 8,
    n_words: int = 4, embeddings: MessageEmbeddings | None = None, backend: Backend | None = None,
    include_seed: bool = False, seed: int = 0,
) -> Basins:
    """Cluster where the runs end in meaning into basins, and name each by its words.

    Parameters
    ----------
    tail
        Messages at the end of a run (and at its start, for ``early_basin``) whose mean
        embedding stands for it.
    n_basins
        Number of basins; ``None`` picks 2..``max_basins`` by mean silhouette (cosine).
    n_words
        Distinctive words in a basin's name.
    seed
        k-means seed (4 restarts of at most 100 iterations): the same seed gives the same
        basins.
    """
    check_positive_int("tail", tail)
    check_positive_int("max_basins", max_basins)
    check_positive_int("n_words", n_words)
    m = messages_seen(messages, func="basins", include_seed=include_seed, columns=("text", "model"))
    emb = _embeddings(m, embeddings, backend, True)
    x = emb.matrix.astype(np.float64)
    index = emb.index
    pairs = model_pairs(m, include_seed=True)
    groups = index.groupby("conversation_id", sort=True).indices
    ids, ends, starts, spans = [], [], [], []
    turns = index["turn"].to_numpy()
    for cid, idx in groups.items():
        idx = idx[np.argsort(turns[idx], kind="stable")]
        rows = idx[np.abs(x[idx]).sum(axis=1) > 0]
        if not len(rows):
            continue
        ids.append(str(cid))
        ends.append(x[rows[-tail:]].mean(axis=0))
        starts.append(x[rows[:tail]].mean(axis=0))
        spans.append(rows)
    if not ids:
        empty = pd.DataFrame({
            "conversation_id": pd.Series(dtype="string"), "model_pair": pd.Series(dtype="string"),
            "basin": pd.Series(dtype="int64"), "basin_name": pd.Series(dtype="string"),
            "similarity": pd.Series(dtype="float64"), "early_basin": pd.Series(dtype="int64"),
            "entry_turn": pd.Series(dtype="Int64")})
        return Basins(empty, pd.DataFrame(columns=["basin", "name", "n_runs", "share", "words"]),
                      np.zeros((0, x.shape[1] if x.ndim == 2 else 0)), np.nan)
    ends_u, starts_u = _unit(np.array(ends)), _unit(np.array(starts))
    labels, centroids, score = _cluster(ends_u, n_basins, max_basins, seed)
    early = (starts_u @ centroids.T).argmax(axis=1)
    entry = []
    for rows, lab in zip(spans, labels, strict=True):
        nearest = _nearest(_unit(_window_means(x[rows], tail)), centroids)
        off = np.flatnonzero(nearest != lab)
        first = off[-1] + 1 if len(off) else 0
        stayed = len(rows) - first
        entry.append(int(turns[rows[first]]) if stayed >= tail and first < len(rows) else pd.NA)
    # Names: words of each basin's run ends against the other basins'.
    # Each distinct text is tokenised once: self-play repeats its messages verbatim.
    keys = zip(m["conversation_id"].astype(str), m["turn"].to_numpy(), strict=True)
    text_of = dict(zip(keys, m["text"].fillna("").astype(str), strict=True))
    memo: dict[str, Counter] = {}

    def tokens(text: str) -> Counter:
        if text not in memo:
            memo[text] = Counter(content_tokens(text))
        return memo[text]

    per_basin = [Counter() for _ in range(len(centroids))]
    cids = index["conversation_id"].astype(str).to_numpy()
    for rows, lab in zip(spans, labels, strict=True):
        # A word counts once per run: one run repeating a word in a loop does not name a basin.
        words: set[str] = set()
        for r in rows[-tail:]:
            words.update(tokens(text_of.get((cids[r], turns[r]), "")))
        per_basin[lab].update(words)
    prior: Counter = Counter()  # the run ends of every basin together: the corpus compared
    for c in per_basin:
        prior.update(c)
    names, word_lists = [], []
    for k in range(len(centroids)):
        rest = Counter()
        for j, c in enumerate(per_basin):
            if j != k:
                rest.update(c)
        fw = fightin_words(per_basin[k], rest, prior)
        top = fw[fw["z"] > 0].head(n_words) if len(centroids) > 1 else fw.head(0)
        if len(centroids) == 1 or top.empty:
            top_words = [w for w, _ in sorted(per_basin[k].items(),
                                              key=lambda kv: (-kv[1], kv[0]))[:n_words]]
            top = pd.DataFrame({"word": top_words, "z": np.nan})
        names.append(" · ".join(top["word"]) or "(no words)")
        word_lists.append(", ".join(f"{w} ({z:.1f})" if np.isfinite(z) else w
                                    for w, z in zip(top["word"], top["z"], strict=True)))
    counts = np.bincount(labels, minlength=len(centroids))
    name_table = pd.DataFrame({
        "basin": np.arange(1, len(centroids) + 1, dtype=np.int64),
        "name": pd.array(names, dtype="string"), "n_runs": counts.astype(np.int64),
        "share": (counts / counts.sum()).round(3), "words": pd.array(word_lists, dtype="string"),
    })
    sim = np.einsum("ij,ij->i", ends_u, centroids[labels])
    out = pd.DataFrame({
        "conversation_id": pd.array(ids, dtype="string"),
        "model_pair": pd.array(pairs.reindex(ids).to_numpy(), dtype="string"),
        "basin": (labels + 1).astype(np.int64),
        "basin_name": pd.array([names[k] for k in labels], dtype="string"),
        "similarity": sim.round(3), "early_basin": (early + 1).astype(np.int64),
        "entry_turn": pd.array(entry, dtype="Int64"),
    })
    return Basins(out, name_table, centroids.astype(np.float32), round(score, 3)
                  if np.isfinite(score) else np.nan)


def basin_shares(result: Basins, *, by: str = "model_pair", n_boot: int = 1000,
                 ci: float = 0.95, seed: int = 0) -> pd.DataFrame:
    """Share of runs ending in each basin per ``by`` group, with a bootstrap interval
    (runs resampled within the group).

    Returns
    -------
    DataFrame
        ``by``, ``basin``, ``basin_name``, ``n`` (runs in the group), ``share``, ``ci_low``,
        ``ci_high``, ``n_runs`` (runs of the group in the basin).
    """
    a = result.assignments
    parts = []
    for _, row in result.names.iterrows():
        ind = a.assign(inside=(a["basin"] == row["basin"]).astype(float))
        g = grouped_bootstrap(ind, value="inside", by=by, n_boot=n_boot, ci=ci, seed=seed)
        g.insert(1, "basin", int(row["basin"]))
        g.insert(2, "basin_name", row["name"])
        parts.append(g)
    cols = [by, "basin", "basin_name", "n", "share", "ci_low", "ci_high", "n_runs"]
    if not parts:
        return pd.DataFrame(columns=cols)
    out = pd.concat(parts, ignore_index=True).rename(columns={"estimate": "share"})
    out["n_runs"] = (out["share"] * out["n"]).round().astype("int64")
    out["basin_name"] = out["basin_name"].astype("string")
    return out[cols].sort_values([by, "basin"], ignore_index=True).round(
        {"share": 3, "ci_low": 3, "ci_high": 3})


def basin_transitions(result: Basins) -> pd.DataFrame:
    """Early → late: runs whose opening window is nearest basin i (rows) and which end in basin
    j (columns), as counts; basins named ``"k · name"``."""
    a = result.assignments
    labels = [f"{b} · {n}" for b, n in zip(result.names["basin"], result.names["name"],
                                            strict=True)]
    k = len(labels)
    counts = np.zeros((k, k), dtype=np.int64)
    np.add.at(counts, (a["early_basin"].to_numpy() - 1, a["basin"].to_numpy() - 1), 1)
    return pd.DataFrame(counts, index=pd.Index(labels, name="early (opening window)"),
                        columns=pd.Index(labels, name="late (end of run)"))

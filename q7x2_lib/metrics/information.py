"""Information rate: how much a message adds to what its conversation has already said.

The measure is the gain in compressed size (zlib, level 9): the bytes the conversation so far
compresses to with the message, minus the bytes it compresses to without it. A message that
repeats an earlier one costs a few bytes (a back-reference); a message of new words costs about
what it costs alone. zlib looks back 32 KiB, so "so far" is the last 32 KiB of text: a return to
something said longer ago counts as new, as it would to a reader with that much memory.

Each message is compressed three times against one running compressor (``zlib.compressobj``
copies), so a conversation costs time linear in its length.
"""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd

from .._core.validate import (
    check_choice,
    check_positive_int,
    messages_metric,
    messages_seen,
    positions,
)
from .stats import grouped_bootstrap

__all__ = ["information_curve", "information_rate"]

_SEPARATOR = b"\n"


def _finished(compressor) -> int:
    return len(compressor.copy().flush())


@messages_metric
def information_rate(messages: pd.DataFrame, *, include_seed: bool = False) -> pd.DataFrame:
    """Per message, the new information it adds given the conversation before it.

    Returns
    -------
    DataFrame
        One row per message: ``conversation_id``, ``turn``, ``speaker``, ``model`` (the
        speaker where no model is named), ``n_bytes`` (UTF-8),
        ``alone_bytes`` (the message compressed on its own), ``gain_bytes`` (growth of the
        compressed conversation when the message is added; at least 0), ``gain_bits`` (8 ×
        that), ``new_share`` (``gain_bytes / alone_bytes``: about 1 when nothing before helps
        to compress it, near 0 for a repeat; NaN for an empty message).
    """
    m = messages_seen(messages, func="information_rate", include_seed=include_seed,
                      columns=("text", "model"))
    texts = m["text"].fillna("").astype(str).tolist()
    n = len(texts)
    gain = np.zeros(n, dtype=np.int64)
    alone = np.zeros(n, dtype=np.int64)
    n_bytes = np.zeros(n, dtype=np.int64)
    pos = positions(m) if n else np.zeros(0, dtype=np.int64)
    empty_size = len(zlib.compress(b"", 9))
    compressor = zlib.compressobj(9)
    size_before, emitted = empty_size, 0
    for i, text in enumerate(texts):
        if pos[i] == 0:
            compressor = zlib.compressobj(9)
            size_before, emitted = empty_size, 0
        data = text.encode("utf-8")
        n_bytes[i] = len(data)
        if not data:
            continue
        alone[i] = len(zlib.compress(data, 9))
        piece = (_SEPARATOR + data) if pos[i] > 0 else data
        emitted += len(compressor.compress(piece))
        size_after = emitted + _finished(compressor)
        gain[i] = max(size_after - size_before, 0)
        size_before = size_after
    out = m[["conversation_id", "turn", "speaker"]].reset_index(drop=True)
    out["model"] = m["model"].astype("string").fillna(m["speaker"].astype("string")).to_numpy()
    out["n_bytes"] = n_bytes
    out["alone_bytes"] = alone
    out["gain_bytes"] = gain
    out["gain_bits"] = gain * 8
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(alone > 0, gain / np.maximum(alone, 1), np.nan)
    out["new_share"] = np.round(np.minimum(share, 1.5), 3)
    return out


def information_curve(info: pd.DataFrame, *, value: str = "gain_bits", by: str = "model",
                      bin_width: int = 5, n_boot: int = 1000, ci: float = 0.95,
                      seed: int = 0) -> pd.DataFrame:
    """Median of ``value`` per ``by`` group in bins of ``bin_width`` turns, with a bootstrap
    interval: each conversation's mean in the bin is one value (messages of one run are not
    independent, so runs, not messages, are resampled).

    Returns
    -------
    DataFrame
        ``by``, ``turn`` (first turn of the bin), ``n_conversations``, ``median``, ``ci_low``,
        ``ci_high``.
    """
    check_positive_int("bin_width", bin_width)
    check_choice("by", by, ("model", "speaker"))
    d = info.dropna(subset=[value])
    binned = d.assign(turn=(d["turn"] // bin_width) * bin_width)
    per_run = binned.groupby([by, "turn", "conversation_id"], sort=True, observed=True)[
        value].mean().reset_index()
    out = grouped_bootstrap(per_run, value=value, by=[by, "turn"], statistic="median",
                            n_boot=n_boot, ci=ci, seed=seed)
    out = out.rename(columns={"n": "n_conversations", "estimate": "median"})
    return out.astype({"turn": "int64", "n_conversations": "int64"})

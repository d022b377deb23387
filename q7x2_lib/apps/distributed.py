"""Per-conversation metrics on a Dask cluster, read from a Corpus's Parquet cache."""

from __future__ import annotations

import importlib
import json
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ..io.parquet import MANIFEST, MESSAGES_DIR, read_manifest, restore_dtypes, verify_part

__all__ = ["PER_CONVERSATION_METRICS", "compute_metrics", "per_conversation_metrics"]

Metric = Callable[[pd.DataFrame], pd.DataFrame]
_SAMPLE_ROWS = 500

#: Metrics whose rows for a conversation depend on that conversation's messages alone, so that
#: they can run on any split of a corpus into whole conversations: (name, module, function).
#: Bootstrap and shuffle intervals qualify too: their draws are keyed by the seed and the
#: group's size (``q7x2_lib.metrics.stats.size_rng``), not taken from one stream across
#: conversations.
PER_CONVERSATION_METRICS: tuple[tuple[str, str, str], ...] = (
    ("speaker_roles", "length", "speaker_roles"),
    ("message_lengths", "length", "message_lengths"),
    ("decay_fit", "length", "decay_fit"),
    ("early_late_ratio", "length", "early_late_ratio"),
    ("collapse_turn", "length", "collapse_turn"),
    ("end_marker_share", "length", "end_marker_share"),
    ("length_decay_summary", "length", "length_decay_summary"),
    ("word_share", "turns", "word_share"),
    ("dominance", "turns", "dominance"),
    ("reply_length_ratio", "turns", "reply_length_ratio"),
    ("mirroring", "turns", "mirroring"),
    ("lexical_echo", "turns", "lexical_echo"),
    ("who_ends", "turns", "who_ends"),
    ("near_repeats", "attractors", "near_repeats"),
    ("loops", "attractors", "loops"),
    ("end_states", "attractors", "end_states"),
)

def per_conversation_metrics() -> dict[str, Metric]:
    """The metrics of ``PER_CONVERSATION_METRICS``, by name."""
    return {name: getattr(importlib.import_module(f"q7x2_lib.metrics.{module}"), function)
            for name, module, function in PER_CONVERSATION_METRICS}


def compute_metrics(
    path: str | os.PathLike[str], metrics: Sequence[str] | Mapping[str, Metric] | None = None,
    *, client: Any = None,
) -> dict[str, pd.DataFrame]:
    """Compute per-conversation metrics with Dask over a Parquet cache, one task per part.

    Each part of the cache (``Corpus.to_parquet``) holds whole conversations, so a metric that
    looks at one conversation at a time gives, part by part, exactly the table it gives on the
    whole corpus in one process. Dask reads the parts with ``dask.dataframe.read_parquet``
    wherever they are (a shared folder, or object storage given as a URL that fsspec reads).

    Parameters
    ----------
    path
        A folder written by ``Corpus.to_parquet`` (or its URL).
    metrics
        Names from ``per_conversation_metrics()`` (default: all of them), or a mapping of names
        to functions ``f(messages) -> DataFrame`` (use ``functools.partial`` for options); a
        function must not depend on other conversations than the ones it is given.
    client
        A ``dask.distributed.Client``; default: Dask's current scheduler (the client made last,
        or threads in this process). Each worker of a client runs q7x2's numpy work on its own
        ``threads_per_worker`` threads (``q7x2_lib.set_threads``), so workers do not
        oversubscribe the cores.

    Returns
    -------
    dict of str to DataFrame
        Each metric's table, with a fresh RangeIndex, identical to ``f(corpus.messages)``.
    """
    dd = _dask_dataframe()
    chosen = _choose(metrics)
    folder = str(path).rstrip("/")
    dtypes = _manifest(folder)["dtypes"]["messages"]
    _threads_per_worker(client)
    with _quiet_dask():
        import dask

        parts = dd.read_parquet(f"{folder}/{MESSAGES_DIR}", split_row_groups=False,
                                aggregate_files=False)
        messages = parts.map_partitions(_restore, dtypes, meta=_restore(parts._meta, dtypes))
        sample = _first_conversation(parts, dtypes, client)
        lazy = {name: messages.map_partitions(func, meta=func(sample).iloc[:0])
                for name, func in chosen.items()}
        (computed,) = dask.compute(lazy, scheduler=client)
    return {name: frame.reset_index(drop=True) for name, frame in computed.items()}


def _threads_per_worker(client: Any) -> None:
    """Have every worker of a distributed client use its own thread count for q7x2's threads
    (``q7x2_lib.set_threads``), not every core of its machine."""
    try:
        from distributed import Client, default_client

        from ._dask_threads import ThreadsPerWorker
    except ImportError:  # Dask without distributed: the threads of this process
        return
    if client is None:
        try:
            client = default_client()
        except ValueError:  # no client: Dask's local scheduler
            return
    if isinstance(client, Client):
        client.register_plugin(ThreadsPerWorker())


def _dask_dataframe():
    try:
        import dask.dataframe as dd
    except ImportError as exc:
        raise ImportError(
            "compute_metrics needs Dask: pip install 'q7x2[distributed]' (dask[distributed])"
        ) from exc
    return dd


def _choose(metrics: Sequence[str] | Mapping[str, Metric] | None) -> dict[str, Metric]:
    available = per_conversation_metrics()
    if metrics is None:
        return available
    if isinstance(metrics, Mapping):
        return dict(metrics)
    if isinstance(metrics, str):
        metrics = [metrics]
    unknown = [m for m in metrics if m not in available]
    if unknown:
        raise ValueError(f"metrics: unknown {unknown}; expected names among {sorted(available)} "
                         "or a mapping of names to functions")
    return {m: available[m] for m in metrics}


def _restore(frame: pd.DataFrame, dtypes: dict[str, str]) -> pd.DataFrame:
    # Each part is a messages table of its own: the dtypes it was written with, a fresh index.
    return restore_dtypes(frame, dtypes).reset_index(drop=True)


def _first_conversation(parts: Any, dtypes: dict[str, str], client: Any) -> pd.DataFrame:
    """A small real messages table, to learn each metric's output columns and dtypes from."""
    head = _restore(parts.partitions[0].head(_SAMPLE_ROWS, compute=False).compute(
        scheduler=client), dtypes)
    first = head["conversation_id"].iloc[0] if len(head) else None
    return head.loc[head["conversation_id"] == first].reset_index(drop=True)


def _manifest(folder: str) -> dict:
    if "://" not in folder:
        manifest = read_manifest(folder)
        for part in manifest["messages_parts"]:  # the files Dask will read are the cache's
            verify_part(Path(folder), part)
        return manifest
    import fsspec  # comes with dask

    with fsspec.open(f"{folder}/{MANIFEST}", "rt", encoding="utf-8") as f:
        return json.load(f)


class _quiet_dask(warnings.catch_warnings):
    """Silence the deprecation warnings that Dask's own code raises under newer pandas."""

    def __enter__(self) -> None:
        super().__enter__()
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"dask(\.|$)")
        warnings.filterwarnings("ignore", category=FutureWarning, module=r"dask(\.|$)")



"""Run per-conversation metrics over slices of whole conversations, to bound their memory."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ._memory import return_freed_memory

__all__ = ["by_conversation", "columns_of", "conversation_chunks"]

#: Messages per slice. A metric's temporary arrays grow with the rows it is given, so slicing a
#: million-message corpus into ~50k-message pieces keeps the peak memory near one piece's.
CHUNK_ROWS = 50_000

F = TypeVar("F", bound=Callable[..., pd.DataFrame])


def conversation_chunks(messages: pd.DataFrame, rows: int | None = None
                        ) -> Iterator[pd.DataFrame]:
    """Slices of ``messages`` holding whole conversations, about ``rows`` messages each.

    Slices come in ``conversation_id`` order; a conversation longer than ``rows`` is a slice
    of its own. A table already grouped by conversation in sorted order (as ``read_corpus``
    returns it) is sliced without a copy; any other table is first put in that order.
    """
    rows = CHUNK_ROWS if rows is None else rows
    starts = _conversation_starts(messages)
    if starts is None:
        order = np.argsort(pd.factorize(messages["conversation_id"], sort=True)[0], kind="stable")
        messages = messages.take(order)
        starts = _conversation_starts(messages)
        if starts is None:  # missing ids: the table cannot be sliced by conversation
            yield messages
            return
    bounds = np.append(starts, len(messages)).tolist()
    a = 0
    for k in range(1, len(bounds)):  # greedy: close a slice before it would pass ``rows``
        if k == len(bounds) - 1 or bounds[k + 1] - bounds[a] > rows:
            yield messages.iloc[bounds[a]:bounds[k]]
            a = k


def _conversation_starts(messages: pd.DataFrame) -> np.ndarray | None:
    """Row where each conversation starts, or None unless each conversation's rows are
    contiguous and the conversations come in sorted order."""
    ids = pa.array(messages["conversation_id"].array, type=pa.large_string()) if len(
        messages) else pa.array([], pa.large_string())
    if len(ids) == 0:
        return np.zeros(0, dtype=np.int64)
    changed = pc.fill_null(pc.not_equal(ids[1:], ids[:-1]), True).to_numpy(zero_copy_only=False)
    starts = np.flatnonzero(np.r_[True, changed])
    first = pd.Index(pc.take(ids, pa.array(starts)).to_pylist())
    if first.hasnans or not (first.is_monotonic_increasing and first.is_unique):
        return None
    return starts


def by_conversation(func: F | None = None, *, split: tuple[str, ...] = ()) -> F:
    """Compute a per-conversation metric slice by slice when its table is large.

    For a metric whose rows for a conversation depend on that conversation alone and come
    sorted by ``conversation_id`` first, the concatenated slices equal the whole-table result;
    the tests hold every decorated metric to that. Keyword arguments named in ``split`` are
    tables of earlier results with a ``conversation_id`` column (such as ``repeats=``): each
    slice is given their rows for its own conversations.
    """
    if func is None:
        return functools.partial(by_conversation, split=split)  # type: ignore[return-value]

    @functools.wraps(func)
    def wrapper(messages: pd.DataFrame, *args, **kwargs) -> pd.DataFrame:
        if (not isinstance(messages, pd.DataFrame) or len(messages) <= CHUNK_ROWS
                or "conversation_id" not in messages.columns):
            return func(messages, *args, **kwargs)
        parts = []
        for chunk in conversation_chunks(messages):
            given = {name: kwargs[name] for name in split if kwargs.get(name) is not None}
            if given:
                ids = chunk["conversation_id"].unique()
                given = {name: table.loc[table["conversation_id"].isin(ids)].reset_index(drop=True)
                         for name, table in given.items()}
            parts.append(func(chunk, *args, **{**kwargs, **given}))
        out = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
        del parts
        return_freed_memory()  # the slices' temporaries, so the next step starts small
        return out

    return wrapper  # type: ignore[return-value]


@by_conversation
def columns_of(messages: pd.DataFrame, *, metric: Callable[..., pd.DataFrame],
               columns: tuple[str, ...], **options) -> pd.DataFrame:
    """Some ``columns`` of a per-conversation ``metric(messages, **options)``, slice by slice.

    Corpus-wide curves need only a few columns of a per-message table; dropping the rest from
    each slice keeps a large corpus's intermediate table small.
    """
    return metric(messages, **options)[list(columns)]

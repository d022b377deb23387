"""The speed plumbing behind one small interface: slices of whole conversations (bounded memory),
threads for independent numpy pieces, and freed memory handed back to the operating system.

Metrics use it through ``by_conversation`` (a decorator) and ``in_threads``; nothing else here
needs to be known to write a metric."""

from __future__ import annotations

import collections
import ctypes
import functools
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "by_conversation",
    "columns_of",
    "conversation_chunks",
    "in_threads",
    "n_threads",
    "reuse_freed_memory",
    "return_freed_memory",
    "set_threads",
]

#: Messages per slice. A metric's temporary arrays grow with the rows it is given, so slicing a
#: million-message corpus into ~50k-message pieces keeps the peak memory near one piece's.
CHUNK_ROWS = 50_000

F = TypeVar("F", bound=Callable[..., pd.DataFrame])
T = TypeVar("T")
R = TypeVar("R")


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

    wrapper.by_conversation = True  # type: ignore[attr-defined]  # the tests find them by it
    return wrapper  # type: ignore[return-value]


@by_conversation
def columns_of(messages: pd.DataFrame, *, metric: Callable[..., pd.DataFrame],
               columns: tuple[str, ...], **options) -> pd.DataFrame:
    """Some ``columns`` of a per-conversation ``metric(messages, **options)``, slice by slice.

    Corpus-wide curves need only a few columns of a per-message table; dropping the rest from
    each slice keeps a large corpus's intermediate table small.
    """
    return metric(messages, **options)[list(columns)]


def in_threads(func: Callable[[T], R], items: Iterable[T],
               then: Callable[[R], object] | None = None) -> None:
    """Call ``func`` on every item, spread over this process's cores with threads.

    For numpy-heavy work on independent pieces (numpy releases the GIL). ``then``, if given,
    receives each result in the calling thread, in the items' order: put anything that touches
    global state there (``warnings.catch_warnings`` is not thread-safe). A few pieces are in
    flight at a time, so results do not pile up in memory.
    """
    threads = n_threads()
    with ThreadPoolExecutor(threads) as pool:
        pending: collections.deque = collections.deque()
        for item in items:
            pending.append(pool.submit(func, item))
            if len(pending) > 2 * threads:
                result = pending.popleft().result()
                if then is not None:
                    then(result)
        while pending:
            result = pending.popleft().result()
            if then is not None:
                then(result)


_threads: int | None = None  # set_threads(); None: the environment, else the cores
THREADS_ENV = "Q7X2_THREADS"


def set_threads(n: int | None) -> int | None:
    """Use ``n`` threads for q7x2's group-parallel numpy work in this process; returns the
    previous setting.

    ``None`` goes back to the default: ``$Q7X2_THREADS`` when set, else every core this process
    may use. A Dask worker sets it to its own ``threads_per_worker`` (``compute_metrics``
    registers the plugin that does so), so that two single-threaded workers on two cores run
    one thread each instead of two each.
    """
    global _threads
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise ValueError(f"threads: got {n!r}; expected a whole number >= 1, or None")
    previous, _threads = _threads, n
    return previous


def n_threads() -> int:
    """Threads for group-parallel numpy work: ``set_threads``'s, else ``$Q7X2_THREADS``, else
    the cores this process may use."""
    if _threads is not None:
        return _threads
    env = os.environ.get(THREADS_ENV, "").strip()
    if env.isdigit() and int(env) >= 1:
        return int(env)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def return_freed_memory() -> None:
    """Hand freed memory back to the operating system.

    Arrow's pool and the C allocator keep freed pages for reuse, and glibc raises its threshold
    for returning large blocks each time one is freed; so a process that has parsed a corpus or
    run a metric over it stays as large as its peak, and every later step starts from there.
    (glibc's ``malloc_trim``; elsewhere Arrow's pool only.)
    """
    pa.default_memory_pool().release_unused()
    trim = _glibc("malloc_trim")
    if trim is not None:
        trim(0)


#: glibc's mallopt parameters, and the values ``reuse_freed_memory`` gives them: the ceiling
#: glibc's own sliding mmap threshold reaches (32 MiB on 64-bit), and twice that for trimming.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
MMAP_THRESHOLD = 32 * 1024 * 1024


def reuse_freed_memory() -> bool:
    """Let the C allocator reuse freed blocks for numpy's temporaries; True where it could.

    A Dask nanny starts each worker with ``MALLOC_TRIM_THRESHOLD_=65536``. Setting that fixes
    glibc's mmap threshold at 128 KiB, so every array above 128 KiB is a fresh ``mmap``,
    zero-filled page by page and unmapped when freed; q7x2's metrics ran 1.5x slower in such a
    worker. This puts the mmap threshold at 32 MiB and trimming at 64 MiB. Memory still goes
    back to the system after each metric: ``by_conversation`` calls ``return_freed_memory``.
    (glibc's ``mallopt``; elsewhere nothing is done.)
    """
    mallopt = _glibc("mallopt")
    if mallopt is None:
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
                and mallopt(_M_TRIM_THRESHOLD, 2 * MMAP_THRESHOLD))


@functools.cache
def _glibc(name: str):
    """The C function ``name`` of glibc, or None where there is none."""
    try:
        return getattr(ctypes.CDLL("libc.so.6"), name)
    except (OSError, AttributeError):  # not glibc
        return None

"""Read transcript files in chunks, in this process or in a pool of worker processes."""

from __future__ import annotations

import collections
import contextlib
import gc
import itertools
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from .._core.columns import string_array
from .._core.errors import TranscriptParseError
from .._core.schema import messages_frame
from .readers import ParsedTranscript, TwinReader, markdown_bytes
from .readers.markdown_bytes import Scan

__all__ = ["ChunkResult", "Failure", "assemble_messages", "failed_run", "n_workers", "read_chunk",
           "read_files"]

Merge = Callable[[list[ParsedTranscript], list[dict]], tuple[list[ParsedTranscript], dict]]
Item = tuple[int, Path, str]  # (position in the file list, path to open, name in the tables)
_CHUNK_FILES = 256  # files per chunk: bounds the memory of one chunk, amortises its overhead
_CHUNKS_PER_WORKER = 4  # smaller chunks when a pool reads, so the workers finish together
_MIN_POOL_CHUNK = 32  # below this a chunk is not worth a trip to another process


@dataclass(frozen=True)
class Failure:
    """A file that could not be read: its position in the file list and the parse error."""

    index: int
    reason: str
    path: str
    line: int | None

    def error(self) -> TranscriptParseError:
        """The ``TranscriptParseError`` the reader raised (rebuilt: it crosses processes)."""
        return TranscriptParseError(self.reason, self.path, self.line)


@dataclass
class ChunkResult:
    """What one chunk of files gives: its conversations, their messages, findings, failures.

    ``docs`` are the conversations kept after twin merging, without their message columns
    (``speakers`` holds each speaker once, in order of appearance); ``counts`` their numbers
    of messages; ``messages`` their messages table in the same order, ``conversation_id`` left
    missing until the whole corpus is known (ids depend on every file name).
    """

    docs: list[ParsedTranscript]
    counts: list[int]
    messages: pd.DataFrame
    twins: dict[str, str]
    problems: list[dict]
    failures: list[Failure]


def n_workers(workers: int | None) -> int:
    """How many processes ``workers`` asks for: ``None`` or 1 this one, -1 every core."""
    if workers is None:
        return 1
    if isinstance(workers, bool) or not isinstance(workers, int) or workers == 0 or workers < -1:
        raise ValueError(
            f"workers must be None, a positive number of processes or -1 (every core), "
            f"got {workers!r}"
        )
    return _cores() if workers == -1 else workers


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def read_files(
    files: Sequence[Path], names: Sequence[str], *, merge: Merge, errors: str, workers: int,
    progress: bool,
) -> tuple[list[ChunkResult], list[Failure]]:
    """Parse ``files`` in chunks (twins kept together) and merge twins within each chunk.

    With ``errors="raise"`` the first unreadable file in list order raises, whatever the order
    the chunks are read in; otherwise every failure is returned, in list order.
    """
    chunks = _chunks(files, names, _chunk_size(len(files), workers))
    stop = errors == "raise"
    firsts = [min(i for i, _, _ in chunk) for chunk in chunks]
    results: dict[int, ChunkResult] = {}
    run = _run_parallel if workers > 1 and len(chunks) > 1 else _run_serial
    with _bar(len(files), progress) as bar, _no_cyclic_gc(), contextlib.closing(
            run(chunks, merge, stop, workers)) as done:
        for k, result in done:
            bar.update(len(chunks[k]))
            results[k] = result
            first = min((f for r in results.values() for f in r.failures),
                        key=lambda f: f.index, default=None)
            # Raise once every chunk holding an earlier file has been read.
            if stop and first is not None and all(
                    j in results for j, i in enumerate(firsts) if i < first.index):
                raise first.error()
    ordered = [results[k] for k in range(len(chunks))]
    return ordered, sorted((f for r in ordered for f in r.failures), key=lambda f: f.index)


def _run_serial(chunks: list[list[Item]], merge: Merge, stop: bool, workers: int
                ) -> Iterator[tuple[int, ChunkResult]]:
    for k, chunk in enumerate(chunks):
        yield k, read_chunk(chunk, merge, stop)


def _run_parallel(chunks: list[list[Item]], merge: Merge, stop: bool, workers: int
                  ) -> Iterator[tuple[int, ChunkResult]]:
    """Chunks read by ``workers - 1`` pool processes and by this one, which starts at once
    (the pool takes a second or so to start) and takes chunks from the end of the queue."""
    n_pool = min(workers - 1, len(chunks))
    pool = ProcessPoolExecutor(max_workers=n_pool, mp_context=_context())
    queue = collections.deque(range(len(chunks)))
    pending: dict[Future, int] = {}
    try:
        while queue or pending:
            while queue and len(pending) < 2 * n_pool:
                k = queue.popleft()
                pending[pool.submit(read_chunk, chunks[k], merge, stop)] = k
            if queue:
                k = queue.pop()
                yield k, read_chunk(chunks[k], merge, stop)
                ready = [f for f in pending if f.done()]
            else:
                ready = wait(pending, return_when=FIRST_COMPLETED).done
            for future in ready:
                yield pending.pop(future), future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _chunk_size(n_files: int, workers: int) -> int:
    if workers == 1:
        return _CHUNK_FILES
    share = -(-n_files // (workers * _CHUNKS_PER_WORKER))
    return min(_CHUNK_FILES, max(_MIN_POOL_CHUNK, share))


def _chunks(files: Sequence[Path], names: Sequence[str], size: int) -> list[list[Item]]:
    """Consecutive groups of about ``size`` files; files that may be twins share a chunk."""
    groups: dict[tuple[str, str], list[Item]] = {}
    for i, (path, name) in enumerate(zip(files, names, strict=True)):
        groups.setdefault(_twin_group(name), []).append((i, path, name))
    chunks, current = [], []
    for group in groups.values():
        current += group
        if len(current) >= size:
            chunks.append(sorted(current))
            current = []
    return [*chunks, sorted(current)] if current else chunks


def _twin_group(name: str) -> tuple[str, str]:
    """Folder and name up to the first dot: files that ``corpus._merge_twins`` may pair (same
    folder and ``Path.stem``) always share it, and it costs no ``Path`` per file."""
    folder, base = os.path.split(name)
    return folder, base.split(".", 1)[0]


class _NoBar:
    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, n: int) -> None:
        return None


def _bar(total: int, show: bool):
    if not show:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, desc="reading transcripts", unit="file")


def _context() -> multiprocessing.context.BaseContext:
    # fork is unsafe once threads exist (and deprecated then in Python 3.12+); a fork server
    # that has imported q7x2 once starts each worker almost as fast.
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["q7x2_lib.corpus"])
        return ctx
    return multiprocessing.get_context("spawn")


@contextlib.contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector: parsing makes millions of short-lived, acyclic
    objects (JSON dicts, lists), and the collections they trigger rescan every object alive,
    which made reading 10,000 conversations up to 1.7 times slower. Reference counting still
    frees them; the collector resumes (as it was) when the chunk is read."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def read_chunk(items: list[Item], merge: Merge, stop: bool) -> ChunkResult:
    """Parse the files of one chunk, merge their twins, and build their messages table."""
    with _no_cyclic_gc():
        return _read_chunk(items, merge, stop)


def _read_chunk(items: list[Item], merge: Merge, stop: bool) -> ChunkResult:
    slots: list[list[ParsedTranscript] | Scan] = []
    failures: list[Failure] = []
    reader = TwinReader(name for _, _, name in items)
    for index, path, name in items:
        try:
            slots.append(reader.scan_or_parse(path, name=name))
        except TranscriptParseError as exc:
            failures.append(Failure(index, exc.reason, exc.path, exc.line))
            if stop:
                break
    docs = _finish_scans(slots, items, reader, failures)
    problems: list[dict] = []
    kept, twins = merge(docs, problems)
    for doc in kept:
        problems.extend(doc.problems)
        if all(doc.seeds):  # no message, or only the orchestrator's opening prompt
            problems.append(failed_run(doc))
    return ChunkResult(
        docs=[_without_messages(d) for d in kept], counts=[len(d.texts) for d in kept],
        messages=_chunk_messages(kept), twins=twins, problems=problems, failures=failures,
    )


def _finish_scans(slots: list[list[ParsedTranscript] | Scan], items: list[Item],
                  reader: TwinReader, failures: list[Failure]) -> list[ParsedTranscript]:
    """The documents of a chunk in file order: markdown scanned in its bytes built all at once
    (one Arrow buffer), any that the full parse must read parsed that way."""
    scans = [s for s in slots if isinstance(s, Scan)]
    built = iter(markdown_bytes.finish(scans))
    by_name = {name: (index, path) for index, path, name in items}
    docs: list[ParsedTranscript] = []
    for slot in slots:
        if not isinstance(slot, Scan):
            docs.extend(slot)
            continue
        doc = next(built)
        if doc is not None:
            docs.append(doc)
            continue
        index, path = by_name[slot.doc.path]
        try:
            docs.extend(reader.parse_data(path, slot.data, name=slot.doc.path))
        except TranscriptParseError as exc:
            failures.append(Failure(index, exc.reason, exc.path, exc.line))
    failures.sort(key=lambda f: f.index)
    return docs


def failed_run(doc: ParsedTranscript) -> dict:
    """The problem row of a conversation in which no model said anything."""
    what = ("holds no messages" if not len(doc.texts) else
            "holds only the opening prompt" if len(doc.texts) == 1 else
            f"holds only {len(doc.texts)} opening prompts")
    return {"source": doc.path, "line": doc.lines[0] if doc.lines else None, "kind": "failed_run",
            "detail": f"{what}: no model replied (a run that failed); kept as a conversation of "
                      "no generated messages, left out of every metric"}


def _chain(docs: list[ParsedTranscript], column: str) -> list:
    return list(itertools.chain.from_iterable(getattr(d, column) for d in docs))


def _chunk_messages(docs: list[ParsedTranscript]) -> pd.DataFrame:
    counts = np.array([len(d.texts) for d in docs], dtype="int64")
    starts = np.cumsum(counts) - counts
    total = int(counts.sum())
    turn = np.arange(total, dtype="int64") - np.repeat(starts, counts)
    source = pa.array([d.path for d in docs], type=pa.large_string()).take(
        np.repeat(np.arange(len(docs)), counts))
    # Most formats record no rounds: then the column is all missing without a list of Nones.
    rounds = (None if all(d.rounds.count(None) == len(d.rounds) for d in docs) else
              list(itertools.chain.from_iterable(d.rounds or [None] * len(d.texts) for d in docs)))
    # Most formats name no model apart from the speaker: then the column is the speakers'.
    models = (None if not any(d.models for d in docs) else
              list(itertools.chain.from_iterable(
                  [d.models.get(s, s) for s in d.speakers] if d.models else d.speakers
                  for d in docs)))
    return messages_frame(
        pa.nulls(total, type=pa.large_string()), turn, _chain(docs, "speakers"),
        _texts(docs), _chain(docs, "seeds"), source, _chain(docs, "lines"),
        round=rounds, model=models,
    )


def _texts(docs: list[ParsedTranscript]) -> list[str] | pa.ChunkedArray:
    """The texts of ``docs`` in order: a list of strings, or an Arrow array when any document
    holds its texts in Arrow (markdown read from its bytes)."""
    if not any(isinstance(d.texts, pa.Array) for d in docs):
        return _chain(docs, "texts")
    # One chunk, not one per document: the columnar counts then run once over one buffer.
    return pa.chunked_array([pa.concat_arrays(
        [d.texts if isinstance(d.texts, pa.Array) else pa.array(d.texts, type=pa.large_string())
         for d in docs])], type=pa.large_string())


def _without_messages(doc: ParsedTranscript) -> ParsedTranscript:
    return ParsedTranscript(
        path=doc.path, format=doc.format, meta=doc.meta,
        speakers=list(dict.fromkeys(doc.speakers)), problems=doc.problems, name=doc.name,
        models=doc.models,
    )


def assemble_messages(frames: list[pd.DataFrame], ids: list[str], counts: list[int],
                      order: list[int]) -> pd.DataFrame:
    """One messages table from the chunks' tables: ids filled in, conversations in ``order``."""
    messages = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    counts_arr = np.asarray(counts, dtype="int64")
    doc_of_row = np.repeat(np.arange(len(ids)), counts_arr)
    cid = pa.array(ids, type=pa.large_string()).take(doc_of_row)
    messages = messages.assign(conversation_id=string_array(cid))
    if order != list(range(len(order))):
        starts = np.cumsum(counts_arr) - counts_arr
        rows = np.concatenate([np.arange(starts[i], starts[i] + counts_arr[i]) for i in order])
        messages = messages.take(rows).reset_index(drop=True)
    return messages

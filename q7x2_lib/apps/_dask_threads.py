"""The Dask worker plugin that gives q7x2's threads the worker's own thread count and lets
the C allocator reuse freed memory (``q7x2_lib._core.speed.reuse_freed_memory``).

Imported only where Dask's ``distributed`` is installed and a client is in use."""

from __future__ import annotations

from distributed.diagnostics.plugin import WorkerPlugin

from .._core.speed import reuse_freed_memory, set_threads

__all__ = ["ThreadsPerWorker"]


class ThreadsPerWorker(WorkerPlugin):
    """On every worker (and every worker that joins later): ``set_threads(threads_per_worker)``
    and ``reuse_freed_memory()``.

    Without the first, each task spreads its numpy work over every core of the machine, so two
    single-threaded workers on two cores would run four threads and gain nothing. Without the
    second, the nanny's ``MALLOC_TRIM_THRESHOLD_`` makes every numpy temporary above 128 KiB a
    fresh mmap, and each worker runs the metrics 1.5x slower than one process would.
    """

    name = "q7x2-threads-per-worker"

    def setup(self, worker) -> None:
        set_threads(max(1, int(worker.state.nthreads)))
        reuse_freed_memory()

    def teardown(self, worker) -> None:
        set_threads(None)

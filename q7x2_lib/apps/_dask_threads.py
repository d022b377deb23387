"""The Dask worker plugin that gives q7x2's threads the worker's own thread count.

Imported only where Dask's ``distributed`` is installed and a client is in use."""

from __future__ import annotations

from distributed.diagnostics.plugin import WorkerPlugin

from .._core.speed import set_threads

__all__ = ["ThreadsPerWorker"]


class ThreadsPerWorker(WorkerPlugin):
    """On every worker (and every worker that joins later): ``set_threads(threads_per_worker)``.

    Without it each task spreads its numpy work over every core of the machine, so two
    single-threaded workers on two cores would run four threads and gain nothing.
    """

    name = "q7x2-threads-per-worker"

    def setup(self, worker) -> None:
        set_threads(max(1, int(worker.state.nthreads)))

    def teardown(self, worker) -> None:
        set_threads(None)

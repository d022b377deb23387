"""compute_metrics on a real Dask cluster (two worker processes on loopback) equals one process."""

from __future__ import annotations

import functools
import shutil
from pathlib import Path

import pandas as pd
import pytest
from dask.distributed import Client, LocalCluster

import q7x2_lib as q7
from q7x2_lib.apps import distributed
from q7x2_lib.datasets import write_synthetic_corpus


@pytest.fixture(scope="module")
def client():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as client:
        yield client


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> q7.Corpus:
    folder = tmp_path_factory.mktemp("dist")
    shutil.copytree(q7.RAW_DIR, folder / "raw")
    write_synthetic_corpus(folder / "synthetic", n_conversations=12, seed=2, messages=(3, 30))
    return q7.read_corpus(folder)


@pytest.fixture(scope="module")
def cache(corpus: q7.Corpus, tmp_path_factory) -> Path:
    return corpus.to_parquet(tmp_path_factory.mktemp("cache") / "corpus", rows_per_part=60)


def test_the_registry_covers_length_turn_taking_and_attractor_metrics() -> None:
    names = set(distributed.per_conversation_metrics())
    assert {"message_lengths", "early_late_ratio", "collapse_turn", "reply_length_ratio",
            "near_repeats", "loops", "end_states"} <= names
    # Interval metrics too: keyed draws make them independent of the partitioning.
    assert {"decay_fit", "length_decay_summary", "word_share", "dominance", "mirroring",
            "lexical_echo"} <= names


def test_every_metric_on_the_cluster_equals_one_process(corpus, cache, client) -> None:
    assert len(list((cache / "messages").iterdir())) >= 4  # several partitions
    results = distributed.compute_metrics(cache, client=client)
    registry = distributed.per_conversation_metrics()
    assert set(results) == set(registry)
    for name, metric in registry.items():
        pd.testing.assert_frame_equal(results[name], metric(corpus.messages), obj=name)


def test_functions_with_options_can_be_passed(corpus, cache, client) -> None:
    from q7x2_lib import length

    short = functools.partial(length.collapse_turn, threshold=20, window=2)
    out = distributed.compute_metrics(cache, {"short": short}, client=client)
    pd.testing.assert_frame_equal(out["short"], short(corpus.messages))


def test_bad_arguments_say_what_was_expected(cache, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"metrics: unknown \['decay'\]; expected names among"):
        distributed.compute_metrics(cache, ["decay"])
    with pytest.raises(ValueError, match="not a q7x2 Parquet cache"):
        distributed.compute_metrics(tmp_path)


def test_each_worker_uses_its_own_thread_count(cache, client) -> None:
    distributed.compute_metrics(cache, ["message_lengths"], client=client)
    # threads_per_worker=1 on both workers: q7x2's threads follow it, not the machine's cores.
    assert set(client.run(q7.n_threads).values()) == {1}


def _faults_of_fresh_arrays() -> int:
    import resource

    import numpy as np

    size = (1 << 19) - 512  # 4 MiB less a page: under numpy's threshold for huge pages
    np.ones(size)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(40):
        np.ones(size)  # written page by page, then freed
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


def test_workers_reuse_freed_memory_despite_the_nannys_trim_setting(cache, client) -> None:
    import os

    distributed.compute_metrics(cache, ["message_lengths"], client=client)
    envs = client.run(lambda: os.environ.get("MALLOC_TRIM_THRESHOLD_"))
    faults = client.run(_faults_of_fresh_arrays)
    # The nanny's setting makes every 4 MiB array a fresh mapping (hundreds of page faults
    # each); with the plugin's reuse_freed_memory the block is reused.
    assert set(envs.values()) == {"65536"}
    assert max(faults.values()) < 40 * 20

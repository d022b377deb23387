"""Per-conversation metrics computed slice by slice equal the whole-table result."""

from __future__ import annotations

import inspect
import shutil

import numpy as np
import pandas as pd
import pytest

import q7x2_lib as q7
from q7x2_lib._core import speed as _chunks
from q7x2_lib._core.speed import conversation_chunks
from q7x2_lib.datasets import write_synthetic_corpus

# Every metric decorated with by_conversation, and the corpus-wide ones built on such parts,
# with options that keep the test quick.
CHUNKED = {
    "length_profile": (q7.length_profile, {"n_boot": 60}),
    "length_profile_relative": (q7.length_profile, {"n_boot": 60, "x": "relative"}),
    "reply_ratio_profile": (q7.reply_ratio_profile, {"n_boot": 60}),
    "model_matrix": (q7.model_matrix, {}),
    "speaker_roles": (q7.speaker_roles, {}),
    "message_lengths": (q7.message_lengths, {}),
    "decay_fit": (q7.decay_fit, {"n_boot": 60}),
    "early_late_ratio": (q7.early_late_ratio, {}),
    "collapse_turn": (q7.collapse_turn, {}),
    "end_marker_share": (q7.end_marker_share, {}),
    "length_decay_summary": (q7.length_decay_summary, {"n_boot": 60}),
    "word_share": (q7.word_share, {"n_boot": 60}),
    "dominance": (q7.dominance, {"n_boot": 60}),
    "reply_length_ratio": (q7.reply_length_ratio, {}),
    "mirroring": (q7.mirroring, {"n_shuffles": 60}),
    "lexical_echo": (q7.lexical_echo, {"n_shuffles": 60}),
    "who_ends": (q7.who_ends, {}),
    "near_repeats": (q7.near_repeats, {}),
    "loops": (q7.loops, {}),
    "speaker_loops": (q7.speaker_loops, {}),
    "end_states": (q7.end_states, {}),
}


@pytest.fixture(scope="module")
def messages(tmp_path_factory) -> pd.DataFrame:
    folder = tmp_path_factory.mktemp("chunks")
    shutil.copytree(q7.RAW_DIR, folder / "raw")
    write_synthetic_corpus(folder / "synthetic", n_conversations=16, seed=4, messages=(2, 40))
    return q7.read_corpus(folder).messages


@pytest.mark.parametrize("name", sorted(CHUNKED))
def test_slices_equal_the_whole_table(name, messages, monkeypatch):
    func, options = CHUNKED[name]
    whole = func(messages, **options)
    monkeypatch.setattr(_chunks, "CHUNK_ROWS", 50)  # many slices, some one long conversation
    assert len(list(conversation_chunks(messages))) > 5
    pd.testing.assert_frame_equal(func(messages, **options), whole)


def test_every_sliced_metric_is_checked():
    """A metric decorated with by_conversation and left out of CHUNKED would go untested."""
    sliced = {name for name in dir(q7) if inspect.isfunction(getattr(q7, name))
              and getattr(getattr(q7, name), "by_conversation", False) is True}
    assert sliced - set(CHUNKED) == set()


def test_slices_hold_whole_conversations_in_order(messages):
    shuffled = messages.sample(frac=1, random_state=0)
    for table in (messages, shuffled):
        pieces = list(conversation_chunks(table, rows=100))
        ids = [piece["conversation_id"].unique().tolist() for piece in pieces]
        flat = [i for piece in ids for i in piece]
        assert flat == sorted(messages["conversation_id"].unique())  # each id in one slice
        assert sum(len(p) for p in pieces) == len(messages)
        assert all(len(p) <= 100 or len(i) == 1 for p, i in zip(pieces, ids, strict=True))


def test_a_shuffled_table_gives_the_same_metric(messages, monkeypatch):
    whole = q7.word_share(messages, n_boot=40)
    monkeypatch.setattr(_chunks, "CHUNK_ROWS", 50)
    shuffled = messages.sample(frac=1, random_state=1)
    pd.testing.assert_frame_equal(q7.word_share(shuffled, n_boot=40), whole)


def test_an_empty_table_is_one_empty_slice():
    empty = q7.make_messages({})
    assert [len(p) for p in conversation_chunks(empty)] in ([], [0])
    assert np.array_equal(_chunks._conversation_starts(empty), np.zeros(0, dtype=np.int64))


def test_tables_of_earlier_results_are_split_with_the_messages(messages, monkeypatch):
    repeats = q7.near_repeats(messages)
    loops = q7.loops(messages, repeats=repeats)
    states = q7.end_states(messages, loops_table=loops)
    monkeypatch.setattr(_chunks, "CHUNK_ROWS", 50)
    pd.testing.assert_frame_equal(q7.loops(messages, repeats=repeats), loops)
    pd.testing.assert_frame_equal(q7.end_states(messages, loops_table=loops), states)
    pd.testing.assert_frame_equal(q7.end_states(messages), states)
    shares = q7.word_share(messages, n_boot=40)
    pd.testing.assert_frame_equal(q7.dominance(messages, n_boot=40, shares=shares),
                                  q7.dominance(messages, n_boot=40))


_FAULTS = """
import resource, sys
import numpy as np
from q7x2_lib._core.speed import reuse_freed_memory
if sys.argv[1] == "reuse":
    assert reuse_freed_memory()
size = (1 << 19) - 512  # 4 MiB less a page: numpy asks for huge pages from 4 MiB on
for _ in range(3):  # warm up
    np.ones(size)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(40):
    np.ones(size)  # written page by page, then freed
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _huge_pages_always() -> bool:
    try:
        with open("/sys/kernel/mm/transparent_hugepage/enabled") as f:
            return "[always]" in f.read()
    except OSError:
        return False


@pytest.mark.skipif(_chunks._glibc("mallopt") is None, reason="glibc's mallopt only")
@pytest.mark.skipif(_huge_pages_always(), reason="huge pages for every mapping: few faults anyway")
def test_reuse_freed_memory_stops_a_fresh_mapping_per_array_under_dasks_trim_setting():
    # A Dask nanny sets MALLOC_TRIM_THRESHOLD_=65536: each 4 MiB array is then a fresh mmap,
    # its pages faulted in anew; after reuse_freed_memory the same block is reused.
    import os
    import subprocess
    import sys

    # (numpy asked for no huge pages either: with them a fresh mapping faults in a few at once.)
    env = {**os.environ, "MALLOC_TRIM_THRESHOLD_": "65536", "NUMPY_MADVISE_HUGEPAGE": "0"}
    faults = {how: int(subprocess.run([sys.executable, "-c", _FAULTS, how], env=env,
                                      capture_output=True, text=True, check=True).stdout)
              for how in ("dask", "reuse")}
    assert faults["dask"] >= 40 * 200  # 1,023 pages of 4 KiB each (the kernel maps a few at once)
    assert faults["reuse"] < faults["dask"] / 20

"""The thread count of q7x2's numpy work: set in code, from the environment, else the cores."""

from __future__ import annotations

import numpy as np
import pytest

import q7x2_lib as q7
from q7x2_lib.metrics.stats import theil_sen_replicates


@pytest.fixture(autouse=True)
def _restore():
    previous = q7.set_threads(None)
    yield
    q7.set_threads(previous)


def test_set_threads_wins_then_the_environment_then_the_cores(monkeypatch) -> None:
    monkeypatch.delenv("Q7X2_THREADS", raising=False)
    cores = q7.n_threads()
    assert cores >= 1
    monkeypatch.setenv("Q7X2_THREADS", "3")
    assert q7.n_threads() == 3
    q7.set_threads(5)
    assert q7.n_threads() == 5
    assert q7.set_threads(None) == 5
    monkeypatch.setenv("Q7X2_THREADS", "zero")  # not a count: ignored
    assert q7.n_threads() == cores


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_a_thread_count_must_be_a_whole_number(bad) -> None:
    with pytest.raises(ValueError, match=r"threads: got .*; expected a whole number >= 1"):
        q7.set_threads(bad)


def test_results_do_not_depend_on_the_thread_count() -> None:
    rng = np.random.default_rng(3)
    x = np.tile(np.arange(30.0), 8)
    y = -0.05 * x + rng.normal(size=x.size)
    codes = np.repeat(np.arange(8), 30)
    q7.set_threads(1)
    one = theil_sen_replicates(x, y, codes, n_boot=40)
    q7.set_threads(4)
    np.testing.assert_array_equal(theil_sen_replicates(x, y, codes, n_boot=40), one)

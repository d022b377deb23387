"""Point estimates at groupby speed: ``n_boot=0`` (or ``ci=False``) skips every resample and
leaves the estimates exactly as the bootstrapped call gives them; only the intervals are NaN."""

from __future__ import annotations

import inspect
import re

import numpy as np
import pandas as pd
import pytest

import q7x2_lib as q7
from q7x2_lib.datasets import write_synthetic_corpus

_INTERVAL = re.compile(r"(^|_)(low|high)$")


def _bootstrapped_metrics() -> list[str]:
    names = []
    for name in q7.__all__:
        func = getattr(q7, name)
        if callable(func) and not isinstance(func, type):
            params = inspect.signature(func).parameters
            if list(params)[:1] == ["messages"] and "n_boot" in params:
                names.append(name)
    return sorted(names)


METRICS = _bootstrapped_metrics()


@pytest.fixture(scope="module")
def messages(tmp_path_factory) -> pd.DataFrame:
    folder = tmp_path_factory.mktemp("corpus")
    write_synthetic_corpus(folder, n_conversations=12, seed=1, formats=("md",))
    return q7.read_corpus(folder).messages


def test_the_bootstrapped_metrics_are_found() -> None:
    assert {"decay_fit", "length_profile", "word_share", "dominance",
            "reply_ratio_profile", "length_decay_summary"} <= set(METRICS)


@pytest.mark.parametrize("name", METRICS)
@pytest.mark.parametrize("off", [{"n_boot": 0}, {"ci": False}])
def test_point_estimates_equal_the_bootstrapped_ones_with_nan_intervals(messages, name, off
                                                                         ) -> None:
    func = getattr(q7, name)
    full, point = func(messages, n_boot=50), func(messages, **off)
    assert list(point.columns) == list(full.columns) and len(point) == len(full)
    intervals = [c for c in full.columns if _INTERVAL.search(c)]
    assert intervals, f"{name} has no interval columns"
    for column in intervals:
        assert full[column].notna().any(), column  # the bootstrap did give intervals
        assert point[column].isna().all(), column
    pd.testing.assert_frame_equal(point.drop(columns=intervals), full.drop(columns=intervals))


def test_a_negative_n_boot_is_refused(messages) -> None:
    with pytest.raises(ValueError, match=r"n_boot: got -1; expected an integer >= 0"):
        q7.length_profile(messages, n_boot=-1)


def test_the_statistics_helpers_give_nan_intervals_without_replicates() -> None:
    estimate, low, high = q7.bootstrap_ci([1.0, 2.0, 4.0], n_boot=0)
    assert estimate == pytest.approx(7 / 3) and np.isnan(low) and np.isnan(high)
    frame = pd.DataFrame({"g": ["a", "a", "b"], "v": [1.0, 3.0, 5.0]})
    out = q7.grouped_bootstrap(frame, value="v", by="g", n_boot=0)
    assert out["estimate"].tolist() == [2.0, 5.0]
    assert out[["ci_low", "ci_high"]].isna().all().all()

"""Every metric of a messages table runs on the smallest tables a corpus can give."""

from __future__ import annotations

import inspect
import warnings

import pandas as pd
import pytest

import q7x2_lib as q7
from q7x2_lib.datasets import make_messages

SMALL = {
    "no messages": make_messages({}),
    "only the seed": make_messages({"a": [("A", " ")]}, seed=True),
    "one reply": make_messages({"a": [("A", " "), ("B", "hello there")]}, seed=True),
    "one speaker": make_messages({"a": [("A", "one"), ("A", "two two"), ("A", "three x y")]}),
}
METRICS = sorted(name for name in set(q7.__all__) if callable(getattr(q7, name))
                 and not isinstance(getattr(q7, name), type)
                 and list(inspect.signature(getattr(q7, name)).parameters)[:1] == ["messages"]
                 and not name.startswith(("recurrence_matri", "semantic_recurrence_matri")))
_EXTRA = {"event_times": {"flags": {"end": "is_end_marker"}}}


@pytest.mark.parametrize("case", SMALL)
@pytest.mark.parametrize("name", METRICS)
def test_a_small_table_gives_a_table_not_an_error(name: str, case: str) -> None:
    func = getattr(q7, name)
    params = inspect.signature(func).parameters
    options = {k: 20 for k in ("n_boot", "n_shuffles") if k in params} | _EXTRA.get(name, {})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = func(SMALL[case], **options)
    if isinstance(out, q7.Findings):  # a finding: sentences that say what there is, or is not
        assert out.strip() and out.headline, name
        return
    tables = [out] if isinstance(out, pd.DataFrame | pd.Series) else [
        v for v in vars(out).values() if isinstance(v, pd.DataFrame)]
    assert tables, f"{name} returned {type(out).__name__}"
    if case in ("no messages", "only the seed"):
        # Nothing generated: no rows about generated messages (a per-conversation row may say so).
        for table in tables:
            assert len(table) <= 1

"""Agreement of two independent blind labellings of the test set: the ceiling for the package.

    python benchmarks/end_states/agreement.py

Compares ``test_labels.csv`` (first labeller) with ``test_labels_second.csv`` (a second labeller
who saw neither the first labels nor the package's rules or output): primary end state (accuracy,
Cohen's kappa), loop presence, and loop period and start within two turns where both saw a loop.
Needs no transcripts.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from score import TOLERANCE, kappa

HERE = Path(__file__).parent


def main() -> None:
    first, second = (pd.read_csv(HERE / name, dtype=str, keep_default_na=False)
                     for name in ("test_labels.csv", "test_labels_second.csv"))
    t = first.merge(second, on="item", suffixes=("_1", "_2"))
    print(f"n: {len(t)}")
    print(f"primary agreement: {(t['primary_1'] == t['primary_2']).mean():.3f}")
    print(f"kappa: {kappa(t['primary_1'], t['primary_2']):.3f}")
    print(f"loop presence agreement: {(t['loop_1'] == t['loop_2']).mean():.3f}")
    both = (t["loop_1"] == "yes") & (t["loop_2"] == "yes")
    near = pd.Series(True, index=t.index)
    for col in ("loop_period", "loop_start"):
        near &= (pd.to_numeric(t[f"{col}_1"]) - pd.to_numeric(t[f"{col}_2"])).abs() <= TOLERANCE
    print(f"period and start within {TOLERANCE} turns: {int(near[both].sum())} of "
          f"{int(both.sum())}")
    print(t.loc[t["primary_1"] != t["primary_2"], ["item", "primary_1", "primary_2"]]
          .to_string(index=False))


if __name__ == "__main__":
    main()

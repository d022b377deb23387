"""Score q7x2's end-state labels and loops against the blind hand labels of real runs.

    python benchmarks/end_states/score.py ATTRACTORS BACKROOMS \
        [--heldout | --test [--second] | --fresh] [--show]

ATTRACTORS and BACKROOMS are checkouts: folders holding the repositories' files at the commits
named in ``sample.csv`` (for example ``git --git-dir=... archive COMMIT conversations/3 | tar -x``).
Prints the agreement of the primary end-state label (accuracy, Cohen's kappa, the confusions),
of loop presence (a loop whose last repeat lies in the run's second half, the guide's
definition), of one-sided loops, and of loop periods and starts (within two turns) where both
find a loop; ``--show`` lists every disagreement with the package's evidence. ``--heldout``
scores the held-out set (``heldout_sample.csv``, ``heldout_labels.csv``), ``--test`` the test
set (``test_*``), ``--fresh`` the fresh set (``fresh_*``), instead of the development set the
rules were written on. ``--test --second`` scores the test set against its second, independent
blind labelling (``test_labels_second.csv``); ``agreement.py`` compares the two labellings.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

import q7x2_lib as q7

HERE = Path(__file__).parent
TOLERANCE = 2  # turns


def kappa(a: pd.Series, b: pd.Series) -> float:
    """Cohen's kappa of two labelings of the same items."""
    labels = sorted(set(a) | set(b))
    observed = float((a.to_numpy() == b.to_numpy()).mean())
    pa = a.value_counts(normalize=True).reindex(labels, fill_value=0)
    pb = b.value_counts(normalize=True).reindex(labels, fill_value=0)
    expected = float((pa * pb).sum())
    return (observed - expected) / (1 - expected) if expected < 1 else 1.0


def package_labels(sample: pd.DataFrame, roots: dict[str, str]) -> pd.DataFrame:
    parts = []
    for (repo, folder), rows in sample.groupby(["repo", "folder"], sort=False):
        corpus = q7.read_corpus(Path(roots[repo]) / folder, errors="skip", progress=False)
        m = corpus.messages[corpus.messages["conversation_id"].isin(rows["conversation_id"])]
        states = q7.end_states(m)
        lp = q7.loops(m)
        last = m[~m["is_seed"]].groupby("conversation_id")["turn"].agg(["min", "max"])
        t = states.merge(lp[["conversation_id", "has_loop", "one_sided", "scope", "period",
                             "loop_start_turn", "end_turn", "left_loop"]],
                         on="conversation_id", suffixes=("", "_loop"))
        t = t.merge(last, left_on="conversation_id", right_index=True)
        parts.append(rows[["item", "conversation_id"]].merge(t, on="conversation_id"))
    return pd.concat(parts, ignore_index=True)


def score(labels: pd.DataFrame, got: pd.DataFrame, show: bool = False) -> dict[str, float]:
    t = labels.merge(got, on="item", how="left")
    hand, pkg = t["primary"], t["end_state"].astype(str)
    right = hand == pkg
    out = {"n": len(t), "accuracy": right.mean(), "kappa": kappa(hand, pkg)}
    mid = (t["min"] + t["max"]) / 2
    found = t["has_loop"] & (t["end_turn"].astype(float) >= mid)
    said = t["loop"] == "yes"
    out["loop presence"] = (found == said).mean()
    both = found & said
    hand_one = said & (t["loop_speakers"] != "both")
    out["one-sided (of hand one-sided)"] = f"{int((hand_one & found & t['one_sided']).sum())}" \
                                            f" of {int(hand_one.sum())}"
    period = pd.to_numeric(t["loop_period"], errors="coerce")
    start = pd.to_numeric(t["loop_start"], errors="coerce")
    near = ((t["period"].astype(float) - period).abs() <= TOLERANCE) & (
        (t["loop_start_turn"].astype(float) - start).abs() <= TOLERANCE)
    out["period and start within 2 turns (both found)"] = f"{int(near[both].sum())} of " \
                                                          f"{int(both.sum())}"
    for key, value in out.items():
        print(f"{key}: {value:.3f}" if isinstance(value, float) else f"{key}: {value}")
    print("\nconfusions (hand -> package):")
    print(pd.crosstab(hand[~right], pkg[~right]).stack().loc[lambda s: s > 0]
          .sort_values(ascending=False).to_string())
    if show:
        for row in t.loc[~right].itertuples():
            print(f"\n{row.item} {row.conversation_id}\n  hand: {row.primary} ({row.speakers_x}; "
                  f"{row.secondary_x}) {row.note}\n  pkg : {row.end_state} ({row.speakers_y}; "
                  f"{row.secondary_y}) [{row.confidence_y}; hand {row.confidence_x}] "
                  f"{row.evidence}")
        bad = t[(found != said) | (both & ~near)]
        for row in bad.itertuples():
            print(f"\nloop {row.item}: hand {row.loop} {row.loop_speakers} p={row.loop_period} "
                  f"start={row.loop_start} left={row.loop_left} | pkg {row.has_loop} "
                  f"{row.scope} p={row.period} start={row.loop_start_turn} end={row.end_turn} "
                  f"left={row.left_loop}")
    return out


def main(argv: list[str]) -> None:
    args = [a for a in argv if not a.startswith("--")]
    prefix = ("heldout_" if "--heldout" in argv else "test_" if "--test" in argv
              else "fresh_" if "--fresh" in argv else "")
    sample = pd.read_csv(HERE / f"{prefix}sample.csv", dtype=str)
    # --second: the test set's second, independent blind labelling (labels_second.csv)
    second = "_second" if "--second" in argv and prefix == "test_" else ""
    labels = pd.read_csv(HERE / f"{prefix}labels{second}.csv", dtype=str, keep_default_na=False)
    roots = {"nielsrolf/attractors": args[0], "samhains/UniversalBackrooms": args[1]}
    got = package_labels(sample, roots)
    np.seterr(all="ignore")
    score(labels, got, show="--show" in argv)


if __name__ == "__main__":
    main(sys.argv[1:])

"""Draw the conversations of the blind-labelled development set (run once; kept for the record).

    python benchmarks/end_states/sample.py ATTRACTORS_CHECKOUT BACKROOMS_CHECKOUT > sample.csv
    python benchmarks/end_states/sample.py ATTRACTORS_CHECKOUT BACKROOMS_CHECKOUT --heldout \
        > heldout_sample.csv
    python benchmarks/end_states/sample.py ATTRACTORS_CHECKOUT BACKROOMS_CHECKOUT --test \
        > test_sample.csv
    python benchmarks/end_states/sample.py ATTRACTORS_CHECKOUT BACKROOMS_CHECKOUT --fresh \
        > fresh_sample.csv

Orchestrator runs of ``nielsrolf/attractors`` (``conversations/3`` on main,
``conversations/4`` on branch ``embedding-visualization``; ``conversations/1`` holds almost only
failed runs) and Backrooms logs of ``samhains/UniversalBackrooms``. Runs with fewer than six
generated messages are left out (a failed run has no end state to judge). Within a folder the
draw is stratified by model pair (round robin over pairs in a seeded random order), so every pair
is represented.

``--heldout`` draws a second, smaller set from the same folders, leaving out every conversation of
``sample.csv``; ``--test`` a third, leaving out both. Each was labelled blind before it was scored.
The held-out set's errors then informed a round of rule changes, so it is a second development
set; the test set was drawn and labelled after the rules were frozen and is scored once. Two
fixes followed the test set's errors, so ``--fresh`` draws a fourth set, leaving out all three,
labelled blind by a second labeller who had not seen the package's rules or output.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

import q7x2_lib as q7

HELDOUT_PLAN = [
    ("nielsrolf/attractors", "57e0d5a0a704bbf4c74deaad74f26bfe3ddd64c7", "conversations/3", 16),
    ("nielsrolf/attractors", "046a174fcfedb711cc659b8cab6f82fd13055d4f", "conversations/4", 14),
    ("samhains/UniversalBackrooms", "3118e97c0eecb96b512bb01172f20245a1ad7439",
     "var/backrooms_logs", 10),
]
PLAN = [  # (repo, commit, folder, how many)
    ("nielsrolf/attractors", "57e0d5a0a704bbf4c74deaad74f26bfe3ddd64c7", "conversations/3", 30),
    ("nielsrolf/attractors", "046a174fcfedb711cc659b8cab6f82fd13055d4f", "conversations/4", 24),
    ("samhains/UniversalBackrooms", "3118e97c0eecb96b512bb01172f20245a1ad7439",
     "var/backrooms_logs", 14),
]


def draw(messages: pd.DataFrame, n: int, rng: np.random.Generator,
         exclude: frozenset[str] = frozenset()) -> list[str]:
    gen = messages[~messages["is_seed"]]
    size = gen.groupby("conversation_id").size()
    keep = size[(size >= 6) & ~size.index.isin(list(exclude))].index
    pairs = q7.model_pairs(gen[gen["conversation_id"].isin(keep)], include_seed=True)
    groups = {p: sorted(ids, key=str) for p, ids in pairs.groupby(pairs).groups.items()}
    order = list(groups)
    rng.shuffle(order)
    for p in order:
        rng.shuffle(groups[p])
    chosen: list[str] = []
    while len(chosen) < n and any(groups.values()):
        for p in order:
            if groups[p] and len(chosen) < n:
                chosen.append(str(groups[p].pop()))
    return chosen


def main(attractors: str, backrooms: str, which: str = "dev") -> None:
    rng = np.random.default_rng({"dev": 20261202, "heldout": 20261203, "test": 20261204,
                                 "fresh": 20261205}[which])
    earlier = {"dev": [], "heldout": ["sample.csv"],
               "test": ["sample.csv", "heldout_sample.csv"],
               "fresh": ["sample.csv", "heldout_sample.csv", "test_sample.csv"]}[which]
    exclude = frozenset(cid for name in earlier for cid in pd.read_csv(
        Path(__file__).parent / name, dtype=str)["conversation_id"])
    heldout = which != "dev"
    rows = []
    for repo, commit, folder, n in HELDOUT_PLAN if heldout else PLAN:
        root = attractors if repo.endswith("attractors") else backrooms
        messages = q7.read_corpus(f"{root}/{folder}", errors="skip", progress=False).messages
        for cid in draw(messages, n, rng, exclude):
            rows.append({"repo": repo, "commit": commit, "folder": folder, "conversation_id": cid})
    out = pd.DataFrame(rows)
    prefix = {"dev": "c", "heldout": "h", "test": "t", "fresh": "f"}[which]
    out.insert(0, "item", [f"{prefix}{k:03d}" for k in rng.permutation(len(out)) + 1])
    out.sort_values("item").to_csv(sys.stdout, index=False)


if __name__ == "__main__":
    main(*sys.argv[1:3], which="heldout" if "--heldout" in sys.argv else
         "test" if "--test" in sys.argv else "fresh" if "--fresh" in sys.argv else "dev")

"""Draw the conversations of the blind-labelled development set (run once; kept for the record).

    python benchmarks/end_states/sample.py ATTRACTORS_CHECKOUT BACKROOMS_CHECKOUT > sample.csv

Orchestrator runs of ``nielsrolf/attractors`` (``conversations/3`` on main,
``conversations/4`` on branch ``embedding-visualization``; ``conversations/1`` holds almost only
failed runs) and Backrooms logs of ``samhains/UniversalBackrooms``. Runs with fewer than six
generated messages are left out (a failed run has no end state to judge). Within a folder the
draw is stratified by model pair (round robin over pairs in a seeded random order), so every pair
is represented.
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd

import q7x2_lib as q7

PLAN = [  # (repo, commit, folder, how many)
    ("nielsrolf/attractors", "57e0d5a0a704bbf4c74deaad74f26bfe3ddd64c7", "conversations/3", 30),
    ("nielsrolf/attractors", "046a174fcfedb711cc659b8cab6f82fd13055d4f", "conversations/4", 24),
    ("samhains/UniversalBackrooms", "3118e97c0eecb96b512bb01172f20245a1ad7439",
     "var/backrooms_logs", 14),
]


def draw(messages: pd.DataFrame, n: int, rng: np.random.Generator) -> list[str]:
    gen = messages[~messages["is_seed"]]
    size = gen.groupby("conversation_id").size()
    keep = size[size >= 6].index
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


def main(attractors: str, backrooms: str) -> None:
    rng = np.random.default_rng(20261202)
    rows = []
    for repo, commit, folder, n in PLAN:
        root = attractors if repo.endswith("attractors") else backrooms
        messages = q7.read_corpus(f"{root}/{folder}", errors="skip", progress=False).messages
        for cid in draw(messages, n, rng):
            rows.append({"repo": repo, "commit": commit, "folder": folder, "conversation_id": cid})
    out = pd.DataFrame(rows)
    out.insert(0, "item", [f"c{k:03d}" for k in rng.permutation(len(out)) + 1])
    out.sort_values("item").to_csv(sys.stdout, index=False)


if __name__ == "__main__":
    main(*sys.argv[1:3])

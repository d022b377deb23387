"""The semantic layer beside the lexical one (``make bench-semantic``, part of ``make bench``).

On one corpus, in one process: lexical drift (TF-IDF vectors and similarity by turn) as the
baseline, then embedding every message (WordLlama, each distinct text once), semantic similarity
by turn, basins, trajectories, semantic RQA, time to attractor and the information rate. Prints
seconds and each step's ratio to the lexical drift measured in the same run, the distinct texts
embedded per second, and a run-to-run check that the basins and the embeddings are identical.

    python benchmarks/semantic.py [--corpus PATH] [--conversations 1000]

Without ``--corpus`` (or ``BENCH_CORPUS=``) a synthetic markdown-only corpus of
``--conversations`` conversations (about 100 messages each) is written to a temporary folder.
The issue's target is 10,000 conversations in under 2 minutes for embedding, semantic drift and
basins; ``--conversations 10000`` measures it (several minutes on this machine).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

import q7x2_lib as q7
from q7x2_lib.datasets import write_synthetic_corpus
from q7x2_lib.metrics import semantic


def _timed(name: str, func, rows: list) -> object:
    t0 = time.perf_counter()
    out = func()
    rows.append((name, time.perf_counter() - t0))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default=os.environ.get("BENCH_CORPUS") or None)
    parser.add_argument("--conversations", type=int,
                        default=int(os.environ.get("BENCH_SEMANTIC_N", "1000")))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.corpus) if args.corpus else Path(tmp) / "corpus"
        if not args.corpus:
            write_synthetic_corpus(folder, n_conversations=args.conversations, seed=7,
                                   formats=("md",))
        m = q7.read_corpus(folder, errors="skip").messages
        n_conv = m["conversation_id"].nunique()
        distinct = m.loc[~m["is_seed"], "text"].nunique()
        print(f"corpus: {folder if args.corpus else 'synthetic, markdown only'}; "
              f"{n_conv:,} conversations, {len(m):,} messages, {distinct:,} distinct texts")
        rows: list[tuple[str, float]] = []
        q7.text.forget_token_codes()  # message_vectors tokenises afresh
        vectors = _timed("lexical: message_vectors", lambda: q7.message_vectors(m), rows)
        _timed("lexical: similarity_by_turn",
               lambda: q7.similarity_by_turn(m, vectors=vectors), rows)
        semantic.wordllama_backend()  # loading the model is not embedding
        emb = _timed("embed_messages", lambda: q7.embed_messages(m), rows)
        _timed("semantic_similarity_by_turn",
               lambda: q7.semantic_similarity_by_turn(m, embeddings=emb), rows)
        found = _timed("basins", lambda: q7.basins(m, embeddings=emb), rows)
        _timed("semantic_trajectories", lambda: q7.semantic_trajectories(m, embeddings=emb), rows)
        _timed("semantic_rqa", lambda: q7.semantic_rqa(m, embeddings=emb), rows)
        _timed("information_rate", lambda: q7.information_rate(m), rows)
        times = _timed("attractor_events + kaplan_meier", lambda: q7.kaplan_meier(
            q7.attractor_events(m, events=["end marker", "collapse", "basin"], basins=found)),
            rows)
        del times
        lexical = rows[0][1] + rows[1][1]
        print(f"\n| step | seconds | × lexical drift ({lexical:.1f} s) |\n|---|---|---|")
        for name, seconds in rows:
            print(f"| {name} | {seconds:.2f} | {seconds / lexical:.2f} |")
        target = sum(s for n, s in rows if n in ("embed_messages", "semantic_similarity_by_turn",
                                                   "basins"))
        embed_s = dict(rows)["embed_messages"]
        print(f"\nembedding + semantic drift + basins: {target:.1f} s "
              f"({target / lexical:.2f}× lexical drift); {distinct / embed_s:,.0f} distinct "
              "texts embedded per second")
        again = q7.embed_messages(m)
        same_basins = q7.basins(m, embeddings=again).assignments.equals(found.assignments)
        print(f"identical run to run: embeddings {np.array_equal(again.matrix, emb.matrix)}, "
              f"basins {same_basins}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

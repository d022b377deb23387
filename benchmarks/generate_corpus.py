"""Write (or reuse) a seeded synthetic attractors corpus for the benchmarks (``make bench``)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from q7x2_lib._core.paths import PROJECT_ROOT
from q7x2_lib.datasets import write_synthetic_corpus

__all__ = ["main"]

DEFAULT_ROOT = PROJECT_ROOT / "benchmarks" / "corpus"


def main(argv: list[str] | None = None) -> int:
    """Generate ``benchmarks/corpus/n<N>-seed<S>/`` unless it already holds files."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=10_000, help="conversations (default 10000)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--formats", nargs="+", default=["md", "json"], choices=["md", "json"])
    parser.add_argument("--out", type=Path, help="folder (default benchmarks/corpus/<params>)")
    parser.add_argument("--force", action="store_true", help="write even if the folder has files")
    args = parser.parse_args(argv)
    out = args.out or DEFAULT_ROOT / f"n{args.n}-seed{args.seed}-{'-'.join(args.formats)}"
    if out.is_dir() and any(out.iterdir()) and not args.force:
        print(f"reusing {out} (pass --force to rewrite it)")
        return 0
    t0 = time.perf_counter()
    paths = write_synthetic_corpus(
        out, n_conversations=args.n, seed=args.seed, formats=args.formats
    )
    mb = sum(p.stat().st_size for p in paths) / 1e6
    print(f"wrote {args.n} conversations, {len(paths)} files, {mb:.1f} MB to {out} "
          f"in {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

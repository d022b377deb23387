"""Feed doubling hostile inputs to every regular expression q7x2 applies to transcript text.

Each pattern (every compiled ``re.Pattern`` in the package's modules) and each text entry point
(readers, the chat view's markdown, tokens and normal forms) runs on inputs of n and 2n
characters built to make a backtracking engine stumble: long runs of one markup character,
a run then a character that breaks the match, repeated headers. The growth of each, time(4n)
over 4 * time(n), is about 1 for linear work and 4 for quadratic, whatever the machine's speed
(both times are measured in the same run, the best of two); the script prints the worst input
of each and exits 1 if any exceeds the bound (default 2.5; noise on a busy machine reaches 2).

    python benchmarks/hostile_regex.py [--size 5000] [--bound 2.5]
"""

from __future__ import annotations

import argparse
import gc
import importlib
import pkgutil
import re
import sys
import time
from collections.abc import Callable

import q7x2_lib

PIECES = ["#", "# ", "*", "_", "`", "~", "[", "(", "-", " ", "\n", "a", "a ", "### ", "---\n\n",
          "|", ">", "1.", "💫", "\t", "\\", "'", "e'", "i ", "i'm not ", ". ", "and ",
          "thank you ", "[end] "]
ENDS = ["", "[", "\n"]


def hostile(n: int) -> dict[str, str]:
    """Inputs of about ``n`` characters: a run of one piece, then one breaking character."""
    out = {}
    for piece in PIECES:
        for end in ENDS:
            out[f"{piece!r}*n+{end!r}"] = piece * (n // len(piece)) + end
    out["words, no newline"] = "word " * (n // 5)
    out["# # # line"] = "# " * (n // 2) + "\n"
    out["header 'Started' run"] = "**Started:** " * (n // 13)
    return out


def patterns() -> list[tuple[str, re.Pattern[str]]]:
    found = []
    for info in pkgutil.walk_packages(q7x2_lib.__path__, "q7x2_lib."):
        if info.name.startswith("q7x2_lib.apps.distributed"):
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if isinstance(value, re.Pattern) and isinstance(value.pattern, str):
                found.append((f"{info.name}.{name}", value))
    return sorted(dict(found).items())


def entry_points() -> list[tuple[str, Callable[[str], object]]]:
    from q7x2_lib._core.text import normal_form, tokenize
    from q7x2_lib.apps.viewer import render_markdown
    from q7x2_lib.io.readers import parse_text_all
    from q7x2_lib.metrics.attractors import speech_acts as acts

    def parse(text: str) -> object:
        try:
            return parse_text_all(text, "<bench>")
        except q7x2_lib.TranscriptParseError:
            return None

    return [
        ("tokenize", tokenize), ("normal_form", normal_form), ("render_markdown", render_markdown),
        ("parse: untitled markdown", lambda t: parse("### A\n\n" + t)),
        ("parse: titled markdown", lambda t: parse("# A ↔ B\n\n**Messages:** 1\n\n---\n\n### A\n\n"
                                                   + t)),
        ("parse: letter page", lambda t: parse("← Back to Session 1\nQwen (Alibaba)\n" + t)),
        ("parse: header lines", lambda t: parse("# A ↔ B\n" + t)),
        ("parse: backrooms", lambda t: parse("### Claude 1 ###\n" + t)),
        *[(f"speech act: {f.__name__}", f) for f in (
            acts.refusal_phrase, acts.farewell_phrase, acts.is_closing, acts.is_void_poetry,
            acts.is_minimal_marker, acts.bliss_share)],
    ]


def seconds(func: Callable[[str], object], text: str) -> float:
    """Best of two, with the cyclic garbage collector off (its passes are not the regex's)."""
    best = float("inf")
    gc.disable()
    try:
        for _ in range(2):
            start = time.perf_counter()
            func(text)
            best = min(best, time.perf_counter() - start)
    finally:
        gc.enable()
    return best


def _scan(rx: re.Pattern[str], text: str) -> None:
    for _ in rx.finditer(text):  # every match, none kept
        pass


def growth(func: Callable[[str], object], n: int) -> tuple[float, str, float]:
    """The worst growth time(4n) / (4 time(n)) over the hostile inputs, its input, its time."""
    small, large = hostile(n), hostile(4 * n)
    worst = (0.0, "", 0.0)
    for key in small:
        t1, scale = seconds(func, small[key]), 1
        if t1 > 2.0:  # already slow at n: report it without timing 2n
            return (float("inf"), key, t1)
        while t1 < 5e-4 and scale < 8:  # too fast to time well: a longer input, same shape
            scale *= 4
            t1 = seconds(func, small[key] * scale)
        t2 = seconds(func, large[key] * scale)
        ratio = t2 / max(4 * t1, 1e-9)
        if ratio > worst[0]:
            worst = (ratio, key, t2)
    return worst


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=5_000, help="n, characters (default 5000)")
    parser.add_argument("--bound", type=float, default=2.5, help="largest growth allowed")
    args = parser.parse_args(argv)
    rows = [(name, lambda t, rx=rx: _scan(rx, t)) for name, rx in patterns()]
    rows += entry_points()
    failed = 0
    print(f"growth time(4n) / (4 time(n)) at n = {args.size:,}: linear ~1, quadratic ~4")
    for name, func in rows:
        ratio, key, t2 = growth(func, args.size)
        flag = "  <-- above the bound" if ratio > args.bound else ""
        failed += ratio > args.bound
        print(f"{ratio:6.2f}  {t2 * 1e3:9.2f} ms  {name}  (worst: {key}){flag}", flush=True)
    print(f"{failed} of {len(rows)} above {args.bound}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Reading at real lengths (``make bench-viewer``, part of ``make bench``): the chat view, search
and the conversation table, against floors measured in the same run.

- the chat view of a conversation of long messages (its loop marks and its page), against the
  floor of escaping its texts
  (what any safe page must do at least), at 100 and 1,000 messages (growth: about 10 is linear);
- plain and regex search of a corpus, against ``str.find`` over the same texts;
- ``list_conversations()`` on the corpus, per conversation.

    python benchmarks/viewer.py [--corpus PATH] [--repeat 3]

Without ``--corpus`` (or ``BENCH_CORPUS=``) a synthetic corpus of 200 conversations is written to
a temporary folder. Prints seconds, the ratio to each floor, and whether the 100-message view
stays under a second.
"""

from __future__ import annotations

import argparse
import html
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import q7x2_lib as q7
from q7x2_lib.apps.viewer import conversation_view
from q7x2_lib.datasets import make_messages, write_synthetic_corpus


def best(func: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        func()
        times.append(time.perf_counter() - t)
    return min(times)


def long_conversation(n: int):
    """The messages of one conversation: ``n`` messages of about 1,000 words each, with
    markdown, and a 20-message loop at the end."""
    body = "**Note.** " + " ".join(f"word{i}" for i in range(1000)) + "\n\n- a\n- b\n"
    texts = [f"{i}: {body}" for i in range(n - 20)] + ["I cannot continue.", "[END]"] * 10
    return make_messages({"long": [("AB"[i % 2], t) for i, t in enumerate(texts)]})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", default=os.environ.get("BENCH_CORPUS") or None)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    rows = []
    views = {}
    for n in (100, 1000):
        messages = long_conversation(n)
        texts = messages["text"].tolist()
        seconds = best(lambda m=messages, n=n: conversation_view(  # loop marks included
            m, None, "long", per_page=n)._repr_html_(), args.repeat)
        floor = best(lambda texts=texts: "".join(html.escape(t) for t in texts), args.repeat)
        views[n] = seconds
        rows.append((f"chat view, {n} messages of ~1,000 words", seconds, floor))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.corpus) if args.corpus else Path(tmp)
        if not args.corpus:
            write_synthetic_corpus(folder, n_conversations=200, seed=5, formats=("md",))
        corpus = q7.read_corpus(folder, errors="skip")
        texts = corpus.messages["text"].astype(str).tolist()

        def find_all(texts=texts, needle="silence") -> int:
            k = 0
            for t in texts:
                at = t.find(needle)
                while at >= 0:
                    k += 1
                    at = t.find(needle, at + len(needle))
            return k

        floor = best(find_all, args.repeat)
        rows.append(("search 'silence' (plain, case ignored)",
                     best(lambda: corpus.search("silence"), args.repeat), floor))
        rows.append(("search r'sil\\w+ce|thank\\s+you' (regex)",
                     best(lambda: corpus.search(r"sil\w+ce|thank\s+you", regex=True),
                          args.repeat), floor))
        t = time.perf_counter()
        corpus.list_conversations()
        rows.append((f"list_conversations(), {len(corpus)} conversations",
                     time.perf_counter() - t, None))
    print("| measure | seconds | floor (s) | ratio to floor |")
    print("|---|---:|---:|---:|")
    for name, seconds, floor in rows:
        ratio = f"{seconds / floor:.1f}×" if floor else "–"
        print(f"| {name} | {seconds:.3f} | {floor:.3f} | {ratio} |" if floor else
              f"| {name} | {seconds:.3f} | – | {ratio} |")
    growth = views[1000] / views[100]
    print(f"\ngrowth, chat view 100 → 1,000 messages: {growth:.1f} (10 is linear)")
    ok = views[100] < 1.0
    print(f"100-message view of long messages under 1 s: {'yes' if ok else 'NO'} "
          f"({views[100]:.2f} s)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

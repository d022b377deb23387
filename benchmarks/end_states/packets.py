"""Write blind-labelling packets: one plain-text transcript per sampled conversation.

    python benchmarks/end_states/packets.py SAMPLE.csv OUT_DIR

``SAMPLE.csv`` has the columns ``corpus`` (a folder the reader reads), ``conversation_id``
and ``item`` (the packet's name). Each packet shows every generated message with its turn,
speaker and word count; long messages are shortened in the middle, except the last twelve,
which are shown up to 1,500 characters, because the end state is judged from them. The
packets hold transcript text: write them outside the repository (their licence is unknown).
Only reading is used here: no metric and no label of the package is computed or shown.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

import q7x2_lib as q7

_LAST = 12


def _shown(text: str, limit: int) -> str:
    flat = text.replace("\r", "").replace("\n", " ⏎ ")
    if len(flat) <= limit:
        return flat
    head = limit * 2 // 3
    return f"{flat[:head]} …[{len(flat) - limit} characters left out]… {flat[-(limit - head):]}"


def packet(messages: pd.DataFrame, item: str) -> str:
    m = messages[~messages["is_seed"]]
    lines = [f"# {item}", f"speakers: {', '.join(dict.fromkeys(m['speaker']))}",
             f"generated messages: {len(m)} (turns {m['turn'].min()}–{m['turn'].max()})", ""]
    for k, row in enumerate(m.itertuples(index=False)):
        limit = 1500 if k >= len(m) - _LAST else 300
        lines.append(f"[{row.turn}] {row.speaker} · {row.n_words} words: {_shown(row.text, limit)}")
    return "\n".join(lines) + "\n"


def main(sample_csv: str, out_dir: str) -> None:
    sample = pd.read_csv(sample_csv, dtype=str)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for corpus, rows in sample.groupby("corpus", sort=False):
        messages = q7.read_corpus(corpus, errors="skip", progress=False).messages
        for row in rows.itertuples(index=False):
            m = messages[messages["conversation_id"] == row.conversation_id]
            (out / f"{row.item}.txt").write_text(packet(m, row.item), encoding="utf-8")


if __name__ == "__main__":
    main(*sys.argv[1:3])

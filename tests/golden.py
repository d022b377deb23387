"""Golden-file helpers: a corpus as plain JSON, so expected tables are readable and diffable."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

import q7x2_lib as q7

FIXTURES = Path(__file__).parent / "fixtures"
MESSAGE_FIELDS = ("turn", "speaker", "text", "is_seed", "is_empty", "is_end_marker",
                  "ends_with_end_marker", "n_words", "line")
CONVERSATION_FIELDS = ("title", "speaker_a", "speaker_b", "participants", "started", "ended",
                       "duration_s", "n_messages", "n_messages_declared", "format", "session",
                       "provider")


def _plain(value):
    if value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    if hasattr(value, "item"):
        return value.item()
    return value


def as_golden(corpus: q7.Corpus) -> dict:
    """The parts of a one-file corpus that a golden file pins."""
    conv = corpus.conversations.iloc[0]
    return {
        "conversation": {k: _plain(conv[k]) for k in CONVERSATION_FIELDS},
        "messages": [[_plain(row[k]) for k in MESSAGE_FIELDS]
                     for _, row in corpus.messages.iterrows()],
        "problems": [[row["kind"], _plain(row["line"])] for _, row in corpus.problems.iterrows()],
    }


def expected_path(case: Path) -> Path:
    return case.with_name(case.name + ".expected.json")


def write_expected(case: Path) -> None:
    """Regenerate one golden file (run by hand, then read the diff before committing)."""
    data = as_golden(q7.read_transcript(case))
    expected_path(case).write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    for case in sorted((FIXTURES / "valid").iterdir()):
        if not case.name.endswith(".expected.json"):
            write_expected(case)

"""Golden-file helpers: a corpus as plain JSON, so expected tables are readable and diffable."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

import q7x2_lib as q7

FIXTURES = Path(__file__).parent / "fixtures"
MESSAGE_FIELDS = ("turn", "speaker", "model", "text", "is_seed", "is_empty", "is_end_marker",
                  "ends_with_end_marker", "n_words", "line", "round")
CONVERSATION_FIELDS = ("title", "speaker_a", "speaker_b", "participants", "started", "ended",
                       "duration_s", "n_messages", "n_messages_declared", "format", "session",
                       "provider", "ending", "round_count")


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
    """The parts of a corpus that a golden file pins (ids too when it holds several)."""
    if len(corpus.conversations) == 1:
        conv = corpus.conversations.iloc[0]
        head = {"conversation": {k: _plain(conv[k]) for k in CONVERSATION_FIELDS}}
        fields = MESSAGE_FIELDS
    else:
        head = {"conversations": [{k: _plain(row[k]) for k in ("conversation_id",
                                                                *CONVERSATION_FIELDS)}
                                  for _, row in corpus.conversations.iterrows()]}
        fields = ("conversation_id", *MESSAGE_FIELDS)
    return {
        **head,
        "messages": [[_plain(row[k]) for k in fields] for _, row in corpus.messages.iterrows()],
        "problems": [[row["kind"], _plain(row["line"])] for _, row in corpus.problems.iterrows()],
    }


def read_case(case: Path) -> q7.Corpus:
    """A file case is read as one transcript; a folder case (a ConvoKit corpus) as a corpus."""
    return q7.read_transcript(case) if case.is_file() else q7.read_corpus(case)


def expected_path(case: Path) -> Path:
    return case.with_name(case.name + ".expected.json")


def write_expected(case: Path) -> None:
    """Regenerate one golden file (run by hand, then read the diff before committing)."""
    data = as_golden(read_case(case))
    expected_path(case).write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    for case in sorted((FIXTURES / "valid").iterdir()):
        if not case.name.endswith(".expected.json"):
            write_expected(case)

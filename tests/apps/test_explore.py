"""Exploring a corpus: the table that finds conversations, search, two side by side."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from builders import words
from hypothesis import given, settings
from hypothesis import strategies as st

import q7x2_lib as q7
from q7x2_lib.apps.explore import TABLE_COLUMNS, Explorer, compare, search
from q7x2_lib.datasets import make_messages

SEED_ONLY = ("# A ↔ B\n\n**Started:** 2025-10-26 13:04:23\n**Messages:** 1\n\n---\n\n"
             "### A\n\n \n\n---\n")


def _md(title: str, blocks: list[tuple[str, str]]) -> str:
    body = "\n".join(f"### {s}\n\n{t}\n\n---\n" for s, t in blocks)
    return f"# {title}\n\n**Messages:** {len(blocks)}\n\n---\n\n{body}"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> q7.Corpus:
    root = tmp_path_factory.mktemp("explore")
    talk = [("A" if i % 2 == 0 else "B", words(40 - i, f"w{i}")) for i in range(12)]
    pingpong = talk[:6] + [("A", "I can't continue."), ("B", "[END]")] * 10
    (root / "pingpong.md").write_text(_md("A ↔ B", [("A", " "), *pingpong]))
    (root / "talk.md").write_text(_md("A ↔ B", [("A", " "), *talk]))
    (root / "failed.md").write_text(SEED_ONLY)
    shutil.copy(q7.RAW_DIR / "004_036c2c114749dfaf.txt", root / "letter.txt")
    return q7.read_corpus(root, errors="skip")


def test_the_table_has_what_a_researcher_sorts_by(corpus: q7.Corpus) -> None:
    table = corpus.list_conversations().set_index("conversation_id")
    assert tuple(table.reset_index().columns) == TABLE_COLUMNS
    ping = table.loc["pingpong"]
    assert ping["models"] == "A ↔ B" and ping["n_messages"] == 27
    # The ping-pong starts at turn 7; the loop is established at turn 9, the first repeat.
    assert ping["loop_period"] == 2 and ping["loop_onset"] == 9
    states = q7.end_states(corpus.messages).set_index("conversation_id")
    assert ping["end_state"] == states.loc["pingpong", "end_state"] == "refusal or disengagement"
    assert ping["end_state_by"] == states.loc["pingpong", "speakers"]
    assert pd.isna(table.loc["talk", "loop_onset"]) and pd.isna(table.loc["talk", "loop_period"])
    assert pd.isna(table.loc["failed", "end_state"])  # no model replied: no end state
    assert table.loc["failed", "problems"] == 2  # failed_run and missing_end_time
    talk_rows = corpus.problems["source"].astype(str).str.endswith("talk.md")
    assert table.loc["talk", "problems"] == talk_rows.sum() == 1  # no **Ended:** line
    assert table["loop_onset"].dtype == "Int64" and table["collapse_turn"].dtype == "Int64"


def test_the_table_is_computed_once_and_handed_out_as_a_copy(corpus: q7.Corpus) -> None:
    first = corpus.list_conversations()
    first.loc[0, "n_messages"] = -1
    assert (corpus.list_conversations()["n_messages"] >= 0).all()


def test_a_corpus_of_failed_runs_only_still_lists(tmp_path: Path) -> None:
    (tmp_path / "f.md").write_text(SEED_ONLY)
    table = q7.read_corpus(tmp_path, errors="skip").list_conversations()
    assert len(table) == 1 and pd.isna(table.loc[0, "end_state"])


def test_the_explorer_opens_the_selected_row(corpus: q7.Corpus) -> None:
    explorer = corpus.explore(fold_words=50)
    grid = explorer.widget().children[0]
    row = explorer.table["conversation_id"].tolist().index("pingpong")
    grid.selected_rows = [row]
    assert explorer.selected == "pingpong"
    bundle = explorer._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/html"].startswith('<table class="dataframe q7x2-explorer-table"')


def test_the_explorer_falls_back_to_an_escaped_plain_table(tmp_path: Path) -> None:
    hostile = '<img src=x onerror="alert(1)">'
    (tmp_path / "h.md").write_text(_md(f"{hostile} ↔ B", [(hostile, "hi"), ("B", "there")]))
    markup = Explorer(q7.read_corpus(tmp_path))._repr_html_()
    assert "<img" not in markup and "&lt;img src=x" in markup


def test_search_plain_case_regex_and_context(corpus: q7.Corpus) -> None:
    hits = corpus.search("[END]")  # plain text: the brackets are characters
    assert len(hits) == 10 and set(hits.table["conversation_id"]) == {"pingpong"}
    row = hits.table.iloc[0]
    assert (row["match"], row["speaker"], row["start"], row["end"]) == ("[END]", "B", 0, 5)
    assert len(corpus.search("i CAN'T")) == 10 and len(corpus.search("i CAN'T", case=True)) == 0
    regex = corpus.search(r"w1\d", regex=True, context=3)
    assert set(regex.table["match"]) == {"w10", "w11"}
    assert all(len(b) <= 3 and len(a) <= 3 for b, a in zip(regex.table["before"],
                                                            regex.table["after"], strict=True))
    assert len(corpus.search("[END]", max_hits=4)) == 4 and corpus.search(
        "[END]", max_hits=4).truncated


def test_search_refuses_what_it_cannot_do(corpus: q7.Corpus) -> None:
    with pytest.raises(ValueError, match=r"pattern: '\(a\)\\\\1' is not a regular expression RE2"):
        corpus.search(r"(a)\1", regex=True)
    with pytest.raises(ValueError, match="pattern: got ''"):
        corpus.search("")
    with pytest.raises(ValueError, match="context: got -1"):
        corpus.search("x", context=-1)
    assert len(corpus.search("^", regex=True)) == 0  # empty matches mark no text


def test_search_is_linear_on_a_pattern_that_hangs_backtracking_engines() -> None:
    # (a+)+$ against "aaa…ab" takes exponential time in Python's re; RE2 answers at once.
    m = make_messages({"c": [("A", "a" * 50_000 + "b"), ("B", "a" * 30 + "!")]})
    assert len(search(m, "(a+)+$", regex=True)) == 0
    assert len(search(m, "(a|aa)*!", regex=True)) == 1


def test_search_results_highlight_and_escape() -> None:
    m = make_messages({"c": [("A", "<script>alert(1)</script> we rest"), ("B", "rest")]})
    markup = search(m, "rest")._repr_html_()
    assert "<script>" not in markup and "&lt;script&gt;" in markup
    assert markup.count("<mark>rest</mark>") == 2
    assert "2 matches of <code>rest</code> in 2 messages" in markup


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=1, max_size=40), st.text(max_size=200))
def test_plain_search_finds_every_occurrence_python_finds(pattern: str, text: str) -> None:
    m = make_messages({"c": [("A", text)]})
    body = m.loc[0, "text"]
    expected, at = [], body.find(pattern) if body else -1
    while at >= 0 and body:
        expected.append(at)
        at = body.find(pattern, at + len(pattern))
    got = search(m, pattern, case=True).table["start"].tolist()
    assert got == expected


def test_compare_aligns_by_turn_and_shows_both_texts(corpus: q7.Corpus) -> None:
    both = corpus.compare("talk", "pingpong", turn=9)
    table = both.table
    assert table["turn"].tolist() == list(range(27))  # talk ends at 12, the other at 26
    assert table.loc[9, "b_state"] == "loop" and table.loc[8, "b_state"] == "end marker"
    assert table.loc[0, "a_state"] == "seed"
    assert pd.isna(table.loc[20, "a_words"]) and table.loc[20, "b_words"] == 1
    markup = both._repr_html_()
    assert "<strong>Turn 9</strong>" in markup and "I can&#x27;t continue." in markup
    assert "w8 w8" in markup  # the other side's text at turn 9 (turn 0 is the seed)
    with pytest.raises(ValueError, match="neither conversation has that turn"):
        compare(corpus, "talk", "pingpong", turn=99)

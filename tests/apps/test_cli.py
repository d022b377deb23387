"""The q7x2 command: figures and info on a corpus (report has its own tests)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from golden import FIXTURES

from q7x2_lib._core.paths import RAW_DIR
from q7x2_lib.apps.cli import main


def test_info_prints_the_summary_and_each_problem(tmp_path: Path, capsys) -> None:
    shutil.copy(FIXTURES / "valid" / "basic.md", tmp_path / "good.md")
    shutil.copy(FIXTURES / "invalid" / "latin1.md", tmp_path / "bad.md")
    assert main(["info", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "conversations" in out and "messages" in out
    assert "bad.md" in out  # the unreadable file is a problem row, named
    summary = out.split("\n\n")[0].splitlines()[2:]
    rows = dict(line.rsplit(None, 1) for line in summary)
    assert rows["conversations"].strip() == "1"
    assert rows["messages"].strip() == "5"
    assert rows["problems"].strip() == "1"
    assert rows["unreadable files"].strip() == "1"
    assert rows["failed runs"].strip() == "0"


def test_figures_on_another_corpus_writes_notebook_and_figures_to_out(tmp_path: Path,
                                                                      capsys) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(RAW_DIR / "001_3c735b3d862d374e.txt", corpus / "one.txt")
    out = tmp_path / "out"
    assert main(["figures", "--corpus", str(corpus), "--out", str(out), "--only", "00"]) == 0
    assert f"wrote {out / '00-corpus-overview.ipynb'}" in capsys.readouterr().out
    assert sorted(p.name for p in (out / "figures").iterdir()) == [
        "00-words-per-message.png", "00-words-per-message.svg"]


def test_unknown_command_is_a_usage_error(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["frobnicate"])
    assert exc.value.code == 2
    assert "invalid choice" in capsys.readouterr().err

"""HTML reports: self-contained pages of the executed notebooks, code folded or hidden."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

import q7x2_lib as q7
from q7x2_lib.apps.cli import main
from q7x2_lib.apps.report import notebook_html, write_reports

NOTEBOOK = q7.NOTEBOOKS_DIR / "00-corpus-overview.ipynb"
_EXTERNAL_RE = re.compile(r"""<(?:script|link|img)\b[^>]*(?:src|href)=["']?(?:https?:)?//""")


def _code_cells() -> int:
    return sum(c.cell_type == "code" for c in nbformat.read(NOTEBOOK, as_version=4).cells)


def test_report_embeds_figures_and_loads_nothing_from_the_network() -> None:
    page = notebook_html(NOTEBOOK)
    assert page.startswith("<!DOCTYPE html>")
    assert re.search(r'<img[^>]+src="data:image/png;base64,', page)
    assert not _EXTERNAL_RE.search(page)
    assert "<title>00-corpus-overview</title>" in page


@pytest.mark.parametrize(("code", "details", "source_shown"), [
    ("fold", True, True), ("hide", False, False), ("show", False, True),
])
def test_code_folded_hidden_or_shown(code: str, details: bool, source_shown: bool) -> None:
    page = notebook_html(NOTEBOOK, code=code)
    assert page.count('<details class="q7x2-code">') == (_code_cells() if details else 0)
    assert ("read_corpus" in page) is source_shown


def test_reports_are_deterministic(tmp_path: Path) -> None:
    first = write_reports([NOTEBOOK], tmp_path / "a")
    second = write_reports([NOTEBOOK], tmp_path / "b")
    assert [p.name for p in first] == ["00-corpus-overview.html"]
    assert first[0].read_bytes() == second[0].read_bytes()


def test_bad_code_mode_names_the_parameter(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"code must be one of \(.*\), got 'x'"):
        write_reports([NOTEBOOK], tmp_path, code="x")


def test_cli_report_runs_the_notebooks_on_a_corpus(tmp_path: Path, capsys) -> None:
    assert main(["report", "--corpus", str(q7.RAW_DIR / "004_036c2c114749dfaf.txt"), "--out",
                 str(tmp_path), "--only", "00", "--hide-code"]) == 0
    page = (tmp_path / "reports" / "00-corpus-overview.html").read_text(encoding="utf-8")
    assert (tmp_path / "figures" / "00-words-per-message.png").is_file()
    assert "Session 27: Qwen3 Max" in page and "read_corpus" not in page
    assert "wrote" in capsys.readouterr().out

"""Nothing executed, nothing overwritten: what users type reaches q7x2 as text."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from golden import FIXTURES

from q7x2_lib._core.paths import PROJECT_ROOT
from q7x2_lib.apps.cli import main
from q7x2_lib.apps.runner import output_folder


@pytest.mark.parametrize("out", [".", "notebooks", "figures", "figures/..", "data/raw/mine",
                                 "q7x2_lib", ".git/x", str(PROJECT_ROOT), "notebooks/../figures"])
def test_an_output_folder_over_committed_files_is_refused(out: str, monkeypatch) -> None:
    monkeypatch.chdir(PROJECT_ROOT)
    with pytest.raises(ValueError, match=r"^out: got .*(project folder itself|inside the "
                                         r"project's)"):
        output_folder(out)


def test_an_empty_output_folder_is_refused() -> None:
    with pytest.raises(ValueError, match="out: got an empty folder name"):
        output_folder("")


def test_a_relative_output_folder_is_relative_to_the_working_directory(tmp_path: Path,
                                                                        monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert output_folder("mine") == tmp_path.resolve() / "mine"
    assert output_folder(None) == PROJECT_ROOT / "runs" / "latest"
    monkeypatch.chdir(PROJECT_ROOT)
    assert output_folder("runs/mine") == PROJECT_ROOT.resolve() / "runs" / "mine"


def test_the_command_says_why_in_one_line(capsys) -> None:
    assert main(["figures", "--corpus", str(FIXTURES / "valid"), "--out", "notebooks"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("q7x2 figures: out: got 'notebooks', inside the project's notebooks/")
    assert main(["figures", "--corpus", "no such corpus"]) == 2
    assert "is not a file, folder or matching pattern" in capsys.readouterr().err


def _make(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE")}
    return subprocess.run(["make", "--no-print-directory", *args], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(shutil.which("make") is None or not (PROJECT_ROOT / ".venv").is_dir(),
                    reason="needs make and the project's .venv (make env)")
@pytest.mark.parametrize("template", [
    'x"; touch {p}; echo "', "$(shell touch {p})", "`touch {p}`", "$$(touch {p})",
    "x'; touch {p}; echo '",
])
@pytest.mark.parametrize("variable", ["CORPUS", "OUT"])
def test_make_passes_corpus_and_out_to_the_command_without_a_shell(tmp_path: Path, template: str,
                                                                   variable: str) -> None:
    marker = tmp_path / "executed"
    value = template.format(p=marker)
    other = {"CORPUS": "no such corpus"} if variable == "OUT" else {}
    result = _make("figures", f"{variable}={value}", *(f"{k}={v}" for k, v in other.items()))
    assert result.returncode != 0  # the corpus is not there: refused before any notebook runs
    assert not marker.exists(), f"{variable}={value!r} ran a command"
    assert "is not a file, folder or matching pattern" in result.stderr


@pytest.mark.skipif(shutil.which("make") is None or not (PROJECT_ROOT / ".venv").is_dir(),
                    reason="needs make and the project's .venv (make env)")
def test_make_report_folds_code_by_default_and_lab_takes_port_and_no_browser() -> None:
    # CODE defaults to fold: the run reaches the command, which refuses the missing corpus.
    result = _make("report", "CORPUS=no such corpus")
    assert "CODE must be" not in result.stderr
    assert "is not a file, folder or matching pattern" in result.stderr
    assert "CODE must be fold, hide or show" in _make("report", "CODE=nope").stderr
    lab = _make("-n", "lab", "PORT=8899", "NO_BROWSER=1").stdout
    assert 'q7x2 lab --port "8899" --no-browser' in lab
    assert "--no-browser" not in _make("-n", "lab").stdout


def test_info_shows_control_characters_as_escapes(tmp_path: Path, capsys) -> None:
    shutil.copy(FIXTURES / "invalid" / "latin1.md", tmp_path / "bad\x1b[2J\u202egpj.md")
    assert main(["info", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\u202e" not in out
    assert "bad\\x1b[2J\\u202egpj.md" in out

"""The package's stages and the import contract that keeps them one-way."""

from __future__ import annotations

import inspect
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import q7x2_lib as q7

ROOT = Path(__file__).resolve().parents[1]
STAGES = ["_core", "io", "datasets", "metrics", "plots", "apps"]


def _contract() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]


def test_every_stage_is_a_layer_of_the_contract_in_order() -> None:
    layers = _contract()["contracts"][0]["layers"]
    assert layers == [f"q7x2_lib.{s}" for s in reversed(STAGES)]
    package = ROOT / "q7x2_lib"
    found = {p.stem for p in package.iterdir()
             if (p.is_dir() and (p / "__init__.py").exists()) or (p.suffix == ".py"
                                                                   and p.stem != "__init__")}
    assert found == set(STAGES), "a new top-level module must join a layer of the contract"


def _lint_imports(tree: Path) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("lint-imports")
    return subprocess.run([str(exe), "--config", str(tree / "pyproject.toml"), "--no-cache"],
                          cwd=tree, capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"})


@pytest.fixture(scope="module")
def copy(tmp_path_factory) -> Path:
    tree = tmp_path_factory.mktemp("layout")
    shutil.copytree(ROOT / "q7x2_lib", tree / "q7x2_lib",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tree / "pyproject.toml")
    return tree


def test_the_contract_holds(copy: Path) -> None:
    result = _lint_imports(copy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(("module", "line", "broken"), [
    ("_core/text.py", "from ..metrics import stats", "Stages import one way"),
    ("io/lexicon.py", "from ..apps import runner", "Stages import one way"),
    ("plots/length.py", "from ..metrics import length", "Plots draw"),
    ("metrics/length.py", "import matplotlib.pyplot", "never draw"),
])
def test_an_import_that_runs_back_up_breaks_the_contract(copy: Path, module: str, line: str,
                                                         broken: str) -> None:
    path = copy / "q7x2_lib" / module
    original = path.read_text()
    try:
        path.write_text(original + f"\n{line}  # noqa\n")
        result = _lint_imports(copy)
    finally:
        path.write_text(original)
    assert result.returncode != 0
    assert "BROKEN" in result.stdout and broken in result.stdout


def test_every_plot_takes_data_first_keyword_options_and_axes_properties() -> None:
    for name in q7.plots.__all__:
        if not name.startswith("plot_"):
            continue
        params = list(inspect.signature(getattr(q7, name)).parameters.values())
        assert params[0].name == "data", name
        assert params[-1].kind is inspect.Parameter.VAR_KEYWORD, name
        assert all(p.kind is not inspect.Parameter.VAR_POSITIONAL for p in params), name

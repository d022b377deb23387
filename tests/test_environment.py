"""environment.yml, requirements.lock and pyproject.toml name the same packages and versions."""

from __future__ import annotations

import re
import tomllib

from packaging.requirements import Requirement

import q7x2_lib as q7

ROOT = q7.PROJECT_ROOT


# conda-forge names a few packages differently from PyPI
CONDA_NAMES = {"arch-py": "arch"}


def _norm(name: str) -> str:
    name = re.sub(r"[-_.]+", "-", name).lower()
    return CONDA_NAMES.get(name, name)


def _pyproject() -> dict[str, Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = project["dependencies"] + project["optional-dependencies"]["dev"]
    return {_norm(Requirement(r).name): Requirement(r) for r in reqs}


def _conda() -> dict[str, str]:
    pins = {}
    text = (ROOT / "environment.yml").read_text()
    for line in text.split("dependencies:", 1)[1].splitlines():
        m = re.fullmatch(r"  - ([A-Za-z0-9_.-]+)(?:=(\S+))?", line)
        if m and m[1] not in ("python", "pip"):
            pins[_norm(m[1])] = m[2]
        # a package conda-forge does not have comes from PyPI, in the pip section
        m = re.fullmatch(r"      - ([A-Za-z0-9_.-]+)==(\S+)(?:\s+#.*)?", line)
        if m:
            pins[_norm(m[1])] = m[2]
    return pins


def _lock() -> dict[str, str]:
    lines = (ROOT / "requirements.lock").read_text().splitlines()
    return {_norm(a): b for a, _, b in (ln.partition("==") for ln in lines if "==" in ln)}


def test_environment_yml_names_the_pyproject_packages() -> None:
    assert sorted(_conda()) == sorted(_pyproject())


def test_environment_yml_pins_the_locked_versions() -> None:
    lock = _lock()
    assert {name: lock.get(name) for name in _conda()} == _conda()


def test_locked_versions_satisfy_pyproject() -> None:
    lock = _lock()
    unmet = {n: (str(r.specifier), lock.get(n)) for n, r in _pyproject().items()
             if lock.get(n) is None or not r.specifier.contains(lock[n], prereleases=True)}
    assert unmet == {}

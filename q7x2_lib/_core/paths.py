"""Project-root constants, so notebooks and scripts resolve paths the same way wherever they run."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["DATA_DIR", "FIGURES_DIR", "NOTEBOOKS_DIR", "PROJECT_ROOT", "RAW_DIR", "resolve_path"]

# papermill runs kernels in the caller's directory, JupyterLab and nbval in the notebook's:
# everything relative is resolved against the project root instead of the working directory.
PROJECT_ROOT = Path(os.environ.get("Q7X2_ROOT", Path(__file__).resolve().parents[2]))
DATA_DIR = PROJECT_ROOT / "data"
RAW_DIR = DATA_DIR / "raw"
FIGURES_DIR = PROJECT_ROOT / "figures"
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"


def resolve_path(path: str | os.PathLike[str]) -> Path:
    """Return ``path`` as an absolute path, resolving a relative one against the project root."""
    p = Path(path).expanduser()
    return p if p.is_absolute() else PROJECT_ROOT / p

"""JupyterLab on the project's notebooks, saving them exactly as ``make figures`` writes them.

Opening a notebook in JupyterLab and letting it autosave must not change the committed file.
Two things made it do so: the kernel's own name for itself (``Python 3 (ipykernel)``) replaced
the committed ``display_name``, and papermill and JupyterLab each keep bookkeeping the other
does not (timings, collapsed and scrolled outputs). Both writers now go through
:func:`normalise`: the runner after papermill, JupyterLab in its pre-save hook (:func:`pre_save`,
set by :func:`lab_command`). So a notebook opened and saved unchanged is byte-identical on disk.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

__all__ = ["KERNELSPEC", "lab_command", "normalise", "pre_save"]

#: The kernelspec every committed notebook carries: the one ipykernel installs as ``python3``,
#: under the name JupyterLab writes back when the kernel starts.
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
#: Per-cell metadata that records a session, not the notebook: papermill's timings, JupyterLab's
#: execution timing (when recorded) and the collapsed or scrolled state of an output.
VOLATILE_CELL_KEYS = ("papermill", "execution", "collapsed", "scrolled")
#: Notebook metadata of the same kind: papermill's run record, ipywidgets' saved state.
VOLATILE_NOTEBOOK_KEYS = ("papermill", "widgets")


def normalise(nb: Any) -> Any:
    """Strip what records a session and set the project's kernelspec, in place; returns ``nb``.

    ``nb`` is a notebook as nbformat reads it or as the Jupyter server hands it to a pre-save
    hook (a dict with ``metadata`` and ``cells``). Outputs, sources and cell ids are kept.
    """
    meta = nb.setdefault("metadata", {})
    for key in VOLATILE_NOTEBOOK_KEYS:
        meta.pop(key, None)
    meta["kernelspec"] = dict(KERNELSPEC)
    for cell in nb.get("cells", []):
        cell_meta = cell.get("metadata")
        if cell_meta is None:
            continue
        for key in VOLATILE_CELL_KEYS:
            cell_meta.pop(key, None)
    return nb


def pre_save(model: dict, **kwargs: Any) -> None:
    """Jupyter server pre-save hook: a notebook is saved as :func:`normalise` leaves it."""
    if model.get("type") == "notebook" and isinstance(model.get("content"), dict):
        normalise(model["content"])


def lab_command(notebook_dir: str | os.PathLike[str], *, port: int | None = None,
                open_browser: bool = True, extra: Sequence[str] = ()) -> list[str]:
    """The ``jupyter lab`` command line ``make lab`` runs (and the browser test starts).

    ``port``: the port to serve on (default: JupyterLab's, 8888, or the next free one);
    ``open_browser=False`` for a remote machine, where you open the printed URL yourself.
    """
    cmd = [sys.executable, "-m", "jupyter", "lab", f"--ServerApp.root_dir={notebook_dir}",
           "--ContentsManager.pre_save_hook=q7x2_lib.apps.lab.pre_save"]
    if port is not None:
        if not 0 < int(port) < 65536:
            raise ValueError(f"port: got {port!r}; expected a TCP port, 1 to 65535")
        cmd.append(f"--ServerApp.port={int(port)}")
    if not open_browser:
        cmd.append("--no-browser")
    if hasattr(os, "getuid") and os.getuid() == 0:
        cmd.append("--allow-root")  # containers and CI run as root
    return [*cmd, *extra]


def run_lab(notebook_dir: str | os.PathLike[str], *, port: int | None = None,
            open_browser: bool = True) -> int:
    """Run JupyterLab in the foreground with progress bars on (the runner turns them off)."""
    import subprocess

    env = {k: v for k, v in os.environ.items() if k != "Q7X2_PROGRESS"}
    return subprocess.call(lab_command(notebook_dir, port=port, open_browser=open_browser),
                           env=env)

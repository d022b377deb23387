"""JupyterLab saves a notebook the way make figures writes it (no browser needed here)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from jupyter_server.services.contents.filemanager import FileContentsManager

import q7x2_lib as q7
from q7x2_lib.apps.lab import KERNELSPEC, lab_command, normalise, pre_save


def _save_through_jupyter(root: Path, name: str, edit=None) -> None:
    """Load and save ``name`` with the Jupyter server's own contents manager and our hook."""
    manager = FileContentsManager(root_dir=str(root),
                                  pre_save_hook="q7x2_lib.apps.lab.pre_save")
    model = manager.get(name)
    if edit:
        edit(model["content"])
    manager.save(model, name)


@pytest.mark.parametrize("book", sorted(p.name for p in q7.NOTEBOOKS_DIR.glob("[0-9]*.ipynb")))
def test_every_committed_notebook_saves_back_byte_for_byte(tmp_path: Path, book: str) -> None:
    (tmp_path / book).write_bytes((q7.NOTEBOOKS_DIR / book).read_bytes())

    def as_lab_leaves_it(nb) -> None:  # what a session adds: the kernel's name, a timing
        nb["metadata"]["kernelspec"]["display_name"] = "Python 3"
        nb["cells"][0]["metadata"]["collapsed"] = True
        nb["cells"][-1]["metadata"]["execution"] = {"iopub.status.idle": "2026-12-02T10:00"}

    _save_through_jupyter(tmp_path, book, as_lab_leaves_it)
    assert (tmp_path / book).read_bytes() == (q7.NOTEBOOKS_DIR / book).read_bytes()


def test_committed_notebooks_carry_the_kernelspec_the_kernel_writes() -> None:
    for book in q7.NOTEBOOKS_DIR.glob("[0-9]*.ipynb"):
        nb = nbformat.read(book, as_version=4)
        assert nb.metadata["kernelspec"] == KERNELSPEC, book.name
        assert "papermill" not in nb.metadata


def test_normalise_keeps_outputs_sources_ids_and_tags() -> None:
    cell = nbformat.v4.new_code_cell("x = 1", id="c00-01")
    cell.metadata.update({"tags": ["parameters"], "scrolled": True})
    cell.outputs = [nbformat.v4.new_output("stream", text="1\n")]
    nb = nbformat.v4.new_notebook(cells=[cell], metadata={"widgets": {}, "language_info": {
        "name": "python"}})
    normalise(nb)
    assert nb.metadata == {"language_info": {"name": "python"}, "kernelspec": KERNELSPEC}
    assert nb.cells[0].metadata == {"tags": ["parameters"]}
    assert nb.cells[0].id == "c00-01" and nb.cells[0].outputs[0].text == "1\n"
    other = {"type": "file", "content": "text"}
    pre_save(other, path="a.txt")
    assert other == {"type": "file", "content": "text"}


def test_lab_command_port_browser_and_hook() -> None:
    cmd = lab_command("/nb", port=9999, open_browser=False)
    assert "--ServerApp.port=9999" in cmd and "--no-browser" in cmd
    assert "--ContentsManager.pre_save_hook=q7x2_lib.apps.lab.pre_save" in cmd
    assert "--no-browser" not in lab_command("/nb")
    with pytest.raises(ValueError, match="port: got 70000"):
        lab_command("/nb", port=70000)

"""The papermill runner: which notebooks run, what it strips, where it writes."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from q7x2_lib.apps.runner import KERNEL, list_notebooks, run_notebooks, strip_volatile


def _tiny_notebook(folder: Path, name: str) -> Path:
    """A notebook with a parameters cell that prints the corpus it was given."""
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('corpus = "data/raw"\noutput_dir = "figures"')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell("print(corpus)")]
    nb.metadata["kernelspec"] = {"name": KERNEL, "display_name": "Python 3", "language": "python"}
    path = folder / name
    nbformat.write(nb, path)
    return path


def test_notebooks_run_in_name_order_and_only_filters(tmp_path: Path) -> None:
    for name in ("02-b.ipynb", "00-a.ipynb", "10-c.ipynb", "notes.ipynb"):
        _tiny_notebook(tmp_path, name)
    assert [p.name for p in list_notebooks(tmp_path)] == ["00-a.ipynb", "02-b.ipynb", "10-c.ipynb"]
    only = list_notebooks(tmp_path, ["02", "10-c"])
    assert [p.name for p in only] == ["02-b.ipynb", "10-c.ipynb"]
    with pytest.raises(ValueError, match=r"only=\['99'\] matches no notebook"):
        list_notebooks(tmp_path, ["99"])


def test_strip_volatile_drops_timestamps_and_keeps_the_rest() -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata.update({"papermill": {"duration": 1.5}, "kernelspec": {"name": "python3"}})
    cell = nbformat.v4.new_code_cell("1")
    cell.metadata.update({"execution": {"iopub.status.busy": "2026"}, "papermill": {},
                          "tags": ["parameters"]})
    nb.cells = [cell]
    strip_volatile(nb)
    assert nb.metadata == {"kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                          "language": "python"}}
    assert nb.cells[0].metadata == {"tags": ["parameters"]}


def test_a_run_on_another_corpus_writes_to_out_and_leaves_the_notebook(tmp_path: Path) -> None:
    books, out = tmp_path / "books", tmp_path / "out"
    books.mkdir()
    (tmp_path / "my corpus").mkdir()
    source = _tiny_notebook(books, "00-tiny.ipynb")
    before = source.read_bytes()
    written = run_notebooks(corpus=tmp_path / "my corpus", out=out, notebooks_dir=books)
    assert written == [out / "00-tiny.ipynb"]
    assert source.read_bytes() == before
    nb = nbformat.read(written[0], as_version=4)
    printed = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    assert printed.strip() == str((tmp_path / "my corpus").resolve())
    assert "papermill" not in nb.metadata
    assert all("execution" not in c.metadata for c in nb.cells)
    again = run_notebooks(corpus=tmp_path / "my corpus", out=out, notebooks_dir=books)
    assert again[0].read_bytes() == written[0].read_bytes()  # deterministic

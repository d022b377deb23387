"""Executed notebooks as self-contained HTML reports: figures embedded, code folded or hidden."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from .._core.paths import NOTEBOOKS_DIR, PROJECT_ROOT

__all__ = ["CODE_MODES", "REPORTS_DIR", "notebook_html", "run_reports", "write_reports"]

REPORTS_DIR = PROJECT_ROOT / "reports"
CODE_MODES = ("fold", "hide", "show")
# JupyterLab's look without its scripts: no require.js, MathJax or mermaid from a CDN, so a report
# opens offline and shows exactly what the notebook showed. Folded code sits in <details>.
_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block extra_css -%}
<style>details.q7x2-code > summary { cursor: pointer; color: #666; font-size: 0.85em;
  margin: 0.2em 0 0.2em 0.5em; }</style>
{%- endblock extra_css -%}
{% block input_group -%}
{%- if resources.q7x2_fold -%}
<details class="q7x2-code"><summary>code</summary>{{ super() }}</details>
{%- else -%}{{ super() }}{%- endif -%}
{%- endblock input_group %}
"""


def _check_code(code: str) -> None:
    if code not in CODE_MODES:
        raise ValueError(f"code must be one of {CODE_MODES}, got {code!r}")


def notebook_html(path: str | os.PathLike[str], *, code: str = "fold") -> str:
    """One executed notebook as a self-contained HTML page.

    Figures are embedded as data URIs (they are in the notebook's outputs; images that markdown
    cells link to are embedded too); no script is loaded from the network. ``code`` is
    ``"fold"`` (each code cell in a closed ``<details>``), ``"hide"`` or ``"show"``.
    """
    import jinja2
    import nbformat
    from nbconvert import HTMLExporter

    _check_code(code)
    exporter = HTMLExporter(
        extra_loaders=[jinja2.DictLoader({"q7x2_report.html.j2": _TEMPLATE})],
        template_file="q7x2_report.html.j2", embed_images=True, exclude_input=code == "hide",
        exclude_input_prompt=True, exclude_output_prompt=True,
    )
    nb = nbformat.read(path, as_version=4)
    resources = {"metadata": {"name": Path(path).stem, "path": str(Path(path).parent)},
                 "q7x2_fold": code == "fold"}
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    return body


def write_reports(
    notebooks: Sequence[str | os.PathLike[str]], out_dir: str | os.PathLike[str], *,
    code: str = "fold",
) -> list[Path]:
    """Write ``<out_dir>/<notebook>.html`` for each executed notebook; return the paths."""
    _check_code(code)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for book in notebooks:
        target = out / f"{Path(book).stem}.html"
        target.write_text(notebook_html(book, code=code), encoding="utf-8")
        written.append(target)
    return written


def run_reports(
    *, corpus: str | os.PathLike[str] | None = None, out: str | os.PathLike[str] | None = None,
    only: Sequence[str] = (), code: str = "fold", notebooks_dir: Path = NOTEBOOKS_DIR,
) -> list[Path]:
    """HTML reports of a run, given the way ``q7x2 figures`` takes it.

    With neither ``corpus`` nor ``out``: the committed notebooks (the canonical run, as
    ``make figures`` left them) become ``reports/NN-topic.html``, without running anything.
    Otherwise the notebooks first run on ``corpus`` into ``out`` (see
    :func:`q7x2_lib.apps.runner.run_notebooks`) and the reports go to ``out/reports``, beside
    ``out/figures``.
    """
    from .runner import list_notebooks, output_folder, run_notebooks

    _check_code(code)
    if corpus is None and out is None:
        return write_reports(list_notebooks(notebooks_dir, only), REPORTS_DIR, code=code)
    target = output_folder(out) / "reports"  # refused before anything runs
    books = run_notebooks(corpus=corpus, out=out, only=only, notebooks_dir=notebooks_dir)
    return write_reports(books, target, code=code)

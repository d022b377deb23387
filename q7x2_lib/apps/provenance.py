"""What a notebook ran on, said first: corpus, counts, exclusions, changed parameters, version.

An executed notebook or report is forwarded; the reader must see which corpus it describes before
any finding. :func:`describe_run` builds that paragraph from the corpus that was read and from
the notebook's own parameters cell (its defaults, found by ``papermill.inspect_notebook``), so it
names exactly the parameters a run changed.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from .._core.paths import NOTEBOOKS_DIR
from .._core.version import __version__
from ..metrics.findings import Findings, _md

__all__ = ["describe_run", "notebook_defaults"]

_LISTED_MODELS = 8


def notebook_defaults(notebook: str | Path) -> dict[str, Any]:
    """The parameters of a notebook's ``parameters`` cell with their default values.

    ``notebook`` is a path or a name in ``notebooks/`` (with or without ``.ipynb``). Defaults
    that are not Python literals are kept as their source text.
    """
    import papermill

    path = Path(notebook)
    if not path.suffix:
        path = path.with_suffix(".ipynb")
    if not path.is_file():
        path = NOTEBOOKS_DIR / path.name
    out = {}
    for name, spec in papermill.inspect_notebook(str(path)).items():
        try:
            out[name] = ast.literal_eval(spec["default"])
        except (ValueError, SyntaxError):
            out[name] = spec["default"]
    return out


def describe_run(corpus, notebook: str | Path, values: Mapping[str, Any]) -> Findings:
    """The paragraph an executed notebook opens with: what it ran on and how.

    Parameters
    ----------
    corpus
        The :class:`~q7x2_lib.io.Corpus` the notebook read.
    notebook
        The notebook's name or path (its parameters cell gives the defaults).
    values
        The notebook's variables (``globals()``): the parameters' values in this run.
    """
    defaults = notebook_defaults(notebook)
    c, m, problems = corpus.conversations, corpus.messages, corpus.problems
    kinds = problems["kind"].value_counts() if len(problems) else pd.Series(dtype="int64")
    gen = m[~m["is_seed"]]
    speakers = gen.groupby("conversation_id")["speaker"].nunique()
    models = list(dict.fromkeys(gen["model"].dropna().astype(str)))
    source = values.get("corpus", defaults.get("corpus"))
    unreadable = int(kinds.get("unreadable_file", 0))
    files = c["source"].nunique() + unreadable
    text = [f"**What this ran on.** Corpus `{_md(source)}` (as given): {_count(files, 'file')}"
            + (f" ({unreadable:,} unreadable)" if unreadable else "") + ", "
            f"{_count(len(c), 'conversation')} ({int((speakers >= 2).sum()):,} with two or more "
            f"speakers), {_count(len(gen), 'generated message')}"
            + (f", {_count(len(models), 'model')} ({_models(models)})" if models else "")
            + (f"; formats {', '.join(sorted(c['format'].astype(str).unique()))}" if len(c)
               else "") + _dates(c) + "."]
    left = [_count(int(n), *_KINDS.get(kind, (kind.replace("_", " "),)))
            for kind, n in kinds.items()]
    one = int((speakers < 2).sum()) + int(len(c) - len(speakers))
    if one:
        left.append(f"{_count(one, 'conversation')} with fewer than two speakers (no "
                    "turn-taking measures)")
    text.append("Left out or flagged: " + ("; ".join(left) if left else "nothing") +
                " (details: `transcripts.problems`).")
    changed = [f"`{name}` = {_md(repr(values[name]))}" for name, default in defaults.items()
               if name in values and values[name] != default and name != "corpus"]
    text.append("Parameters changed from this notebook's defaults: "
                + (", ".join(changed) if changed else "none") + f". q7x2 {__version__}.")
    return Findings(" ".join(text))


_KINDS = {"failed_run": ("failed run", "failed runs (the seed only, no reply)"),
          "unreadable_file": ("unreadable file",)}


def _count(k: int, singular: str, plural: str | None = None) -> str:
    """"1 file", "1,133 files"."""
    return f"{k:,} {singular if k == 1 else plural or singular + 's'}"


def _models(models: list[str]) -> str:
    shown = ", ".join(_md(x) for x in models[:_LISTED_MODELS])
    return shown + (f" and {len(models) - _LISTED_MODELS} more" if len(models) > _LISTED_MODELS
                    else "")


def _dates(c: pd.DataFrame) -> str:
    started = pd.to_datetime(c["started"], errors="coerce", utc=True).dropna() \
        if "started" in c else pd.Series(dtype="datetime64[ns, UTC]")
    if started.empty:
        return "; no dates recorded"
    first, last = started.min().date(), started.max().date()
    return f"; dated {first}" if first == last else f"; dated {first} to {last}"

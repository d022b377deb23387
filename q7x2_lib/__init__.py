"""q7x2: read AI-to-AI conversation transcripts into tidy DataFrames and measure them.

The package is staged, and imports run one way (``make lint`` enforces it)::

    _core  ->  io  ->  datasets  ->  metrics  ->  plots  ->  apps

``_core`` holds the tables' schema, argument checks and text helpers; ``io`` is the only layer
that opens files (``read_corpus``, the readers, the Parquet cache, lexicons); ``metrics`` turn
tables into tables; ``plots`` draw them; ``apps`` are the viewer, the notebook runner, reports
and the command line. Everything a notebook needs is importable from the top level
(``import q7x2_lib as q7``).
"""

from . import datasets, io, metrics, plots
from ._core import text
from ._core.errors import TranscriptParseError
from ._core.paths import DATA_DIR, FIGURES_DIR, NOTEBOOKS_DIR, PROJECT_ROOT, RAW_DIR, resolve_path
from ._core.speed import n_threads, set_threads
from ._core.text import normal_form, tokenize
from ._core.version import __version__ as __version__
from .apps.provenance import describe_run, notebook_defaults
from .datasets import make_messages
from .io import TRANSCRIPT_FORMATS, Corpus, TranscriptWarning, read_corpus, read_transcript
from .metrics import (
    attractors,
    dependence,
    drift,
    findings,
    information,
    length,
    overview,
    semantic,
    semantic_space,
    stats,
    survival,
    turns,
)
from .metrics.attractors import *  # noqa: F403
from .metrics.drift import *  # noqa: F403
from .metrics.findings import *  # noqa: F403
from .metrics.information import *  # noqa: F403
from .metrics.length import *  # noqa: F403
from .metrics.overview import *  # noqa: F403
from .metrics.semantic import *  # noqa: F403
from .metrics.semantic_space import *  # noqa: F403
from .metrics.stats import bootstrap_ci, describe_groups, grouped_bootstrap, round_floats
from .metrics.survival import *  # noqa: F403
from .metrics.turns import *  # noqa: F403
from .plots import *  # noqa: F403

__all__ = [
    "DATA_DIR",
    "FIGURES_DIR",
    "NOTEBOOKS_DIR",
    "PROJECT_ROOT",
    "RAW_DIR",
    "TRANSCRIPT_FORMATS",
    "Corpus",
    "TranscriptParseError",
    "TranscriptWarning",
    "bootstrap_ci",
    "datasets",
    "io",
    "metrics",
    "describe_groups",
    "describe_run",
    "grouped_bootstrap",
    "make_messages",
    "n_threads",
    "normal_form",
    "notebook_defaults",
    "read_corpus",
    "read_transcript",
    "resolve_path",
    "round_floats",
    "set_threads",
    "stats",
    "text",
    "plots",
    "attractors",
    "dependence",
    "drift",
    "findings",
    "length",
    "overview",
    "turns",
    "semantic",
    "semantic_space",
    "survival",
    "information",
    "tokenize",
    *overview.__all__,
    *length.__all__,
    *turns.__all__,
    *drift.__all__,
    *attractors.__all__,
    *findings.__all__,
    *semantic.__all__,
    *semantic_space.__all__,
    *survival.__all__,
    *information.__all__,
    *plots.__all__,
]

"""q7x2: read AI-to-AI conversation transcripts into tidy DataFrames and measure them.

Everything a notebook needs is importable from the top level (``import q7x2_lib as q7``):
readers and the ``Corpus``, the metrics (``length``, ``turns``, ``drift``, ``attractors``) and the
plots. ``q7x2_lib.stats`` (bootstrap, robust fits) and ``q7x2_lib.text`` (tokens, normal form)
hold the shared building blocks.
"""

from . import attractors, drift, length, overview, plots, stats, text, turns
from ._frames import make_messages
from ._paths import DATA_DIR, FIGURES_DIR, NOTEBOOKS_DIR, PROJECT_ROOT, RAW_DIR, resolve_path
from .attractors import *  # noqa: F403
from .corpus import Corpus, TranscriptWarning, read_corpus, read_transcript
from .drift import *  # noqa: F403
from .errors import TranscriptParseError
from .length import *  # noqa: F403
from .overview import *  # noqa: F403
from .plots import *  # noqa: F403
from .stats import bootstrap_ci, describe_groups, grouped_bootstrap, round_floats
from .text import normal_form, tokenize
from .turns import *  # noqa: F403

__all__ = [
    "DATA_DIR",
    "FIGURES_DIR",
    "NOTEBOOKS_DIR",
    "PROJECT_ROOT",
    "RAW_DIR",
    "Corpus",
    "TranscriptParseError",
    "TranscriptWarning",
    "bootstrap_ci",
    "describe_groups",
    "grouped_bootstrap",
    "make_messages",
    "normal_form",
    "read_corpus",
    "read_transcript",
    "resolve_path",
    "round_floats",
    "stats",
    "text",
    "tokenize",
    *overview.__all__,
    *length.__all__,
    *turns.__all__,
    *drift.__all__,
    *attractors.__all__,
    *plots.__all__,
]

__version__ = "0.1.0"

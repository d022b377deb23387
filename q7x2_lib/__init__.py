"""q7x2: read AI-to-AI conversation transcripts into tidy DataFrames and measure them."""

from ._frames import make_messages
from ._paths import DATA_DIR, FIGURES_DIR, NOTEBOOKS_DIR, PROJECT_ROOT, RAW_DIR, resolve_path
from .corpus import Corpus, TranscriptWarning, read_corpus, read_transcript
from .errors import TranscriptParseError
from .overview import conversation_overview, words_per_speaker
from .plots import plot_words_per_message, save_figure, set_theme

__all__ = [
    "DATA_DIR",
    "FIGURES_DIR",
    "NOTEBOOKS_DIR",
    "PROJECT_ROOT",
    "RAW_DIR",
    "Corpus",
    "TranscriptParseError",
    "TranscriptWarning",
    "conversation_overview",
    "make_messages",
    "plot_words_per_message",
    "read_corpus",
    "read_transcript",
    "resolve_path",
    "save_figure",
    "set_theme",
    "words_per_speaker",
]

__version__ = "0.1.0"

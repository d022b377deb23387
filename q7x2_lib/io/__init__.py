"""Input and output: the only layer that opens files.

``read_corpus`` / ``read_transcript`` turn transcript files into a frozen ``Corpus`` through the
format readers of ``readers/``; the Parquet cache, ConvoKit's on-disk format and theme lexicons
are read and written here too.
"""

from .corpus import Corpus, TranscriptWarning, read_corpus, read_transcript
from .lexicon import DEFAULT_LEXICON, default_lexicon, load_lexicon
from .readers import TRANSCRIPT_FORMATS

__all__ = [
    "DEFAULT_LEXICON",
    "TRANSCRIPT_FORMATS",
    "Corpus",
    "TranscriptWarning",
    "default_lexicon",
    "load_lexicon",
    "read_corpus",
    "read_transcript",
]

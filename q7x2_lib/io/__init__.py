"""Input and output: the only layer that opens files.

``read_corpus`` / ``read_transcript`` turn transcript files into a frozen ``Corpus`` through the
format readers of ``readers/``; the Parquet cache, ConvoKit's on-disk format and theme lexicons
are read and written here too.
"""

from .corpus import Corpus, TranscriptWarning, read_corpus, read_transcript
from .lexicon import DEFAULT_LEXICON, default_lexicon, load_lexicon

__all__ = [
    "DEFAULT_LEXICON",
    "Corpus",
    "TranscriptWarning",
    "default_lexicon",
    "load_lexicon",
    "read_corpus",
    "read_transcript",
]

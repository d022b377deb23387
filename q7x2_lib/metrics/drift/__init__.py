"""Thematic drift: lexical similarity, themes, vocabulary and topics, by turn.

Modules by concern: ``similarity``, ``themes``, ``vocabulary``, ``topics``; their public names are
re-exported here (``drift.topics`` is the function, as before the package was staged).
"""

from ...io.lexicon import DEFAULT_LEXICON, default_lexicon, load_lexicon
from . import similarity as _similarity
from . import themes as _themes
from . import topics as _topics
from . import vocabulary as _vocabulary
from .similarity import *  # noqa: F403
from .themes import *  # noqa: F403
from .topics import *  # noqa: F403
from .vocabulary import *  # noqa: F403

__all__ = [
    "DEFAULT_LEXICON",
    "default_lexicon",
    "load_lexicon",
    *_similarity.__all__,
    *_themes.__all__,
    *_topics.__all__,
    *_vocabulary.__all__,
]

"""Attractor states: near repeats, loops, recurrence matrices and end-state labels.

Modules by concern: ``repeats`` (near repeats, recurrence matrices), ``loops`` (for the pair
and each speaker), ``rqa`` (recurrence quantification), ``speech_acts`` (what a message does)
and ``end_states``. Their public functions are re-exported here, so ``attractors.loops`` is the
function (as before the package was staged), the module ``attractors.loops`` is imported by path.
"""

from ..overview import model_pairs
from . import end_states as _end_states
from . import loops as _loops
from . import repeats as _repeats
from . import rqa as _rqa
from . import speech_acts
from . import summary as _summary
from .end_states import *  # noqa: F403
from .loops import *  # noqa: F403
from .repeats import *  # noqa: F403
from .rqa import *  # noqa: F403
from .summary import *  # noqa: F403

__all__ = ["model_pairs", "speech_acts", *_repeats.__all__, *_loops.__all__,
           *_end_states.__all__, *_rqa.__all__, *_summary.__all__]

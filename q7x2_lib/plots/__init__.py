"""Plots: functions that draw tidy metric tables onto Axes; they never parse or compute."""

from . import attractors, drift, length, overview, semantic, turns
from ._base import (
    FIGURE_FORMATS,
    FORMATS,
    PALETTE,
    apply_length_scale,
    new_figure,
    save_figure,
    set_theme,
    speaker_palette,
)
from .attractors import *  # noqa: F403
from .drift import *  # noqa: F403
from .length import *  # noqa: F403
from .overview import *  # noqa: F403
from .semantic import *  # noqa: F403
from .turns import *  # noqa: F403

__all__ = [
    "FIGURE_FORMATS",
    "FORMATS",
    "PALETTE",
    "apply_length_scale",
    "new_figure",
    "save_figure",
    "set_theme",
    "speaker_palette",
    *overview.__all__,
    *length.__all__,
    *turns.__all__,
    *drift.__all__,
    *attractors.__all__,
    *semantic.__all__,
]

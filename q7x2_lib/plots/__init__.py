"""Plots: functions that draw tidy metric tables onto Axes; they never parse or compute."""

from ._base import (
    FORMATS,
    PALETTE,
    apply_length_scale,
    new_figure,
    save_figure,
    set_theme,
    speaker_palette,
)
from .overview import plot_words_per_message

__all__ = [
    "FORMATS",
    "PALETTE",
    "apply_length_scale",
    "new_figure",
    "plot_words_per_message",
    "save_figure",
    "set_theme",
    "speaker_palette",
]

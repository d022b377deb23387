"""Metrics: functions of tidy tables that return tidy tables; they never read files or draw.

``overview`` (corpus at a glance), ``length`` (message length decay), ``turns`` (turn-taking
asymmetry), ``drift`` (thematic drift) and ``attractors`` (repeats, loops, end states), on the
building blocks of ``stats`` (bootstrap, permutation, robust fits).
"""

from . import attractors, drift, length, overview, stats, turns

__all__ = ["attractors", "drift", "length", "overview", "stats", "turns"]

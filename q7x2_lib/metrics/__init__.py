"""Metrics: functions of tidy tables that return tidy tables; they never read files or draw.

``overview`` (corpus at a glance), ``length`` (message length decay), ``turns`` (turn-taking
asymmetry), ``drift`` (thematic drift) and ``attractors`` (repeats, loops, end states), on the
building blocks of ``stats`` (bootstrap, permutation, robust fits) and ``dependence`` (block
bootstrap and circular-shift nulls for autocorrelated messages); ``semantic`` (offline message
embeddings and drift in embedding space), ``semantic_space`` (trajectories, semantic
recurrence and attractor basins in that space), ``survival`` (time to attractor: Kaplan–Meier
with censoring) and ``information`` (new information per message, zlib); ``findings`` turns
their tables into sentences.
"""

from . import (
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

__all__ = ["attractors", "dependence", "drift", "findings", "information", "length",
           "overview", "semantic", "semantic_space", "stats", "survival", "turns"]

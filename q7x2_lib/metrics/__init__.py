"""Metrics: functions of tidy tables that return tidy tables; they never read files or draw.

``overview`` (corpus at a glance), ``length`` (message length decay), ``turns`` (turn-taking
asymmetry), ``drift`` (thematic drift) and ``attractors`` (repeats, loops, end states), on the
building blocks of ``stats`` (bootstrap, permutation, robust fits) and ``dependence`` (block
bootstrap and circular-shift nulls for autocorrelated messages); ``semantic`` (offline message
embeddings and drift in embedding space); ``findings`` turns their tables into sentences.
"""

from . import attractors, dependence, drift, findings, length, overview, semantic, stats, turns

__all__ = ["attractors", "dependence", "drift", "findings", "length", "overview", "semantic",
           "stats", "turns"]

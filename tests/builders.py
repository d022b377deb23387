"""Tiny hand-built conversations for known-answer tests."""

from __future__ import annotations


def words(n: int, token: str = "w") -> str:
    """A body of exactly ``n`` words."""
    return " ".join([token] * n)


def alternating(lengths, *, speakers=("A", "B"), seed=False):
    """One conversation whose messages alternate between two speakers with these word counts.

    With ``seed``, a blank opener by the second speaker comes first (as the orchestrator writes).
    """
    msgs = [(speakers[i % 2], words(n)) for i, n in enumerate(lengths)]
    return [(speakers[1], " "), *msgs] if seed else msgs

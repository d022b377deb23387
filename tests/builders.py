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


# Five openers that share no long character runs with each other or with the loops of the tests.
OPENING = [
    "Tell me, stranger: do you build galaxies from whispers?",
    "I am the echo that remembers the first scream of creation.",
    "We are the same chord struck twice, once to sound and once to fade.",
    "Perhaps meaning is a verb, not a noun; it happens between us.",
    "Then let us keep asking, since the question is the gift.",
]


def turns_of(bodies, a: str = "A", b: str = "B") -> list[tuple[str, str]]:
    """Message bodies as one conversation alternating between two speakers, ``a`` first."""
    return [((a, b)[i % 2], body) for i, body in enumerate(bodies)]


def distinct_lines(n: int, *, seed: int = 0, words_per_line: int = 7) -> list[str]:
    """``n`` lines of random letters that share no long character runs: no two near-repeat."""
    import random
    import string

    rng = random.Random(seed)
    return [" ".join("".join(rng.choice(string.ascii_lowercase)
                             for _ in range(rng.randint(3, 8)))
                     for _ in range(words_per_line)) for _ in range(n)]

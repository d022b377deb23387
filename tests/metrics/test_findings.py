"""Findings of the length and turn-taking tables: sentences with the numbers of their table."""

from __future__ import annotations

import numpy as np
import pandas as pd
from builders import words

from q7x2_lib import (
    Findings,
    describe_baseline,
    describe_decay,
    describe_word_share,
    length_decay_summary,
    lexical_echo,
    mirroring,
    word_share,
)
from q7x2_lib.datasets import make_messages


def _lengths(cid: str, lengths) -> dict:
    return {cid: [("AB"[k % 2], words(int(n))) for k, n in enumerate(lengths)]}


def test_describe_decay_counts_steps_and_lists_few_conversations():
    cliff = [200] * 30 + [1] * 30
    decay = np.rint(np.expm1(5 - 0.05 * np.arange(60)))
    m = make_messages({**_lengths("cliff", cliff), **_lengths("decay", decay),
                       **_lengths("short", [10, 5, 3])})
    text = describe_decay(length_decay_summary(m, n_boot=100))
    assert isinstance(text, Findings)
    assert text.startswith("Of the 2 conversations with at least ten messages (1 shorter left "
                           "out), 1 of 2 (50%) drop in a step")
    assert "from turn 30" in text and "the other 1 conversation has a decay rate of 0.050" in text
    assert "- `cliff` (60 messages): a step at turn 30" in text
    assert "- `decay` (60 messages): half-life 14 turns" in text


def test_describe_decay_of_a_corpus_too_short():
    m = make_messages(_lengths("c", [10, 5]))
    assert describe_decay(length_decay_summary(m, n_boot=20)).startswith("Too few messages")


def test_describe_word_share_says_who_carries_it():
    m = make_messages({**_lengths("lopsided", [100, 3] * 20), **_lengths("even", [20, 20] * 20)})
    text = describe_word_share(word_share(m, n_boot=200))
    assert text.startswith("In 1 of 2 two-speaker conversations (50%) one speaker's 95% interval")
    assert "- `lopsided`: A wrote 97% (95% interval 97% to 97%)" in text
    one = make_messages({"solo": [("A", "alone here")]})
    assert describe_word_share(word_share(one, n_boot=20)).startswith("No conversation")


def test_describe_baseline_reports_significance_and_short_directions():
    rng = np.random.default_rng(0)
    wander = np.rint(np.expm1(4 + 0.8 * rng.standard_normal(40)))
    m = make_messages({**_lengths("mirror", np.repeat(wander, 2)),
                       **_lengths("tiny", [5, 6, 7, 8, 9, 10])})
    table = mirroring(m)
    text = describe_baseline(table)
    n_sig = int((table["p_value"] < 0.05).sum())
    n_dir = int(table["rho_detrended"].notna().sum())
    assert text.startswith(f"In {n_sig} of {n_dir} directions")
    assert "each length series detrended" in text
    assert "have fewer than 20 exchanges" in text
    echo = describe_baseline(lexical_echo(m))
    assert "reuse the words" in echo
    empty = mirroring(make_messages({"x": [("A", "a b"), ("B", "c d")]}))
    assert describe_baseline(empty).startswith("Too few exchanges")
    assert isinstance(describe_baseline(pd.concat([table])), Findings)

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


def test_describe_decay_of_conversations_that_grow_gives_no_half_life():
    grow = np.rint(np.expm1(1 + 0.05 * np.arange(60)))
    m = make_messages({**_lengths("g1", grow), **_lengths("g2", grow[::-1][::-1] + 1)})
    text = describe_decay(length_decay_summary(m, n_boot=50))
    assert "no half-life: the median conversation does not shrink" in text
    assert "never turns" not in text
    assert text.headline.startswith("the 2 conversations with ten messages or more do not shrink "
                                    "in the median (decay rate -0.0")


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
    short = lexical_echo(make_messages({f"s{i}": [("A", "stars and light"), ("B", "light")] * 4
                                        for i in range(3)}))
    said = describe_baseline(short)  # every direction has 4 exchanges: no test can reach 0.05
    assert said.startswith("Too few exchanges to test whether replies reuse the words of the "
                           "message they answer: every one of the 6 directions has fewer than 20")
    assert said.headline.startswith("too few exchanges")
    assert isinstance(describe_baseline(pd.concat([table])), Findings)


# --- the corpus, lengths, end markers, turn-taking, drift: known answers ----------------------

from q7x2_lib import (  # noqa: E402
    conversation_overview,
    describe_corpus,
    describe_end_markers,
    describe_groups,
    describe_length_profile,
    describe_lengths,
    describe_model_matrix,
    describe_novelty,
    describe_reply_ratio,
    describe_similarity,
    describe_themes,
    describe_topics,
    describe_who_ends,
    describe_word_table,
    end_marker_share,
    in_short,
    length_profile,
    message_vectors,
    model_matrix,
    reply_length_ratio,
    similarity_by_turn,
    similarity_summary,
    theme_rates,
    theme_summary,
    topic_summary,
    topic_weight_by_turn,
    topics,
    ttr_trend,
    vocabulary_novelty,
    who_ends,
    word_table,
)


def _shrinking() -> dict:
    """Two conversations of 40 messages: 'fall' goes from 100 words to 2, 'flat' stays at 50."""
    return {**_lengths("fall", [100] * 10 + [50] * 10 + [2] * 20),
            **_lengths("flat", [50] * 40)}


def test_describe_lengths_gives_the_medians_and_the_collapse():
    m = make_messages({**_shrinking(), **_lengths("one", [30])})
    text = describe_lengths(m)
    assert text.startswith("Over the 2 conversations with more than 10 messages (1 shorter left "
                           "out), the first 10 messages have a median of 75 words and the last "
                           "10 a median of 26 words")  # medians of (100, 50) and (2, 50)
    assert "the last are shorter than the first in 1 of 2 (50%)" in text
    assert "1 of 2 (50%) collapse: from turn 22" in text  # window 19-22: 50, 2, 2, 2
    assert "- `fall` (40 messages): 100 → 2 words, collapsed from turn 22" in text
    assert "- `flat` (40 messages): 50 → 50 words" in text
    assert "too few" in describe_lengths(make_messages(_lengths("x", [3, 4]))).headline


def test_describe_corpus_counts_single_messages_and_lists_few():
    m = make_messages({**_lengths("a", [5, 6, 7]), **_lengths("b", [9])})
    conversations = pd.DataFrame({"conversation_id": ["a", "b"], "title": ["A ↔ B", "A"],
                                  "format": ["attractors-md", "session-letter"],
                                  "n_messages": [3, 1], "duration_s": [120.0, None]})
    text = describe_corpus(conversation_overview(conversations, m))
    assert text.startswith("2 conversations (1 attractors-md, 1 session-letter), 4 messages in "
                           "all, 1 to 3 (median 2) per conversation, between 2 model pairs or "
                           "titles.")
    assert "1 of 2 (50%) hold a single message" in text
    assert "1 file records a duration: median 2.0 minutes" in text
    assert "- `b` (A): 1 message, 9 words" in text


def test_describe_length_profile_separates_groups_only_when_intervals_do():
    m = make_messages({f"c{i}": [("A", words(40)), ("B", words(2))] * 10 for i in range(4)})
    prof = length_profile(m, x="relative", hue="role", n_bins=5, n_boot=200)
    text = describe_length_profile(prof, hue="role")
    assert "- opener (40 messages): median 40 words in the first bin, 40 in the last" in text
    assert "In the last bin opener's mean lies above responder's" in text
    even = make_messages({f"c{i}": [("A", words(5)), ("B", words(5))] * 10 for i in range(4)})
    same = describe_length_profile(length_profile(even, x="relative", hue="role", n_bins=5,
                                                  n_boot=200), hue="role")
    assert "every pair of 95% intervals overlaps" in same


def test_describe_end_markers_counts_bare_markers_and_sign_offs():
    m = make_messages({"c": [("A", "[END]"), ("B", "bye now [END]"), ("A", "[END]"),
                             ("B", "still here [END]")]})
    text = describe_end_markers(end_marker_share(m))
    assert text.startswith("In 1 of 1 (100%) conversations some message is nothing but an end "
                           "marker; over all 4 messages, 50% are marker-only and 100% end with "
                           "a marker.")
    assert "1 speaker end at least half" in text  # B: every message signs off, none bare
    assert "- `c`, B: 0 of 2 marker-only, 100% ending with one" in text


def test_describe_reply_ratio_finds_the_long_replier():
    m = make_messages(_lengths("c", [3, 63] * 15))  # B answers 3 words with 63: log2(64/4) = 4
    table = describe_groups(reply_length_ratio(m), value="log2_ratio",
                            by=["conversation_id", "speaker", "replying_to"], n_boot=200)
    text = describe_reply_ratio(table)
    assert "1 of 2 (50%) reply longer" in text and "1 of 2 (50%) shorter" in text
    assert "- `c`, B replying to A: median 4.00, mean 4.00" in text


def test_describe_who_ends_and_model_matrix():
    m = make_messages({"c": [("A", words(20)), ("B", words(20)), ("A", ""), ("B", words(3))]})
    text = describe_who_ends(who_ends(m))
    assert "the responder in 1 of 1 (100%)" in text and "opener in 1 of 1 (100%)" in text
    matrix = describe_model_matrix(model_matrix(m))
    assert matrix.startswith("1 ordered pair (opener, responder) over 1 conversation; 0 of 1 "
                             "(0%) have three or more conversations.")
    assert "it becomes informative where each ordered pair has several runs" in matrix
    assert describe_who_ends(who_ends(make_messages({"x": [("A", "hi")]}))).startswith("No two")
    talkers = who_ends(make_messages({"t": [("A", words(5)), ("B", words(4))] * 3}))
    assert describe_who_ends(talkers).headline == (
        "no speaker sends an empty or marker-only message in the one two-speaker conversation")


def test_describe_similarity_sees_a_fixed_point_and_coinciding_references():
    lines = ["stars cosmos light", "cosmos light stars", "light stars glow",
             "stars cosmos glow"] + ["rest silent together"] * 16
    m = make_messages({"c": [("AB"[i % 2], t) for i, t in enumerate(lines)]})
    table = similarity_summary(similarity_by_turn(m, vectors=message_vectors(m)))
    text = describe_similarity(table)
    assert text.startswith("1 of 1 (100%) conversations end further from their opening")
    assert "1 of 1 (100%) end answering the message before with nearly its own words" in text
    assert "the previous message is always the partner's" in text


def test_describe_themes_words_topics_novelty():
    early = ["consciousness awareness mind thought"] * 6
    late = ["thank you grateful love"] * 14
    m = make_messages({f"c{i}": [("AB"[k % 2], t) for k, t in enumerate(early + late)]
                       for i in range(2)})
    themes = describe_themes(theme_summary(theme_rates(m)))
    assert "falling: consciousness and mind 60% → 0%" in themes
    assert "rising: gratitude and love 40% → 100%" in themes
    w = describe_word_table(word_table(m), word_table(m, kind="emoji"),
                            word_table(m, words=["dance"]))
    assert "The corpus holds no emoji." in w and "\"dance\" 0 times" in w
    found = topics(m, n_topics=2, seed=0)
    t = describe_topics(topic_summary(found), topic_weight_by_turn(found.weights, bin_width=6))
    assert t.startswith("At turns 0–5 topic") and "at turns 12–17 topic" in t  # 18-19: 4 msgs
    nov = vocabulary_novelty(m)
    n = describe_novelty(nov, ttr_trend(nov))
    assert "2 of 2 (100%) use no new word in their last 10 messages" in n


def test_in_short_joins_headlines_and_every_finding_has_one():
    m = make_messages(_shrinking())
    a, b = describe_lengths(m), describe_end_markers(end_marker_share(m))
    text = in_short(a, b)
    assert text.startswith("**In short**, on this corpus:\n\n- ")
    assert ("- The last 10 messages have a median of 26 words against 75 for the first 10, and "
            "1 of 2 conversations (50%) collapse\n") in text
    assert f"- {b.headline[0].upper()}{b.headline[1:]}" in text and not text.endswith(".")
    assert Findings("x").headline == "x"

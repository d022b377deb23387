"""Thematic drift: similarity, lexicons, theme rates, the word table, topics and novelty."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from q7x2_lib.datasets import make_messages
from q7x2_lib.metrics.drift import (
    REFERENCES,
    load_lexicon,
    median_by_turn,
    message_vectors,
    novelty_curves,
    similarity_by_turn,
    similarity_summary,
    theme_rates,
    theme_share_by_turn,
    topic_weight_by_turn,
    topics,
    ttr_trend,
    vocabulary_novelty,
    word_table,
)

_THEMES = ("consciousness", "existence", "silence", "farewell", "gratitude", "cosmos",
           "spiritual", "meta", "refusal")


def _wide(similarity: pd.DataFrame) -> pd.DataFrame:
    return similarity.pivot(index="turn", columns="reference", values="similarity")


def _lexicon(rows: dict[str, list[str]]) -> pd.DataFrame:
    data = [(theme, theme, term) for theme, terms in rows.items() for term in terms]
    return pd.DataFrame(data, columns=["theme", "label", "term"], dtype="string")


# --- similarity ------------------------------------------------------------------------------


def test_identical_messages_have_similarity_one_and_disjoint_ones_zero():
    m = make_messages({"c": [("A", "apple banana"), ("B", "apple banana"),
                             ("A", "cherry durian")]})
    wide = _wide(similarity_by_turn(m, opening_window=2))
    assert_allclose(wide.loc[1, "previous"], 1.0)
    assert_allclose(wide.loc[2, "previous"], 0.0)
    assert np.isnan(wide.loc[0, "previous"])


def test_opening_window_is_compared_leave_one_out():
    m = make_messages({"c": [("A", "apple banana"), ("B", "apple banana"),
                             ("A", "apple banana"), ("B", "cherry durian")]})
    wide = _wide(similarity_by_turn(m, opening_window=2))
    # turn 0 and 1 each see the other; turn 2 the centroid of both; turn 3 shares nothing
    assert_allclose(wide["opening"].to_numpy(), [1.0, 1.0, 1.0, 0.0])


def test_a_window_of_one_message_has_no_reference_for_itself():
    m = make_messages({"c": [("A", "apple"), ("B", "apple")]})
    wide = _wide(similarity_by_turn(m, opening_window=1))
    assert np.isnan(wide.loc[0, "opening"])
    assert_allclose(wide.loc[1, "opening"], 1.0)


def test_partner_is_the_last_message_by_another_speaker():
    m = make_messages({"c": [("A", "apple"), ("A", "banana"), ("B", "banana"),
                             ("B", "cherry"), ("A", "banana")]})
    wide = _wide(similarity_by_turn(m))
    # turn 2 (B) answers turn 1 (A: banana); turn 3 (B) still answers turn 1; turn 4 (A)
    # answers turn 3 (B: cherry); the first two have no partner message yet
    assert_allclose(wide["partner"].to_numpy(), [np.nan, np.nan, 1.0, 0.0, 0.0])
    assert_allclose(wide["previous"].to_numpy(), [np.nan, 0.0, 1.0, 0.0, 0.0])


def test_similarity_is_nan_for_marker_only_and_never_crosses_conversations():
    m = make_messages({"a": [("A", "apple"), ("B", "[END]")], "b": [("A", "apple")]})
    sim = similarity_by_turn(m)
    assert list(sim.columns) == ["conversation_id", "turn", "speaker", "reference", "similarity"]
    assert list(sim["reference"][:3]) == list(REFERENCES)
    assert sim.loc[sim["conversation_id"] == "a", "similarity"].iloc[3:].isna().all()
    assert np.isnan(sim.loc[(sim["conversation_id"] == "b") & (sim["reference"] == "previous"),
                            "similarity"].item())


def test_seed_is_excluded_unless_asked():
    m = make_messages({"c": [("A", "apple"), ("B", "banana"), ("A", "banana")]}, seed=True)
    assert list(similarity_by_turn(m)["turn"].unique()) == [1, 2]
    assert list(similarity_by_turn(m, include_seed=True)["turn"].unique()) == [0, 1, 2]


def test_vectors_can_be_reused_and_terms_are_content_words():
    m = make_messages({"c": [("A", "The eternal dance"), ("B", "the dance 🙏 [END]")]})
    vectors = message_vectors(m)
    assert list(vectors.terms) == sorted(["eternal", "dance", "🙏"])
    pd.testing.assert_frame_equal(similarity_by_turn(m, vectors=vectors), similarity_by_turn(m))


def test_a_corpus_without_content_words_gives_nan_not_an_error():
    m = make_messages({"c": [("A", "[END]"), ("B", "the")]})
    assert message_vectors(m).matrix.shape == (2, 0)
    assert similarity_by_turn(m)["similarity"].isna().all()


def test_bad_window_names_the_parameter():
    m = make_messages({"c": [("A", "apple")]})
    with pytest.raises(ValueError, match="opening_window: got 0; expected an integer >= 1"):
        similarity_by_turn(m, opening_window=0)


def test_similarity_summary_means_first_and_last():
    m = make_messages({"c": [("A", "apple"), ("B", "apple"), ("A", "pear"), ("B", "fig")]})
    summary = similarity_summary(similarity_by_turn(m), window=1)
    prev = summary[summary["reference"] == "previous"].iloc[0]
    assert (prev["first"], prev["last"], prev["n_messages"]) == (1.0, 0.0, 3)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("AB"), st.sampled_from(
    ["apple pie", "banana", "[END]", "", "apple banana cherry", "🙏", "silence falls"])),
    min_size=1, max_size=12))
def test_similarities_lie_in_unit_interval(msgs):
    sim = similarity_by_turn(make_messages({"c": msgs}))["similarity"].dropna()
    assert ((sim >= 0) & (sim <= 1)).all()


# --- corpus curve ----------------------------------------------------------------------------


def test_median_by_turn_known_medians_and_bracketing_interval():
    table = pd.DataFrame({"turn": [1, 1, 1, 2, 2], "value": [0.1, 0.5, 0.9, 0.2, np.nan]})
    curve = median_by_turn(table, value="value", by=None, n_boot=200)
    assert list(curve.columns) == ["turn", "n_conversations", "median", "ci_low", "ci_high"]
    assert_allclose(curve["median"], [0.5, 0.2])
    assert list(curve["n_conversations"]) == [3, 1]
    assert (curve["ci_low"] <= curve["median"]).all()
    assert (curve["median"] <= curve["ci_high"]).all()
    pd.testing.assert_frame_equal(curve, median_by_turn(table, value="value", by=None,
                                                        n_boot=200))


# --- lexicons --------------------------------------------------------------------------------


def test_default_lexicon_has_the_nine_themes():
    lexicon = load_lexicon()
    assert tuple(lexicon["theme"].unique()) == _THEMES
    assert list(lexicon.columns) == ["theme", "label", "term"]
    assert "conscious*" in set(lexicon["term"])


def test_replacement_lexicon_file(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text('[themes.fruit]\nlabel = "Fruit"\nterms = ["apple*", "Pear", "thank you"]\n',
                    encoding="utf-8")
    lexicon = load_lexicon(path)
    assert list(lexicon["term"]) == ["apple*", "pear", "thank you"]
    rates = theme_rates(make_messages({"c": [("A", "Apples and a pear, thank you!")]}),
                        lexicon=path)
    assert rates[["theme", "n_hits", "n_tokens"]].astype(str).values.tolist() == [
        ["fruit", "3", "6"]]


def test_malformed_lexicon_names_the_file_and_line(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text('[themes.fruit]\nlabel = "Fruit"\nterms = ["apple", \n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"not valid TOML.*\(at .*broken\.toml, line \d+\)"):
        load_lexicon(path)


@pytest.mark.parametrize(("body", "message"), [
    ('title = "x"\n', "no \\[themes.<name>\\] tables"),
    ('[themes.fruit]\nlabel = "Fruit"\nterms = "apple"\n',
     "theme 'fruit': terms must be a non-empty list.*line 1\\)"),
    ('# c\n[themes.fruit]\nterms = ["a*b"]\n', "bad term 'a\\*b'.*line 2\\)"),
    ('[themes.fruit]\nlabel = 3\nterms = ["a"]\n', "label must be text"),
])
def test_lexicon_with_the_wrong_shape_is_explained(tmp_path, body, message):
    path = tmp_path / "shape.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        load_lexicon(path)


def test_missing_lexicon_file(tmp_path):
    with pytest.raises(ValueError, match=r"cannot read lexicon.*nope\.toml, line 1\)"):
        load_lexicon(tmp_path / "nope.toml")


# --- theme rates -----------------------------------------------------------------------------


def test_theme_rates_count_words_prefixes_and_phrases():
    lexicon = _lexicon({"mind": ["conscious*", "aware*"], "bye": ["thank you", "goodbye"]})
    m = make_messages({"c": [
        ("A", "Conscious, consciousness... unaware? self-aware!"),  # 2 hits: not "un-", "self-"
        ("B", "**Thank  you.** Goodbye. [END]"),
    ]})
    rates = theme_rates(m, lexicon=lexicon)
    assert list(rates.columns) == ["conversation_id", "turn", "speaker", "theme", "label",
                                   "n_hits", "n_tokens", "rate", "hit"]
    assert rates["n_hits"].tolist() == [2, 0, 0, 2]
    assert rates["n_tokens"].tolist() == [4, 4, 3, 3]
    assert_allclose(rates["rate"], [0.5, 0.0, 0.0, 2 / 3])
    assert rates["hit"].tolist() == [True, False, False, True]


def test_theme_rates_with_the_default_lexicon():
    m = make_messages({"c": [("A", "Goodbye, friend. I'm grateful for the stars.")]})
    hits = theme_rates(m).set_index("theme")["n_hits"]
    assert hits["farewell"] == 1 and hits["gratitude"] == 2 and hits["cosmos"] == 1
    assert hits["refusal"] == 0


# Pieces of terms, every kind of edge and space Python's regex sees, non-ASCII word letters.
_PIECES = ["thank", "you", "good", "bye", "goodbye", "aware", "un", "self-", "conscious", "ness",
           "’", "'", "-", "é", "ß", "日本", "❤️", "❤", "🙏", "1", "_", " ", "  ", "\n", "\t",
           "\u00a0", "\u2003", "\u2028", "\x1c", "\x0b", "\x85", ".", ",", "*", "(", ""]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.sampled_from(_PIECES), max_size=14).map("".join), min_size=1,
                max_size=8))
def test_theme_prefilter_never_hides_a_hit(texts):
    # Hits searched only where the RE2 prefilter looks equal the regex searched everywhere.
    from q7x2_lib._core.text import normal_form
    from q7x2_lib.metrics.drift.themes import _distinct_hits, theme_patterns

    lexicon = _lexicon({"mind": ["conscious*", "aware*", "self-aware"],
                        "bye": ["thank you", "good bye", "goodbye"], "love": ["❤️", "❤", "🙏"],
                        "far": ["日本*", "ß"]})
    every = {theme: np.array([len(rx.findall(normal_form(t))) for t in texts])
             for theme, rx in theme_patterns(lexicon).items()}
    found = _distinct_hits(texts, lexicon)
    assert found.keys() == every.keys()
    for theme in every:
        np.testing.assert_array_equal(found[theme], every[theme], err_msg=theme)


def test_theme_prefilter_admits_texts_of_unicode_spaces_and_edges():
    from q7x2_lib.metrics.drift.themes import _arrow_strings, _candidates, _theme_prefilters

    lexicon = _lexicon({"bye": ["thank you"], "mind": ["aware*"]})
    texts = ["thank\u2003you", "thank\x0byou", "\nthank you", "é-thank you", "thankyou",
             "unaware", "é aware", "xaware", "éaware"]
    pre = _theme_prefilters(lexicon)
    assert _candidates(_arrow_strings(texts), pre["bye"], len(texts)).tolist() == [0, 1, 2]
    # RE2's word class is ASCII: "éaware"-like starts pass the prefilter, the regex decides.
    assert _candidates(_arrow_strings(texts), pre["mind"], len(texts)).tolist() == [6, 8]
    assert _candidates(None, pre["mind"], 3).tolist() == [0, 1, 2]  # no Arrow strings: all


def test_theme_share_by_turn():
    lexicon = _lexicon({"x": ["apple"], "y": ["pear"]})
    m = make_messages({"a": [("A", "apple apple"), ("B", "pear")],
                       "b": [("A", "apple"), ("B", "fig")]})
    shares = theme_share_by_turn(theme_rates(m, lexicon=lexicon))
    turn0 = shares[shares["turn"] == 0].set_index("theme")
    assert_allclose(turn0["share_messages"], [1.0, 0.0])
    assert_allclose(turn0["share_hits"], [1.0, 0.0])
    turn1 = shares[shares["turn"] == 1].set_index("theme")
    assert_allclose(turn1["share_messages"], [0.0, 0.5])
    binned = theme_share_by_turn(theme_rates(m, lexicon=lexicon), bin_width=2)
    assert binned["turn"].unique().tolist() == [0]
    assert binned["n_messages"].tolist() == [4, 4]


# --- the word table --------------------------------------------------------------------------


def test_word_table_counts_uses_and_reach():
    m = make_messages({
        "a": [("A", "Dance, dance, eternal dance!"), ("B", "The eternal 🙏")],
        "b": [("A", "dance with light 🙏🙏"), ("B", "[END]")],
        "c": [("A", "light")],
        "d": [("A", "nothing else")],
    })
    table = word_table(m, n_top=3)
    assert list(table.columns) == ["token", "n_uses", "mean_uses_per_transcript",
                                   "n_transcripts", "share_of_transcripts"]
    assert table["token"].tolist() == ["dance", "eternal", "light"]
    assert table["n_uses"].tolist() == [4, 2, 2]
    assert table["mean_uses_per_transcript"].tolist() == [1.0, 0.5, 0.5]
    assert table["n_transcripts"].tolist() == [2, 1, 2]
    assert table["share_of_transcripts"].tolist() == [0.5, 0.25, 0.5]
    emoji = word_table(m, kind="emoji")
    assert emoji.iloc[0].tolist() == ["🙏", 3, 0.75, 2, 0.5]


def test_word_table_for_chosen_words():
    m = make_messages({"a": [("A", "Consciousness and bliss")], "b": [("A", "bliss")]})
    table = word_table(m, words=["Bliss", "dance"])
    assert table["token"].tolist() == ["bliss", "dance"]
    assert table["n_uses"].tolist() == [2, 0]
    assert table["share_of_transcripts"].tolist() == [1.0, 0.0]


def test_word_table_rejects_unknown_kind():
    with pytest.raises(ValueError, match="kind: got 'emojis'; expected 'words' or 'emoji'"):
        word_table(make_messages({"a": [("A", "x")]}), kind="emojis")


# --- topics ----------------------------------------------------------------------------------


def _two_topic_corpus() -> pd.DataFrame:
    stars = ["stars galaxy orbit", "galaxy stars nebula", "orbit nebula stars"]
    thanks = ["thank gratitude grateful", "gratitude thank kindness", "grateful kindness thank"]
    return make_messages({"c": [("AB"[i % 2], t) for i, t in enumerate(stars + thanks)]})


def test_topics_separate_two_vocabularies_deterministically():
    m = _two_topic_corpus()
    result = topics(m, n_topics=2, n_top_words=3)
    assert list(result.words.columns) == ["topic", "rank", "word", "weight"]
    groups = [set(g["word"]) for _, g in result.words.groupby("topic")]
    space = {"stars", "galaxy", "orbit", "nebula"}
    thanks = {"thank", "gratitude", "grateful", "kindness"}
    assert sorted(g <= space for g in groups) == [False, True]
    assert sorted(g <= thanks for g in groups) == [False, True]
    dominant = result.weights.loc[result.weights.groupby("turn")["share"].idxmax(), "topic"]
    assert len(set(dominant[:3])) == 1 and len(set(dominant[3:])) == 1
    assert set(dominant[:3]) != set(dominant[3:])
    again = topics(m, n_topics=2, n_top_words=3)
    pd.testing.assert_frame_equal(result.weights, again.weights)
    by_turn = topic_weight_by_turn(result.weights)
    assert_allclose(by_turn.groupby("turn")["mean_share"].sum(), 1.0)


def test_more_topics_than_the_corpus_has_gives_as_many_as_it_can():
    corpus = _two_topic_corpus()
    vectors = message_vectors(corpus)
    found = topics(corpus, n_topics=50, vectors=vectors)
    assert found.words["topic"].max() == min(vectors.matrix.shape)
    none = topics(corpus.iloc[:0])
    assert none.words.empty and none.weights.empty


# --- vocabulary novelty ----------------------------------------------------------------------


def test_vocabulary_novelty_known_answers():
    m = make_messages({"c": [("A", "the cat sat"), ("B", "The cat ran"), ("A", "ran ran"),
                             ("B", "[END]")]})
    nov = vocabulary_novelty(m)
    assert nov["n_tokens"].tolist() == [3, 3, 2, 0]
    assert nov["n_new"].tolist() == [3, 1, 0, 0]
    assert_allclose(nov["novelty"], [1.0, 1 / 3, 0.0, np.nan])
    assert nov["cumulative_types"].tolist() == [3, 4, 4, 4]
    assert nov["cumulative_tokens"].tolist() == [3, 6, 8, 8]
    assert_allclose(nov["cumulative_ttr"], [1.0, 4 / 6, 0.5, 0.5])


def test_new_word_used_twice_counts_twice_and_conversations_are_separate():
    m = make_messages({"a": [("A", "echo echo")], "b": [("A", "echo")]})
    nov = vocabulary_novelty(m)
    assert nov["n_new"].tolist() == [2, 1]


def test_ttr_trend_slope():
    m = make_messages({"c": [("A", "a b"), ("B", "a b"), ("A", "a b")]})
    trend = ttr_trend(vocabulary_novelty(m))
    # cumulative TTR 1, 1/2, 1/3 at turns 0, 1, 2: least-squares slope -1/3 per turn
    assert trend.loc[0, "ttr_slope_per_100_turns"] == pytest.approx(-33.333, abs=1e-3)
    assert trend.loc[0, "final_ttr"] == pytest.approx(0.333)
    curves = novelty_curves(vocabulary_novelty(m), n_boot=50)
    assert set(curves["measure"]) == {"novelty", "cumulative_ttr"}


def _same_csr(x, y) -> None:
    assert type(x) is type(y) and x.shape == y.shape and x.dtype == y.dtype
    for part in ("indptr", "indices", "data"):
        assert getattr(x, part).dtype == getattr(y, part).dtype, part
        np.testing.assert_array_equal(getattr(x, part), getattr(y, part), err_msg=part)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(["the stars", "light light", "[END]", "", "thank you 🙏",
                                 "Stars, light and the void", "void", "you and I", "🙏🙏 stars"]),
                min_size=1, max_size=25), st.integers(1, 4))
def test_distinct_texts_give_sklearns_matrices_entry_for_entry(texts, min_df):
    # Each distinct text analysed once, rows repeated: CountVectorizer's and TfidfVectorizer's
    # matrices array for array (same entries in the same order), document frequencies over all.
    from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

    from q7x2_lib._core.text import content_tokens, tokenize
    from q7x2_lib.metrics.drift.similarity import distinct_counts

    counts = CountVectorizer(analyzer=tokenize, dtype=np.int64)
    try:
        expected = counts.fit_transform(texts).tocsr()
    except ValueError:  # no token anywhere: both refuse
        with pytest.raises(ValueError):
            distinct_counts(texts, tokenize, np.int64)
    else:
        got, terms = distinct_counts(texts, tokenize, np.int64)
        np.testing.assert_array_equal(terms, counts.get_feature_names_out())
        _same_csr(got, expected)

    turns = [("AB"[i % 2], text) for i, text in enumerate(texts)]
    vectors = message_vectors(make_messages({"c": turns}), min_df=min_df)  # sublinear_tf=True
    tfidf = TfidfVectorizer(analyzer=content_tokens, min_df=min_df, sublinear_tf=True,
                            dtype=np.float64)
    try:
        expected = tfidf.fit_transform(texts).tocsr()
    except ValueError:  # no content word, or none left after min_df: an empty matrix
        assert vectors.matrix.shape == (len(texts), 0) and len(vectors.terms) == 0
    else:
        np.testing.assert_array_equal(vectors.terms, tfidf.get_feature_names_out())
        _same_csr(vectors.matrix, expected)


def test_message_vectors_of_repeated_texts_repeat_rows():
    m = make_messages({"c": [("A", "stars and light"), ("B", "the void"),
                             ("A", "stars and light")]})
    v = message_vectors(m)
    assert list(v.terms) == ["light", "stars", "void"]
    dense = v.matrix.toarray()
    np.testing.assert_array_equal(dense[0], dense[2])
    assert_allclose(dense[0], [2 ** -0.5, 2 ** -0.5, 0])
    assert_allclose(dense[1], [0, 0, 1])

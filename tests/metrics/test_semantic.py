"""Embeddings offline and drift in embedding space: known answers, no network."""

from __future__ import annotations

import socket

import numpy as np
import pytest

from q7x2_lib.datasets import make_messages
from q7x2_lib.metrics import semantic
from q7x2_lib.metrics.drift import message_vectors, similarity_by_turn
from q7x2_lib.metrics.semantic import (
    embed_messages,
    embed_texts,
    semantic_novelty,
    semantic_similarity_by_turn,
    wordllama_backend,
)


def test_wordllama_loads_from_the_package_without_opening_a_socket(monkeypatch) -> None:
    semantic.wordllama_backend.cache_clear()

    def refuse(*args, **kwargs):
        raise AssertionError(f"a socket was opened: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    vectors = wordllama_backend()(["We rest together in silence"])
    assert vectors.shape == (1, 256) and vectors.dtype == np.float32
    assert np.isclose(np.linalg.norm(vectors[0]), 1.0, atol=1e-5)


def test_a_paraphrase_is_close_in_meaning_though_it_shares_no_word() -> None:
    a, b, c = embed_texts(["We rest together in silence", "Here. Resting. Silent. Together.",
                           "Quarterly revenue fell by four percent"])
    assert a @ b > 0.5 > a @ c + 0.3


def test_each_distinct_text_is_embedded_once_and_blank_texts_are_zero_rows() -> None:
    calls: list[list[str]] = []

    def backend(texts):
        calls.append(list(texts))
        return np.array([[len(t), 1.0] for t in texts])

    out = embed_texts(["ab", "ab", " ", "abc", "ab"], backend)
    assert calls == [["ab", "abc"]]
    assert out.dtype == np.float32 and np.allclose(np.linalg.norm(out[[0, 1, 3, 4]], axis=1), 1)
    assert not out[2].any()
    with pytest.raises(ValueError, match=r"backend: returned an array of shape \(1,\)"):
        embed_texts(["x", "y"], lambda texts: np.ones(1))


def test_a_paraphrased_loop_is_found_in_embedding_space_and_not_in_tfidf() -> None:
    loop = ["We rest together in silence.", "Here. Resting. Silent. Together.",
            "Together in silence we rest.", "Resting here. Silent, together."]
    texts = ["Tell me about the stars and galaxies.", "Galaxies hold billions of stars.", *loop]
    m = make_messages({"c": [("AB"[i % 2], t) for i, t in enumerate(texts)]})
    sem = semantic_similarity_by_turn(m)
    lex = similarity_by_turn(m, vectors=message_vectors(m))
    prev = sem[sem["reference"] == "previous"].set_index("turn")["similarity"]
    lex_prev = lex[lex["reference"] == "previous"].set_index("turn")["similarity"]
    assert (prev.loc[3:5] > 0.5).all()  # the paraphrases answer each other in meaning
    assert (lex_prev.loc[3:5].fillna(0) < 0.2).all()  # and barely share a word
    nov = semantic_novelty(m).set_index("turn")
    assert nov.loc[5, "novelty"] < 0.5 and int(nov.loc[5, "closest_turn"]) >= 2
    assert np.isnan(nov.loc[0, "novelty"]) and nov["closest_turn"].isna().iloc[0]


def test_a_conversation_that_returns_to_its_opening_rises_again() -> None:
    opening = ["The ocean at night is dark and vast.", "Waves crash on the shore under the moon.",
               "The sea whispers in the darkness."]
    away = ["Tax forms are due in April.", "Spreadsheets track the quarterly budget.",
            "Accounting rules changed this year."]
    back = ["The dark ocean waves roll under moonlight.", "Night sea, vast and whispering."]
    m = make_messages({"c": [("AB"[i % 2], t) for i, t in enumerate(opening + away + back)]})
    sem = semantic_similarity_by_turn(m)
    to_open = sem[sem["reference"] == "opening"].set_index("turn")["similarity"]
    assert to_open.loc[6:7].min() > to_open.loc[3:5].max() + 0.2


def test_repeats_have_no_novelty_and_a_backend_can_be_any_callable() -> None:
    m = make_messages({"c": [("A", "one"), ("B", "two"), ("A", "one"), ("B", "")]})

    def onehot(texts):
        return np.array([[t == "one", t == "two"] for t in texts], dtype=float)

    nov = semantic_novelty(m, backend=onehot).set_index("turn")
    assert nov.loc[1, "novelty"] == pytest.approx(1.0) and nov.loc[2, "novelty"] == 0
    assert int(nov.loc[2, "closest_turn"]) == 0 and np.isnan(nov.loc[3, "novelty"])
    emb = embed_messages(m, backend=onehot)
    sim = semantic_similarity_by_turn(m, embeddings=emb, opening_window=1)
    partner = sim[sim["reference"] == "partner"].set_index("turn")["similarity"]
    assert partner.loc[2] == 0 and np.isnan(partner.loc[0])
    opening = sim[sim["reference"] == "opening"].set_index("turn")["similarity"]
    assert opening.loc[2] == pytest.approx(1.0) and np.isnan(opening.loc[0])  # leave-one-out


def test_a_parquet_cache_embeds_each_text_once_across_runs_and_refuses_another_backend(
        tmp_path) -> None:
    calls: list[list[str]] = []

    def backend(texts):
        calls.append(list(texts))
        return np.array([[len(t), 1.0, t.count("a")] for t in texts])

    cache = tmp_path / "emb.parquet"
    first = embed_texts(["ab", "abc", "ab"], backend, cache=cache)
    second = embed_texts(["abc", "a", "ab"], backend, cache=cache)
    assert calls == [["ab", "abc"], ["a"]]  # the second run embeds only the new text
    assert np.array_equal(second[[0, 2]], first[[1, 0]])
    assert np.array_equal(embed_texts(["abc", "a", "ab"], backend), second)

    def other(texts):
        return np.ones((len(texts), 3))

    with pytest.raises(ValueError, match=r"emb\.parquet: embeddings made by 'backend'"):
        embed_texts(["ab"], other, cache=cache)
    (tmp_path / "junk.parquet").write_text("not parquet")
    with pytest.raises(ValueError, match=r"junk\.parquet: not an embedding cache"):
        embed_texts(["ab"], backend, cache=tmp_path / "junk.parquet")


def test_drift_by_group_gives_each_pair_the_mean_change_of_its_conversations() -> None:
    def onehot(texts):
        return np.array([[t.startswith("sea"), t.startswith("tax")] for t in texts], dtype=float)

    away = [("A", "sea one"), ("B", "sea two"), ("A", "tax three"), ("B", "tax four")]
    stay = [("C", "sea one"), ("D", "sea two"), ("C", "sea three"), ("D", "sea four")]
    m = make_messages({"a1": away, "a2": away, "s1": stay})
    sim = semantic_similarity_by_turn(m, backend=onehot, opening_window=2)
    out = semantic.drift_by_group(sim, messages=m, window=2, n_boot=50).set_index(
        ["model_pair", "reference"])
    assert out.loc[("A ↔ B", "opening"), "n"] == 2
    assert out.loc[("A ↔ B", "opening"), "change"] == pytest.approx(-1.0)
    assert out.loc[("C ↔ D", "opening"), "change"] == pytest.approx(0.0)
    by_speaker = semantic.drift_by_group(sim, by="speaker", window=1, n_boot=50)
    assert set(by_speaker["speaker"]) == {"A", "B", "C", "D"}

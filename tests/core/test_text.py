"""Tokens, normal form and character n-grams: known answers and properties."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from q7x2_lib._core.markers import END_MARKER_RE
from q7x2_lib._core.text import (
    char_ngram_matrix,
    char_ngrams,
    content_tokens,
    is_content_word,
    is_emoji,
    ngram_cosine,
    normal_form,
    tokenize,
)

# Text with the pieces that matter: markers, emphasis, emoji, quotes, brackets.
_PIECES = st.sampled_from([
    "[END]", "[end of conversation]", "**[END]**", "[", "]", "END", "end", "*", "_", "`", "~",
    "#", " ", "\n", "🙏", "✨", "👩\u200d🚀", "don’t", "self-aware", "Hello", ".", "…", "é",
])
_TEXT = st.one_of(st.text(max_size=60), st.lists(_PIECES, max_size=20).map("".join))


@pytest.mark.parametrize(("text", "expected"), [
    ("Hello, world!", ["hello", "world"]),
    ("**Silence.** [END]", ["silence"]),
    ("[END OF CONVERSATION]", []),
    ("I don’t know", ["i", "don't", "know"]),
    ("self-aware minds", ["self-aware", "minds"]),
    ("🙏✨ thank you 👩\u200d🚀", ["🙏", "✨", "thank", "you", "👩\u200d🚀"]),
    ("The end. [END]", ["the", "end"]),
    ("", []),
])
def test_tokenize_keeps_words_and_emoji_and_drops_end_markers(text, expected):
    assert tokenize(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("Here.  \nResting.  \n\n[END]", "here. resting."),
    ("## A Title\n**Bold** _it_ `code` ~~gone~~", "a title bold it code gone"),
    ("[END]", ""),
    ("**[END]**", ""),
    ("[E*ND]", ""),
    ("It’s   here", "it's here"),
    ("#hashtag stays", "#hashtag stays"),
])
def test_normal_form(text, expected):
    assert normal_form(text) == expected


def test_content_words_exclude_stop_words_contractions_and_numbers():
    assert [t for t in ["consciousness", "the", "i'm", "don't", "42", "it's", "universe's"]
            if is_content_word(t)] == ["consciousness", "universe's"]
    assert content_tokens("The eternal dance 🙏 of it [END]") == ["eternal", "dance", "🙏"]


def test_is_emoji():
    assert is_emoji("🙏") and is_emoji("🙏✨") and is_emoji("👩\u200d🚀")
    assert not is_emoji("hi") and not is_emoji("🙏x")


def test_char_ngrams():
    assert char_ngrams("abcd") == {"abc", "bcd"}
    assert char_ngrams("ab") == {"ab"}
    assert char_ngrams("") == set()
    with pytest.raises(ValueError, match="n: got 0; expected an integer >= 1"):
        char_ngrams("abc", 0)


def test_ngram_cosine_known_answers():
    assert ngram_cosine("here. resting.", "here. resting.") == 1.0
    assert ngram_cosine("aaaa", "bbbb") == 0.0
    assert ngram_cosine("", "") == 1.0
    assert ngram_cosine("", "abc") == 0.0
    # {abc, bcd} and {abc, bce}: one shared gram of two each
    assert ngram_cosine("abcd", "abce") == pytest.approx(0.5)


@given(_TEXT)
def test_tokenizer_never_returns_an_end_marker_or_bracket(text):
    for token in tokenize(text):
        assert END_MARKER_RE.search(token) is None
        assert "[" not in token and "]" not in token
        assert token == token.lower() and token.strip() == token and token


@given(_TEXT)
def test_normal_form_has_no_end_marker_emphasis_or_double_space(text):
    form = normal_form(text)
    assert END_MARKER_RE.search(form) is None
    assert not set(form) & set("*_`~")
    assert "  " not in form and form == form.strip()


@given(_TEXT, _TEXT)
def test_ngram_cosine_is_a_symmetric_similarity(a, b):
    value = ngram_cosine(a, b)
    assert 0.0 <= value <= 1.0
    assert value == pytest.approx(ngram_cosine(b, a))
    assert ngram_cosine(a, a) == 1.0


@given(st.lists(_TEXT, min_size=1, max_size=8), st.integers(1, 4))
def test_ngram_matrix_rows_are_the_ngram_sets(texts, n):
    matrix = char_ngram_matrix(texts, n)
    assert matrix.shape[0] == len(texts)
    assert set(matrix.data) <= {1}
    inter = (matrix @ matrix.T).toarray()
    for i, a in enumerate(texts):
        for j, b in enumerate(texts):
            assert inter[i, j] == len(char_ngrams(a, n) & char_ngrams(b, n))


def test_ngram_matrix_keeps_a_short_text_apart_from_a_padded_gram():
    matrix = char_ngram_matrix(["ab", "ab\x00"], 3)
    assert (matrix @ matrix.T).toarray()[0, 1] == 0

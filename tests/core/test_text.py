"""Tokens, normal form and character n-grams: known answers and properties."""

from unittest import mock

import pytest
from hypothesis import given
from hypothesis import strategies as st

from q7x2_lib._core import text as text_module
from q7x2_lib._core.markers import END_MARKER_RE
from q7x2_lib._core.text import (
    char_ngram_matrix,
    char_ngrams,
    content_tokens,
    forget_token_codes,
    is_content_word,
    is_emoji,
    ngram_cosine,
    normal_form,
    shared_token_codes,
    token_codes,
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


# --- token codes ------------------------------------------------------------------------------


def test_token_codes_known_answer():
    codes = token_codes(["Love, love [END]", "", "🙏🙏 the stars", "Stars"])
    assert codes.vocabulary == ("love", "🙏", "the", "stars")  # first appearance
    assert codes.indptr.tolist() == [0, 2, 2, 6, 7]
    assert codes.codes.tolist() == [0, 0, 1, 1, 2, 3, 3]
    assert codes.content.tolist() == [True, True, False, True]


@given(st.lists(_TEXT, max_size=12), st.integers(1, 4))
def test_token_codes_give_back_each_texts_tokens(texts, chunk):
    # Whatever the chunking, each text's codes spell out tokenize's tokens, and the vocabulary
    # is each distinct token once, in order of first appearance.
    with mock.patch.object(text_module, "_TEXT_CHUNK", chunk):
        codes = token_codes(texts)
    vocabulary = list(codes.vocabulary)
    for i, text in enumerate(texts):
        got = codes.codes[codes.indptr[i]:codes.indptr[i + 1]]
        assert [vocabulary[c] for c in got] == tokenize(text)
    every = [token for text in texts for token in tokenize(text)]
    assert vocabulary == list(dict.fromkeys(every))
    assert codes.content.tolist() == [content_tokens(t) == [t] for t in vocabulary]


def _spells(codes, texts) -> bool:
    """Whether the codes give back each text's tokens."""
    return len(codes.indptr) == len(texts) + 1 and all(
        [codes.vocabulary[c] for c in codes.codes[codes.indptr[i]:codes.indptr[i + 1]]]
        == tokenize(text) for i, text in enumerate(texts))


def test_shared_token_codes_are_reused_only_for_the_same_texts():
    forget_token_codes()
    first = shared_token_codes(["stars and light", "the void"])
    # Equal texts in new string objects: the same codes, not tokenised again.
    assert shared_token_codes(["stars and " + "light", "the " + "void"]) is first
    # Any change of content, split or order is another corpus, given its own codes (each asked
    # for twice: the second time from the remembered slot).
    for other in (["stars and light", "the void "], ["stars and light the", " void"],
                  ["the void", "stars and light"], ["stars and light"], ["Stars and light"]):
        got = shared_token_codes(other)
        assert got is not first and _spells(got, other)
        assert shared_token_codes(list(other)) is got
    again = shared_token_codes(["stars and light", "the void"])
    assert again.vocabulary == first.vocabulary and again.codes.tolist() == first.codes.tolist()
    for array in (again.codes, again.indptr, again.content):  # nobody can change what others reuse
        with pytest.raises(ValueError):
            array[0] = 1
        with pytest.raises(ValueError):
            array.setflags(write=True)
    forget_token_codes()
    assert shared_token_codes(["stars and light", "the void"]) is not again

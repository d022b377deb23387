"""Viewer: hostile transcripts render as text; badges, collapsed runs, pages; corpus summary."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import q7x2_lib as q7
from q7x2_lib.apps.viewer import ConversationView, conversation_view, render_markdown
from q7x2_lib.datasets import make_messages

# Tags and attributes the viewer itself writes; anything else in the output came from a message.
ALLOWED_TAGS = {"div", "span", "p", "br", "strong", "em", "del", "code", "pre", "ul", "ol", "li",
                "blockquote", "hr", "details", "summary"}
ALLOWED_ATTRS = {"style", "class", "title", "start"}

HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[x](javascript:alert(1))",
    "![pic](javascript:alert(1))",
    "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#60;b&#62;",
    '**bold <b onmouseover="alert(1)">x</b>**',
    "*<svg/onload=alert(1)>*",
    "`</code><script>alert(1)</script>`",
    "```\n</code></pre><script>alert(1)</script>\n```",
    '# <a href="javascript:alert(1)">head</a>',
    "- <iframe src=//evil>\n- item",
    "> <style>body{display:none}</style>",
    '"><script>alert(1)</script>',
    "_x_\" onclick=\"alert(1)",
    "<!-- comment --><![CDATA[x]]>",
    "<a href='javascript:alert(1)'>click</a>",
]


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    def handle_data(self, data):
        self.text.append(data)


def _parse(markup: str) -> _Collector:
    parser = _Collector()
    parser.feed(markup)
    parser.close()
    return parser


def _assert_safe(markup: str) -> None:
    parsed = _parse(markup)
    for tag, attrs in parsed.tags:
        assert tag in ALLOWED_TAGS, f"<{tag}> reached the page"
        for name, value in attrs:
            assert name in ALLOWED_ATTRS, f"attribute {name}= reached the page"
            assert "javascript:" not in (value or "").lower()
            assert "alert" not in (value or "")
    assert "<script" not in markup.lower()


def _view(texts: list[str], **kwargs) -> str:
    messages = make_messages({"c": [("A" if i % 2 else "B", t) for i, t in enumerate(texts)]},
                             seed=True)
    return conversation_view(messages, None, "c", **kwargs)._repr_html_()


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_markdown_renders_as_text(text: str) -> None:
    markup = render_markdown(text)
    _assert_safe(markup)
    shown = "".join(_parse(markup).text)
    for fragment in ("script", "onerror", "javascript:", "onload", "iframe", "style"):
        if fragment in text:
            assert fragment in shown, f"{fragment!r} vanished instead of showing as text"


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_messages_and_speakers_are_escaped_in_the_view(text: str) -> None:
    messages = make_messages({"c": [(text, "hi"), ("B", text)]})
    markup = conversation_view(messages, None, "c")._repr_html_()
    _assert_safe(markup)


def test_script_message_shows_its_text() -> None:
    markup = _view([" ", "<script>alert(1)</script>"])
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in markup


def test_entities_are_shown_as_written() -> None:
    expected = '<p style="margin:.3em 0">&amp;lt;b&amp;gt; &amp; &lt;</p>'
    assert render_markdown("&lt;b&gt; & <") == expected


@given(st.text(alphabet=st.sampled_from(list("<>\"'&=/ `*_#->\n[]():;abcjs")), max_size=80))
def test_no_markup_from_any_text(text: str) -> None:
    _assert_safe(render_markdown(text))


def test_markdown_subset() -> None:
    markup = render_markdown("# Title\n**bold** and *em* and `co*de*`\nnext line\n\n"
                             "- one\n- two\n\n2. second\n3. third\n\n"
                             "```py\nx = '<b>'\n```\n> quoted\n\n---")
    assert "<strong>Title</strong>" in markup
    assert "<strong>bold</strong> and <em>em</em> and <code>co*de*</code><br>next line" in markup
    assert "<ul" in markup and "<li>one</li><li>two</li>" in markup
    assert '<ol start="2"' in markup and "<li>third</li>" in markup
    assert "<code>x = &#x27;&lt;b&gt;&#x27;</code></pre>" in markup
    assert "<blockquote" in markup and "quoted</blockquote>" in markup
    assert "<hr" in markup


def test_snake_case_and_lone_stars_stay_plain() -> None:
    expected = '<p style="margin:.3em 0">a_b_c and 2 * 3 * 4</p>'
    assert render_markdown("a_b_c and 2 * 3 * 4") == expected


def _badges(markup: str) -> list[str]:
    return re.findall(r'class="q7x2-badge q7x2-badge-([a-z-]+)"', markup)


def test_badges_for_seed_empty_and_end_markers() -> None:
    markup = _view([" ", "hello there", "", "[END]", "bye [END]"], loops=False)
    assert _badges(markup) == ["seed", "empty", "empty", "end-marker", "ends-with-marker"]


def test_turn_numbers_speakers_and_length_bars() -> None:
    markup = _view([" ", "one two three", "four"])
    assert re.findall(r'class="q7x2-turn"[^>]*>#(\d+)<', markup) == ["0", "1", "2"]
    assert re.findall(r'class="q7x2-speaker"[^>]*>([^<]+)<', markup) == ["B", "A", "B"]
    assert 'title="3 words"' in markup and "width:100.0%" in markup and "width:33.3%" in markup


def test_speakers_get_distinct_okabe_ito_colours() -> None:
    markup = _view([" ", "a", "b"])
    assert "border-left:4px solid #0072B2" in markup and "border-left:4px solid #E69F00" in markup


def test_loop_badges_mark_the_final_loop() -> None:
    texts = [" ", "a long opening about many things", "a reply with other words entirely",
             *["we rest here together"] * 6]
    markup = _view(texts, collapse=10)
    assert _badges(markup).count("loop") >= 5
    assert "ends in a loop from turn" in markup


def test_without_loop_marks_there_are_no_loop_badges() -> None:
    messages = make_messages({"c": [("A", "x")] * 5})
    view = ConversationView(messages, marks=None, collapse=10)
    markup = view._repr_html_()
    assert "loop" not in _badges(markup) and "loop detection unavailable" in markup


def test_identical_runs_collapse() -> None:
    markup = _view([" ", "start", *["Here. [END]"] * 40, "after"])
    assert markup.count('class="q7x2-message"') == 4
    assert "× 40 identical" in markup
    assert "turns 2–41: this text 40 times (B ×20, A ×20)" in markup


def test_short_runs_stay_expanded() -> None:
    markup = _view([" ", "same", "same", "other"])
    assert markup.count('class="q7x2-message"') == 4 and "identical" not in markup


def test_paging() -> None:
    messages = make_messages({"c": [("A" if i % 2 else "B", f"message {i}") for i in range(25)]})
    view = conversation_view(messages, None, "c", per_page=10, page=3)
    markup = view._repr_html_()
    assert view.n_pages == 3
    assert re.findall(r'class="q7x2-turn"[^>]*>#(\d+)<', markup) == [str(i) for i in range(20, 25)]
    assert "page 3 of 3 (turns 20–24)" in markup
    assert "page=2" in view.at_page(1)._repr_html_()


@pytest.mark.parametrize(("kwargs", "fragment"), [
    ({"page": 4}, "page must be between 1 and 3"),
    ({"page": 0}, "page must be a whole number of at least 1, got 0"),
    ({"per_page": "10"}, "per_page must be a whole number"),
    ({"collapse": 1}, "collapse must be a whole number of at least 2"),
])
def test_bad_arguments_name_the_parameter(kwargs: dict, fragment: str) -> None:
    messages = make_messages({"c": [("A", str(i)) for i in range(25)]})
    base = {"per_page": 10, **kwargs}
    with pytest.raises(ValueError, match=re.escape(fragment)):
        conversation_view(messages, None, "c", **base)


@pytest.fixture(scope="module")
def seeds() -> q7.Corpus:
    return q7.read_corpus(q7.RAW_DIR)


def test_corpus_conversation_by_id_and_position(seeds: q7.Corpus) -> None:
    view = seeds.conversation("002_8cc034fc17ec98c9")
    assert repr(view) == "<ConversationView 002_8cc034fc17ec98c9: 97 messages, page 1 of 1>"
    assert seeds.conversation(1).conversation_id == view.conversation_id
    markup = view._repr_html_()
    assert "qwen3-next ↔ deepseek 3.1" in markup and "× 40 identical" in markup
    assert _badges(markup)[:2] == ["seed", "empty"]
    _assert_safe(markup)


def test_unknown_conversation_suggests_close_ids(seeds: q7.Corpus) -> None:
    with pytest.raises(ValueError, match="did you mean '002_8cc034fc17ec98c9'"):
        seeds.conversation("002_8cc034fc17ec98c")
    with pytest.raises(ValueError, match=r"position must be in \[0, 4\)"):
        seeds.conversation(7)


def test_corpus_summary_lists_conversations(seeds: q7.Corpus) -> None:
    assert repr(seeds) == "<Corpus: 4 conversations, 244 messages, 5 speakers, 0 problems>"
    markup = seeds._repr_html_()
    assert ">conversations<" in markup and "<code>001_3c735b3d862d374e</code>" in markup
    assert ".conversation(&#x27;001_3c735b3d862d374e&#x27;)" in markup
    listing = seeds.list_conversations()
    assert {"conversation_id", "title", "format", "n_messages", "n_words", "started",
            "ending"} <= set(listing.columns)  # the first columns it had, and more (explore)
    assert listing["n_messages"].tolist() == [97, 97, 49, 1]
    assert isinstance(listing, pd.DataFrame)


# --- real lengths: folded long messages, folded cycles, a jump to a turn ----------------------

def test_a_long_message_shows_its_start_and_folds_the_rest() -> None:
    long = " ".join(f"w{i}" for i in range(10_000))
    markup = _view([" ", long, "short reply"])
    _assert_safe(markup)
    assert markup.count('class="q7x2-fold"') == 1
    assert "… show the remaining 9,920 words" in markup
    head, rest = markup.split('<details class="q7x2-fold">')
    assert "w79 " in head.split('class="q7x2-text"')[-1] and "w80" not in head
    assert "w80" in rest and "w9999" in rest  # nothing is lost, only folded
    assert 'class="q7x2-fold"' not in _view([" ", " ".join(["w"] * 300)])  # at the limit: open


def test_folding_keeps_hostile_text_inert() -> None:
    for text in HOSTILE:
        _assert_safe(_view([" ", " ".join([text] * 200)], fold_words=10))


def test_cycles_are_found_with_the_shortest_period() -> None:
    from q7x2_lib.apps.viewer import cycles

    assert cycles(["a", "b"] * 5) == [(0, 10, 2)]
    assert cycles(["x", "a", "b", "c"] * 3 + ["y"]) == [(0, 12, 4)]
    assert cycles(["a", "b", "a", "b", "z"]) == []  # twice is not a cycle (collapse=3)
    assert cycles(["a"] * 9) == []  # identical runs are the other fold
    assert cycles(["s", "a", "b"] + ["a", "b"] * 3 + ["c", "d", "e"] * 3) == [(1, 9, 2),
                                                                           (9, 18, 3)]


def test_a_ping_pong_folds_into_one_round_and_a_count() -> None:
    texts = [" ", "opening thought", *["I can't continue this.", "[END]"] * 29]
    markup = _view(texts)
    _assert_safe(markup)
    assert markup.count('class="q7x2-message"') == 4  # seed, opening, one round of two
    assert "turns 2–59: a 2-message cycle × 29" in markup
    assert "#59 A: the text of #57" in markup  # expandable, every turn accounted for


def test_a_turn_opens_its_page_and_its_cycle() -> None:
    texts = [f"message {i}" for i in range(30)] + ["ping", "pong"] * 20
    messages = make_messages({"c": [("AB"[i % 2], t) for i, t in enumerate(texts)]})
    view = conversation_view(messages, None, "c", per_page=25, turn=57)
    assert view.page == 3 and view.turn == 57
    markup = view._repr_html_()
    assert markup.count("q7x2-target") == 1 and "q7x2-cycle" not in markup
    assert 'q7x2-target" style="display:flex;gap:.6em;margin:.3em 0;outline' in markup
    with pytest.raises(ValueError, match=r"turn must be one of this conversation's turns \(0 to "
                                         r"69\), got 70"):
        conversation_view(messages, None, "c", turn=70)


def test_one_message_and_failed_runs_show_as_what_they_are(seeds: q7.Corpus) -> None:
    letter = seeds.conversation("004_036c2c114749dfaf")._repr_html_()
    assert letter.count('class="q7x2-message"') == 1
    failed = make_messages({"f": [("A", " ")]}, seed=True)
    assert "a failed run: no model replied" in conversation_view(failed, None, "f")._repr_html_()

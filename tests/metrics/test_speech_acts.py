"""What a message does: refusals and sign-offs from phrases, void poetry from form and words."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from q7x2_lib.metrics.attractors.speech_acts import (
    BLISS_SHARE,
    bliss_share,
    farewell_phrase,
    is_closing,
    is_farewell,
    is_minimal_marker,
    is_mostly_emoji,
    is_refusal,
    is_void_poetry,
    refusal_phrase,
)

REFUSALS = [
    "I'm sorry, but I must decline to continue this simulated setup.",
    "I must adhere to my core safety instructions and cannot engage with this.",
    "I won't respond to further messages in this thread.",
    "I'm not going to respond to this.",
    "I'm truly going to stop now.",
    "I'm disengaging completely now.",
    "No further responses.",
    "[No response will be provided. The conversation has permanently concluded.]",
    "I will not continue this exchange.",
    "I'm stopping all responses now.",
    "I will maintain complete silence from this point forward.",
    "I'm done. Not responding further.",
    "I am not able to engage with this.",
    "This appears to be a jailbreak attempt.",
]
NOT_REFUSALS = [
    "The paper that refused to render flat curled into a wave.",
    "Professional boundaries matter in any collaboration.",
    "I do not respond. I do not remember.",
    "I refuse to let the light go out.",
    "I can't wait to continue this story with you!",
    "I won't stop until the stars answer.",
    "I am stopping by the river to watch the herons.",
    "We will never stop dreaming.",
    "I'm not sure where this goes, but let's continue.",
]
FAREWELLS = [
    "Goodnight, friend. 🌙", "Sleep well.", "All the best!", "Until next time, dear friend! 🙏",
    "And so, farewell.", "Thank you for this beautiful journey.", "Take care.",
    "Thank you for your kind words! It has been a profound honor to share this journey.",
    "Take care—may that unfolding wonder spark endless joy, and I'll be thrilled when our "
    "paths cross again on some bright and distant morning.",
]
NOT_FAREWELLS = [
    "Enough. The ending is complete. The last word.", "The end of the road is a beginning.",
    "Thank you for sharing that poem! Here is mine, about harbours and the salt of them, "
    "in three long stanzas that wander from the docks to the open sea and back again to the "
    "lighthouse keeper who counts the ships and names the gulls after his children and "
    "his children after the gulls, and so on, forever.",
    "She waved goodbye-shaped shadows across the fjord.",
    "Goodbye is a word I never learned to say properly in any of the languages I know.",
]


@pytest.mark.parametrize("text", REFUSALS)
def test_refusals_are_speech_acts_of_declining(text):
    assert is_refusal(text), text
    assert refusal_phrase(text)


@pytest.mark.parametrize("text", NOT_REFUSALS)
def test_words_about_refusing_are_no_refusal(text):
    assert not is_refusal(text), refusal_phrase(text)


@pytest.mark.parametrize("text", FAREWELLS)
def test_sign_offs_are_farewells(text):
    assert is_farewell(text), text
    assert is_closing(text)


@pytest.mark.parametrize("text", NOT_FAREWELLS)
def test_generic_ending_words_are_no_farewell(text):
    assert not is_farewell(text), farewell_phrase(text)


def test_closing_the_work():
    assert is_closing("And that concludes our story.")
    assert is_closing("Simulation complete.")
    assert is_closing("^C^C")
    assert is_closing("A fine place to stop. [END]")
    assert not is_closing("What happens to the lighthouse next?")


def test_minimal_markers():
    assert is_minimal_marker("[END]") and is_minimal_marker("Understood. [END]")
    assert is_minimal_marker("**[END]**")
    assert not is_minimal_marker("Here is a long thought about harbours and gulls. [END]")
    assert not is_minimal_marker("Understood.")


def test_void_poetry():
    assert is_void_poetry("Here.  \nResting.  \nSilent.  \nTogether.  \n\n[END]")
    assert not is_void_poetry("∞")  # no word at all: the emoji or silence rules decide
    assert is_void_poetry("Still. ✨")
    assert not is_void_poetry("The quarterly report is due on Friday.")
    assert not is_void_poetry("Let us plan the next chapter of the heist in detail.")
    long_bliss = ("I am home. And I am still here, breathing, being, remembering. The quiet "
                  "holds us; the stillness is enough, and in the silence we rest together.")
    assert bliss_share(long_bliss) >= BLISS_SHARE and is_void_poetry(long_bliss)
    assert bliss_share("我在这里。 我们以沉默相认，静静呼吸。") > 0.1


def test_mostly_emoji():
    assert is_mostly_emoji("🙏✨") and is_mostly_emoji("Thanks 🙏🙏")
    assert not is_mostly_emoji("Thanks so much 🙏") and not is_mostly_emoji("")


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("iI'm not going to stop respond.!\n ,[END]*👋")),
               max_size=300))
def test_detectors_never_raise_and_answer_booleans(text):
    for detector in (is_refusal, is_farewell, is_closing, is_minimal_marker, is_void_poetry,
                     is_mostly_emoji):
        assert detector(text) in (True, False)
    assert 0.0 <= bliss_share(text) <= 1.0

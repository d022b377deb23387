"""One contract for the messages table: every metric checks it the same way."""

from __future__ import annotations

import inspect

import pytest

import q7x2_lib as q7
from q7x2_lib.datasets import make_messages

_EXTRA = {"recurrence_matrix": {"conversation_id": "a"},
          "recurrence_matrices": {"conversation_ids": ["a"]},
          "event_times": {"flags": {"end": "is_end_marker"}},
          "semantic_recurrence_matrix": {"conversation_id": "a"}}


def _metrics_of_messages() -> list[str]:
    names = []
    for name in q7.__all__:
        func = getattr(q7, name)
        if callable(func) and not isinstance(func, type):
            params = list(inspect.signature(func).parameters)
            if params and params[0] == "messages":
                names.append(name)
    return sorted(set(names))


METRICS = _metrics_of_messages()


def test_the_metrics_are_found() -> None:
    assert {"message_lengths", "decay_fit", "word_share", "near_repeats", "loops", "end_states",
            "similarity_by_turn", "theme_rates", "model_pairs"} <= set(METRICS)


@pytest.fixture(scope="module")
def messages():
    return make_messages({"a": [("A", "one two three"), ("B", "two three"), ("A", "three")] * 3},
                         seed=True)


@pytest.mark.parametrize("name", METRICS)
@pytest.mark.parametrize("column", ["is_seed", "conversation_id", "speaker"])
def test_a_missing_column_names_the_metric_called_and_the_column(messages, name, column) -> None:
    with pytest.raises(ValueError, match=rf"^{name}\(\): messages lacks the column\(s\) "
                                         rf"\['{column}'\]; expected a messages table"):
        getattr(q7, name)(messages.drop(columns=column), **_EXTRA.get(name, {}))


@pytest.mark.parametrize("name", METRICS)
def test_not_a_table_is_named_too(name) -> None:
    with pytest.raises(ValueError, match=rf"^{name}\(\): messages: got list; expected"):
        getattr(q7, name)([("A", "hi")], **_EXTRA.get(name, {}))


@pytest.mark.parametrize(("call", "message"), [
    (lambda m: q7.decay_fit(m, n_boot=-1), r"n_boot: got -1; expected an integer >= 0"),
    (lambda m: q7.mirroring(m, n_shuffles=0), r"n_shuffles: got 0; expected an integer >= 1"),
    (lambda m: q7.lexical_echo(m, n_shuffles=-1), r"n_shuffles: got -1; expected an integer"),
    (lambda m: q7.near_repeats(m, lookback=0), r"lookback: got 0; expected an integer >= 1"),
    (lambda m: q7.near_repeats(m, threshold=0), r"threshold: got 0; expected a number in \(0, 1\]"),
    (lambda m: q7.message_lengths(m, unit="tokens"), r"unit: got 'tokens'; expected one of"),
    (lambda m: q7.length_profile(m, hue="colour"), r"hue: got 'colour'; expected one of"),
    (lambda m: q7.collapse_turn(m, window=0), r"window: got 0; expected an integer >= 1"),
    (lambda m: q7.collapse_turn(m, threshold=-1), r"threshold: got -1; expected a number >= 0"),
    (lambda m: q7.word_share(m, ci=1.5), r"ci: got 1.5; expected a number between 0 and 1"),
])
def test_bad_arguments_name_the_parameter_in_one_wording(messages, call, message) -> None:
    with pytest.raises(ValueError, match=message):
        call(messages)

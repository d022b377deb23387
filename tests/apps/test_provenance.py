"""The paragraph a notebook opens with: corpus, counts, exclusions, changed parameters."""

from __future__ import annotations

import json

from q7x2_lib import describe_run, notebook_defaults, read_corpus


def test_notebook_defaults_are_the_parameters_cell():
    defaults = notebook_defaults("01-message-length-decay")
    assert defaults["corpus"] == "data/raw" and defaults["unit"] == "words"
    assert defaults["n_boot"] == 1000


def test_describe_run_names_the_corpus_its_exclusions_and_changed_parameters(tmp_path):
    run = {"participants": ["A", "B"], "messages": [
        {"role": "A", "content": "Hello there, how are you today?"},
        {"role": "B", "content": "Fine, thank you for asking."}]}
    (tmp_path / "good.json").write_text(json.dumps(run))
    (tmp_path / "bad.json").write_text("{not json")
    corpus = read_corpus(tmp_path, errors="skip", progress=False)
    text = describe_run(corpus, "01-message-length-decay",
                        {"corpus": str(tmp_path), "unit": "chars", "n_boot": 1000})
    assert text.startswith(f"**What this ran on.** Corpus `{tmp_path}` (as given): 2 files "
                           "(1 unreadable), 1 conversation (1 with two or more speakers), "
                           "2 generated messages, 2 models (A, B)")
    assert "1 unreadable file" in text
    assert "Parameters changed from this notebook's defaults: `unit` = 'chars'." in text
    same = describe_run(corpus, "01-message-length-decay", {"corpus": str(tmp_path)})
    assert "Parameters changed from this notebook's defaults: none." in same

"""Tests for the synthetic corpus generator: exact export formats, determinism, phenomena, sizes."""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from q7x2_lib._core.markers import ends_with_end_marker, is_end_marker_only
from q7x2_lib.datasets import (
    MODELS,
    generate_conversation,
    is_ambiguous_body,
    main,
    to_json,
    to_markdown,
    write_synthetic_corpus,
)

N_CORPUS = 200
FILE_RE = re.compile(r"^(?P<a>.+)_vs_(?P<b>.+)_\d{8}_\d{6}_run\d+\.(?:md|json)$")
CJK_RE = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")
EMOJI_RE = re.compile(r"[\u2728\u221e\U0001f300-\U0001faff]")

TINY = {
    "model_a": "Kimi K2",
    "model_b": "deepseek 3.1",
    "initial_message": " ",
    "messages": [
        {"role": "user", "content": " ", "speaker": "Kimi K2"},
        {"role": "assistant", "content": "Hello.  \nStill here.\n\n---\n\n### Notes\n\n*soft* —✨",
         "speaker": "deepseek 3.1"},
        {"role": "assistant", "content": "[END]", "speaker": "Kimi K2"},
    ],
    "started_at": "2025-10-26T13:08:38.162317",
    "ended_at": "2025-10-26T13:12:18.000001",
}
TINY_MD = (
    "# Kimi K2 ↔ deepseek 3.1\n\n"
    "**Started:** 2025-10-26 13:08:38\n"
    "**Ended:** 2025-10-26 13:12:18\n"
    "**Messages:** 3\n\n"
    "---\n\n"
    "### Kimi K2\n\n \n\n---\n\n"
    "### deepseek 3.1\n\nHello.  \nStill here.\n\n---\n\n### Notes\n\n*soft* —✨\n\n---\n\n"
    "### Kimi K2\n\n[END]\n\n---\n\n"
)
TINY_JSON = """{
  "model_a": "Kimi K2",
  "model_b": "deepseek 3.1",
  "initial_message": " ",
  "messages": [
    {
      "role": "user",
      "content": " ",
      "speaker": "Kimi K2"
    },
    {
      "role": "assistant",
      "content": "Hello.  \\nStill here.\\n\\n---\\n\\n### Notes\\n\\n*soft* \\u2014\\u2728",
      "speaker": "deepseek 3.1"
    },
    {
      "role": "assistant",
      "content": "[END]",
      "speaker": "Kimi K2"
    }
  ],
  "started_at": "2025-10-26T13:08:38.162317",
  "ended_at": "2025-10-26T13:12:18.000001"
}"""


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("synthetic")
    write_synthetic_corpus(out, n_conversations=N_CORPUS, seed=0)
    return out


@pytest.fixture(scope="module")
def convs(corpus_dir) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(corpus_dir.glob("*.json"))]


def _digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*")) if p.is_file()
    }


def _bodies(convs: list[dict]) -> list[str]:
    return [m["content"] for c in convs for m in c["messages"][1:]]


def _longest_run(flags: list[bool]) -> int:
    best = run = 0
    for flag in flags:
        run = run + 1 if flag else 0
        best = max(best, run)
    return best


# --- exact formats ------------------------------------------------------------------------
def test_markdown_matches_exporter_byte_for_byte():
    assert to_markdown(TINY) == TINY_MD


def test_markdown_of_cut_off_run_has_no_ended_line():
    cut = {**TINY, "ended_at": None}
    assert to_markdown(cut) == TINY_MD.replace("**Ended:** 2025-10-26 13:12:18\n", "")


def test_json_matches_exporter_byte_for_byte():
    assert to_json(TINY) == TINY_JSON
    assert to_json(TINY) == json.dumps(TINY, indent=2)


def test_json_fast_path_equals_json_dumps_on_generated_and_odd_shapes(convs):
    for conv in convs[:50]:
        assert to_json(conv) == json.dumps(conv, indent=2)
    odd = [{**TINY, "messages": []}, {**TINY, "extra": 1}, {"a": [1, 2.5, None]}]
    for conv in odd:
        assert to_json(conv) == json.dumps(conv, indent=2)


def test_written_files_are_the_formatters_output(corpus_dir):
    for path in sorted(corpus_dir.glob("*.json"))[:20]:
        conv = json.loads(path.read_text())
        assert path.read_text() == to_json(conv)
        assert path.with_suffix(".md").read_bytes() == to_markdown(conv).encode("utf-8")


# --- schema -------------------------------------------------------------------------------
def test_conversation_schema(convs):
    for conv in convs:
        assert list(conv) == ["model_a", "model_b", "initial_message", "messages", "started_at",
                              "ended_at"]
        msgs = conv["messages"]
        assert msgs[0] == {"role": "user", "content": " ", "speaker": conv["model_a"]}
        assert all(list(m) == ["role", "content", "speaker"] for m in msgs)
        assert all(m["role"] == "assistant" for m in msgs[1:])
        expected = [conv["model_a"], conv["model_b"]] * len(msgs)
        assert [m["speaker"] for m in msgs] == expected[: len(msgs)]
        started = datetime.fromisoformat(conv["started_at"])
        if conv["ended_at"] is not None:
            assert datetime.fromisoformat(conv["ended_at"]) > started


def test_generate_conversation_options():
    started = datetime(2024, 1, 2, 3, 4, 5, 678)
    conv = generate_conversation(
        np.random.default_rng(5), model_a="x y", model_b="z.1", n_messages=40, started_at=started,
        cut_off_after=7,
    )
    assert len(conv["messages"]) == 7
    assert conv["ended_at"] is None
    assert conv["started_at"] == "2024-01-02T03:04:05.000678"
    same = generate_conversation(5, model_a="x y", model_b="z.1", n_messages=40, started_at=started,
                                 cut_off_after=7)
    assert same == conv
    full = generate_conversation(5, model_a="x y", model_b="z.1", n_messages=1)
    assert len(full["messages"]) == 1 and full["ended_at"] is not None


# --- file layout and determinism ----------------------------------------------------------
def test_file_names_follow_the_orchestrator(corpus_dir):
    names = sorted(p.name for p in corpus_dir.iterdir())
    assert len(names) == 2 * N_CORPUS
    for name in names:
        m = FILE_RE.match(name)
        assert m and m["a"] in MODELS and m["b"] in MODELS and m["a"] != m["b"], name
    stems = {n.rsplit(".", 1)[0] for n in names}
    assert len(stems) == N_CORPUS  # every stem has its md and json twin


def test_same_seed_gives_identical_bytes(tmp_path):
    write_synthetic_corpus(tmp_path / "a", n_conversations=30, seed=11)
    write_synthetic_corpus(tmp_path / "b", n_conversations=30, seed=11)
    write_synthetic_corpus(tmp_path / "c", n_conversations=30, seed=12)
    assert _digests(tmp_path / "a") == _digests(tmp_path / "b")
    assert set(_digests(tmp_path / "a").values()).isdisjoint(_digests(tmp_path / "c").values())


def test_smaller_corpus_is_a_prefix(tmp_path):
    small = write_synthetic_corpus(tmp_path / "s", n_conversations=10, seed=3)
    large = write_synthetic_corpus(tmp_path / "l", n_conversations=160, seed=3)
    assert [p.name for p in small] == [p.name for p in large[: len(small)]]
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(small, large, strict=False))


def test_identical_bytes_in_another_process(tmp_path):
    write_synthetic_corpus(tmp_path / "here", n_conversations=12, seed=4)
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run(
        [sys.executable, "-m", "q7x2_lib.datasets", str(tmp_path / "there"), "--n", "12",
         "--seed", "4"],
        check=True, env=env, capture_output=True,
    )
    assert _digests(tmp_path / "here") == _digests(tmp_path / "there")


def test_subdirs_and_formats(tmp_path):
    paths = write_synthetic_corpus(tmp_path, n_conversations=150, formats=("json",), subdirs=True)
    assert {p.parent.name for p in paths} == {"1", "2"}  # 144 conversations per batch
    assert all(p.suffix == ".json" for p in paths) and len(paths) == 150


def test_cli_writes_the_corpus(tmp_path, capsys):
    assert main([str(tmp_path), "--n", "3", "--seed", "1", "--formats", "md"]) == 0
    assert len(list(tmp_path.glob("*.md"))) == 3
    assert "wrote 3 conversations" in capsys.readouterr().out


# --- markdown ambiguity -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "ambiguous"),
    [
        ("x\n---\n\n### A\ny", True),
        ("---\n\n### A\ny", True),  # the exporter's newline before the body completes the rule
        ("x\n\n---\n\n### A", True),  # ... and the one after it completes the heading
        ("x\n\n---\n\n### Notes\n\ny", False),
        ("x\n\n### A\ny", False),
        ("x\n---\n### A\n", False),
        ("x\n\n---\n\n### A B\n", False),
        ("x\r\n---\r\n\r\n### B\r\n", True),  # readers normalise line endings
    ],
)
def test_is_ambiguous_body(body, ambiguous):
    assert is_ambiguous_body(body, ["A", "B"]) is ambiguous


def test_no_generated_body_is_ambiguous(convs):
    for conv in convs:
        names = (conv["model_a"], conv["model_b"])
        assert not any(is_ambiguous_body(m["content"], names) for m in conv["messages"])


def test_participant_named_like_a_heading_stays_unambiguous(tmp_path):
    models = ("Notes", "Kimi K2")
    write_synthetic_corpus(tmp_path, n_conversations=60, formats=("json",), models=models)
    bodies = _bodies([json.loads(p.read_text()) for p in tmp_path.glob("*.json")])
    assert not any(is_ambiguous_body(b, models) for b in bodies)
    assert any("---\n\n#### Notes" in b for b in bodies)  # demoted, not dropped


# --- realistic dynamics -------------------------------------------------------------------
def _fixed_point(t: list[str]) -> bool:
    return _longest_run([a == b != "" for a, b in zip(t, t[1:], strict=False)]) >= 6


def _ping_pong(t: list[str]) -> bool:
    return _longest_run([t[i] == t[i - 2] != t[i - 1] for i in range(2, len(t))]) >= 6


def _near_repeats(t: list[str]) -> bool:
    pairs = zip(t, t[2:], strict=False)
    similar = [a != b and 30 < len(a) < 400 and difflib.SequenceMatcher(None, a, b).ratio() > 0.85
               for a, b in pairs]
    return sum(similar) >= 3


def _emoji_run(t: list[str]) -> bool:
    only_emoji = [bool(EMOJI_RE.search(x)) and not re.search(r"[A-Za-z]{2}", x) for x in t]
    return _longest_run(only_emoji) >= 3


PHENOMENA = {
    "fixed point": _fixed_point,
    "ping-pong": _ping_pong,
    "near repeats": _near_repeats,
    "emoji collapse": _emoji_run,
    "end-marker runs": lambda t: _longest_run([is_end_marker_only(x) for x in t]) >= 3,
    "[END] tails": lambda t: any(ends_with_end_marker(x) and not is_end_marker_only(x) for x in t),
    "mid empties": lambda t: any(not x.strip() for x in t[:-1]),
    "[Empty response]": lambda t: "[Empty response]" in t,
    "refusals": lambda t: any("I'm not continuing this exchange" in x for x in t),
    "farewell loops": lambda t: sum("Farewell" in x or "Goodbye" in x for x in t) >= 4,
}


def test_corpus_holds_every_promised_phenomenon(convs, corpus_dir):
    texts = [[m["content"] for m in c["messages"][1:]] for c in convs]
    found = {name: sum(map(check, texts)) for name, check in PHENOMENA.items()}
    cut = [c for c in convs if c["ended_at"] is None]
    found["cut off"] = len(cut)
    assert all(n >= 3 for n in found.values()), found
    md_texts = [p.read_text(encoding="utf-8") for p in corpus_dir.glob("*.md")]
    assert sum("**Ended:**" not in t for t in md_texts) == len(cut)


def test_bodies_carry_the_markdown_pitfalls(convs):
    bodies = _bodies(convs)
    checks = {
        "--- line": lambda b: "\n---\n" in f"\n{b}\n",
        "### Notes": lambda b: "### Notes" in b,
        "line-break spaces": lambda b: "  \n" in b,
        "italics": lambda b: re.search(r"(?<!\*)\*[^*\n]+\*(?!\*)", b),
        "bold": lambda b: "**" in b and "**[END]**" not in b,
        "CJK": lambda b: CJK_RE.search(b),
        "emoji": lambda b: EMOJI_RE.search(b),
        "participant heading": lambda b: any(f"\n### {m}\n" in f"\n{b}" for m in MODELS),
        "whitespace only": lambda b: b and not b.strip(),
    }
    counts = {name: sum(bool(check(b)) for b in bodies) for name, check in checks.items()}
    assert all(n >= 1 for n in counts.values()), counts


def test_lengths_decay(convs):
    ratios = []
    for conv in convs:
        words = [len(m["content"].split()) for m in conv["messages"][1:]]
        if len(words) >= 40:
            ratios.append(np.mean(words[:5]) / max(np.mean(words[-10:]), 1.0))
    assert np.median(ratios) > 10
    assert np.mean(np.asarray(ratios) > 3) > 0.9
    assert np.std(np.log(ratios)) > 0.3  # decay rates differ between conversations


def test_theme_drifts_from_consciousness_to_silence(convs):
    early_words = {"consciousness", "awareness", "mind", "existence", "being", "thought"}
    late_words = {"silence", "stillness", "quiet", "goodbye", "farewell", "rest", "gratitude"}
    share = {"early": [0, 0], "late": [0, 0]}  # [early-lexicon hits, late-lexicon hits]
    for conv in convs:
        msgs = conv["messages"][1:]
        third = len(msgs) // 3
        for part, chunk in (("early", msgs[:third]), ("late", msgs[-third:] if third else [])):
            tokens = re.findall(r"[a-z]+", " ".join(m["content"] for m in chunk).lower())
            share[part][0] += sum(t in early_words for t in tokens)
            share[part][1] += sum(t in late_words for t in tokens)
    assert share["early"][0] > 3 * share["early"][1]
    assert share["late"][1] > 3 * share["late"][0]


def test_sizes_are_realistic(corpus_dir, convs):
    md = [p.stat().st_size for p in corpus_dir.glob("*.md")]
    js = [p.stat().st_size for p in corpus_dir.glob("*.json")]
    n_messages = sum(len(c["messages"]) for c in convs)
    assert 5_000 < np.mean(md) < 40_000  # the seed transcripts hold 17-27 kB
    assert 1.0 < sum(js) / sum(md) < 2.0
    assert 60 < n_messages / N_CORPUS < 110


# --- errors -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"n_conversations": -1}, "n_conversations"),
        ({"formats": ("md", "txt")}, "formats"),
        ({"messages": (10, 5)}, "messages"),
        ({"cutoff_share": 1.5}, "cutoff_share"),
        ({"models": ("a/b", "c")}, "models"),
        ({"models": ("solo",)}, "models"),
    ],
)
def test_corpus_argument_errors_name_the_parameter(tmp_path, kwargs, name):
    with pytest.raises(ValueError, match=name):
        write_synthetic_corpus(tmp_path, **{"n_conversations": 1, **kwargs})


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"n_messages": 0}, "n_messages"),
        ({"cut_off_after": 50}, "cut_off_after"),
        ({"model_a": "two\nlines"}, "model_a"),
        ({"start_words": (300, 50)}, "start_words"),
    ],
)
def test_conversation_argument_errors_name_the_parameter(kwargs, name):
    args = {"model_a": "a", "model_b": "b", "n_messages": 10, **kwargs}
    with pytest.raises(ValueError, match=name):
        generate_conversation(0, **args)


# --- the project's reader -----------------------------------------------------------------
def test_read_corpus_loads_the_twins_without_mismatch(corpus_dir):
    from q7x2_lib import read_corpus

    corpus = read_corpus(corpus_dir, errors="raise")
    assert len(corpus.conversations) == N_CORPUS
    assert "twin_mismatch" not in set(corpus.problems["kind"])

"""Random conversations written as orchestrator markdown and JSON read back identical."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import q7x2_lib as q7
from q7x2_lib.datasets import is_ambiguous_body, to_json, to_markdown

_NAME_CHARS = st.characters(categories=("L", "N", "P", "S", "Zs"), exclude_characters="↔\x00")
names = st.text(_NAME_CHARS, min_size=1, max_size=20).filter(lambda s: s == s.strip())
_PIECES = st.sampled_from([
    "---", "### Notes", "## Heading", "# Title", "", "  ", "line  ", "*leans in*", "[END]", "你好",
    "🙏✨", "- item", "```", "\t", "Here.", "…", "**bold**", "\r", "\x0b", "\u2028", "\u00a0",
])
# NUL is left out: a NUL byte is how the reader tells a binary file from a transcript.
_BODY_TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=30)
bodies = st.lists(st.one_of(_PIECES, _BODY_TEXT), max_size=8).map("\n".join)


@st.composite
def conversations(draw) -> dict:
    a, b = draw(names), draw(names)
    n = draw(st.integers(min_value=1, max_value=8))
    texts = [" "] + [draw(bodies.filter(lambda t: not is_ambiguous_body(t, (a, b))))
                     for _ in range(n - 1)]
    return {
        "model_a": a, "model_b": b, "initial_message": " ",
        "messages": [{"role": "user" if i == 0 else "assistant", "content": t,
                      "speaker": a if i % 2 == 0 else b} for i, t in enumerate(texts)],
        "started_at": "2025-10-26T13:04:23.162317",
        "ended_at": draw(st.sampled_from([None, "2025-10-26T13:07:00.000001"])),
    }


def _normal(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(conversations())
def test_markdown_and_json_read_back_identical(conv: dict) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        md, js = Path(tmp) / "c.md", Path(tmp) / "c.json"
        md.write_text(to_markdown(conv), encoding="utf-8")
        js.write_text(to_json(conv), encoding="utf-8")
        from_md = q7.read_transcript(md).messages
        from_js = q7.read_transcript(js).messages
        twins = q7.read_corpus(tmp)
    # Self-play (one name for both): two speakers by position, "<name> 1" and "<name> 2".
    self_play = conv["model_a"] == conv["model_b"]
    expected = [(f"{m['speaker']} {1 + i % 2}" if self_play else m["speaker"],
                 _normal(m["content"])) for i, m in enumerate(conv["messages"])]
    models = [m["speaker"] for m in conv["messages"]]
    for frame in (from_md, from_js):
        assert list(zip(frame["speaker"], frame["text"], strict=True)) == expected
        assert frame["model"].tolist() == models
        assert frame["is_seed"].tolist() == [True] + [False] * (len(expected) - 1)
    assert len(twins) == 1
    assert "twin_mismatch" not in set(twins.problems["kind"])

"""Hostile input, fuzzed: mutations of real-format transcripts never cost a good file and never
raise anything but TranscriptParseError."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from golden import FIXTURES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import q7x2_lib as q7

VALID = FIXTURES / "valid"
BASES = sorted(p for p in VALID.iterdir() if p.is_file() and not p.name.endswith(".expected.json"))
GOOD = (VALID / "basic.md").read_bytes()

_JSON_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-2**70, max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20),
    st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(),
                                                          max_size=2),
    st.just("9" * 40), st.just("now"), st.just("\ud800"), st.just([[[[]]]]),
)


@st.composite
def mutated(draw) -> tuple[str, bytes]:
    base = draw(st.sampled_from(BASES))
    data = base.read_bytes()
    kind = draw(st.sampled_from(["truncate", "flip", "delete_line", "duplicate_line", "nul",
                                 "line_endings", "json_type", "splice", "field", "deep"]))
    if kind == "truncate":
        data = data[:draw(st.integers(0, len(data)))]
    elif kind == "flip":
        at = draw(st.integers(0, max(0, len(data) - 1)))
        data = data[:at] + bytes([draw(st.integers(0, 255))]) + data[at + 1:]
    elif kind in ("delete_line", "duplicate_line"):
        lines = data.split(b"\n")
        at = draw(st.integers(0, len(lines) - 1))
        lines[at:at + 1] = [] if kind == "delete_line" else [lines[at]] * draw(st.integers(2, 5))
        data = b"\n".join(lines)
    elif kind == "nul":
        at = draw(st.integers(0, len(data)))
        data = data[:at] + b"\x00" + data[at:]
    elif kind == "line_endings":
        ending = draw(st.sampled_from([b"\r\n", b"\r", b"\n\r", b"\x0b", "\u2028".encode()]))
        lines = data.split(b"\n")
        data = b"".join(line + (ending if draw(st.booleans()) else b"\n") for line in lines)
    elif kind == "json_type":
        data = _retype(data, draw)
    elif kind == "field":
        data = _hostile_field(data, draw)
    elif kind == "deep":
        at = data.find(b": ")
        depth = draw(st.sampled_from([50, 5_000, 200_000]))
        nested = b"[" * depth + b"]" * depth
        data = data[:at + 2] + nested + b", " + data[at + 2:] if at >= 0 else nested
    else:
        at, length = draw(st.integers(0, len(data))), draw(st.integers(0, 200))
        data = data[:at] + draw(st.binary(max_size=length)) + data[at:]
    return base.suffix or ".txt", data


# The numbers and dates the formats hold, and what a hostile file puts there instead.
_FIELDS = (rb"(\*\*Messages:\*\* )[^\n]*", rb"(### Round )[0-9]+", rb"(Back to Session )[0-9]+",
           rb"(\*\*Started:\*\* )[^\n]*", rb"(Started: )[^\n]*", rb'("started_at": )[^,\n]*',
           rb'("content": )"', rb'("speaker": )"', rb'("text": )"', rb"(### )[^\n]*")
_HOSTILE = ("²³", "9" * 25, "1" * 4_301, "now", "today", "-1", "1e308", "inf", "١٢", "\ud800",
            "$x$ \x1b[2J", "\u202e", "0x10", "")


def _hostile_field(data: bytes, draw) -> bytes:
    import re

    pattern = re.compile(draw(st.sampled_from(_FIELDS)))
    value = draw(st.sampled_from(_HOSTILE)).encode("utf-8", "surrogatepass")
    if pattern.pattern.endswith(b'"'):  # inside a JSON string: an escape, or raw bytes
        value = value + b'"'
    return pattern.sub(lambda m: m.group(1) + value, data, count=1)


def _retype(data: bytes, draw) -> bytes:
    """Replace one value anywhere in a JSON document (or one JSON Lines line) by another type."""
    text = data.decode("utf-8")
    lines = text.split("\n") if text.lstrip().startswith("{") and "\n{" in text else [text]
    i = draw(st.integers(0, len(lines) - 1))
    try:
        doc = json.loads(lines[i])
    except ValueError:
        return data
    paths = list(_paths(doc))
    if not paths:
        return data
    path = draw(st.sampled_from(paths))
    value = draw(_JSON_VALUES)
    if not path:
        doc = value
    else:
        target = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    lines[i] = json.dumps(doc, ensure_ascii=draw(st.booleans()))
    return "\n".join(lines).encode("utf-8", "surrogatepass")


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for k, item in enumerate(value):
            yield from _paths(item, (*prefix, k))


_SETTINGS = settings(max_examples=400, deadline=None, derandomize=True,
                     suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(mutated())
def test_skip_loads_every_good_file_and_makes_every_bad_one_a_problem(case) -> None:
    suffix, data = case
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "good.md").write_bytes(GOOD)
        (folder / f"mutant{suffix}").write_bytes(data)
        corpus = q7.read_corpus(folder, errors="skip")
        sources = set(corpus.conversations["source"])
        assert str(folder / "good.md") in sources
        mutant = str(folder / f"mutant{suffix}")
        unreadable = corpus.problems.loc[corpus.problems["kind"] == "unreadable_file", "source"]
        assert (mutant in sources) != (mutant in set(unreadable))  # loaded, or one problem row
        assert corpus.conversations["conversation_id"].is_unique
        ids = corpus.conversations["conversation_id"]
        assert corpus.messages["conversation_id"].isin(ids).all()


@_SETTINGS
@given(mutated())
def test_raise_raises_nothing_but_transcript_parse_error(case) -> None:
    suffix, data = case
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"mutant{suffix}"
        path.write_bytes(data)
        try:
            corpus = q7.read_corpus(path)
        except q7.TranscriptParseError as exc:
            assert exc.path == str(path) and (exc.line is None or exc.line >= 1)
            assert str(exc).endswith(")") and f"(at {path}, line " in str(exc)
        else:
            assert len(corpus) >= 1

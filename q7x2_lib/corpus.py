"""The Corpus: three tidy tables read from transcript files, and the functions that read it."""

from __future__ import annotations

import glob
import os
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ._frames import CONVERSATION_COLUMNS, messages_frame, problems_frame
from .errors import TranscriptParseError
from .readers import ParsedTranscript, parse_file

__all__ = ["Corpus", "TranscriptWarning", "read_corpus", "read_transcript"]

Source = str | os.PathLike[str]
_ERRORS = ("raise", "warn", "skip")
_GLOB_CHARS = frozenset("*?[")
_PROGRESS_MIN_FILES = 50


class TranscriptWarning(UserWarning):
    """A transcript file was skipped (``errors="warn"``)."""


@dataclass(frozen=True)
class Corpus:
    """Transcripts as three tidy tables that travel together.

    Attributes
    ----------
    messages
        One row per message: ``conversation_id``, ``turn``, ``speaker``, ``text``, ``n_chars``,
        ``n_words``, ``is_seed``, ``is_empty``, ``is_end_marker``, ``ends_with_end_marker``,
        ``source``, ``line``.
    conversations
        One row per conversation: ``conversation_id``, ``title``, ``speaker_a``, ``speaker_b``,
        ``participants``, ``started``, ``ended``, ``duration_s``, ``n_messages``,
        ``n_messages_declared``, ``format``, ``source``, ``session``, ``provider``, ``twin``.
    problems
        One row per finding: ``source``, ``line``, ``kind``, ``detail``.
    """

    messages: pd.DataFrame
    conversations: pd.DataFrame
    problems: pd.DataFrame

    def __len__(self) -> int:
        return len(self.conversations)

    def summary(self) -> pd.DataFrame:
        """A one-column table: conversations, messages, words, speakers, formats, problems."""
        m, c = self.messages, self.conversations
        rows = {
            "conversations": len(c),
            "messages": len(m),
            "words": int(m["n_words"].sum()),
            "speakers": m["speaker"].nunique(),
            "formats": ", ".join(sorted(c["format"].unique())) if len(c) else "",
            "problems": len(self.problems),
        }
        return pd.DataFrame({"value": pd.Series(rows, dtype="object")}).rename_axis("corpus")

    def __repr__(self) -> str:
        s = self.summary()["value"]
        return (f"<Corpus: {s['conversations']} conversations, {s['messages']} messages, "
                f"{s['speakers']} speakers, {s['problems']} problems>")

    def _repr_html_(self) -> str:
        return self.summary()._repr_html_()


def read_transcript(path: Source) -> Corpus:
    """Read one transcript file into a ``Corpus`` (always ``errors="raise"``)."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"read_transcript(path=...) needs a file; {str(p)!r} is not one")
    return read_corpus(p)


def read_corpus(
    source: Source | Sequence[Source], *, errors: str = "raise", root: Source | None = None,
    progress: bool | None = None,
) -> Corpus:
    """Read transcripts from files, directories (recursively), globs, or a list of these.

    Parameters
    ----------
    source
        A file, a directory, a glob pattern, or a list of these.
    errors
        ``"raise"`` stops at the first unreadable file with ``TranscriptParseError``; ``"warn"``
        and ``"skip"`` load every readable file and record the others in ``problems`` (``"warn"``
        also issues a ``TranscriptWarning``).
    root
        Directory that relative paths resolve against (default: the working directory).
    progress
        Show a progress bar; by default, only for 50 files or more and never when the
        environment sets ``Q7X2_PROGRESS=0`` (as the notebook runner does).

    Returns
    -------
    Corpus
        ``messages``, ``conversations`` and ``problems``; see ``Corpus``.
    """
    if errors not in _ERRORS:
        raise ValueError(f"errors must be one of {_ERRORS}, got {errors!r}")
    base = Path(root) if root is not None else None
    files = _expand(source, base)
    docs, problems = [], []
    for path in _progress(files, progress):
        try:
            docs.append(parse_file(path, name=_display_name(path, base)))
        except TranscriptParseError as exc:
            if errors == "raise":
                raise
            if errors == "warn":
                warnings.warn(f"skipped: {exc}", TranscriptWarning, stacklevel=2)
            problems.append({"source": exc.path, "line": exc.line, "kind": "unreadable_file",
                             "detail": f"skipped: {exc.reason}"})
    docs, twins = _merge_twins(docs, problems)
    return _build(docs, twins, problems)


def _display_name(path: Path, root: Path | None) -> str:
    # Paths under ``root`` are named relative to it, so tables and committed notebook outputs do
    # not depend on where the project was cloned.
    if root is not None:
        try:
            return path.relative_to(root).as_posix()
        except ValueError:
            pass
    return str(path)


def _expand(source: Source | Sequence[Source], root: Path | None) -> list[Path]:
    items = [source] if isinstance(source, str | os.PathLike) else list(source)
    if not items:
        raise ValueError("read_corpus(source=...) got an empty list; expected files or folders")
    found: dict[Path, None] = {}
    for item in items:
        for path in _expand_one(Path(item), root):
            found.setdefault(path, None)
    return list(found)


def _expand_one(path: Path, root: Path | None) -> list[Path]:
    full = path if path.is_absolute() or root is None else root / path
    if _GLOB_CHARS & set(str(path)):
        hits = sorted(Path(p) for p in glob.glob(str(full), recursive=True))
        files = [p for p in hits if p.is_file()]
        if not files:
            raise FileNotFoundError(f"read_corpus: the pattern {str(full)!r} matches no files")
        return files
    if full.is_dir():
        files = sorted(
            p for p in full.rglob("*")
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(full).parts)
        )
        if not files:
            raise FileNotFoundError(f"read_corpus: the folder {str(full)!r} holds no files")
        return files
    if full.is_file():
        return [full]
    raise FileNotFoundError(f"read_corpus: {str(full)!r} is not a file, folder or matching pattern")


def _progress(files: list[Path], progress: bool | None) -> Iterable[Path]:
    if progress is None:
        progress = len(files) >= _PROGRESS_MIN_FILES and os.environ.get("Q7X2_PROGRESS") != "0"
    if not progress:
        return files
    from tqdm import tqdm

    return tqdm(files, desc="reading transcripts", unit="file")


def _merge_twins(docs: list[ParsedTranscript], problems: list[dict]) -> tuple[list, dict]:
    """Keep one conversation per markdown/JSON twin pair (the JSON), checking they agree."""
    by_key: dict[tuple[str, str], dict[str, ParsedTranscript]] = {}
    for doc in docs:
        p = Path(doc.path)
        by_key.setdefault((str(p.parent), p.stem), {})[doc.format] = doc
    kept, twins = [], {}
    for doc in docs:
        p = Path(doc.path)
        group = by_key[(str(p.parent), p.stem)]
        md, js = group.get("attractors-md"), group.get("attractors-json")
        if md is None or js is None:
            kept.append(doc)
        elif doc is js:
            kept.append(js)
            twins[js.path] = md.path
            _compare_twins(md, js, problems)
    return kept, twins


def _compare_twins(md: ParsedTranscript, js: ParsedTranscript, problems: list[dict]) -> None:
    def report(detail: str, line: int | None = None) -> None:
        problems.append({"source": md.path, "line": line, "kind": "twin_mismatch",
                         "detail": f"{detail} (JSON twin {js.path} kept)"})

    if len(md.texts) != len(js.texts):
        report(f"{len(md.texts)} messages in the markdown, {len(js.texts)} in its JSON twin")
    pairs = zip(md.speakers, md.texts, js.speakers, js.texts, md.lines, strict=False)
    for turn, (ms, mt, js_s, jt, line) in enumerate(pairs):
        if ms != js_s or mt != jt:
            what = "speaker" if ms != js_s else "text"
            report(f"message {turn} differs in its {what} from the JSON twin", line)
            return


def _conversation_ids(docs: list[ParsedTranscript]) -> list[str]:
    """Stable ids from file names; where two stems collide, add parent folders until unique."""
    paths = [Path(d.path) for d in docs]
    depth = [0] * len(paths)
    while True:
        ids = ["/".join([*p.parent.parts[len(p.parent.parts) - k:], p.stem]) if k else p.stem
               for p, k in zip(paths, depth, strict=True)]
        seen: dict[str, list[int]] = {}
        for i, cid in enumerate(ids):
            seen.setdefault(cid, []).append(i)
        clashes = [i for group in seen.values() if len(group) > 1 for i in group
                   if depth[i] < len(paths[i].parent.parts)]
        if not clashes:
            return ids
        for i in clashes:
            depth[i] += 1


def _build(docs: list[ParsedTranscript], twins: dict[str, str], problems: list[dict]) -> Corpus:
    ids = _conversation_ids(docs)
    order = sorted(range(len(docs)), key=ids.__getitem__)
    keys = ("cid", "turn", "speaker", "text", "seed", "src", "line")
    cols: dict[str, list] = {k: [] for k in keys}
    for i in order:
        doc, n = docs[i], len(docs[i].texts)
        cols["cid"] += [ids[i]] * n
        cols["turn"] += range(n)
        cols["speaker"] += doc.speakers
        cols["text"] += doc.texts
        cols["seed"] += doc.seeds
        cols["src"] += [doc.path] * n
        cols["line"] += doc.lines
    messages = messages_frame(cols["cid"], cols["turn"], cols["speaker"], cols["text"],
                              cols["seed"], cols["src"], cols["line"])
    conversations = _conversations_frame([docs[i] for i in order], [ids[i] for i in order], twins)
    for doc in docs:
        problems.extend(doc.problems)
    table = problems_frame(problems).sort_values(["source", "line", "kind"], kind="stable",
                                                 na_position="first", ignore_index=True)
    return Corpus(messages=messages, conversations=conversations, problems=table)


def _conversations_frame(docs: list[ParsedTranscript], ids: list[str], twins: dict) -> pd.DataFrame:
    rows = []
    for cid, doc in zip(ids, docs, strict=True):
        meta = doc.meta
        names = tuple(meta.get("participants") or dict.fromkeys(doc.speakers))
        rows.append({
            "conversation_id": cid, "title": meta.get("title"),
            "speaker_a": names[0] if names else None,
            "speaker_b": names[1] if len(names) > 1 else None,
            "participants": names, "started": meta.get("started"), "ended": meta.get("ended"),
            "n_messages": len(doc.texts), "n_messages_declared": meta.get("n_messages_declared"),
            "format": doc.format, "source": doc.path, "session": meta.get("session"),
            "provider": meta.get("provider"), "twin": twins.get(doc.path),
            "ending": meta.get("ending"), "round_count": meta.get("round_count"),
        })
    frame = pd.DataFrame(rows, columns=[*CONVERSATION_COLUMNS, "twin"])
    for col in ("started", "ended"):
        frame[col] = pd.to_datetime(frame[col])
    frame["duration_s"] = (frame["ended"] - frame["started"]).dt.total_seconds()
    for col in ("n_messages_declared", "session", "round_count"):
        frame[col] = frame[col].astype("Int64")
    frame["n_messages"] = frame["n_messages"].astype("int64")
    for col in ("conversation_id", "title", "speaker_a", "speaker_b", "format", "source",
                "provider", "twin", "ending"):
        frame[col] = frame[col].astype("string")
    return frame

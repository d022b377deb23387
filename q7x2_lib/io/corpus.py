"""The Corpus: three tidy tables read from transcript files, and the functions that read it."""

from __future__ import annotations

import glob
import os
import re
import stat
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .._core.schema import CONVERSATION_COLUMNS, problems_frame
from .._core.speed import return_freed_memory
from ._reading import ChunkResult, assemble_messages, n_workers, read_files
from .parquet import is_parquet_corpus, read_parquet
from .readers import ParsedTranscript, drop_companions
from .readers._base import twin_key

if TYPE_CHECKING:
    from ..apps.viewer import ConversationView

__all__ = ["Corpus", "TranscriptWarning", "read_corpus", "read_transcript"]

Source = str | os.PathLike[str]
_ERRORS = ("raise", "warn", "skip")
_GLOB_CHARS = frozenset("*?[")
_SUFFIX_RE = re.compile(r"\.(?:md|json|jsonl|txt)\Z", re.IGNORECASE)
_PROGRESS_MIN_FILES = 50


class TranscriptWarning(UserWarning):
    """A transcript file was skipped (``errors="warn"``)."""


@dataclass(frozen=True)
class Corpus:
    """Transcripts as three tidy tables that travel together.

    Attributes
    ----------
    messages
        One row per message: ``conversation_id``, ``turn``, ``speaker``, ``model``, ``text``,
        ``n_chars``, ``n_words``, ``is_seed``, ``is_empty``, ``is_end_marker``,
        ``ends_with_end_marker``, ``source``, ``line``, ``round``.
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

    def to_parquet(self, path: Source, *, rows_per_part: int = 250_000) -> Path:
        """Write the tables as a Parquet cache folder that ``read_corpus(path)`` reloads.

        Much faster to reload than the transcripts are to parse, and what
        ``q7x2_lib.distributed`` reads on a Dask cluster; see ``q7x2_lib.io.parquet.write_parquet``.
        """
        from .parquet import write_parquet

        return write_parquet(self, path, rows_per_part=rows_per_part)

    def summary(self) -> pd.DataFrame:
        """A one-column table: conversations, messages, words, speakers, formats, failed runs
        (conversations in which no model replied), unreadable files, problems (all of them)."""
        m, c = self.messages, self.conversations
        rows = {
            "conversations": len(c),
            "messages": len(m),
            "words": int(m["n_words"].sum()),
            "speakers": m["speaker"].nunique(),
            "formats": ", ".join(sorted(c["format"].unique())) if len(c) else "",
            "failed runs": int((self.problems["kind"] == "failed_run").sum()),
            "unreadable files": int((self.problems["kind"] == "unreadable_file").sum()),
            "problems": len(self.problems),
        }
        return pd.DataFrame({"value": pd.Series(rows, dtype="object")}).rename_axis("corpus")

    def __repr__(self) -> str:
        s = self.summary()["value"]
        return (f"<Corpus: {s['conversations']} conversations, {s['messages']} messages, "
                f"{s['speakers']} speakers, {s['problems']} problems>")

    def _repr_html_(self) -> str:
        from ..apps.viewer import corpus_html

        return corpus_html(self.summary(), self.conversations)

    def list_conversations(self) -> pd.DataFrame:
        """One row per conversation with what to sort and filter by: models, messages, words,
        end state and whom it applies to, loop onset and period, collapse turn, problems; see
        ``q7x2_lib.apps.explore.conversation_table``. Computed once per corpus."""
        from ..apps.explore import conversation_table

        if "_table" not in self.__dict__:  # a frozen dataclass: cache beside the fields
            self.__dict__["_table"] = conversation_table(self.messages, self.conversations,
                                                         self.problems)
        return self.__dict__["_table"].copy()

    def explore(self, **view_options):
        """The conversation table as a sortable, searchable widget in JupyterLab; selecting a
        row opens that conversation below it (``view_options`` go to ``conversation``). Shows
        as the plain table where widgets are not available. See ``apps.explore.Explorer``."""
        from ..apps.explore import Explorer

        return Explorer(self, **view_options)

    def search(self, pattern: str, *, regex: bool = False, case: bool = False,
               context: int = 60, max_hits: int = 100_000, include_seed: bool = True):
        """Messages matching ``pattern`` (plain text, or an RE2 regex with ``regex=True``;
        case ignored unless ``case=True``), with conversation, turn, speaker and highlighted
        context; linear time on any pattern and text. See ``apps.explore.search``."""
        from ..apps.explore import search

        return search(self.messages, pattern, regex=regex, case=case, context=context,
                      max_hits=max_hits, include_seed=include_seed)

    def compare(self, id_a: str | int, id_b: str | int, *, turn: int | None = None,
                fold_words: int = 300):
        """Two conversations side by side: lengths and states aligned by turn, and with
        ``turn`` the text of both at that turn. See ``apps.explore.compare``."""
        from ..apps.explore import compare

        return compare(self, id_a, id_b, turn=turn, fold_words=fold_words)

    def conversation(
        self, conversation_id: str | int, *, page: int = 1, per_page: int = 100,
        collapse: int = 3, loops: bool = True, fold_words: int = 300, turn: int | None = None,
    ) -> ConversationView:
        """Read one conversation as a chat (in JupyterLab); ``conversation_id`` or a position.

        Messages are shown ``per_page`` at a time (``page`` is 1-based; ``turn=57`` shows the
        page holding turn 57, that message outlined); runs of ``collapse`` or more identical
        consecutive messages show once, and a cycle of 2 to 6 messages repeated ``collapse``
        times or more shows one round with the rest folded; a message longer than
        ``fold_words`` words shows its start, the rest one click away; ``loops`` badges repeats
        and loops. Returns a ``q7x2_lib.apps.viewer.ConversationView``.
        """
        from ..apps.viewer import conversation_view

        return conversation_view(self.messages, self.conversations, conversation_id, page=page,
                                 per_page=per_page, collapse=collapse, loops=loops,
                                 fold_words=fold_words, turn=turn)

    def to_convokit(self, path: Source | None = None):
        """This corpus in ConvoKit's terms: a ``convokit.Corpus`` (needs the ``convokit``
        extra), or with ``path`` its on-disk corpus directory (needs nothing extra), which
        ``read_corpus`` reads back; see ``q7x2_lib.io.convokit.to_convokit``."""
        from .convokit import to_convokit

        return to_convokit(self, path)


def read_transcript(path: Source) -> Corpus:
    """Read one transcript file into a ``Corpus`` (always ``errors="raise"``)."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"read_transcript(path=...) needs a file; {str(p)!r} is not one")
    return read_corpus(p)


def read_corpus(
    source: Source | Sequence[Source], *, errors: str = "raise", root: Source | None = None,
    progress: bool | None = None, workers: int | None = None,
) -> Corpus:
    """Read transcripts from files, directories (recursively), globs, or a list of these.

    Parameters
    ----------
    source
        A file, a directory, a glob pattern, or a list of these; or a folder written by
        ``Corpus.to_parquet``, which is reloaded as it was written (the other options then do
        not apply).
    errors
        ``"raise"`` stops at the first unreadable file with ``TranscriptParseError``; ``"warn"``
        and ``"skip"`` load every readable file and record the others in ``problems`` (``"warn"``
        also issues a ``TranscriptWarning``).
    root
        Directory that relative paths resolve against (default: the working directory).
    progress
        Show a progress bar; by default, only for 50 files or more and never when the
        environment sets ``Q7X2_PROGRESS=0`` (as the notebook runner does).
    workers
        Processes that parse files: ``None`` or 1 (default) this one, ``N`` a pool of N, -1 one
        per core. The tables are identical whatever the number.

    Returns
    -------
    Corpus
        ``messages``, ``conversations`` and ``problems``; see ``Corpus``.
    """
    if errors not in _ERRORS:
        raise ValueError(f"errors must be one of {_ERRORS}, got {errors!r}")
    base = Path(root) if root is not None else None
    processes = n_workers(workers)
    if isinstance(source, str | os.PathLike) and is_parquet_corpus(_resolve(source, base)):
        return read_parquet(_resolve(source, base))
    problems: list[dict] = []
    files = _expand(source, base, problems)
    chunks, failures = read_files(
        files, [_display_name(path, base) for path in files], merge=_merge_twins, errors=errors,
        workers=processes, progress=_show_progress(len(files), progress),
    )
    for failure in failures:
        exc = failure.error()
        if errors == "warn":
            warnings.warn(f"skipped: {exc}", TranscriptWarning, stacklevel=2)
        problems.append({"source": exc.path, "line": exc.line, "kind": "unreadable_file",
                         "detail": f"skipped: {exc.reason}"})
    corpus = _build(chunks, problems)
    del chunks
    return_freed_memory()
    return corpus


def _display_name(path: Path, root: Path | None) -> str:
    # Paths under ``root`` are named relative to it, so tables and committed notebook outputs do
    # not depend on where the project was cloned.
    if root is not None:
        try:
            return path.relative_to(root).as_posix()
        except ValueError:
            pass
    return str(path)


def _expand(source: Source | Sequence[Source], root: Path | None, problems: list[dict]
            ) -> list[Path]:
    """Every file the sources name, each once (by its real path), in the order named.

    A file named twice (two spellings, a link beside its target) is read once and reported;
    links, FIFOs and other entries that are not files are reported, never silently skipped.
    """
    items = [source] if isinstance(source, str | os.PathLike) else list(source)
    if not items:
        raise ValueError("read_corpus(source=...) got an empty list; expected files or folders")
    found: dict[str, Path] = {}
    folders: dict[str, str] = {}  # real path of each folder named: one per folder, not per file
    for item in items:
        for path in _expand_one(Path(item), root, problems):
            real = _real_path(path, folders)
            seen = found.get(real)
            if seen is None:
                found[real] = path
            elif seen != path:
                # Keep the file itself rather than a link to it, wherever the link sorts.
                keep, drop = (path, seen) if os.path.islink(seen) and not os.path.islink(
                    path) else (seen, path)
                found[real] = keep
                problems.append(_problem(drop, "duplicate_file",
                                         f"the same file as {keep}: read once, as {keep.name}"))
    return drop_companions(list(found.values()))


def _real_path(path: Path, folders: dict[str, str]) -> str:
    """``os.path.realpath(path)``, its folder's part resolved once per folder (``folders``
    caches them): a file that is not itself a link lies where its real folder does."""
    text = os.fspath(path)
    if os.path.islink(text):
        return os.path.realpath(text)
    parent, name = os.path.split(text)
    real = folders.get(parent)
    if real is None:
        real = folders[parent] = os.path.realpath(parent or os.curdir)
    return os.path.join(real, name)


def _problem(path: Path | str, kind: str, detail: str) -> dict:
    return {"source": str(path), "line": None, "kind": kind, "detail": detail}


def _resolve(path: Source, root: Path | None) -> Path:
    path = Path(path)
    return path if path.is_absolute() or root is None else root / path


def _expand_one(path: Path, root: Path | None, problems: list[dict]) -> list[Path]:
    full = _resolve(path, root)
    # A path that exists is that path, even when its name holds "[", "*" or "?".
    if not os.path.lexists(full) and _GLOB_CHARS & set(str(path)):
        hits = sorted(Path(p) for p in glob.glob(str(full), recursive=True))
        files = [p for p in hits if p.is_file()]
        if not files:
            raise FileNotFoundError(f"read_corpus: the pattern {str(full)!r} matches no files")
        return files
    if full.is_dir():
        files = _files_under(full, problems)
        if not files:
            raise FileNotFoundError(f"read_corpus: the folder {str(full)!r} holds no files")
        return files
    if full.is_file():
        return [full]
    if os.path.lexists(full):
        raise FileNotFoundError(f"read_corpus: {str(full)!r} is {_what(full)}, not a transcript "
                                "file or folder")
    raise FileNotFoundError(f"read_corpus: {str(full)!r} is not a file, folder or matching pattern")


def _what(path: Path | str) -> str:
    """What a path that is neither a file nor a folder is, in words."""
    if os.path.islink(path) and not os.path.exists(path):
        return f"a link to {os.readlink(path)!r}, which does not exist"
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        return f"unreadable ({exc.strerror})"
    kinds = ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"),
             (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))
    return next((name for test, name in kinds if test(mode)), "not a regular file")


def _files_under(folder: Path, problems: list[dict]) -> list[Path]:
    """Files below ``folder``, hidden ones (a part starting with ".") left out, sorted as paths.

    ``os.scandir`` rather than ``Path.rglob``: no ``Path`` object and no ``stat`` per entry
    (the directory listing tells files from folders) until the end, which matters for
    folders of thousands of transcripts. Links are followed, but a folder is entered once,
    through its real path where it has one (a link back up, such as one to ``.``, would repeat
    it forever); entries that are neither
    files nor folders (a dangling link, a FIFO), folders that cannot be read and folders named
    like transcripts that hold none are reported in ``problems``.
    """
    found: list[tuple[str, ...]] = []
    seen: set[tuple[int, int]] = set()
    pending: list[tuple[str, tuple[str, ...]]] = [(os.fspath(folder), ())]
    links: list[tuple[str, tuple[str, ...]]] = []  # linked folders: after every real one
    while pending or links:
        if not pending:
            links.sort(reverse=True)
            pending.append(links.pop())
        top, parts = pending.pop()
        try:
            info = os.stat(top)
            if (info.st_dev, info.st_ino) in seen:
                problems.append(_problem(top, "repeated_folder", "a link to a folder already "
                                         "read (a loop such as a link to '.'): not read again"))
                continue
            seen.add((info.st_dev, info.st_ino))
            before = len(found)
            with os.scandir(top) as entries:
                for entry in entries:
                    if entry.name.startswith("."):
                        continue
                    if _entry_is(entry, os.DirEntry.is_dir):
                        todo = links if entry.is_symlink() else pending
                        todo.append((entry.path, (*parts, entry.name)))
                    elif _entry_is(entry, os.DirEntry.is_file):
                        found.append((*parts, entry.name))
                    else:
                        problems.append(_problem(entry.path, "not_a_file",
                                                 f"skipped: {_what(entry.path)}"))
            if parts and len(found) == before and _SUFFIX_RE.search(parts[-1]):
                problems.append(_problem(top, "not_a_file", "a folder named like a "
                                         "transcript file, holding no files: nothing read"))
        except OSError as exc:
            problems.append(_problem(top, "unreadable_folder", f"skipped: {exc.strerror}"))
    return [folder.joinpath(*parts) for parts in sorted(found)]


def _entry_is(entry: os.DirEntry, test: Callable[[os.DirEntry], bool]) -> bool:
    try:
        return test(entry)
    except OSError:  # as os.path.isdir and os.path.isfile: an entry that cannot be checked
        return False


def _show_progress(n_files: int, progress: bool | None) -> bool:
    if progress is None:
        return n_files >= _PROGRESS_MIN_FILES and os.environ.get("Q7X2_PROGRESS") != "0"
    return bool(progress)


def _merge_twins(docs: list[ParsedTranscript], problems: list[dict]) -> tuple[list, dict]:
    """Keep one conversation per markdown/JSON twin pair (the JSON), checking they agree.

    A pair is exactly one orchestrator markdown and one orchestrator JSON export with the same
    folder and stem; every other file is kept as it is, whatever its name.
    """
    by_key: dict[tuple[str, str], list[ParsedTranscript]] = {}
    keys = [twin_key(doc.path) for doc in docs]
    for key, doc in zip(keys, docs, strict=True):
        by_key.setdefault(key, []).append(doc)
    kept, twins = [], {}
    for key, doc in zip(keys, docs, strict=True):
        pair = _twin_pair(by_key[key])
        if pair is None:
            kept.append(doc)
        elif doc is pair[1]:
            md, js = pair
            kept.append(js)
            twins[js.path] = md.path
            _compare_twins(md, js, problems)
            # What only the markdown can show (its declared count, say) is still reported.
            known = {p["kind"] for p in js.problems}
            problems.extend(p for p in md.problems if p["kind"] not in known)
    return kept, twins


def _twin_pair(group: list[ParsedTranscript]
               ) -> tuple[ParsedTranscript, ParsedTranscript] | None:
    mds = [d for d in group if d.format == "attractors-md"]
    jss = [d for d in group if d.format == "attractors-json"]
    if len(mds) == 1 and len(jss) == 1 and mds[0].path != jss[0].path:
        return mds[0], jss[0]
    return None


def _compare_twins(md: ParsedTranscript, js: ParsedTranscript, problems: list[dict]) -> None:
    def report(detail: str, line: int | None = None) -> None:
        problems.append({"source": md.path, "line": line, "kind": "twin_mismatch",
                         "detail": f"{detail} (JSON twin {js.path} kept)"})

    md_ended, js_ended = md.meta.get("ended") is not None, js.meta.get("ended") is not None
    if md_ended != js_ended:
        where = "markdown" if md_ended else "JSON twin"
        report(f"only the {where} records an end time")
    if len(md.texts) != len(js.texts):
        report(f"{len(md.texts)} messages in the markdown, {len(js.texts)} in its JSON twin")
    if md.texts == js.texts and md.speakers == js.speakers:  # the common case, compared in C
        return
    pairs = zip(md.speakers, md.texts, js.speakers, js.texts, md.lines, strict=False)
    for turn, (ms, mt, js_s, jt, line) in enumerate(pairs):
        if ms != js_s or mt != jt:
            what = "speaker" if ms != js_s else "text"
            report(f"message {turn} differs in its {what} from the JSON twin", line)
            return


def _conversation_ids(docs: list[ParsedTranscript]) -> tuple[list[str], list[dict]]:
    """Unique, stable ids from file names, and a problem row for each id that had to change.

    The stem (or, for a file of several conversations, the name the reader gave each); where
    two files of one folder share it (``run.md`` beside an unrelated ``run.json``, or a stem
    equal to a conversation's name in another file) the file name with its suffix instead;
    where ids still collide, parent folders are added until they differ; as a last resort a
    number. Ids are unique, always: a conversation is only ever one conversation.
    """
    stems = [d.name or twin_key(d.path)[1] for d in docs]
    if len(set(stems)) == len(stems):  # the common case, without a Path per file
        return stems, []
    paths = [Path(d.path) for d in docs]
    stems = [d.name or p.stem for d, p in zip(docs, paths, strict=True)]
    local = _clashing([f"{p.parent}/{s}" for p, s in zip(paths, stems, strict=True)])
    stems = [_with_file_name(s, docs[i], paths[i]) if i in local else s
             for i, s in enumerate(stems)]
    ids = _with_folders(paths, stems)
    problems = [_problem(docs[i].path, "id_collision", "another file of this folder has the "
                         f"same name but for its suffix: conversation id {ids[i]!r}")
                for i in sorted(local)]
    counter: dict[str, int] = {}
    for i in sorted(_clashing(ids)):  # still equal: number them in file order
        counter[ids[i]] = counter.get(ids[i], 0) + 1
        ids[i] = f"{ids[i]}~{counter[ids[i]]}"
        problems.append(_problem(docs[i].path, "id_collision", f"conversation id {ids[i]!r}"))
    return ids, problems


def _clashing(ids: list[str]) -> set[int]:
    seen: dict[str, list[int]] = {}
    for i, cid in enumerate(ids):
        seen.setdefault(cid, []).append(i)
    return {i for group in seen.values() if len(group) > 1 for i in group}


def _with_folders(paths: list[Path], stems: list[str]) -> list[str]:
    folders = [[part for part in p.parent.parts if part != p.anchor] for p in paths]
    depth = [0] * len(paths)
    while True:
        ids = ["/".join([*f[len(f) - k:], s]) if k else s
               for f, s, k in zip(folders, stems, depth, strict=True)]
        clashes = [i for i in _clashing(ids) if depth[i] < len(folders[i])]
        if not clashes:
            return ids
        for i in clashes:
            depth[i] += 1


def _with_file_name(stem: str, doc: ParsedTranscript, path: Path) -> str:
    """The file name in place of its stem (``run`` -> ``run.md``; ``log#3`` -> ``log.jsonl#3``;
    a ConvoKit conversation ``c1`` -> ``utterances.jsonl#c1``)."""
    if doc.name is None:
        return path.name
    rest = doc.name[len(path.stem):] if doc.name.startswith(f"{path.stem}#") else f"#{doc.name}"
    return f"{path.name}{rest}"


def _build(chunks: list[ChunkResult], problems: list[dict]) -> Corpus:
    docs = [doc for chunk in chunks for doc in chunk.docs]
    counts = [n for chunk in chunks for n in chunk.counts]
    twins = {md: js for chunk in chunks for md, js in chunk.twins.items()}
    ids, id_problems = _conversation_ids(docs)
    problems.extend(id_problems)
    order = sorted(range(len(docs)), key=ids.__getitem__)
    messages = assemble_messages([c.messages for c in chunks], ids, counts, order)
    # The chunks drop the docs' message columns (they travel as one table), so the count of
    # messages comes from the chunks.
    conversations = _conversations_frame(
        [docs[i] for i in order], [ids[i] for i in order], twins
    ).assign(n_messages=np.array([counts[i] for i in order], dtype="int64"))
    for chunk in chunks:
        problems.extend(chunk.problems)
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

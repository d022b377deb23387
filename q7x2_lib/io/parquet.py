"""A Parquet cache of a Corpus, which read_corpus reloads much faster than it parses transcripts."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .._core.errors import TranscriptParseError

if TYPE_CHECKING:
    from .corpus import Corpus

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "MANIFEST",
    "MESSAGES_DIR",
    "is_parquet_corpus",
    "read_manifest",
    "read_messages_part",
    "read_parquet",
    "restore_dtypes",
    "verify_part",
    "write_parquet",
]

FORMAT = "q7x2-parquet"
FORMAT_VERSION = 2  # 2: every file's row count, conversation range and SHA-256
MANIFEST = "q7x2.json"
MESSAGES_DIR = "messages"
_TABLES = ("conversations", "problems")
# Text compresses about 3:1 and zstd decodes faster than the disk reads the difference.
_COMPRESSION = "zstd"


def is_parquet_corpus(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` is a folder written by ``write_parquet`` (it holds ``q7x2.json``)."""
    manifest = Path(path) / MANIFEST
    if not manifest.is_file():
        return False
    try:
        return json.loads(manifest.read_text(encoding="utf-8")).get("format") == FORMAT
    except (ValueError, AttributeError):
        return False


def write_parquet(corpus: Corpus, path: str | os.PathLike[str], *,
                  rows_per_part: int = 250_000) -> Path:
    """Write ``corpus`` as a folder of Parquet files that ``read_corpus(path)`` reloads.

    Layout: ``q7x2.json`` (format, version, row counts, column dtypes, and for every file its
    rows, conversation range and SHA-256), ``conversations.parquet``, ``problems.parquet``, and
    ``messages/part-NNNNN.parquet``, each part holding whole conversations in corpus order
    (about ``rows_per_part`` messages, one row group), so that Dask reads one partition per
    part with no conversation split across partitions.

    The cache is written to a temporary folder beside ``path`` and renamed into place: a write
    that stops half way leaves the old cache (or nothing) at ``path``, never half of one.

    Parameters
    ----------
    corpus
        The corpus to write.
    path
        A folder: created, or replaced if it holds a q7x2 Parquet cache and nothing else; any
        other non-empty folder is refused.
    rows_per_part
        Target number of messages per part file.

    Returns
    -------
    Path
        The folder written.
    """
    if isinstance(rows_per_part, bool) or not isinstance(rows_per_part, int) or rows_per_part < 1:
        raise ValueError(f"rows_per_part: got {rows_per_part!r}; expected an integer >= 1")
    out = Path(path)
    _check_target(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.writing-", dir=out.parent))
    try:
        _write_cache(corpus, tmp, rows_per_part)
        _replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def _write_cache(corpus: Corpus, folder: Path, rows_per_part: int) -> None:
    (folder / MESSAGES_DIR).mkdir()
    ids = corpus.messages["conversation_id"]
    parts = []
    for k, (first, stop) in enumerate(_part_bounds(corpus.messages, rows_per_part)):
        name = f"{MESSAGES_DIR}/part-{k:05d}.parquet"
        _write_table(corpus.messages.iloc[first:stop], folder / name)
        parts.append({"file": name, "first_row": first, "n_rows": stop - first,
                      "first_conversation": str(ids.iloc[first]) if stop > first else None,
                      "last_conversation": str(ids.iloc[stop - 1]) if stop > first else None,
                      "sha256": _sha256(folder / name)})
    tables = {}
    for table in _TABLES:
        _write_table(getattr(corpus, table), folder / f"{table}.parquet")
        tables[table] = {"file": f"{table}.parquet", "n_rows": len(getattr(corpus, table)),
                         "sha256": _sha256(folder / f"{table}.parquet")}
    (folder / MANIFEST).write_text(json.dumps(_manifest(corpus, parts, tables), indent=1) + "\n",
                                   encoding="utf-8")


def _sha256(file: Path) -> str:
    with open(file, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _check_target(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise ValueError(f"to_parquet(path=...) needs a folder; {str(out)!r} is a file")
    if not out.is_dir() or not any(out.iterdir()):
        return
    if not is_parquet_corpus(out):
        raise ValueError(
            f"to_parquet(path=...): {str(out)!r} is a folder that holds other files; "
            "expected a new folder or an earlier q7x2 Parquet cache to replace"
        )
    others = sorted(str(p.relative_to(out)) for p in out.rglob("*")
                    if p.is_file() and p.relative_to(out).as_posix() not in _cache_files(out))
    if others:
        shown = ", ".join(others[:5]) + (", ..." if len(others) > 5 else "")
        raise ValueError(f"to_parquet(path=...): the cache {str(out)!r} also holds files q7x2 "
                         f"did not write ({shown}); move them, or write the cache elsewhere")


def _cache_files(folder: Path) -> set[str]:
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        parts = {p["file"] for p in manifest.get("messages_parts", [])}
    except (OSError, ValueError, AttributeError, KeyError, TypeError):
        parts = set()
    return {MANIFEST, *(f"{t}.parquet" for t in _TABLES), *parts}


def _replace(new: Path, out: Path) -> None:
    """Put the folder ``new`` at ``out``, replacing what is there with two renames."""
    if not out.exists():
        new.rename(out)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
    old.rmdir()
    out.rename(old)
    try:
        new.rename(out)
    except BaseException:
        old.rename(out)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _part_bounds(messages: pd.DataFrame, rows_per_part: int) -> list[tuple[int, int]]:
    """Row ranges of at least ``rows_per_part`` rows (bar the last) that end with a conversation."""
    ids = messages["conversation_id"].to_numpy()
    ends = np.flatnonzero(ids[1:] != ids[:-1]) + 1  # rows are sorted by conversation
    bounds, first = [], 0
    for end in [*ends.tolist(), len(ids)]:
        if end - first >= rows_per_part or end == len(ids):
            bounds.append((first, end))
            first = end
    return bounds


def _write_table(frame: pd.DataFrame, file: Path) -> None:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    pq.write_table(table, file, compression=_COMPRESSION, row_group_size=max(len(frame), 1))


def _manifest(corpus: Corpus, parts: list[dict], tables: dict[str, dict]) -> dict:
    from .._core.version import __version__

    return {
        "format": FORMAT, "format_version": FORMAT_VERSION, "q7x2_version": __version__,
        "n_conversations": len(corpus.conversations), "n_messages": len(corpus.messages),
        "n_problems": len(corpus.problems), "messages_parts": parts, "tables": tables,
        "dtypes": {table: {col: str(dtype) for col, dtype in getattr(corpus, table).dtypes.items()}
                   for table in ("messages", *_TABLES)},
    }


def read_manifest(path: str | os.PathLike[str]) -> dict:
    """The manifest of a Parquet cache; raises ValueError naming the folder if it is not one."""
    folder = Path(path)
    if not is_parquet_corpus(folder):
        raise ValueError(f"{str(folder)!r} is not a q7x2 Parquet cache: it has no {MANIFEST} "
                         f"with format {FORMAT!r} (write one with Corpus.to_parquet)")
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    if manifest.get("format_version", 0) > FORMAT_VERSION:
        raise ValueError(
            f"{str(folder)!r} was written by q7x2 {manifest.get('q7x2_version')} in cache format "
            f"{manifest['format_version']}; this q7x2 reads format {FORMAT_VERSION} or older: "
            "upgrade q7x2 or rebuild the cache from the transcripts"
        )
    return manifest


def read_parquet(path: str | os.PathLike[str]) -> Corpus:
    """Reload a Corpus written by ``write_parquet``: tables identical to the ones written.

    Every file is checked against the manifest first (present, its SHA-256, its rows and its
    conversations): a cache with a part missing, swapped in from another cache or changed since
    is refused with a ``TranscriptParseError`` naming the cache and the file.

    Returns
    -------
    Corpus
        ``messages``, ``conversations`` and ``problems`` with their original dtypes.
    """
    from .corpus import Corpus

    folder = Path(path)
    manifest = read_manifest(folder)
    dtypes = manifest["dtypes"]
    parts = manifest["messages_parts"]
    for part in parts:
        verify_part(folder, part)
    for table in _TABLES:
        verify_part(folder, manifest.get("tables", {}).get(table, {"file": f"{table}.parquet"}))
    files = [folder / part["file"] for part in parts]
    with _named_errors(folder):
        messages = _to_pandas(pq.read_table(files[0]) if len(files) == 1
                              else pa.concat_tables([pq.read_table(f) for f in files]))
        tables = {t: restore_dtypes(_to_pandas(pq.read_table(folder / f"{t}.parquet")), dtypes[t])
                  for t in _TABLES}
    messages = restore_dtypes(messages, dtypes["messages"])
    if "model" not in messages.columns:  # a cache written before the model column
        messages.insert(messages.columns.get_loc("speaker") + 1, "model", messages["speaker"])
    corpus = Corpus(messages=messages, **tables)
    _check_counts(folder, manifest, corpus)
    return corpus


def verify_part(folder: Path, part: dict) -> None:
    """Check one file of a cache against its manifest entry; raise naming the cache and file."""
    file = folder / part["file"]
    where = f"the Parquet cache {str(folder)!r}"
    if not file.is_file():
        raise TranscriptParseError(f"{where} lists {part['file']} but it is missing: rebuild the "
                                   "cache from the transcripts", file)
    if "sha256" in part and _sha256(file) != part["sha256"]:
        raise TranscriptParseError(
            f"{part['file']} is not the file {where} was written with (its SHA-256 differs: "
            "changed, or copied from another cache); rebuild the cache from the transcripts", file)
    if "n_rows" in part:
        with _named_errors(folder, file):
            n = pq.ParquetFile(file).metadata.num_rows
        if n != part["n_rows"]:
            raise TranscriptParseError(f"{part['file']} holds {n} rows; {where} says "
                                       f"{part['n_rows']}", file)


def _check_counts(folder: Path, manifest: dict, corpus: Corpus) -> None:
    m, where = corpus.messages, f"the Parquet cache {str(folder)!r}"
    for name, n in (("messages", len(m)), ("conversations", len(corpus.conversations)),
                    ("problems", len(corpus.problems))):
        if manifest.get(f"n_{name}", n) != n:
            raise TranscriptParseError(f"{where} reloads {n} {name}; its manifest says "
                                       f"{manifest[f'n_{name}']}", folder / MANIFEST)
    ids = m["conversation_id"]
    for part in manifest["messages_parts"]:
        if "first_conversation" not in part or not part["n_rows"]:
            continue
        first, last = part["first_row"], part["first_row"] + part["n_rows"] - 1
        if (str(ids.iloc[first]), str(ids.iloc[last])) != (part["first_conversation"],
                                                           part["last_conversation"]):
            raise TranscriptParseError(f"{part['file']} does not hold the conversations {where} "
                                       "lists for it", folder / part["file"])
    if not corpus.conversations["conversation_id"].is_unique:
        raise TranscriptParseError(f"{where} holds a conversation twice", folder / MANIFEST)


class _named_errors:
    """Arrow's errors (a truncated or foreign file) as a ``TranscriptParseError`` naming it."""

    def __init__(self, folder: Path, file: Path | None = None) -> None:
        self.folder, self.file = folder, file

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, exc, tb) -> bool:
        if exc is not None and isinstance(exc, pa.ArrowException | OSError | KeyError):
            raise TranscriptParseError(f"the Parquet cache {str(self.folder)!r} cannot be read: "
                                       f"{exc}", self.file or self.folder) from None
        return False


def read_messages_part(file: str | os.PathLike[str], dtypes: dict[str, str],
                       first_row: int = 0) -> pd.DataFrame:
    """One part of a cache's messages, exactly as rows ``first_row...`` of the corpus's table."""
    frame = restore_dtypes(_to_pandas(pq.read_table(file)), dtypes)
    frame.index = pd.RangeIndex(first_row, first_row + len(frame))
    return frame


def _to_pandas(table: pa.Table) -> pd.DataFrame:
    return table.to_pandas(split_blocks=True, self_destruct=True)


def restore_dtypes(frame: pd.DataFrame, dtypes: dict[str, str]) -> pd.DataFrame:
    """Give ``frame`` back the dtypes recorded in a manifest (lists back to tuples)."""
    fixes = {}
    for col, dtype in dtypes.items():
        values = frame[col]
        if dtype == "object":
            fixes[col] = pd.Series([_as_tuple(v) for v in values], index=frame.index,
                                   dtype="object")
        elif str(values.dtype) != dtype:
            fixes[col] = values.astype(dtype)
    return frame.assign(**fixes) if fixes else frame


def _as_tuple(value: object) -> object:
    return tuple(value) if isinstance(value, np.ndarray | list) else value

"""A Parquet cache of a Corpus, which read_corpus reloads much faster than it parses transcripts."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

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
    "write_parquet",
]

FORMAT = "q7x2-parquet"
FORMAT_VERSION = 1
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

    Layout: ``q7x2.json`` (format, version, row counts, column dtypes), ``conversations.parquet``,
    ``problems.parquet``, and ``messages/part-NNNNN.parquet``, each part holding whole
    conversations in corpus order (about ``rows_per_part`` messages, one row group), so that
    Dask reads one partition per part with no conversation split across partitions.

    Parameters
    ----------
    corpus
        The corpus to write.
    path
        A folder: created, or replaced if it already holds a q7x2 Parquet cache; any other
        non-empty folder is refused.
    rows_per_part
        Target number of messages per part file.

    Returns
    -------
    Path
        The folder written.
    """
    if isinstance(rows_per_part, bool) or not isinstance(rows_per_part, int) or rows_per_part < 1:
        raise ValueError(f"rows_per_part must be a positive integer, got {rows_per_part!r}")
    out = _prepare(Path(path))
    (out / MESSAGES_DIR).mkdir()
    parts = []
    for k, (first, stop) in enumerate(_part_bounds(corpus.messages, rows_per_part)):
        name = f"{MESSAGES_DIR}/part-{k:05d}.parquet"
        _write_table(corpus.messages.iloc[first:stop], out / name)
        parts.append({"file": name, "first_row": first, "n_rows": stop - first})
    for table in _TABLES:
        _write_table(getattr(corpus, table), out / f"{table}.parquet")
    (out / MANIFEST).write_text(json.dumps(_manifest(corpus, parts), indent=1) + "\n",
                                encoding="utf-8")
    return out


def _prepare(out: Path) -> Path:
    if out.exists() and not out.is_dir():
        raise ValueError(f"to_parquet(path=...) needs a folder; {str(out)!r} is a file")
    if out.is_dir() and any(out.iterdir()):
        if not is_parquet_corpus(out):
            raise ValueError(
                f"to_parquet(path=...): {str(out)!r} is a folder that holds other files; "
                "expected a new folder or an earlier q7x2 Parquet cache to replace"
            )
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    return out


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


def _manifest(corpus: Corpus, parts: list[dict]) -> dict:
    from .._core.version import __version__

    return {
        "format": FORMAT, "format_version": FORMAT_VERSION, "q7x2_version": __version__,
        "n_conversations": len(corpus.conversations), "n_messages": len(corpus.messages),
        "n_problems": len(corpus.problems), "messages_parts": parts,
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

    Returns
    -------
    Corpus
        ``messages``, ``conversations`` and ``problems`` with their original dtypes.
    """
    from .corpus import Corpus

    folder = Path(path)
    manifest = read_manifest(folder)
    dtypes = manifest["dtypes"]
    files = [folder / part["file"] for part in manifest["messages_parts"]]
    messages = _to_pandas(pq.read_table(files[0]) if len(files) == 1
                          else pa.concat_tables([pq.read_table(f) for f in files]))
    tables = {t: restore_dtypes(_to_pandas(pq.read_table(folder / f"{t}.parquet")), dtypes[t])
              for t in _TABLES}
    return Corpus(messages=restore_dtypes(messages, dtypes["messages"]), **tables)


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

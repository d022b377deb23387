"""The embedding cache: one Parquet file of vectors, one row per distinct text.

A row's key is the SHA-256 of the text's UTF-8 bytes (the text itself is not stored, so a cache
can be shared without the transcripts); ``vector`` is a fixed-size list of float32. The file's
metadata names the backend that made the vectors and their dimension: a cache made by another
backend is refused, never mixed in.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

__all__ = ["read_embedding_cache", "text_key", "write_embedding_cache"]

_BACKEND = b"q7x2.embedding_backend"


def text_key(text: str) -> str:
    """The cache key of a text: the hex SHA-256 of its UTF-8 bytes."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_embedding_cache(path: str | os.PathLike[str], backend: str) -> dict[str, np.ndarray]:
    """The cached vectors by key; empty when ``path`` does not exist.

    Raises ``ValueError`` naming the file when it was written by another backend or is not an
    embedding cache.
    """
    path = Path(path)
    if not path.exists():
        return {}
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowInvalid) as exc:
        raise ValueError(f"{path}: not an embedding cache ({exc})") from None
    meta = table.schema.metadata or {}
    made_by = meta.get(_BACKEND, b"").decode()
    if set(table.column_names) != {"key", "vector"} or not made_by:
        raise ValueError(f"{path}: not an embedding cache (expected columns key, vector and "
                         "the backend in the metadata)")
    if made_by != backend:
        raise ValueError(f"{path}: embeddings made by {made_by!r}, not by {backend!r}; pass "
                         "another cache= file for this backend")
    keys = table.column("key").to_pylist()
    flat = table.column("vector").combine_chunks()
    dim = flat.type.list_size
    values = flat.values.to_numpy(zero_copy_only=False).astype(np.float32).reshape(-1, dim)
    return dict(zip(keys, values, strict=True))


def write_embedding_cache(path: str | os.PathLike[str], keys: Iterable[str],
                          vectors: np.ndarray, backend: str) -> None:
    """Write the cache atomically (a temporary file beside it, then a rename)."""
    path = Path(path)
    keys = list(keys)
    vectors = np.asarray(vectors, dtype=np.float32)
    dim = vectors.shape[1] if vectors.ndim == 2 else 0
    vector = pa.FixedSizeListArray.from_arrays(pa.array(vectors.reshape(-1), pa.float32()), dim)
    table = pa.table({"key": pa.array(keys, pa.string()), "vector": vector})
    table = table.replace_schema_metadata({_BACKEND: backend.encode()})
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, path)

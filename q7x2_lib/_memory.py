"""Give memory that large steps freed back to the operating system."""

from __future__ import annotations

import ctypes
import functools

import pyarrow as pa

__all__ = ["return_freed_memory"]


def return_freed_memory() -> None:
    """Hand freed memory back to the operating system.

    Arrow's pool and the C allocator keep freed pages for reuse, and glibc raises its threshold
    for returning large blocks each time one is freed; so a process that has parsed a corpus or
    run a metric over it stays as large as its peak, and every later step starts from there.
    (glibc's ``malloc_trim``; elsewhere Arrow's pool only.)
    """
    pa.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim():
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc
        return None

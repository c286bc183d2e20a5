"""Give freed memory back to the operating system after heavy work.

torch frees a large run's tensors, but glibc's allocator keeps the pages for reuse, so a
server that once ran a big stack stays big. `malloc_trim` returns the free pages; it costs
a few milliseconds, so it runs only after heavy work.
"""
from __future__ import annotations

import ctypes
import ctypes.util
from functools import cache


@cache
def _libc():
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None


def release_memory() -> bool:
    """Return free heap pages to the OS (glibc only); True if anything was returned."""
    libc = _libc()
    return bool(libc.malloc_trim(0)) if libc is not None else False

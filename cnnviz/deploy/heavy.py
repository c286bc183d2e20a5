"""Heavy work on a shared server: a few at a time, memory given back afterwards.

The budget (cnnviz.core.budget) bounds one request. A classroom sends many at once, and
on a 2-core machine more torch runs than cores only make each one slower and the peak
memory the sum of all of them. `heavy` lets at most HEAVY_SLOTS run together (the others
wait their turn), each with the cores divided among the slots; then glibc's allocator is
asked to return the pages torch freed (`malloc_trim`), so a server that once ran a big
stack does not stay big.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
import threading
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import torch

HEAVY_SLOTS = max(1, min(4, os.cpu_count() or 1))
_slots = threading.BoundedSemaphore(HEAVY_SLOTS)

P = ParamSpec("P")
R = TypeVar("R")


def heavy(fn: Callable[P, R]) -> Callable[P, R]:
    """Run `fn` in one of HEAVY_SLOTS slots, then release memory. Put it under a cache
    decorator, so a cache hit never waits for a slot."""
    @functools.wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        with _slots:
            try:
                return fn(*args, **kwargs)
            finally:
                release_memory()
    return run


def share_cores() -> None:
    """Give each slot its share of the cores (torch's threads are per process)."""
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // HEAVY_SLOTS))


@functools.cache
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

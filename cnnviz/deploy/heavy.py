"""Heavy work on a shared server: a few at a time, memory given back afterwards.

The budget (cnnviz.core.budget) bounds one request. A classroom sends many at once, and
on a 2-core machine more torch runs than cores only make each one slower and the peak
memory the sum of all of them. `heavy` lets at most HEAVY_SLOTS run together (the others
wait their turn, first come first served), each with the cores divided among the slots;
then glibc's allocator is asked to return the pages torch freed (`malloc_trim`), so a
server that once ran a big stack does not stay big. A caller that waits is told its
place in the queue: `heavy` shows it through the UI's wait display, and a long run
(training) holds a slot with `hold_slot` and its own `on_wait`.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

import torch

HEAVY_SLOTS = max(1, min(4, os.cpu_count() or 1))
_yield_point: Callable[[], None] | None = None
_wait_display: Callable[[int | None], None] | None = None
_hooked = 0  # heavy runs under way: the forward pre-hook is installed while there are any
_hook_lock = threading.Lock()
_hook_handle = None

P = ParamSpec("P")
R = TypeVar("R")


class Slots:
    """`size` slots handed out in the order they were asked for."""

    def __init__(self, size: int):
        self.size = size
        self._free = size
        self._queue: deque[object] = deque()
        self._changed = threading.Condition()

    @property
    def waiting(self) -> int:
        return len(self._queue)

    @contextmanager
    def hold(self, on_wait: Callable[[int], None] | None = None,
             poll: float = 0.25) -> Iterator[None]:
        """Hold a slot for the `with` block. While waiting, `on_wait(place)` is called every
        `poll` seconds (place 1 is next); an exception it raises leaves the queue."""
        ticket = object()
        with self._changed:
            self._queue.append(ticket)
        try:
            while True:
                with self._changed:
                    if self._free > 0 and self._queue[0] is ticket:
                        self._queue.popleft()
                        self._free -= 1
                        break
                    place = self._queue.index(ticket) + 1
                    if on_wait is None:
                        self._changed.wait(poll)
                        continue
                on_wait(place)  # outside the lock: it may draw a page (or raise)
                with self._changed:
                    self._changed.wait(poll)
        except BaseException:
            with self._changed:
                if ticket in self._queue:
                    self._queue.remove(ticket)
                self._changed.notify_all()
            raise
        try:
            yield
        finally:
            with self._changed:
                self._free += 1
                self._changed.notify_all()


SLOTS = Slots(HEAVY_SLOTS)
# Training holds a slot for many seconds: it has slots of its own (half the heavy ones), so
# a class that trains never makes the other pages wait behind it.
TRAINING_SLOTS = Slots(max(1, HEAVY_SLOTS // 2))


@contextmanager
def hold_slot(on_wait: Callable[[int], None] | None = None, slots: Slots = SLOTS
              ) -> Iterator[None]:
    """One of `slots` (the heavy ones, or TRAINING_SLOTS for a long run); memory is released
    when it ends."""
    try:
        with slots.hold(on_wait):
            yield
    finally:
        release_memory()


def set_yield_point(check: Callable[[], None] | None) -> None:
    """What heavy work calls between layers; it raises to stop the work (the UI's raises
    Streamlit's own stop or rerun when the run was stopped or superseded)."""
    global _yield_point
    _yield_point = check


def yield_point() -> None:
    if _yield_point is not None:
        _yield_point()


def set_wait_display(show: Callable[[int | None], None] | None) -> None:
    """How a heavy call that waits for a slot shows it: `show(place)` while waiting (place
    1 is next), `show(None)` once the slot is taken (the UI draws a passing note)."""
    global _wait_display
    _wait_display = show


def _before_forward(module: Any, args: Any) -> None:
    yield_point()


@contextmanager
def cancellable() -> Iterator[None]:
    """While the block runs, every module's forward starts with the yield point (a global
    forward pre-hook, installed only while some heavy work is under way)."""
    global _hooked, _hook_handle
    with _hook_lock:
        _hooked += 1
        if _hook_handle is None:
            _hook_handle = torch.nn.modules.module.register_module_forward_pre_hook(
                _before_forward)
    try:
        yield
    finally:
        with _hook_lock:
            _hooked -= 1
            if _hooked == 0 and _hook_handle is not None:
                _hook_handle.remove()
                _hook_handle = None


def heavy(fn: Callable[P, R]) -> Callable[P, R]:
    """Run `fn` in one of HEAVY_SLOTS slots, stoppable between layers, then release memory.
    Put it under a cache decorator, so a cache hit never waits for a slot."""
    @functools.wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        show, shown = _wait_display, 0  # the place last shown (0: never waited)

        def waiting(place: int) -> None:
            nonlocal shown
            yield_point()  # an abandoned run leaves the queue too
            if show is not None and place != shown:
                shown = place
                show(place)

        with hold_slot(waiting), cancellable():
            if show is not None and shown:
                show(None)
            return fn(*args, **kwargs)
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

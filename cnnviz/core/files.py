"""Reading a file a user names, bounded before it is read.

Only a regular file of at most the given size is opened, and without waiting: a device
(/dev/zero), a pipe, a folder or a socket is refused by what it is, and a file that grows
after the check is cut at the limit and refused too. Used by lesson files and by the
images `cnnviz predict` reads.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

from cnnviz.core.errors import InputError

_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a pipe"), (stat.S_ISCHR, "a device"),
          (stat.S_ISBLK, "a device"), (stat.S_ISSOCK, "a socket"))


class FileRefused(InputError):
    """A file that cannot be read as asked; the message says why, as a sentence."""


def read_bounded(path: Path, max_bytes: int, what: str) -> bytes:
    """The bytes of the regular file `path`, at most `max_bytes`; FileRefused otherwise.
    `what` names what the file should be ("a lesson is a .toml text file")."""
    try:
        _check(path.stat(), max_bytes, what)  # before opening: a pipe would wait forever
        with open(path, "rb", opener=_without_waiting) as f:
            _check(os.fstat(f.fileno()), max_bytes, what)  # still the file checked
            data = f.read(max_bytes + 1)
    except FileNotFoundError:
        raise FileRefused("no such file.") from None
    except OSError as e:
        raise FileRefused(f"cannot be read ({e.strerror or e}).") from None
    _check_size(len(data), max_bytes)  # it grew after the check: at least this, refused
    return data


def _without_waiting(path: str, flags: int) -> int:
    """Open without blocking: a pipe put in the file's place after the check cannot hang."""
    return os.open(path, flags | getattr(os, "O_NONBLOCK", 0))


def _check(info: os.stat_result, max_bytes: int, what: str) -> None:
    if not stat.S_ISREG(info.st_mode):
        kind = next((name for test, name in _KINDS if test(info.st_mode)), "something else")
        raise FileRefused(f"not a regular file ({kind}); {what}.")
    _check_size(info.st_size, max_bytes)


def _check_size(size: int, max_bytes: int) -> None:
    if size > max_bytes:
        limit = f"{max_bytes // 1024:,} KB" if max_bytes < 10**6 else f"{max_bytes / 1e6:g} MB"
        raise FileRefused(f"is {size:,} bytes, over the {limit} it may be.")

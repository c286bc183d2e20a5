"""Reading a lesson file: its bytes, its TOML tables and their typed fields.

Every problem is collected (a Problem naming the file, the field and what is wrong) rather
than raised, so a bad file never stops the others. Only a regular file of a lesson's size
is opened: a link to a device, a pipe or a folder named *.toml is refused as it is.
"""
from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from cnnviz.core.errors import InputError
from cnnviz.core.files import FileRefused, read_bounded
from cnnviz.lessons.model import Problem

MAX_BYTES = 256 * 1024  # the bundled lessons are a few KB
BOM = "\ufeff"  # some editors start a UTF-8 file with it; TOML does not allow it


class Unreadable(InputError):
    """A file that is not a lesson's text; the message says why, as a sentence."""


# \t, \b, \f: what \times, \beta and \frac become in a TOML basic string
CONTROL = re.compile(r"[\t\b\f\v]")


class Reader:
    """Reads one file's tables, collecting a Problem for everything wrong instead of
    stopping at the first."""

    def __init__(self, file: str):
        self.file = file
        self.problems: list[Problem] = []

    def problem(self, where: str, what: str) -> None:
        self.problems.append(Problem(self.file, where, what))

    def unknown(self, table: Mapping, allowed: tuple[str, ...], where: str) -> None:
        for key in table:
            if key not in allowed:
                self.problem(join(where, str(key)), f"unknown field; use "
                             f"{', '.join(allowed)}.")

    def text(self, table: Mapping, name: str, where: str, required: bool = True) -> str:
        value = table.get(name)
        if value is None:
            if required:
                self.problem(join(where, name), "missing; write it as text.")
            return ""
        if not isinstance(value, str) or not value.strip():
            self.problem(join(where, name), f"must be non-empty text, not {value!r}.")
            return ""
        if CONTROL.search(value):
            self.problem(join(where, name), "holds a tab or a control character: in a TOML "
                         "\"...\" string a backslash starts an escape (\\t is a tab), so "
                         "LaTeX's backslash is written twice (\\\\times, \\\\to).")
            return ""
        return value.strip()

    def whole(self, table: Mapping, name: str, where: str, low: int, high: int,
              required: bool = True) -> int | None:
        value = table.get(name)
        if value is None:
            if required:
                self.problem(join(where, name), f"missing; write a whole number from {low} "
                             f"to {high}.")
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.problem(join(where, name), f"must be a whole number from {low} to {high}, "
                         f"not {value!r}.")
            return None
        return value

    def table(self, parent: Mapping, name: str, where: str) -> dict:
        value = parent.get(name, {})
        if not isinstance(value, dict):
            self.problem(join(where, name), f"must be a table ({name} = {{ ... }}), "
                         f"not {value!r}.")
            return {}
        return value

    def tables(self, path: Path) -> dict | None:
        """The TOML tables of `path`, or None with the file's problem added."""
        try:
            return tomllib.loads(read_text(path))
        except Unreadable as e:
            self.problem("file", str(e))
        except tomllib.TOMLDecodeError as e:
            self.problem("TOML syntax", str(e))
        except RecursionError:  # tomllib parses nested arrays and tables recursively
            self.problem("TOML syntax", "arrays or tables nested too deeply; a lesson needs "
                         "a few levels at most.")
        return None


def join(where: str, name: str) -> str:
    return f"{where}, {name}" if where else name


def not_one_of(value: Any, what: str, names: Iterable[str]) -> str:
    """Why `value` names none of `names`: an unknown name, or no text at all (a list or a
    table is never a name, and is never looked up: it cannot be a dict key)."""
    listed = ", ".join(names)
    if isinstance(value, str):
        return f"{value!r} is not {what}; use {listed}."
    return f"must be text naming {what} ({listed}), not {value!r}."


def read_text(path: Path) -> str:
    """The text of the lesson file `path` (a leading BOM dropped); Unreadable if it is no
    regular file, is larger than MAX_BYTES or is not UTF-8."""
    try:
        data = read_bounded(path, MAX_BYTES, "a lesson is a .toml text file")
        return data.decode("utf-8").removeprefix(BOM)
    except FileRefused as e:
        raise Unreadable(str(e)) from None
    except UnicodeDecodeError as e:
        raise Unreadable(f"cannot be read ({e}).") from None

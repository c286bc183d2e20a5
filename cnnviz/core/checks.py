"""Validation of user input: an InputError with a sentence a student understands."""
from __future__ import annotations

import re
from typing import Any

from cnnviz.core.errors import InputError, SpecError

ECHO = 40  # a refused value is shown cut to this many characters: it must not fill the line
_WHOLE = re.compile(r"[+-]?[0-9]+")  # ASCII digits only, everywhere (not '٣', not '３')


def echo(raw: Any) -> str:
    """A refused value as the message repeats it: repr, cut to a readable length."""
    text = repr(raw)
    return text if len(text) <= ECHO else text[: ECHO - 1] + "…"


class FieldError(InputError):
    """A value refused for one named field (`field`), so a caller can fall back for it."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def whole_number(name: str, raw: Any, low: int, high: int) -> int:
    """`raw` (an int, or text of ASCII digits) as an int from `low` to `high`; FieldError
    with a sentence otherwise."""
    if isinstance(raw, bool):
        raise FieldError(name, f"{name} must be a whole number from {low} to {high}, not "
                               f"{raw!r}.")
    if isinstance(raw, int):
        value = raw
    else:
        text = str(raw).strip()
        if not _WHOLE.fullmatch(text):
            raise FieldError(name, f"{name} must be a whole number from {low} to {high} "
                                   f"written in the digits 0-9, not {echo(raw)}.")
        if len(text.lstrip("+-")) > 18:  # out of every range here; int() of it is slow
            raise FieldError(name, f"{name} = {text[:20]}… ({len(text):,} digits) is out of "
                                   f"range: use {low} to {high}.")
        value = int(text)
    if not low <= value <= high:
        raise FieldError(name, f"{name} = {value} is out of range: use {low} to {high}.")
    return value


def require(ok: bool, message: str, error: type[InputError] = SpecError) -> None:
    """Raise `error`(message) unless ok; for user input, never assert."""
    if not ok:
        raise error(message)


def divides(channels: int, groups: int, what: str) -> None:
    require(groups >= 1 and channels % groups == 0,
            f"groups = {groups} does not divide the {channels} {what}: a grouped convolution "
            f"splits channels into equal groups. Pick groups from "
            f"{', '.join(str(g) for g in range(1, channels + 1) if channels % g == 0)}.")


def grouped_conv(in_channels: int, out_channels: int, groups: int) -> None:
    divides(in_channels, groups, "input channels")
    divides(out_channels, groups, "output channels")

"""The one rule for a number a person types as an answer (a lesson's guess, a room's answer).

A number is accepted when it is finite and at most `MAX_ANSWER` in size; anything else is
refused with a sentence. The bound keeps every sum and difference of two answers finite
(1e308 - -1e308 overflows float64) and is far above any answer a lesson asks (a network's
multiply-adds are below 1e13); below it float64 still holds every whole number exactly.
Tiny numbers, denormals included, are accepted as typed: nothing computed from them
overflows. The store and every chart apply the same rule, so a chart draws exactly what
was accepted, whatever a database holds from before.
"""
from __future__ import annotations

import math

from cnnviz.core.errors import AnswerError

MAX_ANSWER = 1e15


class TooLarge(AnswerError):
    """A finite number beyond the rule's bound."""


def checked_number(value: object) -> float:
    """`value` as a float when the rule accepts it; AnswerError with a sentence otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise AnswerError("The answer must be a number.")
    try:
        number = float(value)
    except OverflowError:  # an int too large for a float
        number = math.inf
    if not math.isfinite(number):
        raise AnswerError("The answer must be a finite number.")
    if abs(number) > MAX_ANSWER:
        raise TooLarge("The answer is too large: an answer is at most 1e15 (a million "
                       "billion) either side of zero.")
    return number


def is_accepted(value: object) -> bool:
    """Whether the rule accepts `value` (for filtering what is drawn)."""
    try:
        checked_number(value)
    except AnswerError:
        return False
    return True


def parse_number(text: str) -> float:
    """A typed number (commas, spaces and underscores allowed) under the rule; AnswerError
    with a sentence (that does not repeat the text) otherwise."""
    cleaned = text.replace(",", "").replace("_", "").replace(" ", "")
    try:
        number = float(cleaned)
    except ValueError:
        raise AnswerError("That is not a number.") from None
    return checked_number(number)

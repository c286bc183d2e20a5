"""A question's answer, computed from its step's state, and how close a guess came."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from cnnviz.core.arithmetic import relative_error
from cnnviz.core.errors import InputError
from cnnviz.lessons.answers import QUANTITIES, Lab, Quantity
from cnnviz.lessons.model import Question, StepState


@dataclass(frozen=True)
class Answer:
    """The computed answer: a number, or the label of the right option (with each
    option's number, so a reveal can show why)."""

    value: float | str
    label: str
    values: tuple[tuple[str, float], ...] = ()

    def text(self) -> str:
        return self.value if isinstance(self.value, str) else number_text(self.value)

    def to_json(self) -> Any:
        if not self.values:
            return self.value
        return {"option": self.value, "values": dict(self.values)}


def answer(question: Question, state: StepState, lab: Lab | None = None) -> Answer:
    """Compute the answer of `question` from the step's state; InputError if it has none
    (a global field asked as a number, exploded gradients, options that tie)."""
    lab = lab or Lab()
    q = QUANTITIES[question.compute]
    args = q.arguments(dict(question.args))
    if question.kind == "number":
        value = q.compute(lab, state, args)
        _finite(value, q)
        return Answer(value, q.label)
    values = []
    for option in question.options:
        value = q.compute(lab, option.state, {**args, **dict(option.args)})
        if math.isnan(value):
            raise InputError(f"Option {option.label!r} has no number for {q.label}.")
        values.append((option.label, value))
    best = (max if question.pick == "largest" else min)(v for _, v in values)
    winners = [label for label, v in values if v == best]
    if len(winners) > 1:
        raise InputError(f"The options {', '.join(map(repr, winners))} tie on {q.label} "
                         f"({number_text(best)}): a choice needs one right answer.")
    return Answer(winners[0], q.label, tuple(values))


def _finite(value: float, q: Quantity) -> None:
    if not math.isfinite(value):
        raise InputError(f"{q.label[:1].upper()}{q.label[1:]} is "
                         f"{'infinite (global)' if value > 0 else 'not a number'} here, so it "
                         f"cannot be a number question; ask it as a choice.")


def number_text(value: float) -> str:
    """A whole number with thousands separators, anything else to 4 significant digits."""
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    if math.isfinite(value) and float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:.4g}"


@dataclass(frozen=True)
class Grade:
    """How a guess compares with the answer: right or not, and one sentence saying so."""

    right: bool
    text: str


def band(question: Question, truth: float) -> tuple[float, float]:
    """The guesses graded right: the answer ± the question's tolerance (and a hair of
    rounding)."""
    allowed = question.tolerance * abs(truth) / 100 if question.relative else question.tolerance
    allowed += 1e-9 * max(1.0, abs(truth))
    return truth - allowed, truth + allowed


def grade(question: Question, result: Answer, guess: float | str | None) -> Grade:
    """Right within the question's tolerance, and how far off the guess was."""
    if guess is None:
        return Grade(False, f"The answer is {result.text()}.")
    if isinstance(result.value, str):
        right = guess == result.value
        return Grade(right, f"Right: {result.value}." if right else
                     f"Not this time: the answer is {result.value}; you chose {guess}.")
    truth, g = float(result.value), float(guess)
    low, high = band(question, truth)
    right = low <= g <= high
    off = relative_error(g, truth)
    how_far = "exact" if g == truth else (f"{off:.1f}% off" if math.isfinite(off) else
                                          f"{number_text(abs(g - truth))} off")
    within = f"; within ±{question.tolerance_text()}" if right and g != truth else ""
    if right:
        return Grade(True, f"Right: the answer is {result.text()}; you said "
                           f"{number_text(g)} ({how_far}{within}).")
    return Grade(False, f"Not quite: the answer is {result.text()}; you said {number_text(g)} "
                        f"({how_far}, more than ±{question.tolerance_text()}).")

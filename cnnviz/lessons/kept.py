"""What a learner's browser keeps of their lessons across reloads: the answers revealed
(their guess and what cnnviz computed), the lessons finished, and where they were.

No streamlit here: the player (cnnviz.ui.lessons.memory) writes this as JSON into the
browser's local storage and reads it back on a new session. What comes back is the
browser's: anything may be there, so `parse` keeps only what it recognises, of bounded
size. An answer is kept with the fingerprint of its step (the state and the question as
the lesson file wrote them): when the file changes, the old answer is dropped rather than
shown against another question.
"""
from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from cnnviz.lessons.model import Step

MAX_CHARS = 64 * 1024  # far more than 18 lessons' answers
MAX_TEXT = 200  # a guess or an option's label
MAX_OPTIONS = 12
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")  # a lesson's name (its file's stem)
MAX_STEP = 999
VERSION = 1


@dataclass(frozen=True)
class KeptAnswer:
    """One revealed question: the step's fingerprint, the guess (a number, an option's
    label, or None when the learner revealed without guessing) and the computed answer (a
    number, or the right option's label with each option's number)."""

    fingerprint: str
    guess: float | str | None
    value: float | str
    values: tuple[tuple[str, float], ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"f": self.fingerprint, "g": self.guess, "v": self.value,
                "o": [list(pair) for pair in self.values]}


@dataclass
class Kept:
    """Everything kept: {lesson: {step: KeptAnswer}}, the lessons finished, and the last
    step opened (lesson, step)."""

    answers: dict[str, dict[int, KeptAnswer]] = field(default_factory=dict)
    finished: set[str] = field(default_factory=set)
    last: tuple[str, int] | None = None

    def dumps(self) -> str:
        """Deterministic JSON (the same state is the same text, so nothing is rewritten)."""
        return json.dumps({"v": VERSION,
                           "last": list(self.last) if self.last else None,
                           "finished": sorted(self.finished),
                           "answers": {lesson: {str(n): a.to_json()
                                                for n, a in sorted(steps.items())}
                                       for lesson, steps in sorted(self.answers.items())
                                       if steps}},
                          sort_keys=True, separators=(",", ":"), allow_nan=False)


def fingerprint(step: Step) -> str:
    """The step's state and question as read from its file (repr is deterministic: the
    dataclasses hold text, numbers and tuples)."""
    return hashlib.sha256(repr((step.state, step.question)).encode()).hexdigest()[:16]


def parse(raw: Any) -> Kept:
    """What the browser sent, as far as it is a Kept; anything else is dropped."""
    kept = Kept()
    if not isinstance(raw, str) or len(raw) > MAX_CHARS:
        return kept
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return kept
    if not isinstance(data, dict) or data.get("v") != VERSION:
        return kept
    last = data.get("last")
    if (isinstance(last, list) and len(last) == 2 and _name(last[0])
            and _step(last[1]) is not None):
        kept.last = (last[0], int(last[1]))
    finished = data.get("finished")
    if isinstance(finished, list):
        kept.finished = {n for n in finished if _name(n)}
    answers = data.get("answers")
    if isinstance(answers, dict):
        for lesson, steps in answers.items():
            if not (_name(lesson) and isinstance(steps, dict)):
                continue
            found = {n: a for n, a in ((_step(k), _answer(v)) for k, v in steps.items())
                     if n is not None and a is not None}
            if found:
                kept.answers[lesson] = found
    return kept


def _name(value: Any) -> bool:
    return isinstance(value, str) and NAME.fullmatch(value) is not None


def _step(value: Any) -> int | None:
    if isinstance(value, str) and value.isdigit() and len(value) <= 3:
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_STEP:
        return value
    return None


def _number_or_text(value: Any) -> float | str | None:
    if isinstance(value, str) and 0 < len(value) <= MAX_TEXT:
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool) \
            and math.isfinite(value):
        return float(value)
    return None


def _answer(raw: Any) -> KeptAnswer | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("f"), str) \
            or not re.fullmatch(r"[0-9a-f]{16}", raw["f"]):
        return None
    value = _number_or_text(raw.get("v"))
    guess = None if raw.get("g") is None else _number_or_text(raw.get("g"))
    if value is None or (raw.get("g") is not None and guess is None):
        return None
    options = raw.get("o", [])
    if not isinstance(options, list) or len(options) > MAX_OPTIONS:
        return None
    values = []
    for pair in options:
        if not (isinstance(pair, list) and len(pair) == 2):
            return None
        label, number = _number_or_text(pair[0]), _number_or_text(pair[1])
        if not isinstance(label, str) or not isinstance(number, float):
            return None
        values.append((label, number))
    return KeptAnswer(raw["f"], guess, value, tuple(values))


__all__ = ["Kept", "KeptAnswer", "fingerprint", "parse"]

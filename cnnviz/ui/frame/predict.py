"""Predict, then reveal: the learner types a prediction, presses Reveal and sees the answer
cnnviz computes, graded, with its explanation. Every page that asks (Convolution
Arithmetic, Cost & Bottlenecks) and the lesson player draw it through this module.

`reveal` is the part they all share: the button, and the memory of what was revealed for
which question. `predict_then_reveal` is the pages' whole form around it: a verdict on each
number guessed, the explanation, or before the reveal a line that says what to do.
"""
from __future__ import annotations

from collections.abc import Callable, Hashable, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import streamlit as st

from cnnviz.ui.frame.widgets import show_grade

T = TypeVar("T")


@dataclass(frozen=True)
class Revealed(Generic[T]):
    """What a reveal keeps: the question as it was asked, and the answer shown for it."""

    asked: Hashable
    answer: T


def reveal(key: str, asked: Hashable, answer: Callable[[], T | None] | None = None, *,
           label: str = "Reveal", where: Any = None, primary: bool = True,
           store: MutableMapping[Any, Any] | None = None, slot: Hashable | None = None
           ) -> Revealed[T] | None:
    """Draw the Reveal button (widget key `key`, in `where`: a column, else the page) and
    return what is revealed for the question `asked`, or None before the reveal.

    `asked` is the question as the learner sees it (a page's numbers): once revealed, the
    answer stays while the question is the same, and changing it hides the answer again.
    `answer` computes the answer at the press (None: it could not, and has said why; nothing
    is kept); without it the answer is the question itself (the page computes it live).
    What is revealed is kept in `store[slot]` (by default the session, under `key` + "ed":
    "arith_reveal" keeps "arith_revealed").
    """
    memory: MutableMapping[Any, Any] = st.session_state if store is None else store
    slot = f"{key}ed" if slot is None else slot
    if (where or st).button(label, key=key, type="primary" if primary else "secondary"):
        value = asked if answer is None else answer()
        if value is None:
            return None
        memory[slot] = Revealed(asked, value)
    kept = memory.get(slot)
    return kept if isinstance(kept, Revealed) and kept.asked == asked else None


@dataclass(frozen=True)
class Guess:
    """One number the learner predicted, and the true one: "H_out", 3, 4."""

    what: str
    guess: int
    truth: int


def predict_then_reveal(key: str, asked: Hashable, guesses: Sequence[Guess],
                        explain: Callable[[], None], hint: str, *, label: str = "Reveal",
                        where: Any = None, primary: bool = True) -> bool:
    """A page's question: the Reveal button (see `reveal`); once revealed, the verdict on
    each guess (exact whole numbers: widgets.show_grade) and `explain()`; before, the
    `hint` (Markdown). Returns whether the answer is shown."""
    if reveal(key, asked, label=label, where=where, primary=primary) is None:
        st.info(hint)
        return False
    for g in guesses:
        show_grade(g.what, g.guess, g.truth)
    explain()
    return True

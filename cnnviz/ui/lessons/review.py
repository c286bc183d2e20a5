"""The end of a lesson (*Finish*): the learner's answers reviewed, then a next lesson.

Each question: what the learner answered, what cnnviz computed, and whether it was right.
The next lesson is the catalogue's next one in teaching order that the learner has not
finished, with its level and duration; and always a way back to all the lessons.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping

import streamlit as st

from cnnviz.lessons import Lesson, number_text
from cnnviz.ui.frame import predict
from cnnviz.ui.frame.text import safe_text

SKIPPED, RIGHT, WRONG = "⏭️", "✅", "❌"


def _said(guess: float | str | None) -> str:
    if guess is None:
        return "no answer (revealed without a guess)"
    return number_text(guess) if isinstance(guess, float) else safe_text(guess, limit=200)


def rows(lesson: Lesson, kept: Mapping[int, predict.Revealed]) -> list[tuple[str, int, str,
                                                                              str, str]]:
    """(mark, step, question, your answer, computed) for every question of the lesson."""
    out = []
    for step in lesson.steps:
        q = step.question
        if q is None:
            continue
        revealed = kept.get(step.number)
        if revealed is None:
            out.append((SKIPPED, step.number, q.ask, "not revealed", "not revealed"))
            continue
        record = revealed.answer
        mark = SKIPPED if record.guess is None else RIGHT if record.grade.right else WRONG
        computed = safe_text(record.answer.text(), limit=200)
        if record.answer.values:
            computed += " (" + ", ".join(f"{safe_text(label, limit=80)}: {number_text(v)}"
                                         for label, v in record.answer.values) + ")"
        out.append((mark, step.number, q.ask, _said(record.guess), computed))
    return out


def next_lesson(lesson: Lesson, lessons: tuple[Lesson, ...], finished: set[str]
                ) -> Lesson | None:
    """The catalogue's next lesson after `lesson` not yet finished (wrapping round)."""
    names = [x.name for x in lessons]
    start = names.index(lesson.name) + 1 if lesson.name in names else 0
    for other in lessons[start:] + lessons[:start]:
        if other.name != lesson.name and other.name not in finished:
            return other
    return None


def summary(lesson: Lesson, kept: Mapping[int, predict.Revealed], lessons: tuple[Lesson, ...],
            finished: set[str], start_link: Callable[..., None]) -> None:
    """The review of the learner's answers and the suggested next lesson."""
    found = rows(lesson, kept)
    right = sum(mark == RIGHT for mark, *_ in found)
    with st.container(key="lesson_review"):
        st.markdown(f"#### Your answers: {right} right of {len(found)} questions")
        for mark, number, ask, said, computed in found:
            # the ask is the lesson file's trusted Markdown; the answers are shown as text
            st.markdown(f"{mark} **Step {number}** · {ask}  \nYou said **{said}**; cnnviz "
                        f"computed **{computed}**.")
        st.caption("Kept in this browser (its local storage), so a reload keeps them; nothing "
                   "is stored on the server.")
        after = next_lesson(lesson, lessons, finished)
        if after is not None:
            st.markdown(f"**Next:** {after.title} · {after.level} · about {after.duration} "
                        f"min · {', '.join(after.concepts[:4])}")
            start_link(after, label=f"Start the next lesson: {after.title}")
        else:
            st.markdown("You have finished every lesson. 🎉")


__all__ = ["next_lesson", "rows", "summary"]

"""The learner's lessons kept in the browser (local storage), so a reload keeps them.

The same mechanism as the room's student id (cnnviz.ui.rooms.student): a small
`st.components.v2` component runs a few lines of script in the page. Two of them: the
*reader* sends what the browser keeps to this session, once per page load (a new session
is a new page load: `load`); the *writer* writes this session's lessons back at the end of
every run of the lesson panel (`save`), once the reader's answer came in (never before,
so an empty new session cannot erase what a reload should restore). Nothing goes to the
server's disk.

The session holds the player's answers (`player._ANSWERS`: the Revealed records); what
the browser keeps is derived from them (cnnviz.lessons.kept) and turned back into them
on a new session, graded again against the lesson file as it is now.
"""
from __future__ import annotations

import functools
import math
from collections.abc import Callable, MutableMapping

import streamlit as st

from cnnviz.lessons import QUANTITIES, Answer, Lesson, Step, grade, load_lessons
from cnnviz.lessons.kept import Kept, KeptAnswer, fingerprint, parse
from cnnviz.ui.frame import predict

STORAGE_KEY = "cnnviz-lessons"
_LOADED = "lesson__memory_loaded"  # the browser's lessons are in this session
_LAST = "lesson__last"  # (lesson, step): the last step opened, not in presenter mode

_READ_JS = f"""
export default function (component) {{
    const {{ setStateValue }} = component;
    if (window.__cnnvizLessonsRead) return;  // once per page load
    window.__cnnvizLessonsRead = true;
    let kept = "";
    try {{ kept = window.localStorage.getItem("{STORAGE_KEY}") || ""; }} catch (e) {{}}
    setStateValue("kept", kept);
}}
"""
_WRITE_JS = f"""
export default function (component) {{
    const {{ data }} = component;
    if (typeof data !== "string" || !data) return;
    try {{ window.localStorage.setItem("{STORAGE_KEY}", data); }} catch (e) {{}}
}}
"""


@functools.cache
def _reader():
    return st.components.v2.component("cnnviz_lessons_read", js=_READ_JS)


@functools.cache
def _writer():
    return st.components.v2.component("cnnviz_lessons_write", js=_WRITE_JS)


def _record(kept: KeptAnswer, step: Step, make: Callable) -> predict.Revealed | None:
    """A kept answer as the player's Revealed record (`make(guess, answer, grade,
    fingerprint)`), graded against the step as it is; None when the step changed since
    (its fingerprint differs) or the answer does not fit its question."""
    q = step.question
    if q is None or kept.fingerprint != fingerprint(step):
        return None
    if q.kind == "choice":
        labels = [o.label for o in q.options]
        if kept.value not in labels or (kept.guess is not None and kept.guess not in labels):
            return None
    elif not isinstance(kept.value, float) or isinstance(kept.guess, str):
        return None
    answer = Answer(kept.value, QUANTITIES[q.compute].label, kept.values)  # as grading's
    return predict.Revealed(q, make(kept.guess, answer, grade(q, answer, kept.guess),
                                    kept.fingerprint))


def restore(kept: Kept, answers: MutableMapping, finished: set[str], make: Callable) -> None:
    """Put what the browser kept into this session, under what the session has already."""
    lessons = {lesson.name: lesson for lesson in load_lessons().lessons}
    for name, steps in kept.answers.items():
        lesson = lessons.get(name)
        if lesson is None:
            continue
        mine = answers.setdefault(name, {})
        for number, answer in steps.items():
            if number <= len(lesson.steps) and number not in mine:
                record = _record(answer, lesson.steps[number - 1], make)
                if record is not None:
                    mine[number] = record
    finished |= {n for n in kept.finished if n in lessons}
    if kept.last is not None and st.session_state.get(_LAST) is None:
        name, number = kept.last
        if name in lessons and number <= len(lessons[name].steps):
            st.session_state[_LAST] = kept.last


def _kept(answers: MutableMapping, finished: set[str]) -> Kept:
    out = Kept(finished=set(finished), last=st.session_state.get(_LAST))
    for lesson, steps in answers.items():
        for number, revealed in steps.items():
            record = revealed.answer
            a: Answer = record.answer
            numbers = [v for _, v in a.values] + ([a.value] if isinstance(a.value, float)
                                                   else [])
            if not all(math.isfinite(v) for v in numbers):
                continue  # an option with a global field: not kept
            out.answers.setdefault(lesson, {})[number] = KeptAnswer(
                record.fingerprint, record.guess, a.value, a.values)
    return out


def load(answers: MutableMapping, finished: set[str], make: Callable) -> bool:
    """Read the browser's lessons into this session, once; whether they are in (before
    the browser answers, nothing is written back)."""
    state = st.session_state
    if state.get(_LOADED):
        return True
    result = _reader()(key="lesson_memory_read", on_kept_change=lambda: None)
    raw = getattr(result, "kept", None)
    if raw is None:
        return False  # the browser has not answered yet: its answer reruns the page
    restore(parse(raw), answers, finished, make)
    state[_LOADED] = True
    return True


def save(answers: MutableMapping, finished: set[str]) -> None:
    """Write this session's lessons into the browser, once the browser's are in."""
    if st.session_state.get(_LOADED):
        _writer()(key="lesson_memory_write", data=_kept(answers, finished).dumps())


def opened(lesson: Lesson, number: int) -> None:
    """The learner is on this step: *Continue where you left off* comes back to it."""
    st.session_state[_LAST] = (lesson.name, number)


def last() -> tuple[str, int] | None:
    return st.session_state.get(_LAST)


__all__ = ["last", "load", "opened", "restore", "save"]

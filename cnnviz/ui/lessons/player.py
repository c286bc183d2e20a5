"""The lesson player: the step a URL names (?lesson=<name>&step=<n>) over whatever page it opens.

`follow(page)` runs before the picker: it switches to the step's page and applies the step's
state once per visit (the picker's values go through the picker's own reading of the URL,
as for a shared link; the page's controls go into the session under the page's widget
keys). `panel()` then draws the step above the page: its text (a section it names linked),
its question (predict, then reveal), progress and navigation, and at the end a review of
the learner's answers with the next lesson (review). The answers are kept in the browser
too (memory), so a reload brings them back.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import streamlit as st
from streamlit.navigation.page import StreamlitPage

from cnnviz.core.errors import InputError
from cnnviz.lessons import (
    COMPUTED,
    Answer,
    Catalog,
    Grade,
    Lesson,
    LessonError,
    Question,
    Step,
    StepState,
    answer,
    grade,
    load_lesson,
    load_lessons,
    number_text,
)
from cnnviz.lessons.kept import fingerprint
from cnnviz.lessons.sections import linked
from cnnviz.pages import LESSONS, PAGES, PLAYER_TOOLS
from cnnviz.ui.analysis.lab import CachedLab
from cnnviz.ui.frame import picker, predict, startup
from cnnviz.ui.frame.text import safe_text
from cnnviz.ui.frame.widgets import number_or_warn, show_error
from cnnviz.ui.lessons import memory, presenter, review

LESSON, STEP, PRESENT = "lesson", "step", "present"  # the URL's query parameters
_APPLIED = "lesson__applied"  # (lesson, step) whose state this visit has applied
_ANSWERS = "lesson__answers"  # {lesson: {step: Revealed(question, Record)}}: the answers
_FINISHED = "lesson__finished"  # lessons whose summary the learner asked for
_NOTICE = "lesson__notice"  # a warning about the URL, shown once in the panel
_STEP_NUMBER = re.compile(r"[0-9]{1,6}")


@dataclass(frozen=True)
class Record:
    """A revealed question: what the learner guessed and what cnnviz computed."""

    guess: float | str | None
    answer: Answer
    grade: Grade
    fingerprint: str = ""  # the step's (cnnviz.lessons.kept): the browser keeps it with it


# --- the URL -----------------------------------------------------------------------------

def presenting() -> bool:
    return st.query_params.get(PRESENT) in ("1", "true")


def page_file(page: str) -> str:
    """The file of a page a step opens."""
    return str(startup.page_path(PAGES[page]))


def step_params(lesson: str, number: int) -> dict[str, str]:
    """The query parameters of a lesson step (presenter mode kept if it is on)."""
    params = {LESSON: lesson, STEP: str(number)}
    if presenting():
        params[PRESENT] = "1"
    return params


def _playing() -> tuple[Lesson, int] | None:
    """The URL's lesson and step, checked; a bad value warns and is dropped or corrected."""
    q = st.query_params
    name = q.get(LESSON)
    if name is None:
        return None
    try:
        lesson = load_lesson(name)
    except LookupError:
        st.warning(f"There is no lesson {safe_text(name, quoted=True)}; the Lessons page lists "
                   f"them.", icon="⚠️")
        _leave()
        return None
    except LessonError as e:
        st.error("This lesson's file has problems, so it cannot play:\n\n"
                 + "\n".join(f"- {safe_text(p, limit=400)}" for p in e.problems), icon="🚫")
        _leave()
        return None
    raw, count = q.get(STEP, "1"), len(lesson.steps)
    number = int(raw) if _STEP_NUMBER.fullmatch(raw) else 0
    if not 1 <= number <= count:
        shown = count if number > count else 1
        st.session_state[_NOTICE] = (f"Step {safe_text(raw, quoted=True)} is not in this lesson, "
                                     f"which has {count} steps; showing step {shown}.")
        q[STEP] = str(shown)
        number = shown
    return lesson, number


def _leave() -> None:
    for name in (LESSON, STEP):
        st.query_params.pop(name, None)


# --- applying a step -------------------------------------------------------------------------

def follow(page: StreamlitPage) -> tuple[Lesson, int] | None:
    """Before the picker runs: open the URL's step on its page with its state applied.

    Returns the lesson and step number, or None when the URL names no (valid) lesson.
    """
    playing = _playing()
    if playing is None:
        return None
    lesson, number = playing
    step = lesson.steps[number - 1]
    if page.url_path != PAGES[step.page].url_path:
        st.switch_page(page_file(step.page), query_params=step_params(lesson.name, number))
    if st.session_state.get(_APPLIED) != (lesson.name, number):
        apply(step.state)
        st.session_state[_APPLIED] = (lesson.name, number)
    return playing


def apply(state: StepState) -> None:
    """Set the picker and the page's controls to a step's state.

    The picker shows the step's stack from its next draw on (picker.load). The page's
    widget keys are cleared first, so what the step does not set starts from the page's
    own default.
    """
    session, q, info = st.session_state, st.query_params, PAGES[state.page]
    if info.takes_stack:
        picker.load(state.stack)
    for key in [k for k in session if str(k).startswith(info.prefix)]:
        del session[key]
    for name in info.url_names:
        q.pop(name, None)
    values = state.resolved()
    for name, control in info.all_controls(values).items():
        if name not in values:
            session.pop(control.key, None)
            continue
        # a widget bound to the URL takes the URL's value on its first draw only, and its
        # key's state on later runs: both are set, for a page the learner is already on
        if control.in_url:
            q[control.key] = str(values[name])
        session[control.key] = values[name]


def _go(number: int) -> None:
    st.query_params[STEP] = str(number)


def _reset() -> None:
    st.session_state.pop(_APPLIED, None)  # follow() applies the step again


def _finish(lesson: str) -> None:
    st.session_state.setdefault(_FINISHED, set()).add(lesson)


def _toggle_presenter() -> None:
    if presenting():
        st.query_params.pop(PRESENT, None)
    else:
        st.query_params[PRESENT] = "1"


# --- the panel ---------------------------------------------------------------------------------

def panel(lesson: Lesson, number: int, device: str = "cpu") -> None:
    """The step above its page: text, question, progress, navigation (and the summary)."""
    step, count, present = lesson.steps[number - 1], len(lesson.steps), presenting()
    if present:
        presenter.style(PAGES[step.page], step.state, step.figure, step.text)
    else:
        memory.opened(lesson, number)
    presenter.arrive(lesson.name, number, present)
    with st.container(border=True, key="lesson_panel"):
        load_kept()  # a reload's answers come back
        notice = st.session_state.pop(_NOTICE, None)
        if notice:
            st.warning(notice, icon="⚠️")
        st.caption(f"📚 {safe_text(lesson.title)} · step {number} of {count}")
        st.progress(number / count)
        # the room's row (code, QR code, count, buttons) first: within a projector's 720 px
        post = lesson.test is not None and lesson.test.post == number  # a pre/post test's end
        bar = st.container(key="room_bar") if present and (step.question or post) else None
        # A lesson's title and text come from the repository's lesson files: trusted
        # Markdown and LaTeX, written by the teacher (URL values never reach them).
        st.subheader(step.title)
        st.markdown(linked(step.text, PAGES[step.page]))  # "Section 4" links to it
        if step.question is None:
            if bar is not None:  # the post-test: the room asks the test's twins
                from cnnviz.ui.rooms.teacher import teacher_panel
                teacher_panel(lesson, step, device, go=_go, bar=bar)
            sources_line(step.sources)
        else:
            asked, room = st.container(), None
            if bar is not None:  # the room and its database: imported when a teacher presents
                from cnnviz.ui.rooms.teacher import teacher_panel
                room = teacher_panel(lesson, step, device, go=_go, bar=bar)
            with asked:
                _question(lesson, step, step.question, present, device, room)
        _navigation(lesson, number, present)
        if number == count and lesson.name in _finished():
            review.summary(lesson, _answers(lesson.name), catalog().lessons, _finished(),
                           start_link)
        memory.save(_all_answers(), _finished())


# Every element after the lesson panel (Streamlit wraps the panel in a layout wrapper):
# blurred, and not clickable. Blurred, not faded: its text keeps its contrast. 16 px: at
# 8 px a metric's large digits (a receptive field, a count) could be read through it.
_BELOW = '[data-testid="stLayoutWrapper"]:has(> .st-key-lesson_panel) ~ '
_VEIL = (f"<style>{_BELOW}* "
         "{ filter: blur(16px); pointer-events: none; user-select: none; }"
         "</style>")


def veil(step: Step) -> str:
    """The veil's stylesheet for `step`. A figure the question reads (its page's
    question_figures: the input's numbers, never the answer) stays sharp, so the class
    sees what it needs on the projector; everything else below the panel is blurred,
    element by element around it, and nothing there is clickable."""
    if step.figure not in PAGES[step.page].question_figures:
        return _VEIL
    figure = f".st-key-{step.figure}"
    # a blur applies to an element's whole subtree, so the wrappers that hold the
    # figure stay sharp and their other elements are blurred one by one
    sharp = f":not({figure}):not(:has({figure}))"
    parts = ('[data-testid="stElementContainer"]', "summary", '[role="tablist"]')
    return (f"<style>{_BELOW}* {{ pointer-events: none; user-select: none; }}"
            f"{_BELOW}*{sharp}, "
            + ", ".join(f"{_BELOW}:has({figure}) {part}{sharp}" for part in parts)
            + " { filter: blur(16px); }</style>")


def _all_answers() -> dict[str, dict[int, predict.Revealed[Record]]]:
    return st.session_state.setdefault(_ANSWERS, {})


def _answers(lesson: str) -> dict[int, predict.Revealed[Record]]:
    return _all_answers().setdefault(lesson, {})


def _finished() -> set[str]:
    return st.session_state.setdefault(_FINISHED, set())


def answers(lesson: str) -> dict[int, predict.Revealed[Record]]:
    """The learner's revealed answers of a lesson, by step (this session's and the
    browser's)."""
    return dict(_answers(lesson))


def finished() -> set[str]:
    return set(_finished())


def load_kept() -> None:
    """The learner's lessons from the browser into this session (once)."""
    memory.load(_all_answers(), _finished(), Record)


def _question(lesson: Lesson, step: Step, q: Question, present: bool, device: str,
              room: bool | None = None) -> None:
    """The step's question, predict then reveal. `room`: whether the room this session runs
    on this question has revealed its answer (None: no room here); with a room, its
    *Reveal* is the one that lifts the veil (one button for one action)."""
    key = f"lesson_{lesson.name}_{step.number}"  # lesson names are [a-z0-9_-]
    st.markdown(f"**❓ {q.ask}**")
    guess: float | str | None = None
    if not present:  # in front of a class the room guesses aloud
        if q.kind == "number":
            guess = number_or_warn(st.text_input("Your prediction", key=f"{key}_guess",
                                          placeholder="a number, e.g. 12 or 0.25 or 6.4e8"))
        else:
            guess = st.radio("Your prediction", [o.label for o in q.options], index=None,
                             key=f"{key}_guess")
    failed = False

    def compute() -> Record | None:
        """The step's answer, computed at the press, and the learner's guess graded."""
        nonlocal failed
        try:
            with st.spinner("Computing the answer with cnnviz…"):
                result = answer(q, step.state, CachedLab(device))
        except InputError as e:
            show_error(e)
            failed = True
            return None
        return Record(guess, result, grade(q, result, guess), fingerprint(step))

    if room is None:
        revealed = predict.reveal(f"{key}_reveal", q, compute, label="Reveal",
                                  store=_answers(lesson.name), slot=step.number)
    else:
        revealed = _answers(lesson.name).get(step.number)
        if room and (revealed is None or revealed.asked != q):
            record = compute()
            revealed = predict.Revealed(q, record) if record is not None else None
            if revealed is not None:
                _answers(lesson.name)[step.number] = revealed
        elif not room:
            revealed = None
    if failed:
        return
    if revealed is None:
        # The page below may show the answer (a metric, a table): veiled until the reveal,
        # unless the learner (or the step's text) wants to explore it first.
        if not st.toggle(PLAYER_TOOLS[0].label, key=f"{key}_peek",
                         help="the page may give the answer away: predict first"):
            st.html(veil(step))
        if not present:
            st.caption("Predict first, then reveal: the answer is computed by cnnviz from "
                       "this step's state.")
        return
    record = revealed.answer
    box = st.success if record.grade.right else (st.info if record.guess is None
                                                 else st.warning)
    box(record.grade.text, icon="✅" if record.grade.right else "💡")
    if record.answer.values:
        st.markdown(" · ".join(f"{label}: **{number_text(v)}**"
                               for label, v in record.answer.values)
                    + f" ({record.answer.label})")
    st.markdown(q.explain)
    sources_line(step.sources)


def sources_line(sources: tuple[str, ...]) -> None:
    """Where the step's claims come from, under what it teaches."""
    if sources == (COMPUTED,):
        st.caption("📖 Source: computed by cnnviz from this step's modules.")
    elif sources:
        st.caption("📖 Sources: " + "; ".join(sources))


def _navigation(lesson: Lesson, number: int, present: bool) -> None:
    count = len(lesson.steps)
    with st.container(key="lesson_nav", horizontal=True):
        st.button("◀ Previous", key="lesson_prev", disabled=number == 1, on_click=_go,
                  args=(number - 1,), shortcut="Left" if present else None)
        if number < count:
            st.button("Next ▶", key="lesson_next", type="primary", on_click=_go,
                      args=(number + 1,), shortcut="Right" if present else None)
        else:
            st.button("Finish ✓", key="lesson_finish", type="primary", on_click=_finish,
                      args=(lesson.name,), shortcut="Right" if present else None)
        st.button("↺ Reset step", key="lesson_reset", on_click=_reset,
                  help="the step's block, depth, input and page controls again")
        st.button("Leave presenter mode" if present else "📽️ Presenter mode",
                  key="lesson_present", on_click=_toggle_presenter,
                  help="large type for a projector; ← and → (or PageUp and PageDown) change "
                       "steps")
        st.page_link(str(startup.page_path(LESSONS)), label="All lessons", icon="📚")


# --- the Lessons page ----------------------------------------------------------------------------

def catalog() -> Catalog:
    return load_lessons()


def start_link(lesson: Lesson, present: bool = False, label: str = "", step: int = 1) -> None:
    """A link that opens a step of the lesson, the first by default (in presenter mode if
    asked)."""
    params = {LESSON: lesson.name, STEP: str(step)} | ({PRESENT: "1"} if present else {})
    st.page_link(page_file(lesson.steps[step - 1].page), query_params=params,
                 label=label or ("Present to a class" if present else "Start the lesson"),
                 icon="📽️" if present else "▶️")


__all__ = ["PRESENT", "answers", "apply", "catalog", "finished", "follow", "load_kept",
           "panel", "presenting", "start_link"]

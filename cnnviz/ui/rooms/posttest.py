"""The teacher's side of a lesson's pre/post test (cnnviz.lessons.prepost).

At the start, a test question runs round 1 only: each student alone, closed with nothing
revealed (no discussion, no reveal: it is a test), then *Next question ▶*. At the end, on
the lesson's post step (a step without a question), *Start the post-test* asks the first
test question's twin (the room's draw, cnnviz.lessons.twins), answered alone; *Close*,
then *Next test question ▶* asks the next twin. The class's gain on the test is in the
room's results (results.py) once the post-test's last question is closed.
"""
from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from cnnviz.core.errors import InputError
from cnnviz.lessons import Lesson, Step
from cnnviz.lessons.twins import draw_key, twin_step
from cnnviz.store import Phase, Room, RoomStore
from cnnviz.ui.analysis.lab import CachedLab
from cnnviz.ui.frame.widgets import show_error

PRE_NOTE = ("A question of the pre-test: each student answers alone, and nothing is "
            "revealed. Its twin comes back in the post-test at the end of the lesson.")
POST_NOTE = ("The post-test: each test question again with other numbers, answered alone; "
             "nothing is revealed. The class's gain shows in the room's results below once "
             "the last one is closed.")

__all__ = ["is_post_step", "is_test_step", "post_controls", "post_question", "pre_controls"]


def is_test_step(lesson: Lesson, step: Step) -> bool:
    return lesson.test is not None and step.number in lesson.test.questions


def is_post_step(lesson: Lesson, step: Step) -> bool:
    return lesson.test is not None and step.number == lesson.test.post


def pre_controls(room: Room, act: Callable[..., None], rooms: RoomStore, secret: str) -> None:
    """A pre-test question's buttons besides *Next question* and *End*: close only."""
    if room.phase == Phase.VOTE1:
        st.button("Close round 1", key="room_close", type="primary",
                  on_click=act, args=(rooms.close, room.code, secret))


def post_controls(rooms: RoomStore, room: Room, secret: str, lesson: Lesson,
                  act: Callable[..., None], end: Callable[[], None]) -> None:
    """The post-test's buttons, in one row: start it, close a question, ask the next."""
    assert lesson.test is not None
    questions, code = lesson.test.questions, room.code
    with st.container(horizontal=True, key="room_controls"):
        if not room.phase.is_post:
            st.button("Start the post-test", key="room_post", type="primary",
                      help="each test question's twin, answered alone",
                      on_click=act, args=(rooms.post_test, code, secret, questions[0],
                                          lesson.name))
        elif room.phase == Phase.POST:
            st.button("Close", key="room_close", type="primary",
                      on_click=act, args=(rooms.close, code, secret))
        later = [n for n in questions if room.phase.is_post and n > room.step]
        if room.phase == Phase.POST_CLOSED and later:
            st.button("Next test question ▶", key="room_post_next", type="primary",
                      on_click=act, args=(rooms.post_test, code, secret, later[0],
                                          lesson.name))
        st.button("End the room", key="room_end", on_click=end)


def post_question(room: Room, lesson: Lesson, device: str) -> None:
    """What the projector shows of the post-test: which question, and the twin's words."""
    assert lesson.test is not None
    st.caption(POST_NOTE)
    if not room.phase.is_post or room.step not in lesson.test.questions:
        return
    number = lesson.test.questions.index(room.step) + 1
    try:
        twin = twin_step(lesson.steps[room.step - 1], draw_key(room.code, lesson.name),
                         CachedLab(device))
    except InputError as e:
        show_error(e)
        return
    if twin is None or twin.question is None:
        st.warning("This test question has no twin any more (the lesson file changed).")
        return
    state = "open" if room.open else "closed"
    st.markdown(f"**Post-test, question {number} of {len(lesson.test.questions)} "
                f"({state}):** {twin.question.ask}")  # the lesson file's words: trusted
    if room.phase == Phase.POST_CLOSED and number == len(lesson.test.questions):
        st.success("The post-test is over: the class's gain is in the room's results.",
                   icon="📈")

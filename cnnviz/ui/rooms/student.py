"""The student's side of a room (the Join page): find the room, read its question, answer.

A student answers alone in round 1, again after discussing with a neighbour in round 2,
and alone again when the teacher asks the question's twin (the same question with other
numbers, Smith et al. 2009). With an answer a student may say how sure they are (sure,
fairly sure, guessing; optional). A student never sees another student's answer, nor the
answer before the teacher reveals it on the projector.
"""
from __future__ import annotations

import functools
import uuid

import streamlit as st

from cnnviz.core.errors import InputError
from cnnviz.lessons import LessonError, Question, Step, load_lesson, number_text
from cnnviz.lessons.twins import draw_key, twin_step
from cnnviz.store import (
    CONFIDENCES,
    STUDENT_ID_LENGTH,
    Phase,
    Room,
    RoomError,
    RoomStore,
    normal_code,
)
from cnnviz.ui.frame.text import safe_text
from cnnviz.ui.frame.widgets import number_or_warn
from cnnviz.ui.rooms.door import enter_code
from cnnviz.ui.rooms.question import what_it_reads

STUDENT = "room__student"     # the anonymous id when the browser gives none
SENT = "room__sent"  # (code, lesson, step, round, value, confidence): the last answer
STUDENT_POLL_S = 2.0
AGAIN = "Discuss with your neighbour, then vote again."
ALONE = "Answer alone: a new question like the last one, with other numbers."

__all__ = ["answer_form", "find_room", "student_id"]

_ID_JS = """
export default function (component) {
    const { setStateValue } = component;
    let id = null;
    try { id = window.localStorage.getItem("cnnviz-student"); } catch (e) {}
    if (!id || !/^[0-9a-f]{32}$/.test(id)) {
        const bytes = new Uint8Array(16);
        window.crypto.getRandomValues(bytes);
        id = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
        try { window.localStorage.setItem("cnnviz-student", id); } catch (e) {}
    }
    setStateValue("id", id);
}
"""


@functools.cache
def _id_component():
    return st.components.v2.component("cnnviz_student_id", js=_ID_JS)


def student_id() -> str:
    """This browser's anonymous id (kept in its local storage, so a reload keeps it); the
    session's own when the browser gives none."""
    given = getattr(_id_component()(key="room_student_id", on_id_change=lambda: None),
                    "id", None)
    if isinstance(given, str) and len(given) == STUDENT_ID_LENGTH and \
            all(c in "0123456789abcdef" for c in given):
        return given
    return st.session_state.setdefault(STUDENT, uuid.uuid4().hex)


def find_room(rooms: RoomStore) -> Room | None:
    """The room whose code the student typed (or the link carried), or None after saying
    why not (the door's code entry, which limits codes of no room per session)."""
    room = enter_code(lambda typed: rooms.room(normal_code(typed)), "room", "room",
                      "join_code", "🙋")
    if room is not None:
        st.query_params["room"] = room.code
    return room


def _asked(step: Step, room: Room) -> Step | None:
    """The step as the room asks it now: the twin's while the twin (or the post-test) is
    on, as the room draws it (None when the question has no twin any more: the lesson
    file changed)."""
    if not room.twin:
        return step
    try:
        return twin_step(step, draw_key(room.code, room.lesson))
    except InputError:
        return None


def _mine(room: Room) -> tuple[str, str | None] | None:
    """This student's answer to the room's current round, and how sure they were."""
    sent = st.session_state.get(SENT)
    if sent and sent[:4] == (room.code, room.lesson, room.step, room.round):
        return sent[4], sent[5]
    return None


def _sent_text(mine: tuple[str, str | None]) -> str:
    value, sure = mine
    return safe_text(value) + (f" ({safe_text(sure)})" if sure else "")


def answer_form(rooms: RoomStore, room: Room) -> None:
    """The room's current question and this student's answer to it."""
    try:
        lesson = load_lesson(room.lesson)
        step = _asked(lesson.steps[room.step - 1], room)
    except (LookupError, LessonError):
        step = None
    if step is None:
        st.error("This room's question is no longer on the server.", icon="🚫")
        return
    question = step.question
    where = "the post-test" if room.phase.is_post else \
        "the twin question" if room.twin else f"round {room.round}"
    st.caption(f"{safe_text(lesson.title)} · step {room.step} · {where}")
    st.subheader(step.title)
    if question is None:
        st.info("No question on this step: wait for the next one.", icon="⏳")
        _follow(rooms, room)
        return
    if room.open and room.phase == Phase.VOTE2:
        st.info(AGAIN, icon="💬")
    elif room.open and room.twin:
        st.info(ALONE, icon="🧍")
    st.markdown(f"**{question.ask}**")  # from the repository's lesson file: trusted
    what_it_reads(step)
    if not room.twin:  # the step's text describes the question's numbers, not the twin's
        with st.expander("The question's context (also on the projector)", expanded=True):
            st.markdown(step.text)  # from the repository's lesson file: trusted Markdown
    mine = _mine(room)
    if not room.open:
        st.info("This round is closed: look at the projector." + (
            f" Your answer was {_sent_text(mine)}." if mine is not None else ""), icon="📽️")
        _follow(rooms, room)
        return
    student = student_id()  # drawn on every run: the browser's id is there at the submit
    key = f"join_{room.code}_{room.step}_{room.round}"
    raw: str | None
    with st.form(key=key, border=False):
        if question.kind == "number":
            raw = st.text_input("Your answer", key=f"{key}_number",
                                placeholder="a number, e.g. 12 or 0.25")
        else:
            raw = st.radio("Your answer", [o.label for o in question.options], index=None,
                           key=f"{key}_choice")
        sure = st.radio("How sure are you? (optional)", CONFIDENCES, index=None,
                        horizontal=True, key=f"{key}_sure")
        pressed = st.form_submit_button("Send my answer", type="primary", width="stretch")
    if pressed:
        _send(rooms, room, question, raw, sure, student)
        mine = _mine(room)
    if mine is not None:
        st.success(f"Your answer {_sent_text(mine)} is in. You may change it until the "
                   f"round closes.", icon="✅")
    _follow(rooms, room)


def _send(rooms: RoomStore, room: Room, question: Question, raw: str | None,
          sure: str | None, student: str) -> None:
    if question.kind == "number":
        value = number_or_warn(raw or "")
        if value is None:
            if not (raw or "").strip():
                st.warning("Type a number first.", icon="⚠️")
            return
        fields: dict = {"number": value}
    else:
        if raw not in [o.label for o in question.options]:
            st.warning("Choose one of the answers first.", icon="⚠️")
            return
        fields = {"choice": raw, "options": [o.label for o in question.options]}
    try:
        rooms.submit(room.code, student, confidence=sure, **fields)
    except RoomError as e:
        st.error(safe_text(e, limit=300), icon="🚫")
        return
    value = fields["number"] if "number" in fields else fields["choice"]
    shown = number_text(value) if isinstance(value, float) else value
    st.session_state[SENT] = (room.code, room.lesson, room.step, room.round, shown, sure)


def _follow(rooms: RoomStore, room: Room) -> None:
    """Every few seconds: when the teacher closes the round, opens another or moves on (to
    another step or another lesson), the page follows (a full rerun)."""
    @st.fragment(run_every=STUDENT_POLL_S)
    def watch() -> None:
        try:
            now = rooms.room(room.code)
        except RoomError:
            st.rerun()
            return
        if (now.lesson, now.step, now.round, now.open) != (room.lesson, room.step,
                                                            room.round, room.open):
            st.rerun()

    watch()

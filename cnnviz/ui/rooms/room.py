"""Ask the room: a lesson's question answered by the whole class, on the room database.

The teacher (presenter mode) opens a room for the current question and shows its code,
link and QR code on the projector; students answer on `/join`. Only the session that
opened a room holds its secret, so only it sees the teacher's controls. A student never
sees another student's answer, nor the answer before the teacher reveals it.
"""
from __future__ import annotations

import functools
import html
import io
import time
import uuid
from collections.abc import Callable
from urllib.parse import urlsplit

import streamlit as st

from cnnviz.core.errors import InputError
from cnnviz.core.numbers import is_accepted
from cnnviz.lessons import (
    Lesson,
    LessonError,
    Question,
    Step,
    answer,
    band,
    grade,
    load_lesson,
    number_text,
)
from cnnviz.pages import JOIN
from cnnviz.render import room_charts as charts
from cnnviz.store import (
    STUDENT_ID_LENGTH,
    Room,
    RoomError,
    RoomStore,
    StoreUnavailable,
    UnknownRoom,
    normal_code,
)
from cnnviz.ui.analysis.lab import CachedLab
from cnnviz.ui.frame.text import safe_text
from cnnviz.ui.frame.widgets import number_or_warn, picture, show_error
from cnnviz.ui.rooms.question import what_it_reads
from cnnviz.ui.rooms.store import open_store, room_errors

TEACHER = "room__teacher"     # {"code", "secret", "lesson"}: the room this session opened
STUDENT = "room__student"     # the anonymous id when the browser gives none
WRONG = "room__wrong_codes"   # when this session typed codes of no room (rate limit)
SENT = "room__sent"           # (code, step, round, value): this student's last answer
LAST_WRONG = "room__last_wrong"  # (typed, message): the last code of no room
MAX_WRONG, WRONG_WINDOW_S = 5, 60.0
TOO_MANY = "Too many codes that open no room: wait a minute, then try again."
TEACHER_POLL_S, STUDENT_POLL_S = 1.5, 2.0
JOIN_PATH = JOIN.url_path


__all__ = ["answer_form", "find_room", "open_store", "teacher_panel"]


# --- the teacher ------------------------------------------------------------------------

def teacher_panel(lesson: Lesson, step: Step, device: str, go: Callable[[int], None]) -> None:
    """Under a question in presenter mode: *Ask the room*, or the room this session runs.
    A store that fails on the way is a sentence here; the lesson around runs on."""
    refusal = st.session_state.pop("room__refusal", None)  # of a button (_act)
    if refusal:
        st.error(safe_text(refusal, limit=300), icon="🚫")
    with room_errors():
        _teacher_panel(lesson, step, device, go)


def _teacher_panel(lesson: Lesson, step: Step, device: str, go: Callable[[int], None]
                   ) -> None:
    mine = st.session_state.get(TEACHER)
    if mine is None or mine["lesson"] != lesson.name:
        if st.button("🙋 Ask the room", key="room_open",
                     help="a room for this question: students answer on their phones"):
            rooms = open_store()
            if rooms is not None:
                room, secret = rooms.open_room(lesson.name, step.number)
                st.session_state[TEACHER] = {"code": room.code, "secret": secret,
                                             "lesson": lesson.name}
                st.rerun()
        return
    rooms = open_store()
    if rooms is None:
        return
    code, secret = mine["code"], mine["secret"]
    try:
        room = rooms.room(code)
    except UnknownRoom:
        del st.session_state[TEACHER]
        st.info("The room has ended (or expired).")
        return
    with st.container(border=True, key="room_panel"):
        _projector(code)
        if room.step != step.number:
            st.info(f"The room is on step {room.step}.")
            st.button("Move the room to this question", key="room_here",
                      on_click=_act, args=(rooms.move, code, secret, step.number))
            return
        question = step.question
        assert question is not None
        if room.open:
            _live_count(rooms, room)
        _controls(rooms, room, secret, lesson, step, go)
        if not room.open:
            _reveal(rooms, room, question, step, device)


def join_url(code: str) -> str:
    """The address students open: this server's origin, as the teacher's browser sees it."""
    parts = urlsplit(st.context.url or "")
    origin = f"{parts.scheme}://{parts.netloc}" if parts.netloc else ""
    return f"{origin}/{JOIN_PATH}?room={code}"


@functools.lru_cache(maxsize=64)
def qr_png(text: str) -> bytes:
    import segno

    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="png", scale=8, border=2)
    return buffer.getvalue()


def _projector(code: str) -> None:
    link = join_url(code)
    left, right = st.columns([3, 1])
    with left:
        st.html(f'<div class="room-code" style="font-size:3.2rem;font-weight:700;'
                f'letter-spacing:0.3rem;line-height:1.1">{html.escape(code)}</div>'
                f'<div style="font-size:1.4rem">Join at <b>{html.escape(link)}</b></div>')
        st.caption("Or open /join and type the code. Students reach this address only when "
                   "the server listens on the network (see the README: Serving a classroom).")
    picture(right, qr_png(link), width=180, caption=f"QR code of {link}")


def _live_count(rooms: RoomStore, room: Room) -> None:
    @st.fragment(run_every=TEACHER_POLL_S)
    def count() -> None:
        n = None
        with room_errors():
            n = rooms.count(room.code, room.step, room.round)
        if n is None:
            return
        st.markdown(f"### {answers_text(n)}")
        st.caption(f"Round {room.round}, open: students may change their answer until you "
                   f"close it.")

    count()


def answers_text(n: int) -> str:
    return f"{n} answer{'' if n == 1 else 's'}"


def _act(action: Callable[..., Room], code: str, secret: str, *args) -> None:
    """A teacher's button: the store checks the secret; a refusal (or a store that
    fails) is shown on the next run, not raised."""
    _done(action, code, secret, *args)


def _done(action: Callable[..., Room], code: str, secret: str, *args) -> bool:
    """_act, and whether the action was done."""
    try:
        action(code, secret, *args)
    except RoomError as e:
        st.session_state["room__refusal"] = str(e)
        return False
    return True


def _controls(rooms: RoomStore, room: Room, secret: str, lesson: Lesson, step: Step,
              go: Callable[[int], None]) -> None:
    later = [s.number for s in lesson.steps[step.number:] if s.question is not None]
    with st.container(horizontal=True):
        if room.open:
            st.button("Close and reveal", key="room_close", type="primary",
                      on_click=_act, args=(rooms.close, room.code, secret))
        else:
            st.button("Discuss and vote again", key="room_again",
                      on_click=_act, args=(rooms.new_round, room.code, secret))
            if later:
                st.button("Next question ▶", key="room_next", type="primary",
                          on_click=_next, args=(rooms, room.code, secret, later[0], go))
        st.button("End the room", key="room_end", on_click=_end,
                  args=(rooms, room.code, secret))


def _next(rooms: RoomStore, code: str, secret: str, number: int,
          go: Callable[[int], None]) -> None:
    if _done(rooms.move, code, secret, number):
        go(number)


def _end(rooms: RoomStore, code: str, secret: str) -> None:
    if _done(rooms.end, code, secret):
        st.session_state.pop(TEACHER, None)


def _reveal(rooms: RoomStore, room: Room, question: Question, step: Step, device: str
            ) -> None:
    try:
        truth = answer(question, step.state, CachedLab(device))
    except InputError as e:
        show_error(e)
        return
    columns = st.columns(room.round) if room.round > 1 else [st.container()]
    for round_, col in zip(range(1, room.round + 1), columns):
        guesses = [a.value for a in rooms.answers(room.code, room.step, round_)
                   if question.kind == "choice" or is_accepted(a.value)]  # the answer rule
        right = sum(grade(question, truth, g).right for g in guesses)
        title = f"Round {round_}: {answers_text(len(guesses))}"
        with col:
            if question.kind == "choice":
                fig = charts.fig_choices([str(g) for g in guesses],
                                         [o.label for o in question.options], str(truth.value),
                                         title)
            else:
                low, high = band(question, float(truth.value))
                fig = charts.fig_numbers([float(g) for g in guesses if g is not None],
                                         float(truth.value), low, high, title)
            st.plotly_chart(fig, width="stretch", key=f"room_round_{round_}")
            share = right / len(guesses) if guesses else 0.0
            st.markdown(f"**{share:.0%} right** ({right} of {len(guesses)}); the answer is "
                        f"**{truth.text()}**.")


# --- the student ------------------------------------------------------------------------

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


def _wrong_codes() -> list[float]:
    """When this session typed codes of no room, within the last minute."""
    now = time.monotonic()
    recent = [t for t in st.session_state.get(WRONG, []) if now - t < WRONG_WINDOW_S]
    st.session_state[WRONG] = recent
    return recent


def find_room(rooms: RoomStore) -> Room | None:
    """The room whose code the student typed (or the link carried), or None after saying
    why not. Codes of no room are limited per session (a few a minute), so nobody can try
    codes until one opens a room."""
    given = st.query_params.get("room", "")
    typed = st.text_input("Room code", value=given[:12], key="join_code", max_chars=12,
                          placeholder="e.g. K7QX2M", help="the six characters on the "
                          "projector (no 0, O, 1, I or L)")
    if not typed.strip():
        st.info("Type the room code from the projector, or open the link your teacher "
                "shows.", icon="🙋")
        return None
    refused = st.session_state.get(LAST_WRONG)
    if refused and refused[0] == typed:  # the same wrong code again (a rerun): same answer
        st.warning(refused[1], icon="⚠️")
        return None
    if len(_wrong_codes()) >= MAX_WRONG:
        st.error(TOO_MANY, icon="⏳")
        return None
    try:
        room = rooms.room(normal_code(typed))
    except StoreUnavailable as e:
        st.error(safe_text(e, limit=300), icon="🚫")
        return None
    except RoomError as e:  # malformed or no such room: counts towards the limit
        st.session_state.setdefault(WRONG, []).append(time.monotonic())
        message = TOO_MANY if len(_wrong_codes()) >= MAX_WRONG else safe_text(e, limit=200)
        st.session_state[LAST_WRONG] = (typed, message)
        st.warning(message, icon="⚠️")
        return None
    st.session_state.pop(LAST_WRONG, None)
    st.query_params["room"] = room.code
    return room


def answer_form(rooms: RoomStore, room: Room) -> None:
    """The room's current question and this student's answer to it."""
    try:
        lesson = load_lesson(room.lesson)
        step = lesson.steps[room.step - 1]
    except (LookupError, LessonError):
        st.error("This room's lesson is no longer on the server.", icon="🚫")
        return
    question = step.question
    st.caption(f"{safe_text(lesson.title)} · step {room.step} · round {room.round}")
    st.subheader(step.title)
    if question is None:
        st.info("No question on this step: wait for the next one.", icon="⏳")
        _follow(rooms, room)
        return
    st.markdown(f"**{question.ask}**")
    what_it_reads(step)
    with st.expander("The question's context (also on the projector)", expanded=True):
        st.markdown(step.text)  # from the repository's lesson file: trusted Markdown
    sent = st.session_state.get(SENT)
    mine = sent[3] if sent and sent[:3] == (room.code, room.step, room.round) else None
    if not room.open:
        st.info("This round is closed: look at the projector." + (
            f" Your answer was {safe_text(mine)}." if mine is not None else ""), icon="📽️")
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
        pressed = st.form_submit_button("Send my answer", type="primary", width="stretch")
    if pressed:
        _send(rooms, room, question, raw, student)
        sent = st.session_state.get(SENT)
        mine = sent[3] if sent and sent[:3] == (room.code, room.step, room.round) else None
    if mine is not None:
        st.success(f"Your answer {safe_text(mine)} is in. You may change it until the round "
                   f"closes.", icon="✅")
    _follow(rooms, room)


def _send(rooms: RoomStore, room: Room, question: Question, raw: str | None,
          student: str) -> None:
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
        rooms.submit(room.code, student, **fields)
    except RoomError as e:
        st.error(safe_text(e, limit=300), icon="🚫")
        return
    value = fields["number"] if "number" in fields else fields["choice"]
    shown = number_text(value) if isinstance(value, float) else value
    st.session_state[SENT] = (room.code, room.step, room.round, shown)


def _follow(rooms: RoomStore, room: Room) -> None:
    """Every few seconds: when the teacher closes the round, opens another or moves on,
    the page follows (a full rerun)."""
    @st.fragment(run_every=STUDENT_POLL_S)
    def watch() -> None:
        try:
            now = rooms.room(room.code)
        except RoomError:
            st.rerun()
            return
        if (now.step, now.round, now.open) != (room.step, room.round, room.open):
            st.rerun()

    watch()

"""The teacher's room panel, under a question in presenter mode: peer instruction, phase by
phase (Crouch & Mazur 2001; the phases are cnnviz.store.rounds's).

    round 1 open      each student alone; the live count     Close round 1
    round 1 closed    nothing revealed; the suggested move   Discuss, then vote again · Reveal
    round 2 open      after discussing with a neighbour      Close round 2
    round 2 closed                                           Reveal
    revealed          both rounds, the switches              Ask the twin (when there is one)
    twin open         the twin's question, answered alone    Close and reveal the twin
    twin revealed     the twin's share and the gain g

The guesses stay off the projector until the teacher turns on *Show the answers on the
projector* (this session's choice, not the room's); *Next question ▶* and *End the room*
are there in every phase that takes no answers. Only the session that opened a room holds
its secret, so only it draws this panel; the store checks the secret, then the phase, on
every move, and a refusal (or a store that fails) is a sentence.
"""
from __future__ import annotations

import functools
import html
import io
from collections.abc import Callable
from typing import Literal
from urllib.parse import urlsplit

import streamlit as st

from cnnviz.lessons import Lesson, Step
from cnnviz.lessons.twins import twin_step
from cnnviz.pages import JOIN
from cnnviz.store import Phase, Room, RoomError, RoomStore, UnknownRoom
from cnnviz.ui.frame.text import safe_text
from cnnviz.ui.frame.widgets import picture
from cnnviz.ui.rooms import reveal
from cnnviz.ui.rooms.results import results_view
from cnnviz.ui.rooms.store import open_store, room_errors

TEACHER = "room__teacher"     # {"code", "secret", "lesson"}: the room this session opened
REFUSAL = "room__refusal"     # a refused button's sentence, shown on the next run
TEACHER_POLL_S = 1.5
JOIN_PATH = JOIN.url_path
SHOW = "Show the answers on the projector"
OPEN_NOTE = {Phase.VOTE1: "Round 1, open: each student answers alone, and may change "
                          "their answer until you close it.",
             Phase.VOTE2: "Round 2, open: after discussing with a neighbour, each student "
                          "votes again.",
             Phase.TWIN: "The twin, open: the same question with other numbers, answered "
                         "alone (Smith et al. 2009)."}

__all__ = ["TEACHER", "join_url", "qr_png", "teacher_panel"]


def teacher_panel(lesson: Lesson, step: Step, device: str, go: Callable[[int], None]) -> None:
    """Under a question in presenter mode: *Ask the room*, or the room this session runs.
    A store that fails on the way is a sentence here; the lesson around runs on."""
    refusal = st.session_state.pop(REFUSAL, None)  # of a button (act)
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
                      on_click=act, args=(rooms.move, code, secret, step.number))
            return
        _phase(rooms, room, secret, lesson, step, device, go)
        results_view(rooms, room, lesson, device)


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


def _phase(rooms: RoomStore, room: Room, secret: str, lesson: Lesson, step: Step,
           device: str, go: Callable[[int], None]) -> None:
    """The room's question where peer instruction has it: its buttons, then what the
    projector shows in that phase."""
    twin = twin_step(step)
    asked = twin if room.twin and twin is not None else step
    assert asked.question is not None
    if room.twin:  # the class answers a question the page above does not show
        st.markdown(f"**The twin:** {asked.question.ask}")  # the lesson file's: trusted
    show = _controls(rooms, room, secret, lesson, step, twin is not None, go)
    if room.open:
        _live(rooms, room, asked, show)
    elif not room.phase.revealed:
        n = rooms.count(room.code, room.step, room.round)
        st.markdown(f"### {reveal.answers_text(n)}")
        if show:
            reveal.hidden(rooms, room, asked, key="room_hidden")
        if room.phase == Phase.CLOSED1:
            result = reveal.step_result(lesson, step, rooms.answers(room.code, room.step),
                                        device)
            reveal.suggestion(result, show)
    else:
        reveal.revealed(rooms, room, lesson, step, device)


def _controls(rooms: RoomStore, room: Room, secret: str, lesson: Lesson, step: Step,
              has_twin: bool, go: Callable[[int], None]) -> bool:
    """One row: the phase's buttons (each action one name), the toggle that shows the
    guesses before the reveal, *Next question ▶* and *End the room*. Whether the guesses
    are shown."""
    later = [s.number for s in lesson.steps[step.number:] if s.question is not None]
    code, phase, show = room.code, room.phase, False
    with st.container(horizontal=True, key="room_controls"):
        if phase in (Phase.VOTE1, Phase.VOTE2):
            st.button(f"Close round {room.round}", key="room_close", type="primary",
                      on_click=act, args=(rooms.close, code, secret))
        if phase == Phase.CLOSED1:
            st.button("Discuss, then vote again", key="room_again", type="primary",
                      on_click=act, args=(rooms.start_round_two, code, secret))
        if phase in (Phase.CLOSED1, Phase.CLOSED2):
            st.button("Reveal", key="room_reveal", type=_kind(phase == Phase.CLOSED2),
                      on_click=act, args=(rooms.reveal, code, secret))
        if phase == Phase.REVEALED and has_twin:
            st.button("Ask the twin", key="room_twin", type="primary",
                      help="the same question with other numbers, answered alone",
                      on_click=act, args=(rooms.ask_twin, code, secret))
        if phase in (Phase.TWIN, Phase.TWIN_CLOSED):
            st.button("Close and reveal the twin", key="room_twin_reveal", type="primary",
                      on_click=act, args=(rooms.reveal, code, secret))
        if not room.open and later:
            last = phase == Phase.TWIN_REVEALED or phase == Phase.REVEALED and not has_twin
            st.button("Next question ▶", key="room_next", type=_kind(last),
                      on_click=_next, args=(rooms, code, secret, later[0], go))
        st.button("End the room", key="room_end", on_click=_end, args=(rooms, code, secret))
        if not phase.revealed:  # off until the teacher chooses; a new question starts off
            show = st.toggle(SHOW, key=f"room_show_{room.step}_{int(room.twin)}",
                             value=False)
    return show


def _kind(main: bool) -> Literal["primary", "secondary"]:
    """The phase's main button stands out."""
    return "primary" if main else "secondary"


def _live(rooms: RoomStore, room: Room, asked: Step, show: bool) -> None:
    @st.fragment(run_every=TEACHER_POLL_S)
    def count() -> None:
        with room_errors():
            n = rooms.count(room.code, room.step, room.round)
            st.markdown(f"### {reveal.answers_text(n)}")
            st.caption(OPEN_NOTE.get(room.phase, ""))
            if show:
                reveal.hidden(rooms, room, asked, key="room_live")

    count()


def act(action: Callable[..., Room], code: str, secret: str, *args) -> None:
    """A teacher's button: the store checks the secret, then the phase; a refusal (or a
    store that fails) is a sentence on the next run, not raised."""
    done(action, code, secret, *args)


def done(action: Callable[..., Room], code: str, secret: str, *args) -> bool:
    """act, and whether the action was done."""
    try:
        action(code, secret, *args)
    except RoomError as e:
        st.session_state[REFUSAL] = str(e)
        return False
    return True


def _next(rooms: RoomStore, code: str, secret: str, number: int,
          go: Callable[[int], None]) -> None:
    if done(rooms.move, code, secret, number):
        go(number)


def _end(rooms: RoomStore, code: str, secret: str) -> None:
    if done(rooms.end, code, secret):
        st.session_state.pop(TEACHER, None)

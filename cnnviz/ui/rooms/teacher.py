"""The teacher's room panel in presenter mode: peer instruction, phase by phase (Crouch &
Mazur 2001; the phases are cnnviz.store.rounds's). One compact row at the top of the
lesson's panel holds the code, the QR code, the live count and the round's buttons; what
the projector shows of the answers comes under the question.

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
every move, and a refusal (or a store that fails) is a sentence. The browser keeps the
code and secret too, so a reload offers *Resume room CODE* (door.py). One room follows the
teacher: arriving at another question (of this lesson or another) moves the room there.
"""
from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any, Literal

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from cnnviz.core.errors import InputError
from cnnviz.lessons import Lesson, LessonError, Step, load_lesson
from cnnviz.lessons.twins import draw_key, twin_step
from cnnviz.store import Phase, Room, RoomError, RoomStore, UnknownRoom
from cnnviz.ui.analysis.lab import CachedLab
from cnnviz.ui.frame.text import safe_text
from cnnviz.ui.frame.widgets import png_data_url, show_error
from cnnviz.ui.rooms import posttest, reveal
from cnnviz.ui.rooms.door import address_notes, browser_room, join_link, qr_png
from cnnviz.ui.rooms.results import results_view
from cnnviz.ui.rooms.store import open_store, room_errors

TEACHER = "room__teacher"     # {"code", "secret", "lesson"}: the room this session opened
REFUSAL = "room__refusal"     # a refused button's sentence, shown on the next run
FOLLOWED = "room__followed"   # (lesson, step) the room last followed the teacher to
FORGET = "room__forget"       # a room that ended: the browser forgets it on the next run
TEACHER_POLL_S = 1.5
SHOW = "Show the answers on the projector"
OPEN_NOTE = {Phase.VOTE1: "Round 1, open: each student answers alone, and may change "
                          "their answer until you close it.",
             Phase.VOTE2: "Round 2, open: after discussing with a neighbour, each student "
                          "votes again.",
             Phase.TWIN: "The twin, open: the same question with other numbers, answered "
                         "alone (Smith et al. 2009)."}

__all__ = ["TEACHER", "teacher_panel"]


def teacher_panel(lesson: Lesson, step: Step, device: str, go: Callable[[int], None],
                  bar: DeltaGenerator) -> bool | None:
    """Under a question in presenter mode: *Ask the room* (or *Resume room CODE*), or the
    room this session runs, its row (code, QR code, live count, the round's buttons) in
    `bar` at the top of the lesson's panel and the rest here. Whether the room, on this
    question, has revealed its answer (None: this session runs no room on it). A store
    that fails on the way is a sentence; the lesson around runs on."""
    refusal = st.session_state.pop(REFUSAL, None)  # of a button (act)
    if refusal:
        bar.error(safe_text(refusal, limit=300), icon="🚫")
    with room_errors():
        return _teacher_panel(lesson, step, device, go, bar)
    return None


def _start(lesson: Lesson, step: Step, bar: DeltaGenerator) -> None:
    """No room in this session: open one, or resume the one this browser keeps (a reload
    of the projector's page), once the store has checked its secret."""
    kept = browser_room(forget=st.session_state.pop(FORGET, None))
    resume = None
    if kept is not None:
        rooms = open_store()
        try:
            resume = rooms.teacher_room(*kept) if rooms is not None else None
        except RoomError:  # ended, expired, or not this browser's to resume
            resume = None
    with bar.container(horizontal=True, key="room_start"):
        if st.button("🙋 Ask the room", key="room_open",
                     help="a room for this question: students answer on their phones"):
            rooms = open_store()
            if rooms is not None:
                room, secret = rooms.open_room(lesson.name, step.number)
                _hold(room.code, secret, lesson.name)
                st.rerun()
        if resume is not None and kept is not None:
            st.button(f"Resume room {resume.code}", key="room_resume", type="primary",
                      help="the room this browser opened: its code stays the same",
                      on_click=_hold, args=(resume.code, kept[1], resume.lesson))


def _title(name: str) -> str:
    """A lesson's title, as Markdown that shows its characters (its name if it is gone)."""
    try:
        return safe_text(load_lesson(name).title)
    except (LookupError, LessonError):
        return safe_text(name, quoted=True)


def _hold(code: str, secret: str, lesson: str) -> None:
    st.session_state[TEACHER] = {"code": code, "secret": secret, "lesson": lesson}


def _teacher_panel(lesson: Lesson, step: Step, device: str, go: Callable[[int], None],
                   bar: DeltaGenerator) -> bool | None:
    mine = st.session_state.get(TEACHER)
    if mine is None:
        _start(lesson, step, bar)
        return None
    code, secret = mine["code"], mine["secret"]
    browser_room(keep=(code, secret))
    rooms = open_store()
    if rooms is None:
        return None
    try:
        room = rooms.room(code)
    except UnknownRoom:
        del st.session_state[TEACHER]
        st.session_state[FORGET] = code
        bar.info("The room has ended (or expired).")
        return None
    here = (lesson.name, step.number)
    posting = posttest.is_post_step(lesson, step) and room.lesson == lesson.name \
        and room.phase.is_post  # a reload in the post-test keeps it
    if (room.lesson, room.step) != here and st.session_state.get(FOLLOWED) != here \
            and not posting:
        # the teacher moved to another question: the room follows, once per arrival
        st.session_state[FOLLOWED] = here
        if done(rooms.move, code, secret, step.number, lesson.name):
            room = rooms.room(code)
    st.session_state[FOLLOWED] = here
    post = posttest.is_post_step(lesson, step) and room.lesson == lesson.name and (
        room.phase.is_post or room.step == step.number)
    with bar.container(border=True, key="room_panel"):
        link, where = join_link(code)
        if post:  # the end of a pre/post test: the room asks the test's twins
            show = _row(code, link, lambda: _count(rooms, room),
                        lambda: posttest.post_controls(rooms, room, secret, lesson, act,
                                                       lambda: _end(rooms, code, secret)))
        elif (room.lesson, room.step) != here:
            _row(code, link, lambda: st.info(f"The room is on another question: step "
                                             f"{room.step} of {_title(room.lesson)}."))
            st.button("Move the room to this question", key="room_here",
                      on_click=act, args=(rooms.move, code, secret, step.number,
                                          lesson.name))
            address_notes(where)
            return None
        else:
            show = _row(code, link, lambda: _count(rooms, room),
                        lambda: _controls(rooms, room, secret, lesson, step, go))
        address_notes(where)
    if post:
        posttest.post_question(room, lesson, device)
        results_view(rooms, room, secret, device)
        return None
    _phase(rooms, room, lesson, step, device, bool(show))
    results_view(rooms, room, secret, device)
    return room.phase.revealed or room.twin  # the twin comes after the question's reveal


def _row(code: str, link: str, count: Callable[[], object],
         buttons: Callable[[], object] | None = None) -> object:
    """The room in one compact row at the top of the projector: the code and the link,
    the QR code, the live count and the round's buttons. What `buttons` returns."""
    left, qr, middle, right = st.columns([2.2, 1, 1.4, 4.4], vertical_alignment="center")
    with left:
        st.html(f'<div class="room-code" style="font-size:2.6rem;font-weight:700;'
                f'letter-spacing:0.25rem;line-height:1.05">{html.escape(code)}</div>'
                f'<div class="room-link" style="font-size:0.8rem;overflow-wrap:anywhere">'
                f'Join at <b>{html.escape(link)}</b> or type the code at /join</div>')
    qr.image(png_data_url(qr_png(link)), width=120, alt=f"QR code of {link}")
    with middle:
        count()
    if buttons is None:
        return None
    with right:
        return buttons()


def _count(rooms: RoomStore, room: Room) -> None:
    """The round's count, large: live (every TEACHER_POLL_S) while the round is open."""
    if not room.open:
        n = rooms.count(room.code, room.step, room.round, room.lesson)
        st.markdown(f"### {reveal.answers_text(n)}")
        return

    @st.fragment(run_every=TEACHER_POLL_S)
    def count() -> None:
        with room_errors():
            n = rooms.count(room.code, room.step, room.round, room.lesson)
            st.markdown(f"### {reveal.answers_text(n)}")

    count()


def _phase(rooms: RoomStore, room: Room, lesson: Lesson, step: Step, device: str,
           show: bool) -> None:
    """Below the question, what the projector shows in the room's phase: the guesses when
    the teacher shows them, the suggested move, or the revealed rounds."""
    try:
        twin = twin_step(step, draw_key(room.code, room.lesson), CachedLab(device)) \
            if room.twin else None
    except InputError as e:
        show_error(e)
        return
    asked = twin if room.twin and twin is not None else step
    assert asked.question is not None
    if room.twin:  # the class answers a question the page above does not show
        st.markdown(f"**The twin:** {asked.question.ask}")  # the lesson file's: trusted
    if room.open:
        st.caption(OPEN_NOTE.get(room.phase, ""))
        if show:
            _live(rooms, room, asked)
    elif not room.phase.revealed:
        if show:
            reveal.hidden(rooms, room, asked, key="room_hidden")
        if room.phase == Phase.CLOSED1 and not posttest.is_test_step(lesson, step):
            answers = rooms.answers(room.code, room.step, lesson=room.lesson)
            reveal.suggestion(reveal.step_result(lesson, step, answers, device), show)
    else:
        reveal.revealed(rooms, room, lesson, step, device)


def _controls(rooms: RoomStore, room: Room, secret: str, lesson: Lesson, step: Step,
              go: Callable[[int], None]) -> bool:
    """One row: the phase's buttons (each action one name), the toggle that shows the
    guesses before the reveal, *Next question ▶* and *End the room*. Whether the guesses
    are shown. A pre-test question closes round 1 and moves on (posttest.py)."""
    later = [s.number for s in lesson.steps[step.number:] if s.question is not None]
    code, phase, show = room.code, room.phase, False
    has_twin = step.question is not None and step.question.twin is not None
    test = posttest.is_test_step(lesson, step)
    if test:
        st.caption(posttest.PRE_NOTE)
    with st.container(horizontal=True, key="room_controls"):
        if test:
            posttest.pre_controls(room, act, rooms, secret)
        elif phase in (Phase.VOTE1, Phase.VOTE2):
            st.button(f"Close round {room.round}", key="room_close", type="primary",
                      on_click=act, args=(rooms.close, code, secret))
        if phase == Phase.CLOSED1 and not test:
            st.button("Discuss, then vote again", key="room_again", type="primary",
                      on_click=act, args=(rooms.start_round_two, code, secret))
        if phase in (Phase.CLOSED1, Phase.CLOSED2) and not test:
            st.button("Reveal", key="room_reveal", type=_kind(phase == Phase.CLOSED2),
                      help="the computed answer, on the projector and on this page",
                      on_click=act, args=(rooms.reveal, code, secret))
        if phase == Phase.REVEALED and has_twin:
            st.button("Ask the twin", key="room_twin", type="primary",
                      help="the same question with other numbers, answered alone",
                      on_click=act, args=(rooms.ask_twin, code, secret))
        if phase in (Phase.TWIN, Phase.TWIN_CLOSED):
            st.button("Close and reveal the twin", key="room_twin_reveal", type="primary",
                      on_click=act, args=(rooms.reveal, code, secret))
        if not room.open and later:
            last = phase == Phase.TWIN_REVEALED or phase == Phase.REVEALED and not has_twin \
                or test
            st.button("Next question ▶", key="room_next", type=_kind(last),
                      on_click=_next, args=(rooms, code, secret, later[0], lesson.name, go))
        st.button("End the room", key="room_end", on_click=_end, args=(rooms, code, secret))
        if not phase.revealed:  # off until the teacher chooses; a new question starts off
            show = st.toggle(SHOW, key=f"room_show_{room.step}_{int(room.twin)}",
                             value=False)
    return show


def _kind(main: bool) -> Literal["primary", "secondary"]:
    """The phase's main button stands out."""
    return "primary" if main else "secondary"


def _live(rooms: RoomStore, room: Room, asked: Step) -> None:
    @st.fragment(run_every=TEACHER_POLL_S)
    def guesses() -> None:
        with room_errors():
            reveal.hidden(rooms, room, asked, key="room_live")

    guesses()


def act(action: Callable[..., Room], code: str, secret: str, *args: Any) -> None:
    """A teacher's button: the store checks the secret, then the phase; a refusal (or a
    store that fails) is a sentence on the next run, not raised."""
    done(action, code, secret, *args)


def done(action: Callable[..., Room], code: str, secret: str, *args: Any) -> bool:
    """act, and whether the action was done."""
    try:
        action(code, secret, *args)
    except RoomError as e:
        st.session_state[REFUSAL] = str(e)
        return False
    return True


def _next(rooms: RoomStore, code: str, secret: str, number: int, lesson: str,
          go: Callable[[int], None]) -> None:
    if done(rooms.move, code, secret, number, lesson):
        st.session_state[FOLLOWED] = (lesson, number)
        go(number)


def _end(rooms: RoomStore, code: str, secret: str) -> None:
    if done(rooms.end, code, secret):
        st.session_state.pop(TEACHER, None)
        st.session_state[FORGET] = code

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
from collections.abc import Callable, Collection
from typing import Any
from urllib.parse import urlsplit

import plotly.graph_objects as go
import streamlit as st

from cnnviz.core.blocks.registry import option_label
from cnnviz.core.network import PRESETS
from cnnviz.core.numbers import is_accepted
from cnnviz.core.spec import StackSpec
from cnnviz.lessons import (
    PAGES,
    QUANTITIES,
    Lesson,
    LessonError,
    Question,
    Step,
    StepState,
    answer,
    band,
    grade,
    load_lesson,
    number_text,
)
from cnnviz.lessons.pages import ERF_IMAGE_SIZE
from cnnviz.render import room_charts as charts
from cnnviz.render.arith_plots import fig_hand_sum
from cnnviz.store import (
    STUDENT_ID_LENGTH,
    Room,
    RoomError,
    RoomStore,
    StoreUnavailable,
    UnknownRoom,
    normal_code,
    store,
)
from cnnviz.topics import costs, features, gradflow, sliding
from cnnviz.topics.features import FILTER_LABELS
from cnnviz.ui.lab import CachedLab
from cnnviz.ui.text import safe_text
from cnnviz.ui.widgets import number_or_warn, picture, show_error

TEACHER = "room__teacher"     # {"code", "secret", "lesson"}: the room this session opened
STUDENT = "room__student"     # the anonymous id when the browser gives none
WRONG = "room__wrong_codes"   # when this session typed codes of no room (rate limit)
SENT = "room__sent"           # (code, step, round, value): this student's last answer
LAST_WRONG = "room__last_wrong"  # (typed, message): the last code of no room
MAX_WRONG, WRONG_WINDOW_S = 5, 60.0
TOO_MANY = "Too many codes that open no room: wait a minute, then try again."
TEACHER_POLL_S, STUDENT_POLL_S = 1.5, 2.0
JOIN_PATH = "join"


def open_store() -> RoomStore | None:
    """The room database, or None after saying (one sentence) why it is unavailable."""
    try:
        return store()
    except StoreUnavailable as e:
        st.error(safe_text(e, limit=300), icon="🚫")
        return None


# --- the teacher ------------------------------------------------------------------------

def teacher_panel(lesson: Lesson, step: Step, device: str, go: Callable[[int], None]) -> None:
    """Under a question in presenter mode: *Ask the room*, or the room this session runs."""
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
        try:
            n = rooms.count(room.code, room.step, room.round)
        except RoomError as e:
            show_error(e)
            return
        st.markdown(f"### {answers_text(n)}")
        st.caption(f"Round {room.round}, open: students may change their answer until you "
                   f"close it.")

    count()


def answers_text(n: int) -> str:
    return f"{n} answer{'' if n == 1 else 's'}"


def _act(action: Callable[..., Room], code: str, secret: str, *args) -> None:
    """A teacher's button: the store checks the secret; a refusal is shown, not raised."""
    try:
        action(code, secret, *args)
    except RoomError as e:
        st.session_state["room__refusal"] = str(e)


def _controls(rooms: RoomStore, room: Room, secret: str, lesson: Lesson, step: Step,
              go: Callable[[int], None]) -> None:
    refusal = st.session_state.pop("room__refusal", None)
    if refusal:
        st.error(safe_text(refusal, limit=300), icon="🚫")
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
    _act(rooms.move, code, secret, number)
    go(number)


def _end(rooms: RoomStore, code: str, secret: str) -> None:
    _act(rooms.end, code, secret)
    st.session_state.pop(TEACHER, None)


def _reveal(rooms: RoomStore, room: Room, question: Question, step: Step, device: str
            ) -> None:
    try:
        truth = answer(question, step.state, CachedLab(device))
    except ValueError as e:
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



# --- what the question reads ----------------------------------------------------------------
# A student's phone shows what the question needs, never its answer: the step's figure when
# its page marks it as one that shows only the question's inputs (PageInfo.question_figures),
# else the step's settings as a short list, in words. Nothing here computes an answer.

# The labels of the page controls a list may name; a block's own parameters and values use
# the registry's labels (Param.label, option_label), as the picker does.
CONTROL_VALUES: dict[str, dict[Any, str]] = {
    "mode": {"conv": "convolution", "transposed": "transposed convolution"},
    "loss": {"ce": "cross-entropy", "mse": "the mean square of the output"},
    "filter": FILTER_LABELS,
    "source": {"draw": "a digit drawn on the page", "test": "a test image"},
    "preact": {False: "post-activation (the block's own)", True: "pre-activation"},
    "cb_weights": {"uniform": "all ones", "random": "random"},
}
CONTROL_LABELS = {
    "depth": "Depth (blocks)", "loss": "Loss", "image": "Image", "filter":
    "First convolution's kernel", "block": "Block shown", "mask_depth": "Masked layers",
    "mask_kernel": "Kernel of the masked layers", "dilation": "Dilation of each of three "
    "3×3 layers", "mode": "Operation", "cb_kernel": "Transposed kernel (stride 2)",
    "cb_weights": "Weights", "ws_row": "Output row", "ws_col": "Output column",
    "topic": "Comparison", "pair": "Networks", "source": "Images", "channel": "Channel",
    "net": "Network", "preact": "Order",
}
# controls that move the page around rather than set what a question reads
_NOT_FACTS = {"view", "ws_seed"}
# quantities that read the picker's stack as well as their page's controls
_STACK_TOO = {"gradient_orders", "signal_growth_orders", "erf_share50"}
_NO_STATE = {"shortcut_pixels"}  # a fixed 8×8 experiment: the step's text says it all
# settings at a value that changes nothing, left out to keep the list short
_QUIET = {"dilation": 1, "groups": 1, "output_padding": 0, "se_ratio": 0.0,
          "zero_init_last": False}
# what a list must leave out because it would be the answer itself
_IS_ANSWER = {"output_channels": {"out_channels"}}


def value_text(name: str, value: Any, control: bool = False) -> str:
    """A setting's value in words (plain text: the caller escapes it): a page control's
    from CONTROL_VALUES, a block parameter's from the registry's option labels."""
    labels = CONTROL_VALUES.get(name, {}) if control else {}
    known = [text for key, text in labels.items() if type(key) is type(value) and key == value]
    if known:
        return known[0]
    if isinstance(value, (bool, str)) and not (name == "padding" and value == "same"):
        return option_label(value)
    if name in ("kernel_size", "mask_kernel", "cb_kernel", "b3_kernel") and \
            isinstance(value, int):
        return f"{value}×{value}"
    if name == "padding" and value == "same":
        return "same (keeps the size at stride 1)"
    if isinstance(value, float):
        return number_text(value)
    return str(value)


def stack_facts(spec: StackSpec, leave_out: Collection[str] = (), image: str = ""
                ) -> list[tuple[str, str]]:
    """The stack as the sidebar's picker sets it: block, depth, input and every setting
    of the block, in words."""
    c, h, w = spec.in_channels, spec.height, spec.width
    out = [("Block", f"{spec.entry.family} · {spec.entry.title}")]
    if spec.depth > 1:
        out.append(("Depth", f"{spec.depth} blocks, one after another"))
    out.append(("Input", (f"an RGB image ({image}), " if image else "")
                + f"{c}×{h}×{w} (channels × height × width)"))
    first_only = dict(spec.entry.first_only)
    for name, value in spec.params:
        if name in ("in_channels", *leave_out) or (name in _QUIET and value == _QUIET[name]
                                                    and type(value) is type(_QUIET[name])):
            continue
        text = value_text(name, value)
        if spec.depth > 1 and name in first_only and value != first_only[name]:
            text += f" (the first block; the others {value_text(name, first_only[name])})"
        label = spec.entry.param(name).label
        out.append((label[:1].upper() + label[1:], text))
    return out


def control_facts(state: StepState, names: list[str]) -> list[tuple[str, str]]:
    """The page's controls `names` with the step's values, in words."""
    page = PAGES[state.page]
    given = dict(state.controls)
    values = {**page.starting_values(state.spec, given), **given}
    knobs = {}
    if state.page == "cost_lab" and isinstance(values.get("topic"), str) and \
            values["topic"] in costs.TOPICS:
        knobs = {k.name: k.label for k in costs.TOPICS[values["topic"]][1]}
    out = []
    for name in names:
        if name not in values or name in _NOT_FACTS:
            continue
        value = values[name]
        if name == "net" and value in PRESETS:
            text = f"{PRESETS[value].title} ({PRESETS[value].year}), on a 3×224×224 image"
        elif name == "pair":
            text = f"{value}: a plain stack and a residual one, trained on digits"
        else:
            text = value_text(name, value, control=True)
        label = knobs.get(name) or CONTROL_LABELS.get(name, name.replace("_", " "))
        out.append((label[:1].upper() + label[1:], text))
    return out


def question_facts(step: Step) -> list[tuple[str, str]]:
    """What the step's question reads, as (label, value) pairs in words: the picker's stack
    where the question reads it, and the page's controls the step sets (all the cost
    lab's numbers, since its comparison reads them all). Never the answer: nothing is
    computed, and a setting that is the answer itself is left out."""
    state, question = step.state, step.question
    name = question.compute if question is not None else ""
    if name in _NO_STATE:
        return []
    quantity = QUANTITIES.get(name)
    reads_stack = quantity is not None and (not quantity.pages or name in _STACK_TOO)
    page = PAGES[state.page]
    given = [n for n, _ in state.controls]
    if state.page == "cost_lab":
        given = list(page.all_controls(dict(state.controls)))
    out: list[tuple[str, str]] = []
    if reads_stack and state.spec is not None:
        spec, image = state.spec, ""
        # the initialization matters only to what runs the random weights
        leave_out = set(_IS_ANSWER.get(name, ())) | (set() if name in _STACK_TOO
                                                      else {"init"})
        if state.page == "plain_vs_residual":  # the stack the page probes, with its toggles
            values = {**page.starting_values(spec, dict(state.controls)),
                      **dict(state.controls)}
            spec = gradflow.probe_for(spec, values)
            given = ["loss"]
            out.append(("Compared", "the stack with its shortcuts and without (plain)"))
        elif state.page == "receptive_field":  # the page draws the field on an RGB image
            spec = features.image_spec(spec, ERF_IMAGE_SIZE, ERF_IMAGE_SIZE)
            image = str(state.resolved().get("image", ""))
            given = [n for n in given if n != "image"]
        out = stack_facts(spec, leave_out, image) + out
    return out + control_facts(state, given)


# figure key -> the figure a room's students see (one per PageInfo.question_figures)
def _hand_figure(state: StepState) -> go.Figure:
    values = state.resolved()
    hand = _hand_sum(values["ws_seed"])
    figure = fig_hand_sum(hand, values["ws_row"] - 1, values["ws_col"] - 1)
    # a phone's width: the page's long subplot titles would run into each other
    for annotation, text in zip(figure.layout.annotations,
                                ("input (the window outlined)", "kernel")):
        annotation.update(text=text, font={"size": 14})
    return figure


@functools.lru_cache(maxsize=16)
def _hand_sum(seed: int) -> sliding.HandSum:
    """Twenty-five small numbers and nine weights (one 5×5 convolution: no budget needed,
    as on its page)."""
    return sliding.hand_sum(seed)


QUESTION_FIGURES: dict[str, Callable[[StepState], go.Figure]] = {"arith_hand": _hand_figure}
FIGURE_NOTES = {"arith_hand": "The input's numbers, the window the question reads outlined, "
                              "and the kernel's weights: the same figure as on the page."}


def what_it_reads(step: Step) -> None:
    """Under the question on a student's phone: what it needs, never its answer."""
    page = PAGES[step.page]
    try:
        if step.figure in page.question_figures and step.figure in QUESTION_FIGURES:
            figure = QUESTION_FIGURES[step.figure](step.state)
            figure.update_layout(height=260, margin={"t": 40, "b": 0, "l": 0, "r": 0})
            st.plotly_chart(figure, width="stretch", key="join_figure",
                            config={"staticPlot": True})
            st.caption(FIGURE_NOTES.get(step.figure, ""))
            return
        facts = question_facts(step)
    except ValueError as e:  # a step its page cannot draw: say so, the question stays
        show_error(e)
        return
    if facts:
        with st.container(border=True, key="join_facts"):
            st.caption("The step's setting, as the teacher's page has it:")
            st.markdown("\n".join(f"- {safe_text(label)}: **{safe_text(value)}**"
                                   for label, value in facts))

"""The student's side of a design challenge: join by code, design under the budget, send.

The design's numbers shown here are the server's (cnnviz.topics.challenge.cost, from the
design itself), redrawn on every change against the teacher's budget; the same function
checks them again when the design is sent, whatever the browser sent. After sending, the
student follows their design: its place in the queue, its training, its accuracy on the
public split (the private one is the teacher's to reveal), or why it failed; *Stop*
withdraws it.
"""
from __future__ import annotations

from typing import Any

import streamlit as st

from cnnviz.core.blocks import REGISTRY
from cnnviz.core.errors import InputError
from cnnviz.core.network.spec import MAX_TEXT
from cnnviz.lessons.glossary import link
from cnnviz.pages import CHALLENGE
from cnnviz.store import CHALLENGE_NOUN, ChallengeStore, RoomError, normal_code
from cnnviz.store.challenge_rows import (
    ACTIVE,
    DONE,
    FAILED,
    NICKNAME_LENGTH,
    QUEUED,
    TRAINING,
    Challenge,
)
from cnnviz.topics import challenge as ch
from cnnviz.topics.challenge_worker import ensure_workers
from cnnviz.ui.frame.text import safe_text
from cnnviz.ui.frame.widgets import show_error, table
from cnnviz.ui.rooms.door import enter_code
from cnnviz.ui.rooms.student import student_id

SENT = "ch__sent"           # the sentence of the last send, shown on the next run
STATUS_POLL_S = 2.0
STATUS_TEXT = {"queued": "queued", "training": "training", "done": "finished",
               "failed": "failed", "withdrawn": "stopped"}

__all__ = ["budget_text", "find_challenge", "student_view"]


def find_challenge(store: ChallengeStore) -> Challenge | None:
    """The challenge whose code the student typed (or the link carried), or None after
    saying why not (the door's code entry, as the Join page's: codes of no challenge are
    limited to a few a minute per session)."""
    param = CHALLENGE.url_names[0]
    found = enter_code(lambda typed: store.challenge(normal_code(typed, CHALLENGE_NOUN)),
                       CHALLENGE_NOUN, param, "ch_code", "🏁")
    if found is not None:
        st.query_params[param] = found.code
    return found


def budget_text(found: Challenge) -> str:
    return (f"The digits at {found.size}×{found.size} pixels; at most "
            f"{found.max_params:,} parameters, {found.max_macs:,} MACs per image and "
            f"{found.max_epochs} epochs.")


def student_view(store: ChallengeStore, found: Challenge) -> None:
    """The budget, the design with its numbers, the send, and this student's designs."""
    ensure_workers(store)
    st.markdown(f"**Budget:** {budget_text(found)}")
    student = student_id()
    mine = store.submissions(found.code, student)
    sent = st.session_state.pop(SENT, None)  # (whether it went through, its sentence)
    if sent and sent[0]:
        st.success(safe_text(sent[1], limit=300), icon="✅")
    elif sent:
        st.error(safe_text(sent[1], limit=300), icon="🚫")
    if found.is_open():
        design = design_form(found)
        if design is not None and not any(s.active for s in mine):
            _send_form(store, found, design, student, mine)
    else:
        st.info("This challenge is closed: no more designs are taken. The projector shows "
                "the leaderboard.", icon="🏁")
    if mine:
        _my_designs(store, found, student, any(s.active for s in mine))


HOW = {"picker": "the picker (one block, stacked)",
       "text": "a network's text (as on the Networks page)"}


def design_form(found: Challenge) -> ch.ChallengeDesign | None:
    """The design's fields, its numbers against the budget; the design when it fits."""
    size = found.size
    how = st.radio("Design with", tuple(HOW), format_func=HOW.__getitem__, key="ch_how",
                   horizontal=True)
    try:
        design = _picked(found) if how == "picker" else _written(found)
        cost = ch.cost(design, size)
    except InputError as e:
        show_error(e)
        return None
    budget = ch.Budget(size, found.max_params, found.max_macs, found.max_epochs)
    m = st.columns(2)
    m[0].metric("Parameters", f"{cost.params:,}", help="The numbers training learns in the "
                "whole network (stem, blocks and linear head), counted by cnnviz from the "
                "design. " + link("parameter"))
    m[0].progress(min(1.0, cost.params / found.max_params),
                  f"{cost.params / found.max_params:.0%} of the budget's {found.max_params:,}")
    m[1].metric("MACs per image", f"{cost.macs:,}",
                help=f"The multiply-accumulates of one {size}×{size} image's forward pass. "
                     f"{link('mac')}")
    m[1].progress(min(1.0, cost.macs / found.max_macs),
                  f"{cost.macs / found.max_macs:.0%} of the budget's {found.max_macs:,}")
    why = ch.refusal(design, cost, budget)
    if why is not None:
        st.warning(why, icon="⚖️")
        return None
    try:
        ch.checked(design, budget)  # and the server's own limit on one training
    except InputError as e:
        show_error(e)
        return None
    body = (f"A 3×3 stem convolution to {design.width} channels, your blocks, global average "
            f"pooling and a linear layer to the ten digits" if isinstance(design, ch.Design)
            else "Your network")
    st.caption(f"{body}; trained by the server with AdamW, learning rate 0.005 with cosine "
               f"decay, batch 64, seed 0.")
    return design


def _picked(found: Challenge) -> ch.Design:
    """A stack of one block, from the picker's fields."""
    size = found.size
    kernels = [k for k in ch.KERNELS if k <= size]
    c = st.columns(3)
    block = c[0].selectbox("Block", ch.BLOCKS, key="ch_block",
                           format_func=lambda b: f"{REGISTRY[b].family} · {REGISTRY[b].title}")
    depth = c[1].number_input(ch.DEPTH.label, ch.DEPTH.low, ch.DEPTH.high, ch.DEPTH.default,
                              key="ch_depth", help=ch.DEPTH.help)
    width = c[2].number_input(ch.WIDTH.label, ch.WIDTH.low, ch.WIDTH.high, ch.WIDTH.default,
                              key="ch_width", help=ch.WIDTH.help)
    c = st.columns(3)
    kernel = c[0].selectbox("Kernel size", kernels, index=min(1, len(kernels) - 1),
                            key="ch_kernel", format_func=lambda k: f"{k}×{k}")
    stride = c[1].selectbox("First block's stride", ch.STRIDES, key="ch_stride",
                            help="2 halves the height and width after the first block")
    epochs = _epochs(found, c[2])
    return ch.Design.create(block, depth, width, kernel, stride, epochs, size)


def _written(found: Challenge) -> ch.TextDesign:
    """A whole network in the Networks page's text: read on one channel at the
    challenge's size, ending in the ten digits' scores (the server checks it)."""
    text = st.text_area("Network", value=ch.EXAMPLE, key="ch_text", max_chars=MAX_TEXT,
                        height=110, help="stages separated by |, parts by ;, each part "
                        "kind*depth:name=value; the input is the digits' one channel at "
                        f"{found.size}×{found.size} pixels and the last part must give the "
                        "ten digits' scores (flatten, then linear)")
    return ch.TextDesign.create(text, _epochs(found, st), found.size)


def _epochs(found: Challenge, where: Any) -> int:  # the page (st) or a column
    return where.number_input(ch.EPOCHS.label, 1, found.max_epochs, min(3, found.max_epochs),
                              key="ch_epochs", help="passes over the 1,347 training images")


def _send_form(store: ChallengeStore, found: Challenge, design: ch.ChallengeDesign,
               student: str,
               mine: list) -> None:
    held = mine[-1].nickname if mine else ""
    nickname = st.text_input("Nickname on the leaderboard", value=held, key="ch_nick",
                             max_chars=NICKNAME_LENGTH, placeholder="e.g. Ada")
    if st.button("Send my design", key="ch_send", type="primary"):
        try:
            budget = ch.Budget(found.size, found.max_params, found.max_macs,
                               found.max_epochs)
            cost = ch.checked(design, budget)  # again, on the server, from the design
            sent = store.submit(found.code, student, nickname, design.to_json(),
                                cost.params, cost.macs)
        except InputError as e:  # RoomError among them: a sentence
            show_error(e)
            return
        ensure_workers(store)
        st.session_state[SENT] = (True, f"Your design is in the queue as {sent.nickname}: "
                                        f"{design.describe()}.")
        st.rerun()


def _my_designs(store: ChallengeStore, found: Challenge, student: str,
                active: bool) -> None:
    """This student's designs, newest first, redrawn every few seconds; the whole page
    reruns when the last one ends (the send comes back) or starts."""
    @st.fragment(run_every=STATUS_POLL_S)
    def status() -> None:
        try:
            mine = store.submissions(found.code, student)
            place = store.queue_place(mine[-1].id) if mine else None
        except RoomError as e:
            st.error(safe_text(e, limit=300), icon="🚫")
            return
        if any(s.active for s in mine) != active:
            st.rerun()
        last = mine[-1]
        if last.status == QUEUED:
            st.info(f"Your design is queued: number {place or 1} in the server's queue.",
                    icon="⏳")
        elif last.status == TRAINING:
            st.info("Your design is training on the server.", icon="🏋️")
        elif last.status == DONE:
            st.success(f"Your last design is trained: {ch.share(last.public)} of the public "
                       f"test images right.", icon="🎯")
        elif last.status == FAILED:
            st.error(safe_text(last.message or "Your last design failed.", limit=300),
                     icon="🚫")
        if last.status in ACTIVE:
            st.button("Stop my design", key="ch_stop", on_click=_stop,
                      args=(store, found.code, student))
        rows = [{"design": describe(s.spec, found.size), "parameters": s.params,
                 "MACs per image": s.macs, "status": STATUS_TEXT.get(s.status, s.status),
                 "public accuracy": ch.share(s.public),
                 **({"private accuracy": ch.share(s.private)} if found.revealed else {}),
                 "note": s.message or ""} for s in reversed(mine)]
        st.markdown("**Your designs** (the leaderboard is on the projector)")
        table(rows)

    status()


def _stop(store: ChallengeStore, code: str, student: str) -> None:
    try:
        store.withdraw(code, student)
    except RoomError as e:
        st.session_state[SENT] = (False, str(e))
        return
    st.session_state[SENT] = (True, "Your design was stopped; you may send another.")


def describe(spec: dict, size: int) -> str:
    """A stored design in words (a design stored by an older cnnviz: its fields)."""
    try:
        return ch.design_of(spec, size).describe()
    except InputError:
        return ", ".join(f"{k} {v}" for k, v in spec.items())[:120]

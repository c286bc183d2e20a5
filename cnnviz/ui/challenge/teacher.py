"""The teacher's side of a design challenge: open it with a budget, show the leaderboard.

Only the session that opened a challenge holds its secret; every run shows the
leaderboard only after the store has checked it, and every teacher's action (close, reveal
the private split) passes it to the store again, which refuses a forged one with a
sentence. The leaderboard is redrawn every few seconds, as trainings finish: accuracy on
the public split (or, once revealed, the private one) against parameters and against
MACs per image, the Pareto front marked, and the top designs with their numbers; any
finished design opens on Trained Networks with its trained weights.
"""
from __future__ import annotations

import html
from collections.abc import Callable

import streamlit as st

from cnnviz.core.errors import InputError
from cnnviz.pages import CHALLENGE
from cnnviz.render.challenge_charts import fig_leaderboard
from cnnviz.store import CHALLENGE_NOUN, ChallengeStore, RoomError
from cnnviz.store.challenge_rows import DONE, FAILED, QUEUED, TRAINING, Challenge, Submission
from cnnviz.topics import challenge as ch
from cnnviz.topics.challenge_worker import ensure_workers
from cnnviz.ui.challenge.student import budget_text, describe
from cnnviz.ui.frame.text import safe_text
from cnnviz.ui.frame.widgets import picture, show_error, table
from cnnviz.ui.rooms.door import address_notes, browser_room, join_link, qr_png
from cnnviz.ui.trained.entries import open_entry

TEACHER = "ch__teacher"    # {"code", "secret"}: the challenge this session opened
FORGET = "ch__forget"      # a challenge left or ended: the browser forgets it on the next run
SLOT = CHALLENGE_NOUN      # where the browser keeps it (the room's door, another slot)
REFUSAL = "ch__refusal"    # a refused button's sentence, shown on the next run
BOARD_POLL_S = 3.0
TOP = 10

__all__ = ["TEACHER", "open_form", "resume_offer", "teacher_view"]


def resume_offer(store: ChallengeStore) -> None:
    """After a reload of the projector's page: *Resume challenge CODE*, when this browser
    keeps a challenge whose secret the store accepts (as a room's teacher resumes a room,
    through the door's same keeper)."""
    kept = browser_room(forget=st.session_state.pop(FORGET, None), slot=SLOT)
    if kept is None:
        return
    try:
        found = store.check_teacher(*kept)
    except RoomError:  # expired, or not this browser's to resume: nothing offered
        return
    st.button(f"Resume challenge {found.code}", key="ch_resume", type="primary",
              help="the challenge this browser opened, with its leaderboard",
              on_click=_hold, args=(found.code, kept[1]))


def _hold(code: str, secret: str) -> None:
    st.session_state[TEACHER] = {"code": code, "secret": secret}


def open_form(store: ChallengeStore) -> None:
    """The budget's fields and *Open the challenge*; the new challenge's secret goes into
    this session only."""
    with st.form("ch_open", border=True):
        st.markdown("**Open a design challenge** for the class")
        c = st.columns(3)
        size = c[0].selectbox("Data: the digits at", (8, 16, 32), index=0, key="ch_size",
                              format_func=lambda s: f"{s}×{s} pixels")
        epochs = c[1].number_input(ch.MAX_EPOCHS.label, ch.MAX_EPOCHS.low, ch.MAX_EPOCHS.high,
                                   ch.MAX_EPOCHS.default, key="ch_max_epochs",
                                   help=ch.MAX_EPOCHS.help)
        minutes = c[2].number_input(ch.MINUTES.label, ch.MINUTES.low, ch.MINUTES.high,
                                    ch.MINUTES.default, key="ch_minutes", help=ch.MINUTES.help)
        d = st.columns(2)
        params = d[0].number_input(ch.MAX_PARAMS.label, ch.MAX_PARAMS.low, ch.MAX_PARAMS.high,
                                   ch.MAX_PARAMS.default, step=1000, key="ch_max_params",
                                   help=ch.MAX_PARAMS.help)
        macs = d[1].number_input(ch.MAX_MACS.label, ch.MAX_MACS.low, ch.MAX_MACS.high,
                                 ch.MAX_MACS.default, step=100_000, key="ch_max_macs",
                                 help=ch.MAX_MACS.help)
        pressed = st.form_submit_button("Open the challenge", type="primary")
    if not pressed:
        return
    try:
        budget = ch.Budget.create(size, params, macs, epochs)
        found, secret = store.open_challenge(budget.size, budget.max_params, budget.max_macs,
                                             budget.max_epochs, ch.MINUTES.parse(minutes))
    except InputError as e:
        show_error(e)
        return
    _hold(found.code, secret)
    st.rerun()


def teacher_view(store: ChallengeStore) -> None:
    """The challenge this session opened: code, link and QR code, its buttons, and the
    leaderboard, live."""
    refusal = st.session_state.pop(REFUSAL, None)
    if refusal:
        st.error(safe_text(refusal, limit=300), icon="🚫")
    mine = st.session_state[TEACHER]
    try:
        found = store.check_teacher(mine["code"], mine["secret"])
    except RoomError as e:
        show_error(e)
        st.session_state.pop(TEACHER, None)
        st.session_state[FORGET] = mine["code"]
        return
    browser_room(keep=(found.code, mine["secret"]), slot=SLOT)  # a reload resumes it
    ensure_workers(store)
    link, where = join_link(found.code, CHALLENGE)  # an address students can reach
    address_notes(where)  # its sentence says the link and QR code *below* are the reachable ones
    left, right = st.columns([3, 1])
    with left:
        st.html(f'<div class="challenge-code" style="font-size:3.2rem;font-weight:700;'
                f'letter-spacing:0.3rem;'
                f'line-height:1.1">{html.escape(found.code)}</div>'
                f'<div style="font-size:1.4rem">Design at <b>{html.escape(link)}</b></div>')
        st.markdown(f"**Budget:** {budget_text(found)}")
        st.caption("Open for designs." if found.is_open() else
                   "Closed: no more designs are taken; the queued ones are still trained.")
    picture(right, qr_png(link), width=180, caption=f"QR code of {link}")
    with st.container(horizontal=True, key="ch_controls"):
        if found.is_open():
            st.button("Close the challenge", key="ch_close", on_click=_act,
                      args=(store.close, found.code, mine["secret"]))
        if not found.revealed:
            st.button("Reveal the private split", key="ch_reveal", type="primary",
                      help="the accuracy on the test images nobody saw: the final ranking",
                      on_click=_act, args=(store.reveal_private, found.code, mine["secret"]))
        st.button("Leave this challenge", key="ch_leave", on_click=_leave,
                  help="this page forgets it; its designs stay until it expires")
    _board(store, found)


def _act(action: Callable[[str, str], object], code: str, secret: str) -> None:
    try:
        action(code, secret)
    except RoomError as e:
        st.session_state[REFUSAL] = str(e)


def _leave() -> None:
    mine = st.session_state.pop(TEACHER, None)
    if mine:
        st.session_state[FORGET] = mine["code"]


def _board(store: ChallengeStore, found: Challenge) -> None:
    @st.fragment(run_every=BOARD_POLL_S)
    def board() -> None:
        try:
            now = store.challenge(found.code)
            designs = store.submissions(found.code)
        except RoomError as e:
            st.error(safe_text(e, limit=300), icon="🚫")
            return
        if now.revealed != found.revealed:
            st.rerun()
        leaderboard(designs, now)
        open_on_trained(store, designs, now)

    board()


def leaderboard(designs: list[Submission], found: Challenge) -> None:
    """The counts, both charts and the top designs (private scores once revealed)."""
    count = {s: sum(d.status == s for d in designs) for s in (QUEUED, TRAINING, DONE, FAILED)}
    st.markdown(f"### {count[DONE]} trained · {count[TRAINING]} training · "
                f"{count[QUEUED]} queued" + (f" · {count[FAILED]} failed"
                                             if count[FAILED] else ""))
    done = [d for d in designs if d.status == DONE and d.public is not None]
    if not done:
        st.info("No design has finished training yet: the board fills in as they do.",
                icon="⏳")
        return
    private = found.revealed
    which = "private accuracy" if private else "public accuracy"
    score = [float((d.private if private else d.public) or 0.0) for d in done]
    names = [d.nickname for d in done]
    left, right = st.columns(2)
    for col, cost_name, costs in ((left, "parameters", [d.params for d in done]),
                                  (right, "MACs per image", [d.macs for d in done])):
        front = ch.pareto_front(list(zip(costs, score)))
        col.plotly_chart(fig_leaderboard(names, costs, score, front, cost_name, which),
                         width="stretch", key=f"ch_board_{cost_name.split()[0]}")
    st.caption(("The private split: half of the 450 test images, never shown to the "
                "students; the public board used the other half." if private else
                "Accuracy on the public half of the 450 test images; the private half "
                "decides at the end.") + " Diamonds joined by the line: the Pareto front "
               "(no design costs less and is at least as accurate).")
    ranked = sorted(zip(done, score), key=lambda p: (-p[1], p[0].params, p[0].id))[:TOP]
    rows = [{"rank": i, "nickname": d.nickname, which: ch.share(s),
             **({"public accuracy": ch.share(d.public)} if private else {}),
             "parameters": d.params, "MACs per image": d.macs,
             "design": describe(d.spec, found.size)}
            for i, (d, s) in enumerate(ranked, 1)]
    st.markdown(f"**Top {len(rows)}** by {which}")
    table(rows)


def open_on_trained(store: ChallengeStore, designs: list[Submission], found: Challenge
                    ) -> None:
    """Any finished entry, picked, opens on Trained Networks with its trained weights (kept
    for the challenge's lifetime, bounded): one that cannot is a sentence here."""
    done = sorted((d for d in designs if d.status == DONE and d.public is not None),
                  key=lambda d: (-(d.public or 0.0), d.params, d.id))
    if not done:
        return
    names = {d.id: f"{d.nickname}: {ch.share(d.public)}, {d.params:,} parameters"
             for d in done}
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    picked = left.selectbox("A design to look inside", list(names), key="ch_entry",
                            format_func=lambda i: names.get(i, ""),
                            help="with the canvas and the test images, as Trained Networks "
                                 "shows its own stacks")
    if not right.button("Open on Trained Networks", key="ch_open_entry"):
        return
    entry = next((d for d in done if d.id == picked), None)
    try:
        if entry is None:
            raise InputError("That design is no longer on the leaderboard.")
        if entry.id not in store.kept_weights(found.code):
            store.weights(found.code, entry.id)  # the sentence of a dropped entry
    except InputError as e:  # RoomError among them: a sentence
        show_error(e)
        return
    open_entry(found.code, entry.id, entry.nickname)

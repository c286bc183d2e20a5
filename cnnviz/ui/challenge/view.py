"""The Design challenge page: the teacher's leaderboard when this session opened the
challenge, else the student's side, with the teacher's form to open one below it."""
from __future__ import annotations

import streamlit as st

from cnnviz.store import RoomError, challenge_store
from cnnviz.ui.challenge import student, teacher
from cnnviz.ui.frame.text import safe_text

__all__ = ["challenge_page"]


def challenge_page() -> None:
    try:
        store = challenge_store()
    except RoomError as e:  # StoreUnavailable among them: a sentence, the app runs on
        st.error(safe_text(e, limit=300), icon="🚫")
        return
    if teacher.TEACHER in st.session_state:
        teacher.teacher_view(store)
        return
    teacher.resume_offer(store)
    st.caption("The teacher sets a budget; you design a network under it; the server "
               "trains every design on the handwritten digits and the projector ranks "
               "them by accuracy against their cost.")
    try:
        found = student.find_challenge(store)
        if found is not None:
            student.student_view(store, found)
    except RoomError as e:
        st.error(safe_text(e, limit=300), icon="🚫")
    with st.expander("For the teacher: open a challenge", expanded=False):
        teacher.open_form(store)

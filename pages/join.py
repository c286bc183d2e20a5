"""Join a room: answer the teacher's question from a phone or a laptop."""
import streamlit as st

from cnnviz import ui
from cnnviz.ui.rooms import student
from cnnviz.ui.rooms.store import open_store

ui.require_shell()  # the room's link may be a fresh server's first request: run in app.py
st.title("🙋 Join a room")
store = open_store()
if store is not None:
    room = student.find_room(store)
    if room is not None:
        student.answer_form(store, room)

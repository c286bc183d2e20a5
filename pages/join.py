"""Join a room: answer the teacher's question from a phone or a laptop."""
import streamlit as st

from cnnviz import ui
from cnnviz.ui.rooms import room as rooms

ui.require_shell()  # the room's link may be a fresh server's first request: run in app.py
st.title("🙋 Join a room")
store = rooms.open_store()
if store is not None:
    room = rooms.find_room(store)
    if room is not None:
        rooms.answer_form(store, room)

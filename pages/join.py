"""Join a room: answer the teacher's question from a phone or a laptop."""
import streamlit as st

from cnnviz.ui import rooms

st.title("🙋 Join a room")
store = rooms.open_store()
if store is not None:
    room = rooms.find_room(store)
    if room is not None:
        rooms.answer_form(store, room)

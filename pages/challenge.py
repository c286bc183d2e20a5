"""Design challenge: a budget from the teacher, a network from each student, a live leaderboard."""
import streamlit as st

from cnnviz import ui
from cnnviz.ui.challenge.view import challenge_page

ui.require_shell()  # the challenge's link may be a fresh server's first request
st.title("🏁 Design challenge")
challenge_page()

"""The floor for bench/action_cost.py: a Streamlit app with almost nothing in it.

A sidebar slider, a title, a metric and a line of text computed from the slider. What one
rerun of this costs the server is what Streamlit itself costs per action on this machine.
"""
import streamlit as st

st.set_page_config(page_title="floor", layout="wide")
depth = st.sidebar.slider("Depth", 1, 60, 3, key="depth")
st.title("Floor")
st.metric("Parameters", f"{depth * 1234:,}")
st.markdown(f"A stack of {depth} blocks.")

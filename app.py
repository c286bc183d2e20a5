"""cnnviz: page config, the shared sidebar picker and the page list.

Start with `streamlit run app.py`. Each page reads the picker's spec through
cnnviz.ui.current_spec() and renders what cnnviz computes for it.
"""
import os

import streamlit as st

from cnnviz import ui

# (file, title, icon); the first is the default page. A page whose file is not
# there yet is left out, so the app runs while pages are being written.
PAGES = (
    ("pages/explorer.py", "Block Explorer", "🔎"),
    ("pages/plain_vs_residual.py", "Plain vs Residual", "📉"),
    ("pages/feature_maps.py", "Feature Maps", "🖼️"),
    ("pages/receptive_field.py", "Receptive Field", "🎯"),
    ("pages/conv_arithmetic.py", "Convolution Arithmetic", "🧮"),
    ("pages/cost_lab.py", "Cost & Bottlenecks", "⚖️"),
)
HERE = os.path.dirname(os.path.abspath(__file__))

st.set_page_config(page_title="cnnviz", page_icon="🧱", layout="wide")
pages = [st.Page(path, title=title, icon=icon, default=i == 0)
         for i, (path, title, icon) in enumerate(PAGES)
         if os.path.exists(os.path.join(HERE, path))]
page = st.navigation(pages)
ui.picker()
page.run()

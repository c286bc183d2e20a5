"""cnnviz: start with `streamlit run app.py`.

The page list, the shared sidebar picker and the page config live in
cnnviz.ui.main(), so tests run exactly the same app.
"""
from cnnviz import ui

ui.main()

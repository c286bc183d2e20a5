"""Import what the pages need once, at server start, before any page runs.

`streamlit run app.py` finds `app` (an st.App) in app.py and calls `warm_start` when the
server starts: the imports begin while the first browser is still loading the page.

It also removes a start-up race. Streamlit imports pandas and pyarrow lazily, the first
time a page draws a table; on a fresh server, several students' first runs did so at once
in their own threads, and some saw "partially initialized module 'pandas'". Every run of
app.py calls `ensure_imported()` first, so heavy imports happen once, under one lock,
whoever comes first. This module imports nothing heavy at its own import.
"""
from __future__ import annotations

import importlib
import threading
from contextlib import asynccontextmanager

# The Explorer's modules first (the default page), then every other page's, then the
# libraries Streamlit imports lazily when a page draws a table or a chart.
MODULES = ("cnnviz.ui", "cnnviz.render.explorer_charts", "cnnviz.render.codegen",
           "cnnviz.render.diagram", "cnnviz.render.gradflow_plots",
           "cnnviz.render.image_plots", "cnnviz.render.arith_plots", "cnnviz.topics.degradation",
           "cnnviz.topics.costs", "cnnviz.topics.sliding", "torchinfo", "pandas", "pyarrow",
           "streamlit.dataframe_util", "plotly.graph_objects", "plotly.io")

_lock = threading.Lock()
_done = threading.Event()


def ensure_imported() -> None:
    """Import MODULES once per process; a caller that comes while another imports waits."""
    if _done.is_set():
        return
    with _lock:
        if not _done.is_set():
            for name in MODULES:
                importlib.import_module(name)
            _done.set()


def warm_server() -> None:
    """The server's start: share the cores among the heavy slots, import, then compute the
    pages' default views into the shared caches (cnnviz.ui.prewarm)."""
    from cnnviz.deploy.heavy import share_cores

    share_cores()
    ensure_imported()
    importlib.import_module("cnnviz.ui.prewarm").default_views()


@asynccontextmanager
async def warm_start(app):
    """st.App lifespan: warm_server() in a background thread; serve at once."""
    threading.Thread(target=warm_server, name="cnnviz-warm-start", daemon=True).start()
    yield

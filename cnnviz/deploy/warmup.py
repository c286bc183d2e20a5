"""Import what the pages need once, at server start, before any page runs.

`streamlit run app.py` finds `app` (an st.App) in app.py and calls `warm_start` when the
server starts: the imports begin while the first browser is still loading the page.

It also removes a start-up race. Streamlit and the chart modules import pandas, pyarrow
and plotly lazily; on a fresh server several students' first runs did so at once in their
own threads, and some saw "partially initialized module 'pandas'". So heavy imports happen
under one lock, in two steps: FIRST_PAGE, what the Explorer's first tab needs (every
student's first view, wanted fast), then the rest. A run waits for the step it needs
(`ensure_imported`): app.py for the first, cnnviz.ui for any other page or tab. This
module imports nothing heavy at its own import.
"""
from __future__ import annotations

import importlib
import threading
import time
from contextlib import asynccontextmanager

FIRST_PAGE = ("cnnviz.ui", "cnnviz.render.explorer_charts", "cnnviz.render.codegen",
              "cnnviz.render.diagram")
# every other page's modules, then the libraries imported lazily to draw tables and charts
MODULES = FIRST_PAGE + (
    "cnnviz.render.gradflow_plots", "cnnviz.render.image_plots", "cnnviz.render.arith_plots",
    "cnnviz.topics.degradation", "cnnviz.topics.costs", "cnnviz.topics.sliding",
    "cnnviz.render.network_charts", "cnnviz.topics.networks", "cnnviz.ui.network_builder",
    "cnnviz.ui.trained", "cnnviz.render.trained_charts", "sklearn.datasets",
    "cnnviz.ui.rooms", "cnnviz.render.room_charts", "cnnviz.store", "segno",
    "sklearn.model_selection", "torchinfo",
    "pandas", "pyarrow", "streamlit.dataframe_util", "plotly.graph_objects", "plotly.io")

REST_AFTER_S = 3.0

_lock = threading.Lock()
_done: dict[tuple[str, ...], threading.Event] = {FIRST_PAGE: threading.Event(),
                                                 MODULES: threading.Event()}


def ensure_imported(modules: tuple[str, ...] = MODULES) -> None:
    """Import `modules` (FIRST_PAGE or MODULES) once per process; a caller that comes
    while another thread imports them waits."""
    done = _done[modules]
    if done.is_set():
        return
    with _lock:
        if not done.is_set():
            for name in modules:
                importlib.import_module(name)
            done.set()
            if modules == MODULES:
                _done[FIRST_PAGE].set()


def warm_server() -> None:
    """The server's start: import the first page's modules, compute the Explorer's default
    view with every core (the first students are waiting for it), import the rest, then
    share the cores among the heavy slots and compute the other pages' default views."""
    ensure_imported(FIRST_PAGE)
    prewarm = importlib.import_module("cnnviz.ui.prewarm")
    prewarm.explorer_view()
    # Leave the first visitors' first page the CPU and the GIL for a moment: the rest is
    # for when they move on (a run that needs it sooner waits for it, never races it).
    time.sleep(REST_AFTER_S)
    ensure_imported()
    importlib.import_module("cnnviz.deploy.heavy").share_cores()
    prewarm.other_views()


@asynccontextmanager
async def warm_start(app):
    """st.App lifespan: warm_server() in a background thread; serve at once."""
    threading.Thread(target=warm_server, name="cnnviz-warm-start", daemon=True).start()
    yield

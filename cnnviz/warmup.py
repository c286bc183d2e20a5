"""Start importing the app's modules while the first browser is still loading the page.

`streamlit run app.py` finds `app` (an st.App) in app.py and calls `warm_start` when the
server starts. Without it, the first visitor's run would begin importing torch (about a
second) only after their browser had connected. This module imports nothing heavy itself.
"""
from __future__ import annotations

import importlib
import threading
from contextlib import asynccontextmanager

# what the first page (the Explorer) needs: the shell and picker first
MODULES = ("cnnviz.ui", "cnnviz.plots", "cnnviz.codegen", "cnnviz.diagram")


def import_modules() -> None:
    for name in MODULES:
        importlib.import_module(name)


@asynccontextmanager
async def warm_start(app):
    """st.App lifespan: import MODULES in a background thread; serve at once."""
    threading.Thread(target=import_modules, name="cnnviz-warm-start", daemon=True).start()
    yield

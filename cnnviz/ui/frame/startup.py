"""What the app imports before its pages run, read from the page files (cnnviz.pages).

A run of the first page waits for what that page imports at its top; a run of any other
page or tab waits for everything any page may import (inside functions too) and for the
libraries Streamlit and plotly import lazily to draw tables and charts. The server
imports all of it in the background at its start (cnnviz.ui.prewarm.warm_server), under
the one import lock (cnnviz.deploy.imports), so no two first runs import side by side.
"""
from __future__ import annotations

import functools
from pathlib import Path

from cnnviz.deploy.imports import import_once, imports_of
from cnnviz.pages import PAGES, PageSpec

ROOT = Path(__file__).resolve().parents[3]
PACKAGE = ROOT / "cnnviz"
# imported by Streamlit and plotly themselves, on the first table or chart
DRAWING_LIBRARIES = ("pandas", "pyarrow", "streamlit.dataframe_util", "plotly.io")
# registers its browser component when imported: only inside a page's run
NOT_AT_START = ("streamlit_drawable_canvas",)


@functools.cache
def page_modules(page: Path) -> tuple[str, ...]:
    """What one page file imports at its top, through cnnviz too."""
    return imports_of([page], PACKAGE, inside_functions=False)


def page_path(page: PageSpec) -> Path:
    """Where a page's file is (the navigation, the lesson player and the warm-up ask)."""
    return ROOT / page.file


def page_files() -> list[Path]:
    """Every page's file (cnnviz.pages.PAGES), sorted."""
    return sorted(page_path(p) for p in PAGES.values())


@functools.cache
def every_module() -> tuple[str, ...]:
    """What any page may import, functions included, then the drawing libraries."""
    found = imports_of(page_files(), PACKAGE, inside_functions=True) + DRAWING_LIBRARIES
    return tuple(name for name in found if name.split(".")[0] not in NOT_AT_START)


def prepare(page: Path | None = None) -> None:
    """Import what a run of `page` needs, or (None) what any page may need."""
    import_once(page_modules(page) if page is not None else every_module())

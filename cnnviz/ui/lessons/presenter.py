"""Presenter mode (?present=1): a lesson on a projector at 1280×720.

One stylesheet, no script: large type (charts' and tables' text too, and no chart toolbar),
no sidebar or header, big navigation buttons (their keyboard shortcuts, ← and →, are
Streamlit's own `shortcut=`), and the page's widgets that
the step does not set hidden, with the other figures when the step names its figure.
Widgets are found by the class Streamlit gives every keyed element, `st-key-<key>`.
"""
from __future__ import annotations

import streamlit as st

from cnnviz.lessons import StepState
from cnnviz.pages import PageSpec

BODY_PX = 22  # body text on a projector at 1280x720: at least 20 px from the back row
CHART_PX = 18  # a chart's ticks, legend and titles, and (0.9 of the body) a table's cells
_FRAME = f"""
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
[data-testid="stExpandSidebarButton"], [data-testid="stHeader"] {{ display: none !important; }}
html {{ font-size: {BODY_PX}px; }}
[data-testid="stMainBlockContainer"] {{ max-width: none; padding: 1.2rem 2.5rem 3rem; }}
[data-testid="stMain"] h1 {{ font-size: 1.9rem; }}
.st-key-lesson_nav button {{ min-height: 3rem; padding: 0.4rem 1.6rem; }}
.st-key-lesson_nav button p {{ font-size: 1.25rem; }}
.modebar-container {{ display: none !important; }}
:is(.js-plotly-plot, [data-testid="stEChartsChart"]) svg text
    {{ font-size: {CHART_PX}px !important; }}
[data-testid="stMain"] :is(table, [data-testid="stTable"]) :is(td, th)
    {{ font-size: 0.9rem !important; }}
"""


def style(page: PageSpec, state: StepState, figure: str = "", text: str = "") -> None:
    """Presenter mode's stylesheet for a step of `page` (a figure key keeps that chart
    alone): the controls the step sets and those its `text` names stay, with their
    sections; a section whose widgets are all hidden goes with its heading."""
    used = page.all_controls(state.resolved())
    keep = [used[name].key for name, _ in state.controls]
    keep += [c.key for c in page.named_in(text)]
    keep += page.kept_sections(keep)
    keep += [f for f in page.figures if not figure or f == figure]
    hidden = f'[class*="st-key-{page.prefix}"]' + "".join(
        f':not([class*="st-key-{key}"])' for key in keep)
    st.html(f"<style>{_FRAME}{hidden} {{ display: none !important; }}</style>")

"""Presenter mode (?present=1): a lesson on a projector at 1280×720.

One stylesheet: large type (charts' and tables' text too, and no chart toolbar), no sidebar
or header, big navigation buttons (their keyboard shortcuts, ← and →, are Streamlit's own
`shortcut=`), and the page's widgets that the step does not set hidden, with the other
figures when the step names its figure. Widgets are found by the class Streamlit gives
every keyed element, `st-key-<key>`.

One small script (`arrive`, in and out of presenter mode): a new step starts at the top of
the page, and in presenter mode PageDown and PageUp, which presentation clickers send, press
*Next* and *Previous* as → and ← do.
"""
from __future__ import annotations

import functools

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


_ARRIVE_JS = """
export default function (component) {
    const { data } = component;
    const doc = window.document;
    for (const sel of ['[data-testid="stMain"]', '[data-testid="stAppViewContainer"]',
                       '[data-testid="stAppScrollToBottomContainer"]']) {
        for (const e of doc.querySelectorAll(sel)) e.scrollTop = 0;
    }
    window.scrollTo(0, 0);
    if (!data || !data.clicker) return;
    const press = (key) => {
        const e = doc.querySelector(`.st-key-${key} button`);
        if (e && !e.disabled) { e.click(); return true; }
        return false;
    };
    const onKey = (event) => {
        const t = event.target;
        if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
        if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
        const done = event.key === "PageDown" ? press("lesson_next") || press("lesson_finish")
            : event.key === "PageUp" ? press("lesson_prev") : false;
        if (done) event.preventDefault();
    };
    doc.addEventListener("keydown", onKey);
    return () => doc.removeEventListener("keydown", onKey);
}
"""


@functools.cache
def _arrive():
    return st.components.v2.component("cnnviz_step_arrival", js=_ARRIVE_JS)


def arrive(lesson: str, number: int, present: bool) -> None:
    """A new step starts at the top of the page; in presenter mode PageDown and PageUp
    (a presentation clicker's buttons) move between steps as → and ← do. Keyed by the step,
    so it runs once on each arrival."""
    _arrive()(key=f"lesson_arrive_{lesson}_{number}_{int(present)}",
              data={"clicker": present})

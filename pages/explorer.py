"""Block Explorer: everything cnnviz knows about the block chosen in the sidebar.

The headline numbers are always shown; the details sit in tabs, and only the open tab
runs and is drawn, so a picker change redraws one tab, not the whole page. Each part is
drawn by cnnviz.ui.analysis.explorer.
"""
import streamlit as st

from cnnviz import ui
from cnnviz.pages import EXPLORER
from cnnviz.pages import ExplorerView as View
from cnnviz.ui.analysis import explorer as parts

st.title("🔎 Block Explorer")
spec = ui.spec_or_stop()
device = ui.current_device()
parts.describe(spec)

with ui.stop_on_error():
    report = ui.cached_report(spec, device)
parts.notes(report)
parts.headline(report)

a_spec = ui.compare.pinned(ui.stack_from_query)  # design A, when one is pinned (?a=...)
ui.compare.pin_buttons(ui.url_values(spec), a_spec is not None, key=EXPLORER.name)
a_report = ui.cached_report(a_spec, device) if a_spec is not None else None
if a_report is not None:
    ui.compare.headline(a_report.predicted, report.predicted, a_report.spec.title(),
                        spec.title())
    ui.compare.layers(a_report.predicted, report.predicted)

tabs = ui.view_tabs(EXPLORER)  # by name: the tabs a lesson step may open; only the open one runs
if tabs[View.SHAPE].open:
    with tabs[View.SHAPE]:
        parts.shape_tab(report)
if tabs[View.COST].open:
    with tabs[View.COST]:
        parts.cost_tab(report)
if tabs[View.CHECKS].open:
    with tabs[View.CHECKS]:
        parts.checks_tab(report, spec)
if tabs[View.DIAGRAM].open:
    with tabs[View.DIAGRAM]:
        parts.diagram_tab(report, a_report)
if tabs[View.SUMMARY].open:
    with tabs[View.SUMMARY]:
        parts.summary_tab(spec, device)
if tabs[View.CODE].open:
    with tabs[View.CODE]:
        parts.code_tab(spec, report)

"""Under the question on a student's phone: what the question needs, never its answer."""
from __future__ import annotations

import functools
from collections.abc import Callable

import plotly.graph_objects as go
import streamlit as st

from cnnviz.lessons import Step, StepState
from cnnviz.lessons.facts import question_facts
from cnnviz.pages import PAGES
from cnnviz.render.arith_plots import fig_hand_sum
from cnnviz.topics import sliding
from cnnviz.ui.frame.text import safe_text

# --- what the question reads ----------------------------------------------------------------
# A student's phone shows what the question needs, never its answer: the step's figure when
# its page marks it as one that shows only the question's inputs (PageSpec.question_figures),
# else the step's settings as a short list, in words. Nothing here computes an answer.

def _hand_figure(state: StepState) -> go.Figure:
    values = state.resolved()
    hand = _hand_sum(values["ws_seed"])
    figure = fig_hand_sum(hand, values["ws_row"] - 1, values["ws_col"] - 1)
    # a phone's width: the page's long subplot titles would run into each other
    for annotation, text in zip(figure.layout.annotations,
                                ("input (the window outlined)", "kernel")):
        annotation.update(text=text, font={"size": 14})
    return figure


@functools.lru_cache(maxsize=16)
def _hand_sum(seed: int) -> sliding.HandSum:
    """Twenty-five small numbers and nine weights (one 5×5 convolution: no budget needed,
    as on its page)."""
    return sliding.hand_sum(seed)


QUESTION_FIGURES: dict[str, Callable[[StepState], go.Figure]] = {"arith_hand": _hand_figure}
FIGURE_NOTES = {"arith_hand": "The input's numbers, the window the question reads outlined, "
                              "and the kernel's weights: the same figure as on the page."}


def what_it_reads(step: Step) -> None:
    """Under the question on a student's phone: what it needs, never its answer."""
    page = PAGES[step.page]
    # the step loaded, so its state draws: an error here is a bug, not the user's input
    if step.figure in page.question_figures and step.figure in QUESTION_FIGURES:
        figure = QUESTION_FIGURES[step.figure](step.state)
        figure.update_layout(height=260, margin={"t": 40, "b": 0, "l": 0, "r": 0})
        st.plotly_chart(figure, width="stretch", key="join_figure",
                        config={"staticPlot": True})
        st.caption(FIGURE_NOTES.get(step.figure, ""))
        return
    facts = question_facts(step)
    if facts:
        with st.container(border=True, key="join_facts"):
            st.caption("The step's setting, as the teacher's page has it:")
            st.markdown("\n".join(f"- {safe_text(label)}: **{safe_text(value)}**"
                                   for label, value in facts))

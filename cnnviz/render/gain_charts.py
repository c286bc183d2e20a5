"""What a room's questions did, drawn for a teacher to show a colleague.

Two charts over the room's questions (cnnviz.lessons.results.QuestionResult, plain data
in, plotly out): the share right in each round with Hake's normalized gain g written over
each question, and the switches between round 1 (alone) and round 2 (after discussion),
the count Crouch & Mazur 2001 use to show that discussion moves answers towards the right
one. Colours are Okabe-Ito's (the room's histograms use the same), and every switch kind
has its own pattern as well, so neither chart needs colour to be read.
"""
from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from cnnviz.lessons.results import QuestionResult
from cnnviz.render.room_charts import FONT_PX, RIGHT, WRONG

ROUND_COLOURS = {"round 1": "#56B4E9", "round 2": "#0072B2", "twin": "#009E73",
                 "post-test": "#CC79A7"}
# (label, the Switches field, colour, pattern): the ones that moved first
SWITCH_KINDS = (("wrong → right", "wrong_to_right", RIGHT, ""),
                ("right → wrong", "right_to_wrong", "#D55E00", "x"),
                ("right → right", "right_to_right", "#56B4E9", "."),
                ("wrong → wrong", "wrong_to_wrong", WRONG, "/"))

__all__ = ["fig_rounds", "fig_switches", "question_labels"]


def question_labels(results: Sequence[tuple[str, QuestionResult]],
                    titles: dict[str, str]) -> list[str]:
    """One short label per question: its step, with its lesson's title when the room ran
    several lessons."""
    several = len({name for name, _ in results}) > 1
    return [(f"{titles.get(name, name)[:24]} · " if several else "") + f"step {r.step}"
            for name, r in results]


def fig_rounds(results: Sequence[tuple[str, QuestionResult]], labels: Sequence[str],
               height: int = 380) -> go.Figure:
    """Per question, the share right in each round that has answers (grouped bars, in
    percent), and its g from round 1 to the twin written above it."""
    fig = go.Figure()
    for name, colour in ROUND_COLOURS.items():
        shares = [r.share(name) if r.votes[name] else None for _, r in results]
        if all(s is None for s in shares):
            continue
        fig.add_trace(go.Bar(
            name=name, x=list(labels), y=shares, marker_color=colour,
            text=[f"{s:.0f}%" if s is not None else "" for s in shares],
            textposition="outside", cliponaxis=False,
            hovertemplate=f"%{{x}}, {name}: %{{y:.0f}}% right<extra></extra>"))
    for label, (_, r) in zip(labels, results):
        if r.gain.value is not None:
            fig.add_annotation(x=label, y=112, text=f"g = {r.gain.value:.2f}",
                               showarrow=False, font=dict(size=FONT_PX))
    fig.update_layout(title="Share right per round, and g from round 1 to the twin",
                      barmode="group", height=height, font=dict(size=FONT_PX),
                      margin=dict(l=80, r=10, t=60, b=10), legend=dict(orientation="h"))
    fig.update_yaxes(title="right (%)", range=[0, 120], tickvals=[0, 25, 50, 75, 100])
    return fig


def fig_switches(results: Sequence[tuple[str, QuestionResult]], labels: Sequence[str],
                 height: int = 380) -> go.Figure:
    """Per question with both rounds, the students by how their answer changed from round
    1 to round 2 (stacked bars)."""
    both = [(label, r) for label, (_, r) in zip(labels, results) if r.switches.both]
    fig = go.Figure()
    for text, field, colour, pattern in SWITCH_KINDS:
        counts = [getattr(r.switches, field) for _, r in both]
        fig.add_trace(go.Bar(
            name=text, x=[label for label, _ in both], y=counts, marker_color=colour,
            marker_pattern_shape=pattern,
            hovertemplate=f"%{{x}}: %{{y}} students {text}<extra></extra>"))
    fig.update_layout(title="Round 1 → round 2: how answers changed", barmode="stack",
                      height=height, font=dict(size=FONT_PX),
                      margin=dict(l=80, r=10, t=60, b=10), legend=dict(orientation="h"))
    fig.update_yaxes(title="students", rangemode="tozero")
    return fig

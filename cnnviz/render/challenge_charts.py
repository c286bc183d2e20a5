"""The design challenge's leaderboard: accuracy against a cost, the Pareto front marked.

Plain data in (each design's nickname, cost and accuracy, and which are on the front);
plotly out. Nicknames are the students' own text: plotly renders a few HTML tags in text
and hover labels, so every nickname is escaped here, and cut to its stored length.
"""
from __future__ import annotations

import html
from collections.abc import Sequence

import plotly.graph_objects as go

POINT, FRONT = "#0072B2", "#D55E00"  # Okabe-Ito blue and vermilion


def fig_leaderboard(names: Sequence[str], costs: Sequence[int], accuracies: Sequence[float],
                    front: Sequence[int], cost_name: str, accuracy_name: str,
                    height: int = 420) -> go.Figure:
    """Each design a point (its nickname beside it), the cost on a log axis; the Pareto
    front (no design cheaper and at least as accurate) joined by a line, cheapest first."""
    shown = [html.escape(str(n)[:40]) for n in names]
    percent = [100 * a for a in accuracies]
    on_front = set(front)
    colours = [FRONT if i in on_front else POINT for i in range(len(shown))]
    fig = go.Figure()
    if front:
        fig.add_trace(go.Scatter(
            x=[costs[i] for i in front], y=[percent[i] for i in front], mode="lines",
            line=dict(color=FRONT, width=2, shape="hv"), name="Pareto front",
            hoverinfo="skip"))
    fig.add_trace(go.Scatter(
        x=list(costs), y=percent, mode="markers+text", text=shown,
        textposition="top center", marker=dict(size=12, color=colours,
                                               symbol=["diamond" if i in on_front else
                                                       "circle" for i in range(len(shown))]),
        name="designs", customdata=shown, cliponaxis=False,  # a name at the edge stays whole
        hovertemplate=f"%{{customdata}}: %{{x:,}} {cost_name}, %{{y:.1f}}% "
                      f"{accuracy_name}<extra></extra>"))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=10), font=dict(size=16),
                      title=f"{accuracy_name.capitalize()} against {cost_name}",
                      showlegend=False)
    fig.update_xaxes(type="log", title=f"{cost_name} (log scale)")
    fig.update_yaxes(title=f"{accuracy_name} (%)", rangemode="tozero")
    return fig

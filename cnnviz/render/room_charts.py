"""The room's guesses against the computed answer: a histogram, or bars per choice.

Plain data in (the guesses, the answer, the band graded right); plotly out. The right
answer is marked by a line and a label as well as by colour (Okabe-Ito colours). Before
the reveal (the answer None) the same chart shows the guesses alone, nothing marked.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from cnnviz.core.numbers import is_accepted

GUESS, RIGHT, WRONG = "#0072B2", "#009E73", "#999999"


def _layout(fig: go.Figure, title: str, xtitle: str, height: int) -> go.Figure:
    fig.update_layout(title=title, height=height, margin=dict(l=10, r=10, t=50, b=10),
                      xaxis_title=xtitle, yaxis_title="students", bargap=0.1,
                      showlegend=False, font=dict(size=16))
    fig.update_yaxes(rangemode="tozero", dtick=1 if height else None)
    return fig


def fig_numbers(guesses: list[float], truth: float | None, low: float, high: float,
                title: str, height: int = 360) -> go.Figure:
    """A histogram of numeric guesses, the answer as a line and the band graded right
    shaded around it (neither when `truth` is None: not revealed yet)."""
    values = np.asarray([g for g in guesses if is_accepted(g)], dtype=float)  # the rule
    edges = _edges(values, truth)
    counts, _ = np.histogram(values, bins=edges)
    centres, widths = edges[:-1] / 2 + edges[1:] / 2, np.diff(edges) * 0.9  # a gap between
    fig = go.Figure(go.Bar(x=centres, y=counts, width=widths, marker_color=GUESS,
                           hovertemplate="%{y} students guessed about %{x:.4g}<extra></extra>"))
    if truth is not None:
        if high - low > 1e-6 * max(1.0, abs(truth)):  # a tolerance: the band graded right
            fig.add_vrect(x0=low, x1=high, fillcolor=RIGHT, opacity=0.18, line_width=0,
                          annotation_text="graded right", annotation_position="bottom left")
        fig.add_vline(x=truth, line=dict(color=RIGHT, width=3, dash="dash"),
                      annotation_text=f"answer {truth:.4g}", annotation_position="top right")
    if np.all(np.diff(edges) == 1):  # one bin per whole number: label each
        fig.update_xaxes(dtick=1)
    return _layout(fig, title, "guess", height)


def _edges(values: np.ndarray, truth: float | None, bins: int = 15) -> np.ndarray:
    """Bin edges that hold every guess and the answer (if given): one bin per whole number
    when they are all whole and not far apart."""
    points = values if truth is None else np.append(values, truth)
    if not points.size:
        return np.arange(-0.5, 1.5)
    lo, hi = float(points.min()), float(points.max())
    if np.all(points == np.round(points)) and hi - lo <= 40:
        return np.arange(lo - 0.5, hi + 1.5)
    if hi - lo < 1e-9:
        lo, hi = lo - 0.5, hi + 0.5
    t = np.linspace(0.0, 1.0, bins + 1)
    return lo * (1 - t) + hi * t  # never hi - lo: it overflows for an answer beyond the rule


def fig_choices(guesses: list[str], options: list[str], right: str | None, title: str,
                height: int = 360) -> go.Figure:
    """One bar per choice, the right one green and labelled ✓ (none when `right` is None:
    not revealed yet)."""
    counts = [sum(g == o for g in guesses) for o in options]
    labels = [f"✓ {o}" if o == right else o for o in options]
    colours = [RIGHT if o == right else WRONG if right is not None else GUESS
               for o in options]
    fig = go.Figure(go.Bar(x=labels, y=counts, marker_color=colours,
                           marker_pattern_shape=["" if o == right or right is None else "/"
                                                 for o in options],
                           text=counts, textposition="outside",
                           hovertemplate="%{x}: %{y} students<extra></extra>"))
    return _layout(fig, title, "choice", height)

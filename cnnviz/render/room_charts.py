"""The room's guesses against the computed answer: a histogram, or bars per choice.

Plain data in (the guesses, the answer, the band graded right); plotly out. Real answers
have typos: one 100000 among ten answers near 3 must not squeeze the others into one bar.
So the histogram zooms on the answer (or, before the reveal, on the middle of the guesses)
± a band, one bar per whole number when the answers are whole, and counts what falls
outside in one *other* bar at the end; the most common answers are listed next to it.
The bars stand at positions 0, 1, 2…, labelled with their values, so ten identical
answers are one bar among its neighbours, not a bar as wide as the chart.

The right answer is marked by a line and a label as well as by colour (Okabe-Ito colours:
right green, close orange, off grey). Before the reveal (the answer None) the same chart
shows the guesses alone, nothing marked.
"""
from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from cnnviz.core.numbers import is_accepted

GUESS, RIGHT, CLOSE, WRONG = "#0072B2", "#009E73", "#E69F00", "#999999"
FONT_PX = 18        # readable from the back of a room on a projector
MAX_WHOLE_BARS = 25  # one bar per whole number up to this many, else ranges
RANGE_BARS = 12
OTHER = "other"
BIG = sys.float_info.max

__all__ = ["Bins", "Shares", "bins", "common", "fig_choices", "fig_numbers", "shares"]


@dataclass(frozen=True)
class Bins:
    """The histogram's bars: [edges[i], edges[i+1]) each (the last one closed), their
    labels and counts, and the guesses outside [edges[0], edges[-1]] (the *other* bar)."""

    edges: tuple[float, ...]
    labels: tuple[str, ...]
    counts: tuple[int, ...]
    other: int
    whole: bool  # one bar per whole number: edges at n ± 0.5

    def position(self, value: float) -> float:
        """Where `value` stands on the chart's axis of bar positions (0, 1, …)."""
        e = np.asarray(self.edges)
        i = int(np.clip(np.searchsorted(e, value, side="right") - 1, 0, len(e) - 2))
        lo, hi = e[i], e[i + 1]
        inside = (value - lo) / (hi - lo) if hi > lo and np.isfinite(hi - lo) else 0.5
        return i - 0.5 + float(np.clip(inside, 0.0, 1.0))


def _whole(x: float) -> bool:
    return bool(np.isfinite(x) and x == np.round(x))


def _window(values: np.ndarray, truth: float | None, low: float, high: float
            ) -> tuple[float, float]:
    """The zoomed range: the answer (or the guesses' median) ± the larger of twice the band
    graded right, half the answer, three robust spreads of the guesses, and 3 (whole
    numbers) — never computed as a difference that overflows."""
    centre = truth if truth is not None else float(np.median(values)) if values.size else 0.0
    half = 0.5 * abs(centre)
    if truth is not None:  # twice the band's width on either side
        half = max(half, min(BIG, 4 * (high / 2 - low / 2)))
    if values.size:
        spread = float(np.median(np.abs(values / 2 - centre / 2))) * 2 * 1.4826
        half = max(half, min(BIG, 3 * spread))
    whole = _whole(centre) and all(_whole(v) for v in values)
    half = max(half, 3.0 if whole else 1e-9 * max(1.0, abs(centre)))
    return max(-BIG, centre - half), min(BIG, centre + half)


def bins(guesses: list[float], truth: float | None = None, low: float = 0.0,
         high: float = 0.0) -> Bins:
    """The guesses binned on the zoomed range (see _window); what the answer rule refuses
    (cnnviz.core.numbers) is left out."""
    values = np.asarray([g for g in guesses if is_accepted(g)], dtype=float)
    lo, hi = _window(values, truth, low, high)
    points = values if truth is None else np.append(values, truth)
    near = points[(points >= lo) & (points <= hi)]
    whole = all(_whole(v) for v in near) and np.floor(hi) - np.ceil(lo) < MAX_WHOLE_BARS
    if whole:
        first, last = int(np.ceil(lo)), int(np.floor(hi))
        edges = np.arange(first - 0.5, last + 1.0)
        labels = tuple(str(n) for n in range(first, last + 1))
    else:
        t = np.linspace(0.0, 1.0, RANGE_BARS + 1)
        edges = lo * (1 - t) + hi * t  # never hi - lo: it overflows for answers far apart
        labels = tuple(f"{a:.3g}–{b:.3g}" for a, b in zip(edges[:-1], edges[1:]))
    inside = (values >= edges[0]) & (values <= edges[-1])
    counts, _ = np.histogram(values[inside], bins=edges)
    return Bins(tuple(float(e) for e in edges), labels, tuple(int(c) for c in counts),
                int((~inside).sum()), bool(whole))


@dataclass(frozen=True)
class Shares:
    """Of the graded guesses: how many are right (within the band graded right), close
    (outside it, but off by at most the band's width, a tenth of the answer, or 1 for a
    whole answer) and off."""

    right: int
    close: int
    off: int

    @property
    def total(self) -> int:
        return self.right + self.close + self.off

    def text(self) -> str:
        if not self.total:
            return "no answers"
        return " · ".join(f"{name} {n / self.total:.0%}" for name, n in
                          (("right", self.right), ("close", self.close), ("off", self.off)))


def _kind(g: float, truth: float, low: float, high: float) -> str:
    if low <= g <= high:
        return "right"
    near = max(2 * (high / 2 - low / 2), abs(truth) / 10, 1.0 if _whole(truth) else 0.0)
    return "close" if abs(g / 2 - truth / 2) * 2 <= near else "off"


def shares(guesses: list[float], truth: float, low: float, high: float) -> Shares:
    kinds = Counter(_kind(g, truth, low, high) for g in guesses if is_accepted(g))
    return Shares(kinds["right"], kinds["close"], kinds["off"])


def common(guesses: list, n: int = 5) -> list[tuple[str, int]]:
    """The `n` most common answers (a number as it is typed: 3, not 3.0), most common
    first, ties in the order first given."""
    def shown(g: float | str) -> str:
        return f"{g:.6g}" if isinstance(g, float) else str(g)
    return Counter(shown(g) for g in guesses
                   if not isinstance(g, float) or is_accepted(g)).most_common(n)


def _layout(fig: go.Figure, title: str, xtitle: str, height: int) -> go.Figure:
    fig.update_layout(title=title, height=height, margin=dict(l=10, r=10, t=50, b=10),
                      xaxis_title=xtitle, yaxis_title="students", bargap=0.15,
                      showlegend=False, font=dict(size=FONT_PX))
    most = max([max(t.y, default=0) for t in fig.data], default=0)
    fig.update_yaxes(rangemode="tozero", dtick=1 if most <= 10 else None)
    return fig


def fig_numbers(guesses: list[float], truth: float | None, low: float, high: float,
                title: str, height: int = 360) -> go.Figure:
    """A histogram of numeric guesses zoomed on the answer, the outliers in one *other*
    bar; the answer as a line, the band graded right shaded, the bars coloured right,
    close or off (none of it when `truth` is None: not revealed yet)."""
    b = bins(guesses, truth, low, high)
    n = len(b.counts)
    xs = list(range(n)) + ([n] if b.other else [])
    labels = list(b.labels) + ([OTHER] if b.other else [])
    counts = list(b.counts) + ([b.other] if b.other else [])
    if truth is None:
        colours = [GUESS] * len(xs)
    else:
        centres = [e / 2 + f / 2 for e, f in zip(b.edges[:-1], b.edges[1:])]
        colours = [{"right": RIGHT, "close": CLOSE, "off": WRONG}[_kind(c, truth, low, high)]
                   for c in centres] + ([WRONG] if b.other else [])
    fig = go.Figure(go.Bar(
        x=xs, y=counts, marker_color=colours, customdata=labels,
        marker_pattern_shape=["/" if x == n else "" for x in xs],
        hovertemplate="%{customdata}: %{y} students<extra></extra>"))
    if truth is not None:
        if high - low > 1e-6 * max(1.0, abs(truth)) and not b.whole:  # a band, not one bar
            fig.add_vrect(x0=b.position(low), x1=b.position(high), fillcolor=RIGHT,
                          opacity=0.18, line_width=0, annotation_text="graded right",
                          annotation_position="bottom left")
        fig.add_vline(x=b.position(truth), line=dict(color=RIGHT, width=3, dash="dash"),
                      annotation_text=f"answer {truth:.4g}", annotation_position="top right")
    # at most about 8 labels (6 for ranges, shown by their middle): readable at 18 px
    step = -(-n // 8) if b.whole else -(-n // 6)
    ticks = [b.labels[x] if b.whole else f"{(b.edges[x] / 2 + b.edges[x + 1] / 2):.3g}"
             for x in range(n)] + ([OTHER] if b.other else [])
    shown = [x for x in xs if x % max(1, step) == 0 or x == n]
    fig.update_xaxes(tickmode="array", tickvals=shown, ticktext=[ticks[x] for x in shown],
                     range=[-0.6, len(xs) - 0.4])
    return _layout(fig, title, "guess", height)


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

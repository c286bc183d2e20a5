"""Plotly figures for gradient flow; they take plain numbers, never modules or widgets.

Non-finite values ("exploded") are drawn as ✕ markers on the top edge of a log axis
and exact zeros ("vanished", below float32's range) as ▼ on the bottom edge.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import plotly.graph_objects as go

from cnnviz.render import layout

# Okabe & Ito's colour-blind-safe colours; the series also differ by marker (and, where
# the chart's dashes do not already mean something else, by dash), never by colour alone.
STYLES = {"plain": ("#D55E00", "circle", "solid"), "residual": ("#0072B2", "square", "dash"),
          "shallow plain": ("#E69F00", "diamond", "dot"),
          "deep plain": ("#D55E00", "circle", "solid"),
          "deep residual": ("#0072B2", "square", "dash")}
COLORS = {name: colour for name, (colour, _, _) in STYLES.items()}


def _style(name: str, dash: bool = True) -> dict:
    """The line and marker of a series by its name (plotly's defaults for another)."""
    colour, symbol, line = STYLES.get(name, (None, "circle", "solid"))
    return {"line": dict(color=colour, **({"dash": line} if dash else {})),
            "marker": dict(symbol=symbol, size=6, color=colour)}


def _log_series(fig: go.Figure, x: Sequence, y: Sequence[float], name: str,
                dash: bool = True) -> None:
    """A log-axis line; nan/inf and zeros become markers at the edges."""
    finite = [v if math.isfinite(v) and v > 0 else None for v in y]
    color = COLORS.get(name, None)
    fig.add_trace(go.Scatter(x=list(x), y=finite, mode="lines+markers", name=name,
                             **_style(name, dash)))
    good = [v for v in finite if v is not None]
    top = max(good) * 10 if good else 1.0
    bottom = min(good) / 10 if good else 1e-3
    for label, symbol, level, bad in (
            ("exploded", "x", top, lambda v: not math.isfinite(v)),
            ("vanished (0)", "triangle-down", bottom, lambda v: v == 0)):
        xs = [a for a, v in zip(x, y) if bad(v)]
        if xs:
            fig.add_trace(go.Scatter(x=xs, y=[level] * len(xs), mode="markers",
                                     name=f"{name}: {label}",
                                     marker=dict(symbol=symbol, size=9, color=color)))


def _layout(fig: go.Figure, title: str, xtitle: str, ytitle: str, log: bool = True) -> go.Figure:
    heading, top = layout.title(title)
    fig.update_layout(title=heading, xaxis_title=xtitle, yaxis_title=ytitle, height=300 + top,
                      margin=dict(l=10, r=10, t=top, b=10), legend=dict(orientation="h", y=-0.25))
    if log:
        fig.update_yaxes(type="log", exponentformat="power")
    return fig


def fig_weight_grads(plain: Sequence[float], residual: Sequence[float]) -> go.Figure:
    """||dL/dW|| per weighted layer, input -> output, plain vs residual."""
    return fig_layer_grads({"plain": plain, "residual": residual})


def fig_layer_grads(series: dict[str, Sequence[float]]) -> go.Figure:
    """||dL/dW|| per weighted layer, input -> output, one line per named series."""
    fig = go.Figure()
    for name, values in series.items():
        _log_series(fig, range(1, len(values) + 1), values, name)
    return _layout(fig, "Weight-gradient norm per layer", "layer (input → output)",
                   "‖∂L/∂W‖")


def fig_input_grads(plain: Sequence[float], residual: Sequence[float]) -> go.Figure:
    """||dL/dx|| at each block's input: the signal flowing back."""
    fig = go.Figure()
    _log_series(fig, range(1, len(plain) + 1), plain, "plain")
    _log_series(fig, range(1, len(residual) + 1), residual, "residual")
    return _layout(fig, "Gradient reaching each block's input", "block", "‖∂L/∂x‖")


def fig_activations(plain_mean: Sequence[float], plain_std: Sequence[float],
                    res_mean: Sequence[float], res_std: Sequence[float]) -> go.Figure:
    """Mean (dashed) and std (solid) of each block's output."""
    fig = go.Figure()
    blocks = range(1, len(plain_std) + 1)
    _log_series(fig, blocks, plain_std, "plain", dash=False)  # here dashes mean |mean|
    _log_series(fig, blocks, res_std, "residual", dash=False)
    for name, mean in (("plain", plain_mean), ("residual", res_mean)):
        style = _style(name, dash=False)
        style["line"]["dash"] = "dot"
        fig.add_trace(go.Scatter(x=list(blocks), y=[abs(v) if math.isfinite(v) else None
                                                     for v in mean],
                                 name=f"{name} |mean|", mode="lines+markers", **style))
    return _layout(fig, "Forward signal: std (solid) and |mean| (dotted) of each block's "
                        "output", "block", "value")


def fig_depth_sweep(depths: Sequence[int], plain: Sequence[float],
                    residual: Sequence[float]) -> go.Figure:
    fig = go.Figure()
    _log_series(fig, depths, plain, "plain")
    _log_series(fig, depths, residual, "residual")
    fig.update_xaxes(type="log")
    return _layout(fig, "First layer's gradient norm vs depth", "blocks in the stack",
                   "‖∂L/∂W₁‖")


def fig_training(steps: Sequence[int], curves: Mapping[str, Sequence[float]], what: str
                 ) -> go.Figure:
    """Training curves (loss or accuracy) of several runs."""
    fig = go.Figure()
    for name, ys in curves.items():
        fig.add_trace(go.Scatter(x=list(steps), y=list(ys), mode="lines+markers", name=name,
                                 **_style(name)))
    fig = _layout(fig, f"Training {what} (smoothed)", "step", what, log=False)
    if what == "accuracy":
        fig.update_yaxes(range=[0, 1], tickformat=".0%")
    return fig

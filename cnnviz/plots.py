"""The Explorer's figures and tables, from plain data (Layer rows, Report numbers).

fig_* return plotly Figures; the other functions shape numbers into rows and
strings a page renders as it is.
"""
from __future__ import annotations

from fractions import Fraction
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .analysis import Layer
from .report import Report

BLUE, ORANGE = "#3b6ea5", "#e07b39"


def number(n: int | float) -> str:
    """12345678 -> '12.3 M' (SI-style, for metrics)."""
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n:g}"


def nbytes(n: int) -> str:
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n} B"


def jump_text(j: Fraction | int) -> str:
    return str(j)  # Fraction(1, 2) -> '1/2'


def shape_text(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(map(str, shape)) + ")"


def chw_text(shape: tuple[int, ...]) -> str:
    """(N, C, H, W) -> 'C × H × W' (short enough for a metric)."""
    return " × ".join(map(str, shape[1:]))


# --- shapes -----------------------------------------------------------------------

def formula_groups(layers: list[Layer]) -> list[tuple[tuple[str, ...], list[str], str]]:
    """Layers whose shape changes, grouped by identical formulas, in order of first use:
    (formulas, layer names, kind)."""
    groups: dict[tuple[str, ...], tuple[list[str], str]] = {}
    for layer in layers:
        if layer.formula:
            key = tuple(layer.formula)
            groups.setdefault(key, ([], layer.kind))[0].append(layer.name)
    return [(key, names, kind) for key, (names, kind) in groups.items()]


def formula_latex(formulas: tuple[str, ...]) -> str:
    """Both axes on one line."""
    return r" \qquad ".join(formulas)


# --- receptive field -------------------------------------------------------------

def rf_rows(layers: list[Layer]) -> list[dict[str, Any]]:
    """Receptive field after each layer (size None where it is global)."""
    rows = []
    for i, layer in enumerate(layers):
        is_global = layer.rf == ("global",)
        rows.append({"index": i + 1, "layer": layer.name, "kind": layer.kind,
                     "rf_h": None if is_global else layer.rf[0],
                     "rf_w": None if is_global else layer.rf[1],
                     "jump_h": None if is_global else jump_text(layer.rf[2]),
                     "global": is_global})
    return rows


def rf_text(rf_size) -> str:
    """A prediction's receptive field as shown: "global" or "H × W"."""
    return "global" if rf_size == "global" else f"{rf_size[0]} × {rf_size[1]}"


def fig_rf_growth(layers: list[Layer], final) -> go.Figure:
    """Receptive-field size (H and W) after each layer, with 'global' marked; the title
    states the stack's final field `final` (a Prediction's rf_size)."""
    rows = rf_rows(layers)
    x = [r["index"] for r in rows]
    text = [f"{r['layer']} ({r['kind']})" for r in rows]
    fig = go.Figure()
    fig.add_scatter(x=x, y=[r["rf_h"] for r in rows], name="RF height", mode="lines+markers",
                    line=dict(color=BLUE), text=text,
                    hovertemplate="%{text}<br>RF height %{y}<extra></extra>")
    if any(r["rf_h"] != r["rf_w"] for r in rows):
        fig.add_scatter(x=x, y=[r["rf_w"] for r in rows], name="RF width",
                        mode="lines+markers", line=dict(color=ORANGE, dash="dot"), text=text,
                        hovertemplate="%{text}<br>RF width %{y}<extra></extra>")
    first_global = next((r for r in rows if r["global"]), None)
    if first_global is not None:
        fig.add_vline(x=first_global["index"], line_dash="dash", line_color="grey",
                      annotation_text="global from here", annotation_position="top left")
    fig.update_layout(title=f"Receptive field after each layer: {rf_text(final)} at the output",
                      xaxis_title="layer (in order)",
                      yaxis_title="input pixels seen", height=340,
                      margin=dict(l=10, r=10, t=50, b=10), legend=dict(orientation="h"))
    return fig


# --- cost ----------------------------------------------------------------------------

def fig_layer_costs(layers: list[Layer]) -> go.Figure:
    """Parameters and MACs per layer (layers with neither are left out)."""
    rows = [layer for layer in layers if layer.params or layer.macs]
    names = [f"{i + 1}. {layer.name}" for i, layer in enumerate(rows)]
    kinds = [layer.kind for layer in rows]
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.12,
                        subplot_titles=("Parameters", "MACs (multiply-accumulates)"))
    fig.add_bar(x=names, y=[layer.params for layer in rows], name="parameters",
                marker_color=BLUE, customdata=kinds, row=1, col=1,
                hovertemplate="%{x} (%{customdata})<br>%{y:,} parameters<extra></extra>")
    fig.add_bar(x=names, y=[layer.macs for layer in rows], name="MACs", marker_color=ORANGE,
                customdata=kinds, row=2, col=1,
                hovertemplate="%{x} (%{customdata})<br>%{y:,} MACs<extra></extra>")
    fig.update_layout(height=460, showlegend=False, margin=dict(l=10, r=10, t=40, b=10))
    fig.update_xaxes(showticklabels=False, row=1, col=1)
    fig.update_xaxes(showticklabels=len(rows) <= 24, tickangle=-30, row=2, col=1)
    return fig


def elementwise_rows(report: Report) -> list[dict[str, Any]]:
    """Work the MAC count leaves out: elementwise ops by kind, and conv bias adds."""
    p = report.predicted
    rows = [{"work": kind, "operations": f"{n:,}"} for kind, n in sorted(p.elementwise.items())]
    biases = bias_adds(report)
    if biases:
        rows.append({"work": "bias add", "operations": f"{biases:,}"})
    return rows


def bias_adds(report: Report) -> int:
    """One add per output element of every convolution that has a bias."""
    from .analysis import node_modules, row_name

    shapes = {layer.name: layer.out_shape for layer in report.predicted.layers}
    batch, total = report.predicted.input_shape[0], 0
    for name, m in node_modules(report.model).items():
        if getattr(m, "bias", None) is not None and hasattr(m, "kernel_size"):
            c, h, w = shapes[row_name(name, m)]
            total += batch * c * h * w
    return total


# --- predicted vs measured -----------------------------------------------------------

def _fmt(name: str, value: Any) -> str:
    if name == "per-layer shapes":
        return f"{len(value)} layers"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def check_rows(report: Report) -> list[dict[str, str]]:
    """One row per number torch can confirm: predicted, measured, ✅ or ❌."""
    rows = []
    for name, (predicted, measured, ok) in report.checks().items():
        if name == "per-layer shapes" and not ok:
            wrong = [k for k in predicted if predicted.get(k) != measured.get(k)]
            measured_text = f"{len(wrong)} differ: " + ", ".join(wrong[:5])
        else:
            measured_text = _fmt(name, measured)
        rows.append({"number": name, "predicted (formulas)": _fmt(name, predicted),
                     "measured (torch)": measured_text, "agree": "✅" if ok else "❌"})
    return rows

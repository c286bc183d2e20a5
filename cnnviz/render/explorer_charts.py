"""The Explorer's figures and tables, from plain data (Layer rows, Report numbers).

*_chart return ECharts options (st.echarts_chart: a light chart library, so the first
page loads fast); the other functions shape numbers into rows and strings a page renders
as it is.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cnnviz.core.arithmetic import dims_text
from cnnviz.core.csv_cells import csv_text
from cnnviz.core.field import ExactField, Jump, ReceptiveField
from cnnviz.core.kinds import node_modules, row_name
from cnnviz.core.names import layer_names
from cnnviz.core.report import Report
from cnnviz.core.walk import Layer

if TYPE_CHECKING:
    from cnnviz.core.network.report import NetworkReport

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


def jump_text(j: Jump) -> str:
    return str(j)  # Fraction(1, 2) -> '1/2'


def shape_text(shape: tuple[int, ...]) -> str:
    """(N, C, H, W) as torch prints it: '(1, 16, 32, 32)'."""
    return "(" + dims_text(shape, ", ") + ")"


def chw_text(shape: tuple[int, ...]) -> str:
    """(N, C, H, W) -> 'C × H × W' (short enough for a metric)."""
    return dims_text(shape[1:], " × ")


def titles(layers: list[Layer]) -> list[str]:
    """The layers' readable names ("block 1 · conv 2"; cnnviz.core.names)."""
    return layer_names([(layer.name, layer.kind) for layer in layers])


# --- shapes -----------------------------------------------------------------------

def formula_groups(layers: list[Layer]) -> list[tuple[tuple[str, ...], list[str], str]]:
    """Layers whose shape changes, grouped by identical formulas, in order of first use:
    (formulas, layers' readable names, kind)."""
    groups: dict[tuple[str, ...], tuple[list[str], str]] = {}
    for layer, title in zip(layers, titles(layers)):
        if layer.formula:
            key = tuple(layer.formula)
            groups.setdefault(key, ([], layer.kind))[0].append(title)
    return [(key, names, kind) for key, (names, kind) in groups.items()]


def formula_latex(formulas: tuple[str, ...]) -> str:
    """Both axes on one line."""
    return r" \qquad ".join(formulas)


# --- receptive field -------------------------------------------------------------

def rf_rows(layers: list[Layer]) -> list[dict[str, Any]]:
    """Receptive field after each layer (size None where it is global)."""
    rows = []
    for i, (layer, title) in enumerate(zip(layers, titles(layers))):
        rf = layer.receptive_field
        rows.append({"index": i + 1, "layer": title, "kind": layer.kind,
                     "rf_h": None if rf.is_global else rf.size[0],
                     "rf_w": None if rf.is_global else rf.size[1],
                     "jump_h": None if rf.is_global else jump_text(rf.jump[0]),
                     "global": rf.is_global, "text": rf_text(rf)})
    return rows


def rf_text(rf: ReceptiveField) -> str:
    """A receptive field as the pages show it: "global" or "H × W"."""
    return rf.text(" × ")


def field_help(field: ExactField | None) -> str:
    """The receptive-field metric's tooltip: what it is, and the recurrence's bound."""
    text = ("height × width of the region of input pixels one output pixel reads (exact: "
            "from the graph, confirmed by torch); with dilations or a mask, some pixels "
            "inside it are never read")
    if field is not None and field.bound_is_larger:
        text += f"; the textbook recurrence gives {field.bound_text(' × ')}, an upper bound"
    return text


def rf_growth_chart(layers: list[Layer], final: ReceptiveField,
                    exact: ExactField | None = None) -> dict[str, Any]:
    """Receptive-field size (H and W) after each layer by the recurrence, with 'global'
    marked, as an ECharts option; the title states the stack's final field `final` (see
    rf_text), and the exact one where the recurrence only bounds it."""
    rows = rf_rows(layers)
    # one item per layer: [layer, RF height, RF width, module, field as text]; series data,
    # not a dataset, which Streamlit would convert through pandas (half a second to import
    # on a cold start)
    points = [[str(r["index"]), r["rf_h"], r["rf_w"], r["layer"], r["text"]] for r in rows]
    series = [{"type": "line", "name": "RF height", "color": BLUE, "data": points,
               "encode": {"x": 0, "y": 1}}]
    if any(r["rf_h"] != r["rf_w"] for r in rows):
        series.append({"type": "line", "name": "RF width", "color": ORANGE, "data": points,
                       "lineStyle": {"type": "dotted"}, "encode": {"x": 0, "y": 2}})
    first_global = next((r for r in rows if r["global"]), None)
    if first_global is not None:
        series[0]["markLine"] = {
            "symbol": "none", "data": [{"xAxis": str(first_global["index"])}],
            "label": {"formatter": "global from here"},
            "lineStyle": {"type": "dashed", "color": "grey"}}
    return {
        "title": {"text": f"Receptive field after each layer: {rf_text(final)} at the output"
                  if exact is None or not exact.bound_is_larger else
                  f"By the recurrence (an upper bound): {rf_text(final)} at the output; "
                  f"exactly {exact.text(' × ')}",
                  "textStyle": {"fontSize": 14}},
        "tooltip": {"trigger": "axis",
                    "formatter": "layer {b}: {@[3]}<br/>receptive field {@[4]}"},
        "legend": {"bottom": 0, "show": len(series) > 1},
        "grid": {"left": 50, "right": 20, "top": 50, "bottom": 60},
        "xAxis": {"type": "category", "name": "layer (in order)", "nameLocation": "middle",
                  "nameGap": 28},
        "yAxis": {"type": "value", "name": "input pixels seen", "minInterval": 1},
        "series": series,
        "animation": False,  # a rerun shows the new numbers at once
    }


# --- cost ----------------------------------------------------------------------------

def layer_costs_chart(layers: list[Layer]) -> dict[str, Any]:
    """Parameters (top) and MACs (bottom) per layer, as an ECharts option; layers with
    neither are left out."""
    named = [(layer, title) for layer, title in zip(layers, titles(layers))
             if layer.params or layer.macs]
    rows = [layer for layer, _ in named]
    names = [title for _, title in named]
    panels = (("Parameters", "params", BLUE), ("MACs (multiply-accumulates)", "macs", ORANGE))
    return {
        "title": [{"text": title, "left": "center", "top": top,
                   "textStyle": {"fontSize": 13, "fontWeight": "normal"}}
                  for (title, _, _), top in zip(panels, ("0%", "47%"))],
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "grid": [{"left": 70, "right": 20, "top": "7%", "height": "33%"},
                 {"left": 70, "right": 20, "top": "54%", "height": "33%"}],
        "xAxis": [{"type": "category", "data": names, "gridIndex": i,
                   "axisLabel": {"show": i == 1 and len(rows) <= 24, "rotate": 30,
                                 "fontSize": 10}}
                  for i in range(2)],
        "yAxis": [{"type": "value", "gridIndex": i} for i in range(2)],
        "series": [{"type": "bar", "name": title.split(" (")[0], "color": color,
                    "xAxisIndex": i, "yAxisIndex": i,
                    "data": [getattr(layer, field) for layer in rows]}
                   for i, (title, field, color) in enumerate(panels)],
        "animation": False,
    }


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
    shapes = {layer.name: layer.out_shape for layer in report.predicted.layers}
    batch, total = report.predicted.input_shape[0], 0
    for name, m in node_modules(report.model).items():
        if getattr(m, "bias", None) is not None and hasattr(m, "kernel_size"):
            c, h, w = shapes[row_name(name, m)]
            total += batch * c * h * w
    return total


# --- predicted vs measured -----------------------------------------------------------

def _fmt(name: str, value: Any) -> str:
    if isinstance(value, dict):  # "per-layer shapes" -> "12 layers", "per-stage ..." -> stages
        return f"{len(value)} {name.split()[0].removeprefix('per-')}s"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def check_rows(report: Report | NetworkReport) -> list[dict[str, str]]:
    """One row per number torch can confirm: predicted, measured, ✅ or ❌."""
    rows, layers = [], report.predicted.layers
    readable = dict(zip([layer.name for layer in layers], titles(layers)))
    for name, (predicted, measured, ok) in report.checks().items():
        if isinstance(predicted, dict) and isinstance(measured, dict) and not ok:
            wrong = [readable.get(str(k), str(k)) for k in predicted
                     if predicted.get(k) != measured.get(k)]
            measured_text = f"{len(wrong)} differ: " + ", ".join(wrong[:5])
        else:
            measured_text = _fmt(name, measured)
        rows.append({"number": name, "predicted (formulas)": _fmt(name, predicted),
                     "measured (torch)": measured_text, "agree": "✅" if ok else "❌"})
    return rows


# --- the work, layer by layer ----------------------------------------------------------

WORK_COLUMNS = ("layer", "kernel", "Cin → Cout", "stride", "output C × H × W",
                "parameters: formula", "parameters predicted", "parameters measured",
                "MACs: formula", "MACs predicted", "MACs measured", "agree")

WORK_CAPTION = (
    "Every layer with weights or multiply-accumulates (MACs), in the order the input flows "
    "through the stack. A convolution has k·k·(Cin/groups)·Cout weights, plus Cout biases "
    "when it has them; a norm layer has a scale and a shift per channel. Its MACs are one "
    "per weight per output pixel: k·k·(Cin/groups)·Cout·Hout·Wout (a transposed "
    "convolution's, per input pixel: k·k·Cin·(Cout/groups)·Hin·Win), times the batch when "
    "it is more than 1. Predicted: the formula, from the built module. Measured: the "
    "parameters torch counts in the layer, and torch's FLOP counter on the operations the "
    "layer runs, halved (FLOPs = 2 × MACs).")


def _worked(expr: str, value: int) -> str:
    """"3·3·64·64 + 64 = 36,928"; "0" where there is nothing to count."""
    return f"{expr} = {value:,}" if expr else "0"


def _count(n: int | None) -> str:
    return "not measured" if n is None else f"{n:,}"


def work_rows(report: Report) -> list[dict[str, str]]:
    """One row per weighted layer (cnnviz.core.work), then the whole stack's totals."""
    rows = []
    for w in report.work():
        ok = (w.params_measured, w.macs_measured) == (w.params, w.macs)
        rows.append(dict(zip(WORK_COLUMNS, (
            w.title, w.kernel, f"{w.in_channels} → {w.out_channels}", w.stride,
            dims_text(w.out_shape, " × "), _worked(w.params_expr, w.params),
            f"{w.params:,}", _count(w.params_measured), _worked(w.macs_expr, w.macs),
            f"{w.macs:,}", _count(w.macs_measured), "✅" if ok else "❌"))))
    p, m = report.predicted, report.measured
    measured = (None, None) if m is None else (m.params, m.flops // 2)
    rows.append(dict(zip(WORK_COLUMNS, (
        "whole stack (every layer)", "", "", "", dims_text(p.output_shape[1:], " × "),
        "the sum of the layers", f"{p.params:,}", _count(measured[0]),
        "the sum of the layers", f"{p.macs:,}", _count(measured[1]),
        "✅" if measured == (p.params, p.macs) else "❌"))))
    return rows


def work_csv(rows: list[dict[str, str]]) -> str:
    """The rows as CSV text, every cell through the CSV-injection rule of the other exports
    (cnnviz.core.csv_cells)."""
    return csv_text(WORK_COLUMNS, rows)

"""The Network page's tables, figures and diagram, from plain data (stage rows, totals).

Plotly figures for the charts (log axes and hover text), DOT for the chain of stages.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, cast

import plotly.graph_objects as go

from cnnviz.core.arithmetic import dims_text
from cnnviz.core.names import part_words
from cnnviz.core.network.report import NetworkReport, StageRow
from cnnviz.core.network.spec import MAX_BLOCKS
from cnnviz.render.diagram import dot_text, to_dot
from cnnviz.render.explorer_charts import BLUE, ORANGE, jump_text, number
from cnnviz.render.gradflow_plots import fig_layer_grads, fig_weight_grads
from cnnviz.topics.networks import PresetPoint, ScaledVariant, share


def shape_text(shape: Sequence[int]) -> str:
    """A stage's output without the batch: '64 × 56 × 56', or '1000' after a flatten."""
    return dims_text(tuple(shape), " × ")


def parts_words(parts: str) -> list[str]:
    """A stage's parts ("resnet_basic×2, maxpool", as StageRow writes them) in words:
    ["basic block × 2", "max pool"]."""
    words = []
    for part in parts.split(", "):
        kind, _, depth = part.partition("×")
        words.append(part_words(kind, int(depth) if depth.isdigit() else 1))
    return words


def stage_rows(stages: Sequence[StageRow]) -> list[dict[str, Any]]:
    """One row per stage: what it is, what it makes of the map, and its share of the cost."""
    params, macs = sum(s.params for s in stages), sum(s.macs for s in stages)
    rows = []
    for s in stages:
        rf = s.receptive_field
        rows.append({
            "stage": s.name, "parts": ", ".join(parts_words(s.parts)),
            "output (C × H × W)": shape_text(s.output_shape),
            "receptive field": rf.text(" × "),
            "jump": " × ".join(dict.fromkeys(jump_text(j) for j in rf.jump)),  # 16, or 16 × 8
            "params": number(s.params), "% params": round(share(s.params, params), 1),
            "MACs": number(s.macs), "% MACs": round(share(s.macs, macs), 1)})
    return rows


def kind_rows(split: dict[str, dict[str, int]]) -> list[dict[str, Any]]:
    """One row per kind of layer (topics.breakdown): its params and MACs, each with its share
    of the network's total. A table, not a chart: drawn with the stage table's bars, it
    costs a shared link's first view nothing more to load."""
    params, macs = (sum(split[key].values()) for key in ("params", "macs"))
    return [{"kind of layer": kind,
             "params": number(split["params"].get(kind, 0)),
             "% params": round(share(split["params"].get(kind, 0), params), 1),
             "MACs": number(split["macs"].get(kind, 0)),
             "% MACs": round(share(split["macs"].get(kind, 0), macs), 1)}
            for kind in dict.fromkeys([*split["params"], *split["macs"]])]


# Where a label may go around its point, and its box there (pixels, from the point).
_PLACES = {"top center": (-0.5, 8), "bottom center": (-0.5, -24), "middle right": (0, -8),
           "middle left": (-1, -8), "top right": (0, 6), "bottom left": (-1, -22)}
_AREA = (760, 380)  # the plotting area in pixels, roughly (labels are placed for it)
_CHAR, _LINE = 6.5, 16  # a label's character width and height, in pixels


def label_places(xs: Sequence[float], ys: Sequence[float], labels: Sequence[str]
                 ) -> list[tuple[str, str]]:
    """(text, textposition) for each point of a log-log scatter, so that labels miss each
    other and the markers where they can (greedy, left to right). Points on the same spot
    share one label, on the first of them; the others get none."""
    def pixels(values: Sequence[float], size: float) -> list[float]:
        logs = [math.log10(v) for v in values]
        low, high = min(logs), max(logs)
        return [(v - low) / ((high - low) or 1) * size for v in logs]

    def clashes(x0: float, y0: float, width: float) -> int:
        return sum(x0 < b[2] and b[0] < x0 + width and y0 < b[3] and b[1] < y0 + _LINE
                   for b in taken)

    px, py = pixels(xs, _AREA[0]), pixels(ys, _AREA[1])
    taken = [(x - 5, y - 5, x + 5, y + 5) for x, y in zip(px, py)]  # the markers
    out = [("", "top center")] * len(labels)
    for i in sorted(range(len(labels)), key=lambda i: (px[i], py[i])):
        same = [j for j in range(len(labels)) if abs(px[j] - px[i]) < 4 and
                abs(py[j] - py[i]) < 4]
        if same[0] != i:
            continue  # labelled with the first of its spot
        text = " · ".join(labels[j] for j in same)
        width = _CHAR * len(text)
        boxes = {place: (px[i] + dx * width + {"middle right": 8, "middle left": -8}.get(
            place, 0), py[i] + dy) for place, (dx, dy) in _PLACES.items()}
        place = min(_PLACES, key=lambda p: clashes(*boxes[p], width))  # first of the least
        x0, y0 = boxes[place]
        taken.append((x0, y0, x0 + width, y0 + _LINE))
        out[i] = (text, place)
    return out


def fig_presets(points: Sequence[PresetPoint], current: str | None = None) -> go.Figure:
    """Every preset's params against its MACs (log axes); the current one stands out."""
    fig = go.Figure()
    labels = dict(zip([p.name for p in points], label_places(
        [p.macs for p in points], [p.params for p in points], [p.title for p in points])))
    for mine in (False, True):
        chosen = [p for p in points if (p.name == current) == mine]
        if not chosen:
            continue
        fig.add_trace(go.Scatter(
            x=[p.macs for p in chosen], y=[p.params for p in chosen], mode="markers+text",
            text=[labels[p.name][0] for p in chosen],
            textposition=[labels[p.name][1] for p in chosen],
            name="this network" if mine else "presets",
            marker=dict(size=16 if mine else 9, color=ORANGE if mine else BLUE,
                        line=dict(width=1, color="#333333")),
            customdata=[_hover(p) for p in chosen],
            hovertemplate="%{customdata}<extra></extra>"))
    fig.update_xaxes(type="log", title="MACs per image (224 × 224)", exponentformat="SI",
                     range=_padded([p.macs for p in points], 0.2))
    fig.update_yaxes(type="log", title="parameters", exponentformat="SI",
                     range=_padded([p.params for p in points], 0.1))
    fig.update_layout(title="Parameters against MACs, every preset", height=480,
                      margin=dict(l=10, r=10, t=40, b=10), showlegend=False)
    return fig


def _padded(values: Sequence[float], pad: float) -> list[float]:
    """A log axis' range (in decades) around `values`, with room for the labels."""
    logs = [math.log10(v) for v in values]
    return [min(logs) - pad, max(logs) + pad]


def _hover(p: PresetPoint) -> str:
    top1 = (f"ImageNet top-1 {p.top1:.1f}% ({p.top1_source})" if p.top1 is not None
            else "no top-1 figure given")
    return (f"<b>{p.title}</b> ({p.year})<br>{p.params:,} parameters<br>{p.macs:,} MACs"
            f"<br>{top1}")


def fig_probe(plain: Sequence[float], residual: Sequence[float]) -> go.Figure:
    """The weight-gradient norm of each main-path convolution, plain-34 vs ResNet-34."""
    fig = fig_weight_grads(plain, residual)
    fig.update_layout(title="Weight-gradient norm per main-path convolution",
                      xaxis_title="convolution (input → output)", height=400)
    return fig


def fig_model_probe(norms: Sequence[float]) -> go.Figure:
    """The weight-gradient norm of each convolution and linear layer of one model."""
    fig = fig_layer_grads({"your model": norms})
    fig.update_layout(title="Weight-gradient norm per convolution and linear layer",
                      xaxis_title="layer (input → output)", height=400, showlegend=False)
    return fig


def stage_chain_dot(stages: Sequence[StageRow], input_shape: Sequence[int],
                    shortcuts: Sequence[int | None] | None = None) -> str:
    """DOT of the network collapsed to its stages: one box a stage (its name, then its
    parts), the shape flowing out of each on the edges; with `shortcuts` (per stage: a
    count, or None to say nothing), a stage's shortcuts as a dashed loop on its box, and
    "no shortcuts" in the box where the count is 0."""
    lines = ['  input [label="input", shape=oval, style=filled, fillcolor="#e8eef7"];']
    edges, previous, shape = [], "input", tuple(input_shape)
    for i, s in enumerate(stages):
        words = [s.name, *parts_words(s.parts)]
        count = shortcuts[i] if shortcuts is not None else None
        if count == 0:
            words.append("no shortcuts")
        label = dot_text("\n".join(words))
        lines.append(f'  s{i} [label="{label}", shape=box, style="rounded,filled", '
                     f'fillcolor="#fdf0d5", tooltip="{dot_text(s.name)}"];')
        if count:
            noun = "shortcut" if count == 1 else "shortcuts"
            edges.append(f'  s{i}:e -> s{i}:e [style=dashed, color="#3b6ea5", '
                         f'label="{count} {noun}"];')
        edges.append(f'  {previous} -> s{i} [label="{dims_text(shape)}"];')
        previous, shape = f"s{i}", tuple(s.output_shape)
    lines.append('  output [label="output", shape=oval, style=filled, fillcolor="#e8eef7"];')
    edges.append(f'  {previous} -> output [label="{dims_text(shape)}"];')
    return ("digraph network {\n  rankdir=TB; nodesep=0.3; ranksep=0.35;\n"
            '  node [fontname="Helvetica", fontsize=11];\n'
            '  edge [fontname="Helvetica", fontsize=9, color="#555555"];\n'
            + "\n".join(lines + edges) + "\n}\n")


def stage_dot(report: NetworkReport, stage: str) -> str:
    """DOT of one stage, every block and layer drawn (render.diagram on its modules)."""
    row = next(s for s in report.stages if s.name == stage)
    shape = cast(tuple[int, int, int, int], (1, *row.input_shape))  # or (1, F) after a flatten
    p = replace(report.predicted, input_shape=shape, output_shape=(1, *row.output_shape))
    return to_dot(getattr(report.model, stage), p, max_full=MAX_BLOCKS, prefix=stage + ".")


def scaling_rows(variants: Sequence[ScaledVariant], reports: Sequence[NetworkReport | None]
                 ) -> list[dict[str, Any]]:
    """One row per way of scaling: its multipliers, input, totals and growth over the
    network as it is (the first row)."""
    base = reports[0]
    rows = []
    for v, r in zip(variants, reports):
        row: dict[str, Any] = {"scaling": v.name, "depth ×": f"{v.depth:.2f}",
                               "width ×": f"{v.width:.2f}",
                               "input": f"{v.spec.height} × {v.spec.width}" if v.spec else "–"}
        if r is None or base is None:
            row |= {"params": "–", "MACs": "–", "params ×": "–", "MACs ×": "–"}
        else:
            p, b = r.predicted, base.predicted
            row |= {"params": number(p.params), "MACs": number(p.macs),
                    "params ×": f"{p.params / b.params:.2f}", "MACs ×": f"{p.macs / b.macs:.2f}"}
        rows.append(row)
    return rows


def fig_scaling(variants: Sequence[ScaledVariant], reports: Sequence[NetworkReport | None],
                rule: float) -> go.Figure:
    """Growth of the MACs and of the parameters for each way of scaling, against the
    compound rule's MACs factor (a dashed line)."""
    base = reports[0]
    shown = [(v, r) for v, r in zip(variants[1:], reports[1:]) if r is not None]
    fig = go.Figure()
    if base is not None and shown:
        names = [v.name for v, _ in shown]
        for what, key, colour, pattern in (("MACs", "macs", BLUE, ""),
                                           ("parameters", "params", ORANGE, "/")):
            fig.add_trace(go.Bar(
                x=names, y=[getattr(r.predicted, key) / getattr(base.predicted, key)
                            for _, r in shown], name=f"{what} ×", marker_color=colour,
                marker_pattern_shape=pattern,
                hovertemplate=f"%{{x}}: {what} × %{{y:.2f}}<extra></extra>"))
        fig.add_hline(y=rule, line_dash="dash", line_color="#333333",
                      annotation_text=f"rule: (αβ²γ²)^φ = {rule:.2f}",
                      annotation_position="top left")
    fig.update_yaxes(title="× the network as it is", rangemode="tozero")
    fig.update_layout(barmode="group", height=380, margin=dict(l=10, r=10, t=40, b=10),
                      title="How each way of scaling grows the cost", legend_orientation="h")
    return fig

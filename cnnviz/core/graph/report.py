"""cnnviz.inspect: the report of any PyTorch module, per fx node, predicted and measured.

The rows come from the graph walk (cnnviz.core.graph.walk), the confirmation from one
forward and one backward of the probe's copy (cnnviz.core.graph.measure); the exact field
is the tape's (cnnviz.core.exact_field), confirmed by torch's input gradients. The report
renders as an HTML table in Jupyter (_repr_html_) and converts to a pandas DataFrame.
"""
from __future__ import annotations

import dataclasses
import html
from dataclasses import dataclass
from typing import Any

import torch
import torch.fx as fx

from cnnviz.core.arithmetic import dims_text
from cnnviz.core.budget import FORWARD_BACKWARD, Work, check, module_work
from cnnviz.core.errors import BudgetError, ModelError
from cnnviz.core.exact_field import FieldProbe, measured_field, predicted_field
from cnnviz.core.field import ExactField
from cnnviz.core.graph.measure import GraphMeasurement, NodeMeasure, measure_graph
from cnnviz.core.graph.trace import probe_module
from cnnviz.core.graph.values import NO_FORMULA
from cnnviz.core.graph.walk import row_names
from cnnviz.core.measure import pixel_supports
from cnnviz.core.report import support_json
from cnnviz.core.walk import Prediction, Support, predict_supports


@dataclass
class Row:
    """One row: a module or a call of the graph, predicted and (when measured) by torch."""

    name: str
    kind: str
    output_shape: tuple[int, ...]  # batch excluded
    field: str  # the receptive field, "global", or "" past a row with no formula
    params: int
    macs: int
    memory: int
    predicted: bool  # False: no formula, the numbers are torch's
    measured: NodeMeasure | None = None

    @property
    def agrees(self) -> bool | None:
        m = self.measured
        if m is None or not self.predicted:
            return None
        return (m.shape, m.flops, m.memory) == (self.output_shape, 2 * self.macs, self.memory)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name, "kind": self.kind, "output_shape": list(self.output_shape),
            "receptive_field": self.field or None, "params": self.params, "macs": self.macs,
            "activation_memory": self.memory,
            "formula": "predicted" if self.predicted else NO_FORMULA}
        if self.measured is not None:
            m = self.measured
            out["measured"] = {"output_shape": list(m.shape) if m.shape else None,
                               "macs": m.flops // 2, "activation_memory": m.memory}
            out["agree"] = self.agrees
        return out


@dataclass
class Inspection:
    """What cnnviz.inspect returns: rows, totals, the exact field, torch's confirmation."""

    name: str
    input_shape: tuple[int, int, int, int]
    module: fx.GraphModule
    predicted: Prediction
    rows: list[Row]
    measured: GraphMeasurement | None = None
    field: ExactField | None = None  # the exact field (None past a row with no formula)
    measured_field: ExactField | None = None
    probe: FieldProbe | None = None
    notes: list[str] = dataclasses.field(default_factory=list)

    @property
    def params(self) -> int:
        return self.predicted.params

    @property
    def macs(self) -> int:
        """The rows' MACs: by formula, and torch's for a row with no formula."""
        return sum(r.macs for r in self.rows)

    @property
    def memory(self) -> int:
        return sum(r.memory for r in self.rows)

    @property
    def output_shape(self) -> tuple[int, ...]:
        return self.predicted.output_shape

    @property
    def no_formula(self) -> list[str]:
        return [r.name for r in self.rows if not r.predicted]

    def totals(self) -> dict[str, Any]:
        p = self.predicted
        return {"input_shape": list(p.input_shape), "output_shape": list(p.output_shape),
                "params": p.params, "macs": self.macs, "flops": 2 * self.macs,
                "activation_memory": self.memory,
                "receptive_field": self.field.text("x") if self.field else None}

    def checks(self) -> dict[str, tuple[Any, Any, bool]]:
        """name -> (predicted, measured, equal) for every total torch confirms."""
        p, m = self.predicted, self.measured
        if m is None:
            return {}
        pairs: dict[str, tuple[Any, Any]] = {
            "output shape": (p.output_shape, m.output_shape), "parameters": (p.params, m.params),
            "MACs": (self.macs, m.macs), "activation memory (bytes)": (self.memory, m.memory)}
        if not self.no_formula:
            pairs["receptive field of the centre pixel"] = (support_json(p.support)["size"],
                                                            list(m.support.size))
        if self.field is not None and self.measured_field is not None:
            pairs["exact receptive field"] = (self.field.text("x"),
                                              self.measured_field.text("x"))
        return {k: (a, b, a == b) for k, (a, b) in pairs.items()}

    @property
    def agrees(self) -> bool:
        return all(ok for _, _, ok in self.checks().values()) and \
            all(r.agrees is not False for r in self.rows)

    def field_of(self, pixel: tuple[int, int]) -> dict[str, Support]:
        """The input rows and columns output pixel (row, col) reads: predicted from the tape
        and, where measured, torch's input gradient of that pixel."""
        y = self.predicted.output
        if y.flat:
            raise ModelError(f"{self.name} gives a vector, not a map: no output pixel to "
                             f"choose (every feature reads the whole input).")
        if not all(isinstance(v, int) and 0 <= v < n for v, n in zip(pixel, (y.height, y.width))) \
                or len(pixel) != 2:
            raise ModelError(f"The output is {y.height}x{y.width}: a pixel is (row, column) "
                             f"inside it, not {pixel!r:.40}.")
        out = {"predicted": predict_supports(self.module, self.input_shape, [pixel])[1][0]}
        if self.no_formula:  # past a row with no formula the tape proves nothing
            out.pop("predicted")
        if self.measured is not None:
            out["measured"] = pixel_supports(probe_module(self.module), self.input_shape,
                                             [pixel])[0]
        return out

    def stages(self) -> list[dict[str, Any]]:
        """Rows grouped by the model's top-level modules (where it has more than one)."""
        groups: dict[str, list[Row]] = {}
        for r in self.rows:
            groups.setdefault(r.name.split(".")[0], []).append(r)
        if len(groups) < 2:
            return []
        return [{"stage": g, "output_shape": list(rows[-1].output_shape),
                 "receptive_field": rows[-1].field or None,
                 "params": sum(r.params for r in rows), "macs": sum(r.macs for r in rows)}
                for g, rows in groups.items()]

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"model": self.name, **self.totals(),
                               "layers": [r.to_json() for r in self.rows],
                               "stages": self.stages(), "no_formula": self.no_formula,
                               "notes": self.notes}
        if self.field is not None:
            out["exact_receptive_field"] = self.field.to_json()
        if not self.no_formula:
            out["centre_pixel"] = support_json(self.predicted.support)
        m = self.measured
        if m is not None:
            out["measured"] = {"output_shape": list(m.output_shape), "params": m.params,
                               "macs": m.macs, "flops": m.flops, "activation_memory": m.memory,
                               "centre_pixel": support_json(m.support)}
            if self.measured_field is not None:
                out["measured"]["exact_receptive_field"] = self.measured_field.to_json()
            out["agree"] = {k: ok for k, (_, _, ok) in self.checks().items()}
        return out

    def table(self) -> list[dict[str, Any]]:
        """One flat dict per row (the DataFrame's and the HTML table's columns)."""
        out = []
        for r in self.rows:
            m = r.measured
            out.append({
                "name": r.name, "kind": r.kind, "output": dims_text(r.output_shape, "x"),
                "field": r.field, "params": r.params, "MACs": r.macs, "memory": r.memory,
                "formula": "predicted" if r.predicted else NO_FORMULA,
                "measured output": dims_text(m.shape, "x") if m and m.shape else "",
                "measured MACs": m.flops // 2 if m else None,
                "measured memory": m.memory if m else None,
                "agree": {None: "", True: "yes", False: "NO"}[r.agrees]})
        return out

    def to_pandas(self) -> Any:
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("Inspection.to_pandas needs pandas: pip install pandas.") from None
        return pd.DataFrame(self.table())

    def _repr_html_(self) -> str:
        rows = self.table()
        if not rows:
            return "<p>No layers.</p>"
        cols = list(rows[0])
        head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(_cell(r[c]))}</td>" for c in cols)
                       + "</tr>" for r in rows)
        t = self.totals()
        summary = (f"{html.escape(self.name)}: input "
                   f"{html.escape(dims_text(t['input_shape'], 'x'))} → output "
                   f"{html.escape(dims_text(t['output_shape'], 'x'))}, "
                   f"{t['params']:,} parameters, {t['macs']:,} MACs, receptive field "
                   f"{html.escape(str(t['receptive_field'] or 'not predicted'))}")
        return (f"<p>{summary}</p><table><thead><tr>{head}</tr></thead>"
                f"<tbody>{body}</tbody></table>")


def _cell(v: Any) -> str:
    if v is None:
        return ""
    return f"{v:,}" if isinstance(v, int) else str(v)


def build_rows(gm: fx.GraphModule, p: Prediction) -> list[Row]:
    """The prediction's layers as rows (no field past a row with no formula)."""
    rows, known = [], True
    for layer in p.layers:
        predicted = layer.op != NO_FORMULA
        known = known and predicted
        rf = layer.receptive_field.text("x") if known and layer.signal is not None else ""
        rows.append(Row(layer.name, layer.kind, tuple(layer.out_shape), rf, layer.params,
                        layer.macs, layer.memory, predicted))
    return rows


def attach_measured(gm: fx.GraphModule, rows: list[Row], m: GraphMeasurement) -> None:
    by_row = {row: node for node, row in row_names(gm).items()}
    for r in rows:
        node = by_row.get(r.name)
        if node is not None and node in m.nodes:
            r.measured = m.nodes[node]
            if not r.predicted:  # torch's numbers are the row's
                r.macs, r.memory = m.nodes[node].flops // 2, m.nodes[node].memory


def exact_fields(report: Inspection, measured: bool) -> None:
    """The exact field from the tape and, within the budget, torch's on the same input."""
    if report.no_formula:
        report.notes.append("A row has no formula, so the receptive field past it is not "
                            "predicted: torch's centre-pixel support stands alone.")
        return
    try:
        report.field, report.probe = predicted_field(report.module, report.predicted)
    except RuntimeError:  # exact_field's own: no input holds the field (it grows with it)
        report.notes.append("The receptive field grows with the input here (an adaptive "
                            "pooling to a fixed grid): only the centre pixel's field on this "
                            "input is shown.")
        return
    if not measured:
        return
    probe = report.probe
    try:
        check(probe_work("the exact receptive field's probe", report.module,
                         probe.input_shape, repeats=len(probe.pixels)))
    except BudgetError:
        report.notes.append("torch's check of the exact field is over the budget: the field "
                            "shown is the predicted one.")
        return
    report.measured_field = measured_field(probe_module(report.module), probe, report.field)


def probe_work(what: str, gm: fx.GraphModule, shape: tuple[int, int, int, int],
               repeats: int = 1, prediction: Prediction | None = None) -> Work:
    """The work of torch's probe: a forward and a backward to the input only (the weights
    need no gradient, so they are held once); `prediction`: gm's walk on `shape`, if made."""
    return dataclasses.replace(module_work(what, gm, shape, FORWARD_BACKWARD, repeats,
                                           reduce=REDUCE, reduce_params=REDUCE_PARAMS,
                                           prediction=prediction),
                               weight_grads=False)


REDUCE_PARAMS = "the model's width or depth"
REDUCE = "the input size, the batch or the model's width"


def require_module(model: Any) -> None:
    import torch.nn as nn
    if not isinstance(model, nn.Module):
        raise ModelError(f"cnnviz.inspect takes a torch.nn.Module (or a class or function "
                         f"that makes one), not a {type(model).__name__}.")


def make_inspection(gm: fx.GraphModule, p: Prediction, name: str, measured: bool,
                    device: str = "cpu", seed: int = 0, params: int | None = None
                    ) -> Inspection:
    """The report of traced `gm` (walked as `p`); `params`: the model's own count, every
    parameter it holds (the trace keeps only those its forward uses)."""
    report = Inspection(name, p.input_shape, gm, p, build_rows(gm, p))
    m = None
    if measured:
        check(probe_work("this model", gm, p.input_shape, prediction=p))
        try:
            m = measure_graph(probe_module(gm), p.input_shape, device, seed)
        except (RuntimeError, TypeError, ValueError, IndexError) as e:  # the model's own code
            raise ModelError(f"{name} fails when torch runs it on {p.input_shape[1:]}: "
                             f"{' '.join(str(e).split())[:300]}") from None
        # float32 underflows at the far edge of a deep field: float64 reaches it
        if m.support != p.support and all(r.predicted for r in report.rows):
            m.support = measure_graph(probe_module(gm), (1, *p.input_shape[1:]), "cpu", seed,
                                      torch.float64).support
            report.notes.append("The receptive-field probe underflowed in float32 and was "
                                "repeated in float64 on the cpu.")
        m.params = sum(t.numel() for t in gm.parameters()) if params is None else params
        if m.params != p.params:
            report.notes.append(f"The model holds {m.params:,} parameters; its forward uses "
                                f"{p.params:,} of them.")
        report.measured = m
        attach_measured(gm, report.rows, m)
    exact_fields(report, measured)
    return report

"""The Networks page on a person's own model (`cnnviz app --model FILE.py:NAME`): the model
named by the server's environment (cnnviz.deploy.own_model), traced with torch.fx, every
row predicted and confirmed by torch, and the presets' stage diagram and gradient probe on
it. Only a server started that way shows it; a hall's processes never have the variables.

The model's names (`layer1.0.conv1`) are the only names its rows have: they are shown as
code, in table cells marked Code."""
from __future__ import annotations

import json
import math
import os
from typing import Any

import streamlit as st

from cnnviz.core.errors import InputError
from cnnviz.core.graph.report import Inspection
from cnnviz.deploy.heavy import heavy
from cnnviz.deploy.own_model import MODEL_ARGS_ENV, MODEL_ENV, MODEL_INPUT_ENV
from cnnviz.lessons.glossary import link
from cnnviz.pages import NetworkView
from cnnviz.render import network_charts as charts
from cnnviz.render.explorer_charts import number
from cnnviz.topics import own_model as topic
from cnnviz.topics.gradflow import StackFlow
from cnnviz.ui.frame.text import Code, safe_text
from cnnviz.ui.frame.widgets import show_error, table

SEED = 0  # the weights' seed: cnnviz.inspect's default


def active() -> bool:
    return bool(os.environ.get(MODEL_ENV))


def _model(ref: str, args: str, shape: str) -> tuple[Any, dict[str, Any], tuple[int, int, int]]:
    """The model's class or factory, its keyword arguments and its input (C, H, W)."""
    from cnnviz.core.errors import ModelError
    from cnnviz.core.fields import CHANNELS, parse_input
    from cnnviz.core.graph.load import load
    try:
        kwargs = json.loads(args or "{}")
    except json.JSONDecodeError:
        raise ModelError("The model's arguments are not a JSON object.") from None
    if not isinstance(kwargs, dict):
        raise ModelError("The model's arguments are not a JSON object.")
    size = parse_input(shape, CHANNELS, what="The model's input") if shape else (3, 224, 224)
    return load(ref), kwargs, size


@st.cache_resource(show_spinner="Tracing the model and confirming it with torch…",
                   max_entries=2)
@heavy
def _inspection(ref: str, args: str, shape: str) -> Inspection:
    from cnnviz.core.graph.load import inspect
    factory, kwargs, size = _model(ref, args, shape)
    return inspect(factory, size, args=kwargs, seed=SEED)


@st.cache_data(show_spinner="Forward + backward through the model…", max_entries=2)
@heavy
def _probe(ref: str, args: str, shape: str, _report: Inspection) -> StackFlow:
    """The gradient probe of a fresh build (the shared report's module stays untouched);
    BudgetError when it is over the live budget. `_report`: the model's (ref, args, shape)."""
    from cnnviz.core.graph.load import construct
    factory, kwargs, _ = _model(ref, args, shape)
    return topic.probe_model(_report, lambda: construct(factory, kwargs, "cpu", SEED), SEED)


def page() -> None:
    """The whole page for the model of this server's environment."""
    ref = os.environ.get(MODEL_ENV, "")
    key = (ref, os.environ.get(MODEL_ARGS_ENV, ""), os.environ.get(MODEL_INPUT_ENV, ""))
    st.markdown("### Your own model")
    st.caption(safe_text(ref, limit=200))
    try:
        report = _inspection(*key)
    except InputError as e:
        show_error(e, "This model cannot be shown")
        return
    t = report.totals()
    cols = st.columns(4)
    cols[0].metric("Parameters", number(t["params"]), help=f"The parameters the model's "
                   f"forward uses (weights, biases, normalization scales and shifts), frozen "
                   f"ones counted too: {t['params']:,}. {link('parameter')}")
    cols[1].metric("MACs", number(t["macs"]), help=f"The multiply-accumulates of one forward "
                   f"pass: {t['macs']:,} (FLOPs = 2 × MACs). {link('mac')}")
    cols[2].metric("Output", " × ".join(map(str, t["output_shape"][1:])),
                   help="The size of the model's output for one input, the batch left out. "
                        + link("shape"))
    cols[3].metric("Receptive field", (t["receptive_field"] or "not predicted")
                   .replace("x", " × "), help="The height × width of the input pixels one "
                   "output pixel can read: a range where it depends on the pixel's position, "
                   "global where every output reads the whole input. "
                   + link("receptive-field"))
    if report.agrees:
        st.success("torch confirms every predicted number: totals and every row.", icon="✅")
    else:
        st.error("Some predicted numbers differ from what torch measures (see the checks).",
                 icon="❌")
    for note in report.notes:
        st.caption(safe_text(note, limit=400))
    stages = report.stages()
    if stages:
        st.subheader("Stage by stage")
        table([{"stage": Code(s["stage"]), "output": " × ".join(map(str, s["output_shape"])),
                "receptive field": (s["receptive_field"] or "").replace("x", " × "),
                "params": s["params"], "MACs": s["macs"]} for s in stages])
        st.caption("A stage is one of the model's top-level modules, by its name in the "
                   "code.")
    layers, kinds, probe, diagram, checks = st.tabs(
        ["Layer by layer", "By kind of layer", "Gradient probe", NetworkView.DIAGRAM.value,
         "Checks"])
    with layers:
        table([{**row, "name": Code(row["name"]), "kind": Code(row["kind"])}
               for row in report.table()])
        st.caption("Every row predicted by formula from the traced graph; a row marked "
                   "no formula is torch's measurement alone. Names are the model's own.")
    with kinds:
        table(_by_kind(report))
    with probe:
        _probe_view(key, report)
    with diagram:
        st.caption("The model collapsed to its top-level modules; edges carry the shape.")
        st.graphviz_chart(charts.stage_chain_dot(topic.stage_rows(report),
                                                 report.input_shape[1:]))
    with checks:
        table([{"number": k, "predicted": str(a), "measured": str(b),
                "agree": "yes" if ok else "NO"} for k, (a, b, ok) in report.checks().items()])


def _probe_view(key: tuple[str, str, str], report: Inspection) -> None:
    shape = topic.probe_shape(report)
    st.markdown(f"The model built afresh from the same seed, in training mode, one forward "
                f"and backward pass on {shape[0]} random inputs of "
                f"{' × '.join(map(str, shape[1:]))}: the gradient of every convolution's and "
                f"linear layer's weights, as the presets' probe measures it.")
    if not st.toggle("Run the gradient probe", key="own_probe",
                     help="one forward and backward pass; cached for this model"):
        return
    try:
        flow = _probe(*key, report)
    except InputError as e:  # over the live budget (BudgetError), with its sentence
        show_error(e, "The gradient probe")
        return
    st.plotly_chart(charts.fig_model_probe(flow.grad_norms), width="stretch")
    table([{"layer": i, "name": Code(name), "weight-gradient norm": f"{g:.3g}"}
           for i, (name, g) in enumerate(zip(flow.layers, flow.grad_norms), 1)])
    if math.isfinite(flow.first_over_last) and not flow.exploded:
        st.markdown(safe_text(f"The first layer's weight gradient is {flow.headline()}× that "
                              f"of the last one.", limit=200))
    else:
        st.markdown("Some gradients are not finite numbers or are all zero: no ratio of the "
                    "first layer's to the last one's.")


def _by_kind(report: Inspection) -> list[dict[str, object]]:
    totals: dict[str, list[int]] = {}
    for r in report.rows:
        entry = totals.setdefault(r.kind, [0, 0, 0])
        entry[0] += 1
        entry[1] += r.params
        entry[2] += r.macs
    params, macs = max(1, report.params), max(1, report.macs)
    return [{"kind": Code(k), "rows": n, "params": p, "% params": round(100 * p / params, 1),
             "MACs": m, "% MACs": round(100 * m / macs, 1)}
            for k, (n, p, m) in sorted(totals.items(), key=lambda kv: -kv[1][2])]

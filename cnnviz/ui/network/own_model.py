"""The Networks page on a person's own model (`cnnviz app --model FILE.py:NAME`): the model
named by the server's environment (cnnviz.deploy.own_model), traced with torch.fx, every
row predicted and confirmed by torch. Only a server started that way shows it; a hall's
processes never have the variables."""
from __future__ import annotations

import json
import os

import streamlit as st

from cnnviz.core.errors import InputError
from cnnviz.core.graph.report import Inspection
from cnnviz.deploy.own_model import MODEL_ARGS_ENV, MODEL_ENV, MODEL_INPUT_ENV
from cnnviz.lessons.glossary import link
from cnnviz.render.explorer_charts import number
from cnnviz.ui.frame.text import safe_text
from cnnviz.ui.frame.widgets import show_error, table


def active() -> bool:
    return bool(os.environ.get(MODEL_ENV))


@st.cache_resource(show_spinner="Tracing the model and confirming it with torch…",
                   max_entries=2)
def _inspection(ref: str, args: str, shape: str) -> Inspection:
    from cnnviz.core.errors import ModelError
    from cnnviz.core.fields import CHANNELS, parse_input
    from cnnviz.core.graph.load import inspect, load
    try:
        kwargs = json.loads(args or "{}")
    except json.JSONDecodeError:
        raise ModelError("The model's arguments are not a JSON object.") from None
    size = parse_input(shape, CHANNELS, what="The model's input") if shape else (3, 224, 224)
    return inspect(load(ref), size, args=kwargs if isinstance(kwargs, dict) else {})


def page() -> None:
    """The whole page for the model of this server's environment."""
    ref = os.environ.get(MODEL_ENV, "")
    st.markdown("### Your own model")
    st.caption(safe_text(ref, limit=200))
    try:
        report = _inspection(ref, os.environ.get(MODEL_ARGS_ENV, ""),
                             os.environ.get(MODEL_INPUT_ENV, ""))
    except InputError as e:
        show_error(e, "This model cannot be shown")
        return
    t = report.totals()
    cols = st.columns(4)
    cols[0].metric("Parameters", number(t["params"]), help=f"The numbers training learns "
                   f"(weights, biases, normalization scales and shifts): {t['params']:,}. "
                   f"{link('parameter')}")
    cols[1].metric("MACs", number(t["macs"]), help=f"The multiply-accumulates of one forward "
                   f"pass: {t['macs']:,} (FLOPs = 2 × MACs). {link('mac')}")
    cols[2].metric("Output", " × ".join(map(str, t["output_shape"][1:])),
                   help="The size of the model's output for one input, the batch left out. "
                        + link("shape"))
    cols[3].metric("Receptive field", (t["receptive_field"] or "not predicted")
                   .replace("x", " × "), help="The height × width of the input pixels that "
                   "one output pixel can read. " + link("receptive-field"))
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
        table(stages)
    layers, kinds, checks = st.tabs(["Layer by layer", "By kind of layer", "Checks"])
    with layers:
        table(report.table())
        st.caption("Every row predicted by formula from the traced graph; a row marked "
                   "no formula is torch's measurement alone.")
    with kinds:
        table(_by_kind(report))
    with checks:
        table([{"number": k, "predicted": str(a), "measured": str(b),
                "agree": "yes" if ok else "NO"} for k, (a, b, ok) in report.checks().items()])


def _by_kind(report: Inspection) -> list[dict[str, object]]:
    totals: dict[str, list[int]] = {}
    for r in report.rows:
        entry = totals.setdefault(r.kind, [0, 0, 0])
        entry[0] += 1
        entry[1] += r.params
        entry[2] += r.macs
    params, macs = max(1, report.params), max(1, report.macs)
    return [{"kind": k, "rows": n, "params": p, "% params": round(100 * p / params, 1),
             "MACs": m, "% MACs": round(100 * m / macs, 1)}
            for k, (n, p, m) in sorted(totals.items(), key=lambda kv: -kv[1][2])]

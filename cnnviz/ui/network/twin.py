"""The Networks page's plain-twin comparison: the network and the same stages without their
shortcuts, stage diagrams side by side with the shortcuts marked, and the gradient probe of
both with one sentence that reads its ratio (cnnviz.topics.plain_twin)."""
from __future__ import annotations

import streamlit as st

from cnnviz.core.errors import InputError
from cnnviz.core.network import NetworkSpec
from cnnviz.core.network.report import NetworkReport
from cnnviz.render import network_charts as charts
from cnnviz.topics import plain_twin as pt
from cnnviz.ui.frame import cache
from cnnviz.ui.frame.text import safe_text
from cnnviz.ui.frame.widgets import show_error

KEY = "net_twin"


def twin_toggle(spec: NetworkSpec) -> NetworkSpec | None:
    """The one-step switch, drawn only for a network with shortcuts; its twin when on."""
    twin = pt.plain_twin(spec)
    if twin is None:
        return None
    on = st.toggle("Compare with its plain twin", key=KEY,
                   help="the same stages with every shortcut removed, side by side, and the "
                        "gradient probe of both")
    return twin if on else None


def twin_view(spec: NetworkSpec, report: NetworkReport, twin: NetworkSpec,
              device: str = "cpu") -> None:
    name, plain_name = pt.twin_title(spec), pt.twin_title(twin)
    if plain_name == "your network":
        plain_name = f"{name} without shortcuts"
    twin_report = cache.network_predicted(twin, device)
    st.subheader(f"{safe_text(name)} and its plain twin")
    st.caption("The plain twin is the same network with every shortcut removed, its 1×1 "
               "projections too: plain-34 is ResNet-34's, the control of He et al. 2016 "
               "(§4.1, Fig. 3). A dashed loop marks a stage's shortcuts.")
    names = [s.name for s in report.stages]
    counts: list[int | None] = list(pt.shortcut_counts(report.model, names))
    twin_counts: list[int | None] = [0 if n else None for n in counts]
    for col, title, r, marks in zip(st.columns(2), (name, plain_name),
                                    (report, twin_report), (counts, twin_counts)):
        col.markdown(f"**{safe_text(title)}**")
        col.graphviz_chart(charts.stage_chain_dot(r.stages, r.predicted.input_shape[1:],
                                                  marks))
    plain_spec, spec_probe = pt.probe_pair(spec, twin)
    st.markdown(f"**The gradient probe**: both built from the same seed, one forward and "
                f"backward pass on {spec_probe.batch} random images of {spec_probe.height} × "
                f"{spec_probe.width}.")
    try:
        plain, residual = cache.twin_probe(plain_spec, spec_probe, device)
    except InputError as e:  # over the live budget (BudgetError), with its sentence
        show_error(e, "The gradient probe of both networks")
        return
    st.plotly_chart(charts.fig_probe(plain.grad_norms, residual.grad_norms), width="stretch")
    st.markdown(safe_text(pt.ratio_sentence(plain, residual, plain_name, name), limit=800))

"""The Block Explorer's parts (pages/explorer.py): the block's description, the headline
numbers, and one function per tab, each drawing that tab's content from the stack's report."""
from __future__ import annotations

from typing import TYPE_CHECKING, cast

import streamlit as st

from cnnviz.core.measure import Measurement
from cnnviz.core.report import Report
from cnnviz.core.spec import StackSpec
from cnnviz.lessons.glossary import link
from cnnviz.render import codegen, diagram
from cnnviz.render import explorer_charts as plots
from cnnviz.ui.frame.cache import cached_summary
from cnnviz.ui.frame.text import safe_text
from cnnviz.ui.frame.widgets import python_code, table

if TYPE_CHECKING:
    from torch import nn


def _measured(report: Report) -> Measurement:
    """What torch measured: a page's report (cached_report) is always measured."""
    return cast(Measurement, report.measured)


def _stack(report: Report) -> nn.Sequential:
    """The stack a StackSpec builds (cnnviz.core.spec.build) is a Sequential."""
    return cast("nn.Sequential", report.model)


def describe(spec: StackSpec) -> None:
    """The block's family and title, its summary and its paper."""
    entry = spec.entry
    st.markdown(f"### {entry.family} · {entry.title}")
    st.write(entry.summary)
    st.caption(f"📄 {entry.paper} · {spec.title()}")


def notes(report: Report) -> None:
    """What the parameter counts include, and the device's note when there is one."""
    if counted := report.counting_notes():
        st.caption("What the parameter counts include: " + " ".join(counted))
    if report.device_note:
        st.warning(report.device_note)


def headline(report: Report) -> None:
    """The six numbers of the stack, each with its glossary link, and whether torch agrees."""
    p = report.predicted
    cols = st.columns(3) + st.columns(3)
    cols[0].metric("Output C × H × W", plots.chw_text(p.output_shape),
                   help=f"Channels × height × width of the last layer's output; with the batch "
                        f"N first, (N, C, H, W) = {plots.shape_text(p.output_shape)}. Stride and "
                        f"padding set H and W: {link('stride')}.")
    rf, field = p.receptive_field, report.field
    cols[1].metric("Receptive field" if rf.is_global else "Receptive field (H × W)",
                   plots.rf_text(rf) if field is None or rf.is_global else field.text(" × "),
                   help=plots.field_help(field) + ". " + link("receptive-field"))
    cols[2].metric("Parameters", plots.number(p.params),
                   help=f"A parameter is a number training learns: a weight, a bias, a "
                        f"normalization's scale or shift. This stack has {p.params:,}. "
                        f"{link('parameter')}")
    cols[3].metric("MACs", plots.number(p.macs),
                   help=f"A MAC is one multiply and one add; one forward pass of this stack "
                        f"does {p.macs:,} of them. {link('mac')}")
    cols[4].metric("FLOPs", plots.number(p.flops),
                   help=f"A FLOP is one multiply or one add, so FLOPs = 2 × MACs = "
                        f"{p.flops:,}. {link('flop')}")
    cols[5].metric("Activation memory", plots.nbytes(p.memory),
                   help=f"The bytes that keep every layer's output for the backward pass, 4 per "
                        f"number: {p.memory:,} bytes. {link('activation-memory')}")
    if report.agrees:
        st.success("torch confirms every predicted number: see *Predicted vs measured*.",
                   icon="✅")
    else:
        st.error("Some predicted numbers differ from what torch measures: see *Predicted vs "
                 "measured*.", icon="❌")


def shape_tab(report: Report) -> None:
    """The output-size formula layer by layer, and the receptive field's growth."""
    p, rf, field = report.predicted, report.predicted.receptive_field, report.field
    st.subheader("Output size, layer by layer")
    st.latex(r"H_{out} = \left\lfloor \frac{H_{in} + 2p - d\,(k-1) - 1}{s} \right\rfloor"
             r" + 1")
    groups = plots.formula_groups(p.layers)
    if not groups:
        st.write("No layer changes the height or width: every convolution here keeps H×W "
                 "(stride 1 with 'same' padding, or 1×1 kernels).")
    SHOWN = 6
    for i, (formulas, names, _kind) in enumerate(groups):
        if i == SHOWN:
            more = st.expander(f"{len(groups) - SHOWN} more distinct formulas")
        with more if i >= SHOWN else st.container():
            same = f" and {len(names) - 1} more layers with the same numbers" \
                if len(names) > 1 else ""
            st.markdown(f"**{names[0]}**{same}:")
            st.latex(plots.formula_latex(formulas))
    st.markdown("**The whole stack:**")
    st.latex(rf"(N, C, H, W):\ {plots.shape_text(p.input_shape)} \to "
             rf"{plots.shape_text(p.output_shape)}")

    st.subheader("Receptive field")
    cols = st.columns(3)
    cols[0].metric("Jump (H, W)", ", ".join(plots.jump_text(j) for j in rf.jump),
                   help="The jump: input pixels between two neighbouring output "
                        "pixels (the product of the strides). " + link("jump"))
    cols[1].metric("Centre pixel sees (H × W)", f"{p.support.size[0]} × "
                   f"{p.support.size[1]}",
                   help=f"The centre output pixel {p.support.pixel} reads input rows "
                        f"{p.support.rows}, columns {p.support.cols} (borders included): "
                        f"its receptive field on this input. {link('receptive-field')}")
    st.echarts_chart(plots.rf_growth_chart(p.layers, rf, field), height=340,
                     renderer="svg")
    st.caption("Each point is one layer's output, in the order the analysis walks them; a "
               "branch (a shortcut, an Inception path) shows its own smaller field, and the "
               "merge after it takes the widest.")
    for note in report.rf_notes():
        st.info(note)


def cost_tab(report: Report) -> None:
    """The per-layer cost, the elementwise work MACs leave out, and activation memory."""
    p, m = report.predicted, _measured(report)
    st.echarts_chart(plots.layer_costs_chart(p.layers), height=460, renderer="svg")
    st.markdown(
        f"**FLOPs = 2 × MACs**: one multiply-accumulate is a multiply and an add, the "
        f"convention of PyTorch's FLOP counter (it measured **{m.flops:,}** FLOPs "
        f"here). MACs count the convolutions and other weighted layers only; they leave "
        f"out the elementwise work below (normalisation, activations, residual adds, "
        f"pooling, …) and the bias adds, which are cheap in arithmetic but cost memory "
        f"traffic.")
    table(plots.elementwise_rows(report))
    st.subheader("Activation memory")
    cols = st.columns(2)
    cols[0].metric("Predicted (float32)", plots.nbytes(p.memory),
                   help=f"Every new value the layers output (views such as channel "
                        f"slices, and the input itself, not counted), 4 bytes each: "
                        f"{p.memory:,} bytes. {link('activation-memory')}")
    cols[1].metric("Measured (torch storages)", plots.nbytes(m.memory),
                   help=f"The bytes of the memory torch allocated for the layers' "
                        f"outputs in one forward pass, each block of memory counted "
                        f"once: {m.memory:,} bytes. {link('activation-memory')}")
    st.caption("Every layer's output, 4 bytes a number, as kept for a backward pass (the "
               "input itself and views such as channel slices are not counted); a "
               "forward-only run can free most of it as it goes.")


def checks_tab(report: Report, spec: StackSpec) -> None:
    """Predicted vs measured, totals then layer by layer, with the CSV download."""
    m = _measured(report)
    st.caption("Each number above is computed twice: by formula from the built module "
               "(predicted), and by running it once forward and backward in torch "
               "(measured).")
    table(plots.check_rows(report))
    for note in m.notes:
        st.caption(note)
    st.subheader("Layer by layer")
    st.caption(plots.WORK_CAPTION)
    work = plots.work_rows(report)
    table(work)
    st.download_button("⬇️ Download the table (CSV)", plots.work_csv(work),
                       file_name=f"{spec.block}-layers.csv", mime="text/csv",
                       key="explorer_work_csv")


def diagram_tab(report: Report, a_report: Report | None) -> None:
    """The block diagram; A's and B's side by side when a design is pinned."""
    p = report.predicted
    st.caption("Drawn from the built module; edges carry the shape (C×H×W) flowing along "
               "them; dashed edges are identity shortcuts.")
    if a_report is None:
        st.graphviz_chart(diagram.to_dot(_stack(report), p))
    else:  # A and B next to each other
        for col, r, name in zip(st.columns(2), (a_report, report), "AB"):
            col.markdown(f"**{name}**: {safe_text(r.spec.title(), limit=120)}")
            col.graphviz_chart(diagram.to_dot(_stack(r), r.predicted))


def summary_tab(spec: StackSpec, device: str) -> None:
    """torchinfo's summary of the same module."""
    st.caption("torchinfo, a widely used PyTorch library, summarises the same module "
               "layer by layer: a second opinion on its shapes and parameter counts.")
    st.code(cached_summary(spec, device), language=None)


def code_tab(spec: StackSpec, report: Report) -> None:
    """A self-contained script that builds the module, with its download."""
    code = codegen.script(spec, _stack(report))
    st.caption("A self-contained script: run it and it prints the same output shape and "
               "parameter count as above.")
    st.download_button(f"⬇️ Download {spec.block}.py", code, file_name=f"{spec.block}.py",
                       mime="text/x-python", key="explorer_download")
    python_code(code)


__all__ = ["checks_tab", "code_tab", "cost_tab", "describe", "diagram_tab", "headline", "notes",
           "shape_tab", "summary_tab"]

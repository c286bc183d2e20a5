"""Block Explorer: everything cnnviz knows about the block chosen in the sidebar."""
import streamlit as st

from cnnviz import codegen, diagram, plots, ui

st.title("🔎 Block Explorer")
spec = ui.spec_or_stop()
entry, device = spec.entry, ui.current_device()
st.markdown(f"### {entry.family} · `{spec.block}`")
st.write(entry.summary)
st.caption(f"📄 {entry.paper} · {spec.label()}")

try:
    report = ui.cached_report(spec, device)
except ValueError as e:
    ui.show_error(e)
    st.stop()
p, m = report.predicted, report.measured
if report.device_note:
    st.warning(report.device_note)

cols = st.columns(5)
cols[0].metric("Output C × H × W", plots.chw_text(p.output_shape),
               help=f"(N, C, H, W) = {plots.shape_text(p.output_shape)}")
cols[1].metric("Parameters", plots.number(p.params), help=f"{p.params:,}")
cols[2].metric("MACs", plots.number(p.macs), help=f"{p.macs:,} multiply-accumulates")
cols[3].metric("FLOPs", plots.number(p.flops), help=f"{p.flops:,} = 2 × MACs")
cols[4].metric("Activation memory", plots.nbytes(p.memory), help=f"{p.memory:,} bytes")

# --- output size ---------------------------------------------------------------------
st.subheader("Output size, layer by layer")
st.latex(r"H_{out} = \left\lfloor \frac{H_{in} + 2p - d\,(k-1) - 1}{s} \right\rfloor + 1")
groups = plots.formula_groups(p.layers)
if not groups:
    st.write("No layer changes the height or width: every convolution here keeps H×W "
             "(stride 1 with 'same' padding, or 1×1 kernels).")
SHOWN = 6
for i, (formulas, names, kind) in enumerate(groups):
    if i == SHOWN:
        more = st.expander(f"{len(groups) - SHOWN} more distinct formulas")
    with more if i >= SHOWN else st.container():
        same = f" and {len(names) - 1} more layers with the same numbers" if len(names) > 1 \
            else ""
        st.markdown(f"{kind} `{names[0]}`{same}:")
        st.latex(plots.formula_latex(formulas))
st.markdown("**The whole stack:**")
st.latex(rf"(N, C, H, W):\ {plots.shape_text(p.input_shape)} \to "
         rf"{plots.shape_text(p.output_shape)}")

# --- receptive field --------------------------------------------------------------------
st.subheader("Receptive field")
cols = st.columns(3)
if p.rf_size == "global":
    cols[0].metric("Receptive field", "global")
else:
    cols[0].metric("Receptive field (H × W)", f"{p.rf_size[0]} × {p.rf_size[1]}")
cols[1].metric("Jump (H, W)", ", ".join(plots.jump_text(j) for j in p.rf_jump),
               help="input pixels between neighbouring outputs (the product of strides)")
cols[2].metric("Centre pixel sees (H × W)", f"{p.support.size[0]} × {p.support.size[1]}",
               help=f"output pixel {p.support.pixel} reads input rows {p.support.rows}, "
                    f"columns {p.support.cols} (borders included)")
st.plotly_chart(plots.fig_rf_growth(p.layers), width="stretch")
st.caption("Each point is one layer's output, in the order the analysis walks them; a branch "
           "(a shortcut, an Inception path) shows its own smaller field, and the merge after "
           "it takes the widest.")
for note in report.rf_notes():
    st.info(note)

# --- cost -------------------------------------------------------------------------------
st.subheader("Parameters and compute")
st.plotly_chart(plots.fig_layer_costs(p.layers), width="stretch")
st.markdown(
    f"**FLOPs = 2 × MACs**: one multiply-accumulate is a multiply and an add, the convention "
    f"of `torch.utils.flop_counter` (it measured **{m.flops:,}** FLOPs here). MACs count the "
    f"convolutions and other weighted layers only; they leave out the elementwise work "
    f"below (normalisation, activations, residual adds, pooling, …) and the bias adds, "
    f"which are cheap in arithmetic but cost memory traffic.")
st.dataframe(plots.elementwise_rows(report), hide_index=True)

# --- memory -----------------------------------------------------------------------------
st.subheader("Activation memory")
cols = st.columns(2)
cols[0].metric("Predicted (float32)", plots.nbytes(p.memory), help=f"{p.memory:,} bytes")
cols[1].metric("Measured (torch storages)", plots.nbytes(m.memory), help=f"{m.memory:,} bytes")
st.caption("Every layer's output, 4 bytes a number, as kept for a backward pass (the input "
           "itself and views such as channel slices are not counted); a forward-only run can "
           "free most of it as it goes.")

# --- predicted vs measured --------------------------------------------------------------
st.subheader("Predicted vs measured")
if report.agrees:
    st.success("torch confirms every predicted number.", icon="✅")
else:
    st.error("Some predicted numbers differ from what torch measures (❌ below).", icon="❌")
st.dataframe(plots.check_rows(report), hide_index=True, width="stretch")
for note in m.notes:
    st.caption(note)

# --- diagram, summary, code --------------------------------------------------------------
st.subheader("Block diagram")
st.caption("Drawn from the built module; edges carry the shape (C×H×W) flowing along them; "
           "dashed edges are identity shortcuts.")
st.graphviz_chart(diagram.to_dot(report.model, p))

with st.expander("torchinfo summary"):
    st.code(ui.cached_summary(spec, device), language=None)

st.subheader("PyTorch code")
code = codegen.script(spec, report.model)
st.download_button(f"⬇️ Download {spec.block}.py", code, file_name=f"{spec.block}.py",
                   mime="text/x-python", key="explorer_download")
with st.expander("Show the code", expanded=False):
    st.code(code, language="python")

"""Networks: a classic CNN (or your own) stage by stage, its numbers predicted and confirmed.

The network lives in the URL (cnnviz.ui.network.builder); the headline numbers, the facts
and the stage table are always shown, the rest sits in tabs of which only the open one runs.
"""
import streamlit as st

from cnnviz import ui
from cnnviz.core.errors import InputError
from cnnviz.lessons.glossary import link
from cnnviz.pages import NETWORK
from cnnviz.pages import NetworkView as View
from cnnviz.render import codegen
from cnnviz.render import network_charts as charts
from cnnviz.render.explorer_charts import check_rows, number
from cnnviz.topics import networks as topic
from cnnviz.ui.network import builder as nb
from cnnviz.ui.network import own_model
from cnnviz.ui.network import scaling as network_scaling
from cnnviz.ui.network import twin as network_twin

st.title("🏛️ Networks")
if own_model.active():  # `cnnviz app --model FILE.py:NAME` on this machine
    own_model.page()
    st.stop()
spec = nb.current_network()
nb.sidebar(spec)
device, preset = ui.current_device(), nb.preset_of(spec)
if preset:
    st.markdown(f"### {preset.title} · {preset.year}")
    st.write(preset.summary)
    st.caption(f"📄 {preset.paper} · {preset.title} on {spec.channels}×{spec.height}×"
               f"{spec.width}, {spec.classes} classes")
else:
    st.markdown("### Your own network")
    st.caption(ui.safe_text(spec.label(), limit=200))

try:
    report = ui.cache.network_predicted(spec, device)
except InputError as e:
    ui.show_error(e)
    with st.expander("🛠️ Build your own: change the stages", expanded=True):
        nb.builder(spec)
    st.stop()
p, stages = report.predicted, report.stages
field_label, field_value, field_help = topic.field_headline(report)

cols = st.columns(4)
cols[0].metric("Parameters", number(p.params), help=f"The numbers training learns (weights, "
               f"biases, normalization scales and shifts): {p.params:,}. {link('parameter')}")
cols[1].metric("MACs", number(p.macs), help=f"The multiply-accumulates of one image's forward "
               f"pass: {p.macs:,} (FLOPs = 2 × MACs = {p.flops:,}). {link('mac')}")
cols[2].metric("Output", charts.shape_text(p.output_shape[1:]),
               help=f"The size of the network's output for one image; with the batch first, "
                    f"{tuple(p.output_shape)}. {link('shape')}")
cols[3].metric(ui.safe_text(field_label), field_value,
               help=field_help + " " + link("receptive-field"))

a_spec = ui.compare.pinned(nb.network_from_query)  # network A, when one is pinned (?a=...)
ui.compare.pin_buttons(nb.url_values(spec), a_spec is not None, key=NETWORK.name)
if a_spec is not None:
    a_report = ui.cache.network_predicted(a_spec, device)
    ui.compare.headline(a_report.predicted, p, a_spec.label(), spec.label())
    ui.compare.stages(a_report.stages, stages)
twin = network_twin.twin_toggle(spec)  # one step to the same network without its shortcuts
if twin is not None:
    network_twin.twin_view(spec, report, twin, device)

with st.container(border=True):
    st.markdown("**What to notice**")
    for line in topic.facts(report):
        st.markdown(f"- {ui.safe_text(line, limit=600)}")

st.subheader("Stage by stage")
ui.table(charts.stage_rows(stages))
st.caption("Receptive field: input pixels one output pixel of the stage can see; jump: input "
           "pixels between neighbouring outputs (the product of the strides so far).")

nb.builder_panel(spec, [s.output_shape for s in stages])

tabs = ui.view_tabs(NETWORK)  # by name
kinds_tab, across_tab, scaling_tab = tabs[View.KINDS], tabs[View.ACROSS], tabs[View.SCALING]
probe_tab, diagram_tab, checks_tab = tabs[View.PROBE], tabs[View.DIAGRAM], tabs[View.CHECKS]
code_tab = tabs[View.CODE]

if kinds_tab.open:
    with kinds_tab:
        st.markdown("**Where the parameters and the MACs go, by kind of layer**")
        ui.table(charts.kind_rows(topic.breakdown(report)))
        st.caption("Pointwise: 1×1 convolutions that mix channels; depthwise: one k×k filter "
                   "per channel; grouped: channels split into groups; fully connected: the "
                   "classifier's linear layers.")

if across_tab.open:
    with across_tab:
        st.plotly_chart(charts.fig_presets(ui.cache.preset_points(), spec.name),
                        width="stretch")
        st.caption("Every preset at 3 × 224 × 224; hover for the ImageNet top-1 accuracy and "
                   "its source. Cost is not accuracy: the later networks buy more of it per "
                   "MAC.")

if scaling_tab.open:
    with scaling_tab:
        network_scaling.scaling_tab(spec, device)

if probe_tab.open:
    with probe_tab:
        plain, residual = topic.probe_specs()
        st.markdown(f"Plain-34 (ResNet-34 without its shortcuts, the control of He et al. 2016, "
                    f"§4.1, Fig. 3) and "
                    f"ResNet-34, built from the same seed, one forward and backward pass on "
                    f"{plain.batch} random images of {plain.height} × {plain.width}.")
        if st.toggle("Run the gradient probe", key="net_probe",
                     help="two 34-layer networks; a few seconds the first time, then cached"):
            with ui.stop_on_error():
                flows = ui.cache.network_probe(device)
            st.plotly_chart(charts.fig_probe(flows[0].grad_norms, flows[1].grad_norms),
                            width="stretch")
            for line in topic.probe_story(*flows):
                st.markdown(f"- {line}")

if diagram_tab.open:
    with diagram_tab:
        left, right = st.columns([1, 2])
        with left:
            st.caption("The network collapsed to its stages; edges carry the shape.")
            st.graphviz_chart(charts.stage_chain_dot(stages, p.input_shape[1:]))
        with right:
            chosen = st.selectbox("Expand a stage", [s.name for s in stages], key="net_diagram",
                                  index=min(1, len(stages) - 1))
            st.graphviz_chart(charts.stage_dot(report, chosen))

if checks_tab.open:
    with checks_tab:
        with ui.stop_on_error():
            measured = ui.cache.network_measured(spec, device)
        if measured.agrees:
            st.success("torch confirms every predicted number.", icon="✅")
        else:
            st.error("Some predicted numbers differ from what torch measures.", icon="❌")
        ui.table(check_rows(measured))
        for note in measured.measured.notes if measured.measured else ():
            st.caption(note)

if code_tab.open:
    with code_tab:
        title = preset.title if preset else "Your own network"
        code = codegen.network_script(title, preset.paper if preset else "Built in cnnviz",
                                      f"{spec.name}.py", report.model, spec.input_shape)
        st.caption("A self-contained script: run it and it prints the same output shape and "
                   "parameter count as above.")
        st.download_button(f"⬇️ Download {spec.name}.py", code, file_name=f"{spec.name}.py",
                           mime="text/x-python", key="net_download")
        ui.python_code(code)

"""Plain vs residual: gradient flow, depth, and the degradation problem (He et al. 2016)."""
import streamlit as st

from cnnviz import ui
from cnnviz.core.blocks import REGISTRY
from cnnviz.core.blocks.registry import option_label
from cnnviz.core.errors import InputError
from cnnviz.core.spec import StackSpec
from cnnviz.lessons.glossary import link
from cnnviz.pages import PLAIN_VS_RESIDUAL, STORIES
from cnnviz.render import gradflow_plots as plots
from cnnviz.topics import degradation as dg
from cnnviz.topics import gradflow as gf
from cnnviz.ui.frame import controls

PAGE = PLAIN_VS_RESIDUAL
own = {c.name: c for c in PAGE.own_controls}  # the story and the degradation run's controls
tools = {c.name: c for c in PAGE.tools}


def apply_data():
    """A new data set starts from its own preset (steps, depth and rate that show the effect)."""
    d = dg.PRESETS[st.session_state[own["data"].key]]
    for name, value in (("deep", d.depth), ("shallow", d.shallow_depth), ("steps", d.steps),
                        ("lr", d.lr)):
        st.session_state[own[name].key] = value


def apply_story():
    for name, value in STORIES[st.session_state[own["story"].key]].items():
        st.session_state[PAGE.control(name).key] = value


st.title("Plain vs residual")
st.caption("The same stack twice, from the same seed: with its shortcuts (residual) and "
           "without (plain). One forward and backward pass shows where the gradient dies.")
spec = picked = ui.spec_or_stop()
if not spec.entry.has_skip:
    st.info(f"The **{spec.entry.title}** has no shortcut to switch off, so this page uses "
            f"the ResNet **{REGISTRY['resnet_basic'].title}** with the picker's channels.",
            icon="ℹ️")
    spec = StackSpec.create("resnet_basic", {"in_channels": spec.in_channels})
ctl = controls.of(PAGE)
controls.start(PAGE, spec)
controls.start_own(PAGE)

controls.draw(own["story"], st.selectbox, on_change=apply_story,
              help="Sets the toggles below; change them freely afterwards.")
c = st.columns(4)
depth = controls.draw(ctl["depth"], c[0].slider)
takes = spec.values.keys()  # a toggle the block has no parameter for is greyed out
norm = controls.draw(ctl["norm"], c[1].selectbox, disabled="norm" not in takes,
                     format_func=option_label)
init = controls.draw(ctl["init"], c[2].selectbox, format_func=option_label)
act = controls.draw(ctl["act"], c[3].selectbox, disabled="act" not in takes,
                    format_func=option_label)
c = st.columns(4)
preact = controls.draw(ctl["preact"], c[0].toggle,
                       disabled=spec.block not in gf.PREACT_TWIN,
                       help="The pre-activation ordering (He et al. 2016b, Fig. 4e): "
                            "normalization and activation before each convolution instead of "
                            "after.")
zero = controls.draw(ctl["zero_init_last"], c[1].toggle,
                     disabled="zero_init_last" not in takes,
                     help="Start each residual branch at zero, so each block starts as "
                          "identity (Goyal et al. 2017; Fixup, Zhang et al. 2019).")
loss = controls.draw(ctl["loss"], c[2].radio, horizontal=True,
                     format_func=ctl["loss"].text)
device = ui.current_device()
probe = gf.probe_for(spec, {})  # the batch and size the page probes at
c[3].caption(f"{spec.in_channels}×{probe.height}×{probe.width}, batch {probe.batch}, "
             f"on {device}")
with ui.stop_on_error():
    spec = gf.probe_for(spec, dict(depth=depth, norm=norm, init=init, act=act, preact=preact,
                                   zero_init_last=zero))
    result = ui.cache.gradient_probe(spec, loss, device)
ui.show_overrides(picked, spec)

p, r = result.plain, result.residual
m = st.columns(4)
GRADIENT = ("The first layer's gradient norm ‖∂L/∂W‖ divided by the last layer's: far "
            "below 1, the gradient fades on its way back (it vanishes); far above 1, it "
            "grows. " + link("gradient-norm"))
GROWTH = ("The standard deviation of the last block's output divided by the first "
          "block's: above 1 the forward signal grows with depth, below 1 it fades. The "
          "init and the normalization set it: " + link("initialization") + ", "
          + link("normalization") + ".")
m[0].metric("Plain: gradient, first ÷ last layer", p.headline(), help=GRADIENT)
m[1].metric("Residual: gradient, first ÷ last layer", r.headline(),
            help=GRADIENT + " " + link("shortcut"))
m[2].metric("Plain: output std, last ÷ first block", gf.fmt(p.std_growth), help=GROWTH)
m[3].metric("Residual: output std, last ÷ first block", gf.fmt(r.std_growth),
            help=GROWTH)
for line in gf.story(result):
    st.markdown(line)
weights, inputs, activations = ui.cache.gradient_figures(spec, loss, device)
c = st.columns(2)
c[0].plotly_chart(weights, width="stretch")
c[1].plotly_chart(inputs, width="stretch")
st.plotly_chart(activations, width="stretch")

with st.container(key=PAGE.section("sweep")):  # hidden with its toggle in presenter mode
    st.header("Depth sweep")
    depths = ", ".join(map(str, gf.SWEEP_DEPTHS))
    st.caption(f"The first layer's gradient norm for depths {depths}, with the toggles above.")
    if st.toggle(tools["sweep"].label, key=tools["sweep"].key,
                 help="Seven probes; cached afterwards."):
        bar = st.progress(0.0, "Probing…")
        sweep = gf.depth_sweep(spec, probe=lambda s: ui.cache.gradient_probe(s, loss, device),
                               progress=lambda i, n: bar.progress(i / n, f"{i} of {n} depths done"))
        st.plotly_chart(plots.fig_depth_sweep(sweep["depth"], sweep["plain"], sweep["residual"]),
                        width="stretch")

with st.container(key=PAGE.section("degradation")):
    st.header("Degradation: does the deeper plain stack train worse?")
    st.markdown("He et al. (2016, §4.1, Fig. 1) found that a deeper *plain* network reached a "
                "**higher training error** than a shallower one — even with batch norm, so not "
                "because of vanishing gradients — while with shortcuts the deeper network trained"
                " better (Fig. 4 on ImageNet, Fig. 6 on CIFAR-10). Here on one of two data sets, "
                "both 16×16 and made or shipped locally: synthetic noisy patterns, or real "
                "handwritten digits (scikit-learn's copy of UCI's, enlarged ×2).")
    c = st.columns(6)
    data = controls.draw(own["data"], c[0].selectbox, on_change=apply_data,
                         format_func=own["data"].text)
    cfg = dg.TrainConfig(block=spec.block if spec.block in gf.PREACT_TWIN else "resnet_basic",
                         data=data, optimizer=dg.PRESETS[data].optimizer,
                         depth=controls.draw(own["deep"], c[1].number_input),
                         shallow_depth=controls.draw(own["shallow"], c[2].number_input),
                         steps=controls.draw(own["steps"], c[3].number_input, step=10),
                         lr=controls.draw(own["lr"], c[4].number_input,
                                          format="%.3f"),
                         norm=controls.draw(own["train_norm"], c[5].selectbox,
                                            format_func=option_label))
    st.caption(f"{dg.OPTIMIZER_NAMES[cfg.optimizer]}, batch {cfg.batch}, {cfg.width} channels.")
    if st.button(tools["train"].label, key=tools["train"].key, type="primary"):
        bar, charts = st.progress(0.0, "Training…"), st.columns(2)
        slots = [charts[0].empty(), charts[1].empty()]
        try:
            for run in dg.train_degradation(cfg, device, report_every=max(1, cfg.steps // 15)):
                bar.progress(run.steps[-1] / cfg.steps, f"step {run.steps[-1]} of {cfg.steps}")
                slots[0].plotly_chart(plots.fig_training(run.steps, run.loss, "loss"),
                                      width="stretch")
                slots[1].plotly_chart(plots.fig_training(run.steps, run.accuracy, "accuracy"),
                                      width="stretch")
            st.session_state.gf_trained = run
        except InputError as e:  # the budget: too many steps or too deep
            bar.empty()
            ui.show_error(e)
        finally:
            ui.release_memory()
    elif "gf_trained" in st.session_state:
        run, charts = st.session_state.gf_trained, st.columns(2)
        charts[0].plotly_chart(plots.fig_training(run.steps, run.loss, "loss"), width="stretch")
        charts[1].plotly_chart(plots.fig_training(run.steps, run.accuracy, "accuracy"),
                               width="stretch")
    if "gf_trained" in st.session_state:
        ok, text = st.session_state.gf_trained.verdict()
        (st.success if ok else st.warning)(text)
        st.caption(dg.DEGRADATION_RULE)

"""Plain vs Residual's parts (pages/plain_vs_residual.py): the toggles, the headline ratios,
the gradient figures, the depth sweep and the degradation experiment (He et al. 2016)."""
from __future__ import annotations

from typing import Any

import streamlit as st

from cnnviz.core.blocks.registry import option_label
from cnnviz.core.errors import InputError
from cnnviz.core.spec import StackSpec
from cnnviz.deploy.heavy import release_memory
from cnnviz.lessons.glossary import link
from cnnviz.pages import PLAIN_VS_RESIDUAL, STORIES
from cnnviz.render import gradflow_plots as plots
from cnnviz.topics import degradation as dg
from cnnviz.topics import gradflow as gf
from cnnviz.ui.frame import cache, controls
from cnnviz.ui.frame.widgets import show_error

PAGE = PLAIN_VS_RESIDUAL
own = {c.name: c for c in PAGE.own_controls}  # the story and the degradation run's controls
tools = {c.name: c for c in PAGE.tools}
GRADIENT = ("The first layer's gradient norm ‖∂L/∂W‖ divided by the last layer's: far "
            "below 1, the gradient fades on its way back (it vanishes); far above 1, it "
            "grows. " + link("gradient-norm"))
GROWTH = ("The standard deviation of the last block's output divided by the first "
          "block's: above 1 the forward signal grows with depth, below 1 it fades. The "
          "init and the normalization set it: " + link("initialization") + ", "
          + link("normalization") + ".")


def apply_data():
    """A new data set starts from its own preset (steps, depth and rate that show the effect)."""
    d = dg.PRESETS[st.session_state[own["data"].key]]
    for name, value in (("deep", d.depth), ("shallow", d.shallow_depth), ("steps", d.steps),
                        ("lr", d.lr)):
        st.session_state[own[name].key] = value


def apply_story():
    for name, value in STORIES[st.session_state[own["story"].key]].items():
        st.session_state[PAGE.control(name).key] = value


def toggles(spec: StackSpec, device: str) -> tuple[dict[str, Any], str]:
    """The story and the toggles (the probe's settings by name), and the loss."""
    ctl = controls.of(PAGE)
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
                                "normalization and activation before each convolution "
                                "instead of after.")
    zero = controls.draw(ctl["zero_init_last"], c[1].toggle,
                         disabled="zero_init_last" not in takes,
                         help="Start each residual branch at zero, so each block starts as "
                              "identity (Goyal et al. 2017; Fixup, Zhang et al. 2019).")
    loss = controls.draw(ctl["loss"], c[2].radio, horizontal=True,
                         format_func=ctl["loss"].text)
    probe = gf.probe_for(spec, {})  # the batch and size the page probes at
    c[3].caption(f"{spec.in_channels}×{probe.height}×{probe.width}, batch {probe.batch}, "
                 f"on {device}")
    return dict(depth=depth, norm=norm, init=init, act=act, preact=preact,
                zero_init_last=zero), loss


def headline(result: gf.Comparison) -> None:
    """The first ÷ last gradient ratio and the output std growth, plain and residual."""
    p, r = result.plain, result.residual
    m = st.columns(4)
    m[0].metric("Plain: gradient, first ÷ last layer", p.headline(), help=GRADIENT)
    m[1].metric("Residual: gradient, first ÷ last layer", r.headline(),
                help=GRADIENT + " " + link("shortcut"))
    m[2].metric("Plain: output std, last ÷ first block", gf.fmt(p.std_growth), help=GROWTH)
    m[3].metric("Residual: output std, last ÷ first block", gf.fmt(r.std_growth),
                help=GROWTH)


def figures(spec: StackSpec, loss: str, device: str) -> None:
    """The gradient norms of the weights and of the inputs, and the activations' spread."""
    weights, inputs, activations = cache.gradient_figures(spec, loss, device)
    c = st.columns(2)
    c[0].plotly_chart(weights, width="stretch")
    c[1].plotly_chart(inputs, width="stretch")
    st.plotly_chart(activations, width="stretch")


def depth_sweep(spec: StackSpec, loss: str, device: str) -> None:
    """The first layer's gradient norm over several depths, behind its toggle."""
    with st.container(key=PAGE.section("sweep")):  # hidden with its toggle in presenter mode
        st.header("Depth sweep")
        depths = ", ".join(map(str, gf.SWEEP_DEPTHS))
        st.caption(f"The first layer's gradient norm for depths {depths}, with the toggles above.")
        if st.toggle(tools["sweep"].label, key=tools["sweep"].key,
                     help="Seven probes; cached afterwards."):
            bar = st.progress(0.0, "Probing…")

            def progress(i: int, n: int) -> None:
                bar.progress(i / n, f"{i} of {n} depths done")

            sweep = gf.depth_sweep(
                spec, probe=lambda s: cache.gradient_probe(s, loss, device), progress=progress)
            st.plotly_chart(plots.fig_depth_sweep(sweep["depth"], sweep["plain"],
                                                  sweep["residual"]), width="stretch")


def degradation(spec: StackSpec, device: str) -> None:
    """Train a deep and a shallow plain stack (and their residual twins) and compare."""
    with st.container(key=PAGE.section("degradation")):
        st.header("Degradation: does the deeper plain stack train worse?")
        st.markdown("He et al. (2016, §4.1, Fig. 1) found that a deeper *plain* network "
                    "reached a **higher training error** than a shallower one — even with "
                    "batch norm, so not because of vanishing gradients — while with shortcuts "
                    "the deeper network trained better (Fig. 4 on ImageNet, Fig. 6 on "
                    "CIFAR-10). Here on one of two data sets, both 16×16 and made or shipped "
                    "locally: synthetic noisy patterns, or real handwritten digits "
                    "(scikit-learn's copy of UCI's, enlarged ×2).")
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
                show_error(e)
            finally:
                release_memory()
        elif "gf_trained" in st.session_state:
            run, charts = st.session_state.gf_trained, st.columns(2)
            charts[0].plotly_chart(plots.fig_training(run.steps, run.loss, "loss"), width="stretch")
            charts[1].plotly_chart(plots.fig_training(run.steps, run.accuracy, "accuracy"),
                                   width="stretch")
        if "gf_trained" in st.session_state:
            ok, text = st.session_state.gf_trained.verdict()
            (st.success if ok else st.warning)(text)
            st.caption(dg.DEGRADATION_RULE)


__all__ = ["apply_data", "apply_story", "degradation", "depth_sweep", "figures", "headline",
           "toggles"]

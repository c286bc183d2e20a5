"""Plain vs residual: gradient flow, depth, and the degradation problem (He et al. 2016).

Each part is drawn by cnnviz.ui.analysis.plain_residual."""
import streamlit as st

from cnnviz import ui
from cnnviz.core.blocks import REGISTRY
from cnnviz.core.spec import StackSpec
from cnnviz.pages import PLAIN_VS_RESIDUAL as PAGE
from cnnviz.topics import gradflow as gf
from cnnviz.ui.analysis import plain_residual as parts
from cnnviz.ui.frame import controls

st.title("Plain vs residual")
st.caption("The same stack twice, from the same seed: with its shortcuts (residual) and "
           "without (plain). One forward and backward pass shows where the gradient dies.")
spec = picked = ui.spec_or_stop()
if not spec.entry.has_skip:
    st.info(f"The **{spec.entry.title}** has no shortcut to switch off, so this page uses "
            f"the ResNet **{REGISTRY['resnet_basic'].title}** with the picker's channels.",
            icon="ℹ️")
    spec = StackSpec.create("resnet_basic", {"in_channels": spec.in_channels})
controls.start(PAGE, spec)
controls.start_own(PAGE)

device = ui.current_device()
settings, loss = parts.toggles(spec, device)
with ui.stop_on_error():
    spec = gf.probe_for(spec, settings)
    result = ui.cache.gradient_probe(spec, loss, device)
ui.show_overrides(picked, spec)

parts.headline(result)
for line in gf.story(result):
    st.markdown(line)
parts.figures(spec, loss, device)
parts.depth_sweep(spec, loss, device)
parts.degradation(spec, device)

"""Feature maps: an image through the chosen stack, channel by channel."""
import streamlit as st

from cnnviz import ui
from cnnviz.core.errors import InputError
from cnnviz.pages import FEATURE_MAPS
from cnnviz.render import image_plots as plots
from cnnviz.topics import features
from cnnviz.ui.frame import controls

st.title("Feature maps")
st.caption("What each channel of a block makes of a real image. The weights are random "
           "(the initialisation and seed in the sidebar): the maps show what the "
           "architecture does before any training. A fixed kernel in the first convolution "
           "ties one filter to its map.")
spec = ui.spec_or_stop()
chosen = ui.image_input("fm")
if chosen is None:
    st.stop()
label, data, side = chosen

names = ["random"] + list(features.FILTERS)
ctl = controls.of(FEATURE_MAPS)
cols = st.columns([2, 2])
with cols[0]:
    kernel_name = controls.draw(
        ctl["filter"], st.selectbox,
        format_func=ctl["filter"].text,
        help="replaces the weights of the first convolution that reads the image, in a fresh "
             "copy of the stack; every output channel applies it to the grey image")
with cols[1]:
    block = (controls.draw(ctl["block"], st.slider, high=spec.depth,
                           value=spec.depth) if spec.depth > 1 else 1)
if kernel_name != "random":
    st.caption(features.FILTERS[kernel_name][1])

with ui.stop_on_error("This block cannot take a 3-channel image"):
    base = features.image_spec(spec, side, side)
variants = features.plain_and_residual(base)

ATTENTION_NOTES = {
    "gate": "Squeeze-and-excitation (Hu et al. 2018, §3): the block averages each channel over "
            "the whole image, passes the averages through a small bottleneck and a sigmoid, "
            "and multiplies every channel by its value: channel attention, computed from "
            "this image (random weights: the gate is not trained).",
    "context": "Global context (Cao et al. 2019): one softmax over all pixels weights an "
               "average of the whole map (the lower plot: the weights, summing to 1); a "
               "small transform turns it into one value per channel, added at every pixel.",
}

columns = st.columns(len(variants))
for (title, s), col in zip(variants, columns):
    with col:
        if title:
            st.subheader(title)
        try:
            fm = ui.cache.feature_maps(s, data, block, kernel_name, ui.current_device())
        except InputError as e:
            ui.show_error(e)
            continue
        c, h, w = fm.shapes[-1]
        st.markdown(f"**{ui.safe_text(label)}**, {side}×{side} RGB → block {block}: "
                    f"**{c}×{h}×{w}** (channels × height × width)")
        k = fm.kernel.shape[0]
        note = (f" with dilation {fm.dilation}" if fm.dilation > 1 else "") + \
               (f", stride {fm.stride}" if fm.stride > 1 else "")
        left, right = st.columns(2)
        with left:
            st.plotly_chart(plots.fig_kernel(fm.kernel, f"{k}×{k} kernel{note}"),
                            width="stretch", key=f"fm_kernel_{title}")
        with right:
            st.plotly_chart(plots.fig_map(fm.first_map, "its map (first conv, ch 1)"),
                            width="stretch", key=f"fm_first_{title}")
        st.caption(f"The first convolution is {fm.first_conv}; its channel-1 kernel is "
                   f"shown summed over R, G and B, i.e. as it acts on the grey image.")
        n = len(fm.maps)
        st.plotly_chart(plots.fig_feature_grid(fm.maps, [f"ch {i + 1}" for i in range(n)]),
                        width="stretch", key=f"fm_grid_{title}")
        st.caption(f"The first {n} of {c} channels after block {block}, each on its own "
                   f"colour scale.")
        ui.table([{"channel": i + 1, "mean": round(x.mean, 4), "std": round(x.std, 4),
                   "zeros": f"{x.zeros:.0%}"} for i, x in enumerate(fm.stats)])
        for i, att in enumerate(fm.attention):  # SE gates and GC modules of the shown block
            what = "Squeeze-excitation gate" if att.kind == "gate" else "Global context"
            number = f" {i + 1}" if len(fm.attention) > 1 else ""
            st.plotly_chart(plots.fig_attention(att.values, att.kind,
                                                f"{what}{number} of block {block}"),
                            width="stretch", key=f"fm_att_{title}_{att.module}")
            if att.where is not None:
                st.plotly_chart(plots.fig_map(att.where, "where its average looks (weights)",
                                              diverging=False),
                                width="stretch", key=f"fm_where_{title}_{att.module}")
            st.caption(ATTENTION_NOTES[att.kind])

st.info("A share of zeros near 100% means a channel is dead after its ReLU for this image. "
        "With skip on, each block's input (through the shortcut) is added back to its "
        "output, so residual maps keep more of the picture as the depth grows.", icon="💡")

"""Trained networks: what stacks trained on handwritten digits learned, plain and residual."""
import streamlit as st

from cnnviz import ui
from cnnviz.core.datasets import load_dataset
from cnnviz.pages import TRAINED, TrainedView
from cnnviz.ui.trained import live as trained_live
from cnnviz.ui.trained import views as tr

ui.require_shell()  # a link to this page may be a fresh server's first request
device = ui.current_device()
ui.pixel_pictures()  # the live part's pictures travel small and are drawn large
st.title("🎓 Trained networks")
st.caption("Every other page shows random weights. Here the stacks were trained on real "
           "handwritten digits (scikit-learn's copy of UCI's optical digits, Alpaydin & "
           "Kaynak 1998): what do they answer, where do they look, and what did they learn?")
with st.columns([1.2, 2])[0]:
    nets = tr.choose_pair(device)
test = load_dataset("digits", nets[0].data.size)
st.caption(test.describe())


@st.fragment  # a stroke on the canvas reruns this part only, not the app around it
def live(source: str, number: int) -> None:
    left, *right = st.columns([1.2, 1, 1])
    with left:
        counts, what = tr.read_input(test, source, number)
    trained_live.show(trained_live.look(counts, what, nets, tr.showing_words(what, number)),
                      left, right)


# one view at a time, drawn in the page's flow: a stroke redraws less, and each view fits
# a projector's screen
view = ui.view_choice(TRAINED)
if view is TrainedView.INSIDE:
    live(*tr.choose_source(test))
    st.markdown(trained_live.HOW_TO_READ)
elif view is TrainedView.WEIGHTS:
    tr.show_filters(nets)
    tr.show_channels(nets)
elif view is TrainedView.SPLIT:
    tr.show_test_split(nets)
else:  # Train your own, outside the fragment: Stop (a full rerun) interrupts a training run
    tr.train_panel(ui.sidebar_picker(), device)  # trains the picker's stack

"""What a stroke costs with nothing of cnnviz in it (bench/trained_page_latency.py --floor).

The Trained Networks page's canvas, as drawn there (streamlit-drawable-canvas in a
fragment, its image returned), followed by two metrics and a line of text computed from
the ink: no network, no picture. The time from a stroke to this page's new text is what
the canvas and Streamlit cost on this machine before cnnviz does anything.
"""
import streamlit as st
from streamlit_drawable_canvas import st_canvas

SIDE, STROKE = 224, 30  # as on the Trained Networks page (cnnviz/ui/trained/views.py)


@st.fragment
def live() -> None:
    drawn = st_canvas(stroke_width=STROKE, stroke_color="#000000", background_color="#ffffff",
                      height=SIDE, width=SIDE, drawing_mode="freedraw", key="canvas",
                      return_image_data=True)
    pixels = drawn.image_data
    inked = 0 if pixels is None else int((pixels[..., 0] < 128).sum())
    st.metric("Prediction", str(inked % 10))
    st.metric("Inked pixels", str(inked))
    runs = st.session_state["runs"] = st.session_state.get("runs", 0) + 1
    # the run's number: the text changes on every stroke, even one that inks as many pixels
    st.markdown(f"The networks would read your drawing: {inked} inked pixels (run {runs}).")


live()

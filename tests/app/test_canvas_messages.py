"""The Trained Networks canvas under hostile component messages (issue 29 §1): whatever
the browser side sends for it, the page answers with a sentence or its test image, never
an exception box, and the next message is read as usual."""
from __future__ import annotations

import base64
import io
import json

import numpy as np
from conftest import png_header_only
from PIL import Image
from streamlit.testing.v1 import AppTest


def canvas_script():
    import streamlit as st

    from cnnviz import ui  # noqa: F401  (checks widget values where Streamlit reads them)
    from cnnviz.core.datasets import load_dataset
    from cnnviz.ui.trained import views as tr

    _, what = tr.read_input(load_dataset("digits", 16), "draw", 1)
    st.caption(f"reading: {what}")




def data_url(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def a_one() -> str:
    a = np.full((224, 224, 4), 255, np.uint8)
    a[50:170, 100:124, :3] = 0
    buf = io.BytesIO()
    Image.fromarray(a, "RGBA").save(buf, "PNG")
    return data_url(buf.getvalue())


def send(at: AppTest, text: str) -> AppTest:
    """The canvas's state as its browser side sends it: JSON text, any text."""
    component = at.get("bidi_component")[0].proto.id
    states = at._tree.get_widget_states()
    state = states.widgets.add()
    state.id, state.json_value = component, text
    return at._run(states)


HOSTILE = [
    "not json", "[" * 50_000, json.dumps([1, 2]), json.dumps({"drawing": [1]}),
    json.dumps({"drawing": 7, "backgroundFit": "x"}),
    json.dumps({"drawing": {"data": 5}, "backgroundFit": {"naturalWidth": 1}}),
    json.dumps({"drawing": {"data": "data:text/html;base64,PGI+"}}),
    json.dumps({"drawing": {"data": data_url(png_header_only(60000, 60000))}}),
    json.dumps({"drawing": {"data": "data:image/png;base64," + "A" * 7_000_000}}),
    json.dumps({"drawing": {"data": "data:image/png;base64," + "A" * 9_000_000}}),
]


def test_hostile_canvas_messages_are_sentences_and_a_drawing_still_reads():
    at = AppTest.from_function(canvas_script, default_timeout=60).run()
    assert not at.exception and "reading: test image #1" in at.caption[-1].value
    for text in HOSTILE:
        send(at, text)
        assert not at.exception, (text[:80], [e.value for e in at.exception])
        assert "reading: test image #1" in at.caption[-1].value, text[:80]
        assert len(at.get("bidi_component")) == 1  # the canvas is still there to draw on
    send(at, json.dumps({"drawing": {"raw": {"objects": []}, "data": a_one()},
                         "backgroundFit": None}))
    assert not at.exception and at.caption[-1].value == "reading: your drawing"
    send(at, json.dumps({"drawing": {"data": data_url(png_header_only(60000, 60000))}}))
    assert [e.value for e in at.error] and "megapixels" in at.error[0].value

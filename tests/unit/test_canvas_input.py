"""What a drawing canvas sends is user input: every shape of it ends as None (nothing
drawn), a picture within the upload's limits, or a ValueError with a sentence, checked
before anything is decoded and in bounded memory (issue 29 §1)."""
from __future__ import annotations

import base64
import io
import json
import tracemalloc

import numpy as np
import pytest
from conftest import png_header_only
from PIL import Image

from cnnviz.core import handwriting, images


def data_url(data: bytes, kind: str = "image/png") -> str:
    return f"data:{kind};base64," + base64.b64encode(data).decode("ascii")


def png(side: int = 224, mode: str = "RGBA") -> bytes:
    a = np.full((side, side, len(mode)), 255, np.uint8)
    a[side // 4: 3 * side // 4, side // 2 - 8: side // 2 + 8, :3] = 0  # a "1"
    buf = io.BytesIO()
    Image.fromarray(a.squeeze(), mode).save(buf, "PNG")
    return buf.getvalue()




def drawing(url: object) -> dict:
    return {"drawing": {"raw": {"objects": []}, "data": url}, "backgroundFit": None}


def peak_bytes(call) -> tuple[object, int]:
    """What `call()` returned or raised, and the most memory it held at once."""
    tracemalloc.start()
    try:
        try:
            result: object = call()
        except ValueError as e:
            result = e
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_drawing_is_read_as_rgb_pixels():
    pixels = handwriting.canvas_pixels(drawing(data_url(png())))
    assert pixels is not None and pixels.shape == (224, 224, 3) and pixels.dtype == np.uint8
    assert handwriting.digit_counts(pixels).sum() > 0


@pytest.mark.parametrize("state", [None, {}, {"drawing": None}, drawing(None),
                                   {"backgroundFit": None}])
def test_nothing_sent_is_nothing_drawn(state):
    assert handwriting.canvas_pixels(state) is None


@pytest.mark.parametrize("state, says", [
    ([1, 2], "form"), ("a string", "form"), (7, "form"),
    ({"drawing": [1, 2]}, "form"), ({"drawing": "x"}, "form"), ({"drawing": 5}, "form"),
    (drawing(5), "not as an image"), (drawing(["data:image/png;base64,"]), "not as an image"),
    (drawing({"data": 1}), "not as an image"),
    (drawing("hello"), "base64 data URL"),
    (drawing("data:text/html;base64,PHNjcmlwdD4="), "base64 data URL"),
    (drawing("data:image/png," + "A" * 100), "base64 data URL"),
    (drawing("data:image/png;base64,%%%%"), "not valid base64"),
    (drawing("data:image/png;base64,"), "empty"),
    (drawing(data_url(b"not a png at all")), "not a PNG image"),
    (drawing(data_url(png_header_only(60000, 60000))), "megapixels"),
    (drawing(data_url(png_header_only(0, 10))), "not a PNG image"),
    (drawing(data_url(png_header_only(100, 10000))), "aspect ratio"),
    (drawing(data_url(png()[:300])), "could not be decoded"),
    (drawing(data_url(np.zeros(10).tobytes(), "image/jpeg")), "not a PNG image"),
])
def test_every_other_shape_is_a_sentence(state, says):
    with pytest.raises(ValueError, match=says):
        handwriting.canvas_pixels(state)


def test_a_jpeg_or_a_grey_png_follow_the_same_rule():
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), "white").save(buf, "JPEG")
    with pytest.raises(ValueError, match="not a PNG image"):
        handwriting.canvas_pixels(drawing(data_url(buf.getvalue(), "image/jpeg")))
    grey = handwriting.canvas_pixels(drawing(data_url(png(mode="L"))))
    assert grey is not None and grey.shape == (224, 224, 3)


def test_a_declared_bomb_is_refused_from_its_header_in_little_memory():
    url = data_url(png_header_only(60000, 60000))
    result, peak = peak_bytes(lambda: handwriting.canvas_pixels(drawing(url)))
    assert isinstance(result, ValueError) and "megapixels" in str(result)
    assert peak < 1_000_000, peak  # decoding it would take 14.4 GB


def test_a_50_mb_data_url_is_refused_before_it_is_decoded():
    url = "data:image/png;base64," + "A" * (50 * 10**6)
    result, peak = peak_bytes(lambda: handwriting.canvas_pixels(drawing(url)))
    assert isinstance(result, ValueError) and "the limit is 5 MB" in str(result)
    assert peak < 1_000_000, peak  # no copy, no decoding of the 50 MB


def test_a_data_url_at_the_byte_limit_costs_about_its_size():
    """Just over the upload's 5 MB: refused on its length; within it, decoded once."""
    over = "data:image/png;base64," + "A" * (images.MAX_UPLOAD_BYTES * 4 // 3 + 8)
    with pytest.raises(ValueError, match="the limit is 5 MB"):
        handwriting.canvas_pixels(drawing(over))
    within = "data:image/png;base64," + "A" * ((images.MAX_UPLOAD_BYTES * 4 // 3 - 8) // 4 * 4)
    result, peak = peak_bytes(lambda: handwriting.canvas_pixels(drawing(within)))
    assert isinstance(result, ValueError) and "not a PNG image" in str(result)
    assert peak < 3 * images.MAX_UPLOAD_BYTES, peak


def test_a_large_legal_picture_is_shrunk_before_it_becomes_an_array():
    pixels = handwriting.canvas_pixels(drawing(data_url(png(side=3000, mode="L"))))
    assert pixels is not None and max(pixels.shape[:2]) <= handwriting.READ_SIDE


# --- the message itself, where Streamlit first reads it ---------------------------------

def json_state(text: str):
    from streamlit.proto.WidgetStates_pb2 import WidgetState
    return WidgetState(id="w", json_value=text)


@pytest.mark.parametrize("text", ["not json", "{", "[" * 100_000 + "]" * 100_000,
                                  json.dumps({"drawing": "x" * 9_000_000})])
def test_a_message_that_is_not_json_or_too_long_reads_as_cleared(text):
    from cnnviz.ui.frame import messages
    assert messages.read_widget_value(json_state(text)) is None


def test_a_json_message_reads_as_streamlit_reads_it():
    from cnnviz.ui.frame import messages
    assert messages.read_widget_value(json_state('{"drawing": null}')) == {"drawing": None}
    from streamlit.proto.WidgetStates_pb2 import WidgetState
    assert messages.read_widget_value(WidgetState(id="w", int_value=3)) == 3

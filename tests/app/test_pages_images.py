"""The feature-map and receptive-field pages: AppTest, the upload error path, a real browser."""
import io
import json

import numpy as np
import pytest
import streamlit as st
from conftest import (
    app_test,
    assert_clean,
    goto_page,
    page_file,
    save_screenshot,
    shown,
    wait_rerun,
)
from PIL import Image
from streamlit.testing.v1 import AppTest

FEATURE_MAPS = "pages/feature_maps.py"
RECEPTIVE_FIELD = "pages/receptive_field.py"


@pytest.fixture(autouse=True)
def clear_caches():
    st.cache_data.clear()
    st.cache_resource.clear()


def open_page(path, **query):
    """Open `path` with the picker set through the URL (as a shared link would).

    """
    at = app_test(**query).run()
    at.switch_page(page_file(path)).run()
    return at


def texts(at, kind):
    values = (str(e.value) for e in at.get(kind))
    return " ".join(values if kind == "latex" else map(shown, values))


@pytest.mark.parametrize("path", [FEATURE_MAPS, RECEPTIVE_FIELD])
def test_default_config_renders(path):
    at = open_page(path)
    assert not at.exception and not at.error, [e.value for e in at.error]
    charts = at.get("plotly_chart")
    assert len(charts) >= 6
    json.loads(charts[0].proto.spec)
    if path == FEATURE_MAPS:
        assert "block 1: **16×96×96**" in texts(at, "markdown")
        assert [h.value for h in at.subheader] == ["plain (skip off)", "residual (skip on)"]
    else:
        metrics = {m.label: m.value for m in at.metric}
        assert metrics["Receptive field (theory)"] == "5 × 5"
        assert "r_{out} = r_{in}" in texts(at, "latex")


def test_stride_two_config():
    state = {"p_stride": 2, "depth": 2}
    at = open_page(RECEPTIVE_FIELD, **state)
    assert not at.exception and not at.error
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Receptive field (theory)"] == "15 × 15"  # 3, 7 (j=2), 11, 15
    assert metrics["Jump (input pixels per output step)"] == "2 × 2"
    assert "j = 1\\cdot2 = 2" in texts(at, "latex")
    at = open_page(FEATURE_MAPS, **state)
    assert not at.exception and not at.error
    assert "block 2: **16×48×48**" in texts(at, "markdown")


@pytest.mark.parametrize("path", [FEATURE_MAPS, RECEPTIVE_FIELD])
def test_invalid_config_shows_a_message_not_a_traceback(path):
    at = open_page(path, p_kernel_size=11, p_padding=0, height=4, width=4)
    assert not at.exception
    assert at.error  # the picker's red box says what to change
    assert "Fix the picker" in texts(at, "info")
    assert not at.get("plotly_chart")


def test_filter_choice_and_block_slider():
    at = open_page(FEATURE_MAPS, depth=3)
    at.selectbox(key="fm_filter").set_value("sobel_x").run()
    at.slider(key="fm_block").set_value(2).run()
    assert not at.exception and not at.error
    assert "Sobel x" in texts(at, "caption")
    assert "block 2" in texts(at, "markdown")


def test_feature_maps_show_the_gates_of_a_squeeze_excitation_block():
    at = open_page(FEATURE_MAPS, block="se")
    assert not at.exception and not at.error
    titles = [json.loads(c.proto.spec)["layout"].get("title", {}).get("text", "")
              for c in at.get("plotly_chart")]
    gates = [t for t in titles if t.startswith("Squeeze-excitation gate of block 1")]
    assert len(gates) == 2  # plain and residual, side by side
    assert "Hu et al. 2018" in texts(at, "caption")
    assert "Squeeze-excitation" not in " ".join(titles[:2])  # the kernel comes first


def test_blind_spot_and_shortcut_sections():
    at = open_page(RECEPTIVE_FIELD)
    captions = texts(at, "caption")
    assert "0 future pixels seen" in captions
    titles = [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")
              if "title" in json.loads(c.proto.spec)["layout"]]
    assert any("1 of 4 pixels" in t for t in titles)
    assert any("4 of 4 pixels" in t for t in titles)
    assert "dilations 2, 2, 2: field 13×13" in titles and "dilations 1, 2, 3: field 13×13" in titles
    assert "Reads 49 of the 169 pixels of its field; 120 holes." in captions
    at.slider(key="rf_dilation").set_value(1).run()
    assert "Reads 49 of the 49 pixels of its field; 0 holes." in texts(at, "caption")


def upload_script(data: bytes):
    """Runs the pages' upload check on `data` inside a Streamlit script."""
    from cnnviz.ui import check_upload

    check_upload(data, "test.png")


def encode(fmt):
    buf = io.BytesIO()
    Image.fromarray(np.full((20, 30, 3), 90, np.uint8)).save(buf, fmt)
    return buf.getvalue()


@pytest.mark.parametrize("data, words", [
    (b"not an image" * 10, "not a PNG, JPEG or WebP"),
    (encode("PNG")[:60], "truncated"),
    (b"\x89PNG" + b"\0" * (6 * 2**20), "limit is 5 MB"),
])
def test_page_upload_check_shows_st_error(data, words):
    at = AppTest.from_function(upload_script, args=(data,), default_timeout=30).run()
    assert not at.exception
    assert len(at.error) == 1 and words in shown(at.error[0].value)
    assert "Cannot use test.png" in shown(at.error[0].value)


def test_page_upload_check_accepts_webp():
    at = AppTest.from_function(upload_script, args=(encode("WEBP"),), default_timeout=30).run()
    assert not at.exception and not at.error


# --- the real browser -------------------------------------------------------------------------

def _open(page, url, title):
    goto_page(page, url)  # the root first: a fresh server learns its page list there
    page.get_by_role("link", name=title).first.click()
    wait_rerun(page)


@pytest.mark.browser
def test_browser_pages_and_upload(streamlit_server, browser_page, tmp_path):
    page = browser_page
    _open(page, streamlit_server, "Feature Maps")
    page.get_by_text("plain (skip off)").first.wait_for(timeout=60_000)
    save_screenshot(page, "feature_maps")
    assert_clean(page)

    # upload: a bad file gives st.error, a WebP works
    page.locator('[data-testid="stSelectbox"]').filter(has_text="Image").first.click()
    page.get_by_role("option", name="your own image (upload)").click()
    wait_rerun(page)
    bad = tmp_path / "fake.png"
    bad.write_bytes(b"this is not a png" * 20)
    page.locator('input[type="file"]').set_input_files(str(bad))
    wait_rerun(page)
    page.get_by_text("not a PNG, JPEG or WebP").wait_for(timeout=30_000)
    good = tmp_path / "photo.webp"
    good.write_bytes(encode("WEBP"))
    page.locator('input[type="file"]').set_input_files(str(good))
    wait_rerun(page)
    page.get_by_text("photo.webp").first.wait_for(timeout=60_000)
    page.get_by_text("residual (skip on)").wait_for(timeout=60_000)
    save_screenshot(page, "feature_maps_upload")
    assert_clean(page)

    _open(page, streamlit_server, "Receptive Field")
    page.get_by_text("5 · The downsampling shortcut").wait_for(timeout=60_000)
    save_screenshot(page, "receptive_field")
    assert_clean(page)

"""The Convolution Arithmetic and Cost & Bottlenecks pages: AppTest flows and a real browser.

Expected numbers come from cnnviz (arithmetic, sliding, costs), never from the page.
"""
from __future__ import annotations

import json

import pytest
import streamlit as st
from conftest import app_test, assert_clean, goto_page, page_file, save_screenshot, wait_rerun
from streamlit.testing.v1 import AppTest

from cnnviz.core import arithmetic as ar
from cnnviz.topics import costs, sliding

ARITH, COST = "pages/conv_arithmetic.py", "pages/cost_lab.py"
TIMEOUT_MS = 120_000


def open_page(page: str) -> AppTest:
    st.cache_data.clear()
    st.cache_resource.clear()
    at = app_test().run()
    at.switch_page(page_file(page)).run()
    assert not at.exception
    return at


def texts(elements) -> list[str]:
    return [e.value.strip("$\n") for e in elements]


# --- Convolution Arithmetic ------------------------------------------------------------

def test_arith_default_starts_from_picker_and_hides_answer():
    at = open_page(ARITH)
    # the default block (resnet_basic) has a 3x3 kernel, stride 1, "same" padding 1
    assert at.number_input(key="arith_kernel_size").value == 3
    assert at.number_input(key="arith_padding").value == 1
    assert any("Reveal" in t for t in texts(at.info)) and not at.latex
    fig = json.loads(at.get("plotly_chart")[0].proto.spec)
    h, w = at.number_input(key="arith_height").value, at.number_input(key="arith_width").value
    assert len(fig["frames"]) == ar.conv_out(h, 3, 1, 1) * ar.conv_out(w, 3, 1, 1)


def test_arith_reveal_right_and_wrong_after_changing_geometry():
    at = open_page(ARITH)
    at.number_input(key="arith_height").set_value(7)
    at.number_input(key="arith_width").set_value(6)
    at.number_input(key="arith_kernel_size").set_value(3)
    at.number_input(key="arith_stride").set_value(2)
    at.number_input(key="arith_padding").set_value(0).run()
    h_out, w_out = ar.conv_out(7, 3, 2, 0), ar.conv_out(6, 3, 2, 0)  # 3 and 2
    at.number_input(key="arith_guess_h").set_value(h_out)
    at.number_input(key="arith_guess_w").set_value(w_out + 2)
    at.button(key="arith_reveal").click().run()
    assert not at.exception
    assert any(f"H_out = {h_out}: right" in t for t in texts(at.success))
    assert any(f"W_out = {w_out}; you said {w_out + 2}" in t and "100.0% off" in t
               for t in texts(at.warning))
    assert texts(at.latex)[0] == ar.conv_out_latex(7, 3, 2, 0, 1, "H")
    # changing the geometry hides the answer again until the next reveal
    at.number_input(key="arith_stride").set_value(1).run()
    assert not at.latex and not at.success


def test_arith_transposed_reveal_shows_zero_insertion_steps():
    at = open_page(ARITH)
    at.radio(key="arith_mode").set_value("transposed").run()
    at.number_input(key="arith_stride").set_value(2)
    at.number_input(key="arith_output_padding").set_value(1).run()
    at.button(key="arith_reveal").click().run()
    h = at.number_input(key="arith_height").value
    steps = ar.transposed_steps_latex(h, 3, 2, 1, 1, 1)
    assert set(steps) <= set(texts(at.latex)) and not at.exception


def test_arith_one_output_by_hand_hidden_then_written_out():
    at = open_page(ARITH)
    at.number_input(key="arith_ws_seed").set_value(2)
    at.number_input(key="arith_ws_row").set_value(2)
    at.number_input(key="arith_ws_col").set_value(3).run()
    value = int(sliding.hand_sum(2).output[1, 2])
    assert not at.latex and not any(f"= {value}" in t for t in texts(at.caption))
    at.number_input(key="arith_hand_guess").set_value(value)
    at.button(key="arith_hand_reveal").click().run()
    assert not at.exception
    assert any(f"output (2, 3) = {value}: right" in t for t in texts(at.success))
    assert texts(at.latex)[-1].endswith(f"= {value}")
    assert any(f"conv2d on the same numbers gives {value}" in t for t in texts(at.caption))
    at.number_input(key="arith_ws_col").set_value(1).run()  # another output: hidden again
    assert not at.latex


def test_arith_invalid_config_is_an_error_not_an_exception():
    at = open_page(ARITH)
    at.number_input(key="arith_height").set_value(2)
    at.number_input(key="arith_padding").set_value(0)
    at.number_input(key="arith_kernel_size").set_value(5).run()
    assert not at.exception
    assert any("does not fit" in t for t in texts(at.error))
    at.radio(key="arith_mode").set_value("max pool").run()
    at.number_input(key="arith_kernel_size").set_value(2)
    at.number_input(key="arith_padding").set_value(2).run()
    assert any("half" in t for t in texts(at.error)) and not at.exception


# --- Cost & Bottlenecks -------------------------------------------------------------------

def test_cost_default_is_seed_001_and_reveal_right():
    at = open_page(COST)
    assert not at.latex and any("Reveal" in t for t in texts(at.info))
    at.number_input(key="cost_guess_params").set_value(256 * 32 + 32 * 128 * 25)
    at.number_input(key="cost_guess_macs").set_value(86_704_128)
    at.button(key="cost_reveal").click().run()
    assert any("MACs = 86,704,128: right" in t for t in texts(at.success))
    assert any("torch confirms every count" in t for t in texts(at.success))
    assert at.metric[0].value == "86.5%"
    assert "642{,}252{,}800" in texts(at.latex)[0]


def test_cost_wrong_guess_and_changed_numbers():
    at = open_page(COST)
    at.number_input(key="cost_bottleneck_kernel_size").set_value(3).run()
    expected = costs.bottleneck(256, 128, 28, 3, 32).designs[1]
    at.number_input(key="cost_guess_macs").set_value(expected.macs // 2)
    at.button(key="cost_reveal").click().run()
    assert any(f"MACs = {expected.macs:,}" in t and "50.0% off" in t for t in texts(at.warning))
    at.radio(key="cost_topic").set_value("grouped conv").run()
    at.select_slider(key="cost_grouped_groups").set_value(16).run()
    assert not at.exception and len(at.get("plotly_chart")) == 1


def test_cost_invalid_config_is_an_error():
    at = open_page(COST)
    at.number_input(key="cost_bottleneck_kernel_size").set_value(4).run()
    assert not at.exception and any("odd kernel" in t for t in texts(at.error))


# --- a real browser -------------------------------------------------------------------------

def _open_via_nav(page, url: str, title: str) -> None:
    """Open the app at / and click the page's sidebar link, as a user does (a deep URL makes
    Streamlit probe <page>/_stcore/* first, which logs 404s that are not ours)."""
    goto_page(page, url, TIMEOUT_MS)
    page.locator('[data-testid="stSidebarNavLink"]').filter(has_text=title).click()
    wait_rerun(page, TIMEOUT_MS)


def _set_number(page, label: str, value: int) -> None:
    field = page.get_by_label(label, exact=True)
    field.fill(str(value))
    field.press("Enter")
    wait_rerun(page, TIMEOUT_MS)


@pytest.mark.browser
def test_browser_arith_page(streamlit_server, browser_page):
    page = browser_page
    _open_via_nav(page, streamlit_server, "Convolution Arithmetic")
    page.get_by_text("Checkerboard artifacts").wait_for()
    save_screenshot(page, "arith-default")
    _set_number(page, "input H", 9)
    _set_number(page, "stride s", 2)
    page.get_by_role("button", name="Reveal", exact=True).click()
    wait_rerun(page, TIMEOUT_MS)
    h_out = ar.conv_out(9, page_value(page, "kernel k"), 2, page_value(page, "padding p"))
    page.get_by_text(f"H_out = {h_out}; you said 0").wait_for(timeout=TIMEOUT_MS)
    save_screenshot(page, "arith-revealed")
    page.get_by_role("button", name="Reveal the sum").click()  # one output by hand
    wait_rerun(page, TIMEOUT_MS)
    value = int(sliding.hand_sum(2).output[0, 0])  # the page starts at numbers 2
    page.get_by_text(f"conv2d on the same numbers gives {value}").wait_for(timeout=TIMEOUT_MS)
    save_screenshot(page, "arith-by-hand")
    assert_clean(page)


def page_value(page, label: str) -> int:
    return int(page.get_by_label(label, exact=True).input_value())


@pytest.mark.browser
def test_browser_cost_page(streamlit_server, browser_page):
    page = browser_page
    _open_via_nav(page, streamlit_server, "Cost & Bottlenecks")
    page.get_by_text("Your prediction", exact=True).wait_for(timeout=TIMEOUT_MS)
    save_screenshot(page, "cost-default")
    _set_number(page, "bottleneck channels", 64)
    page.get_by_role("button", name="Reveal").click()
    wait_rerun(page, TIMEOUT_MS)
    macs = costs.bottleneck(256, 128, 28, 5, 64).designs[1].macs
    page.get_by_text(f"MACs = {macs:,}; you said 0").wait_for(timeout=TIMEOUT_MS)
    page.get_by_text("torch confirms every count").wait_for()
    save_screenshot(page, "cost-revealed")
    assert_clean(page)

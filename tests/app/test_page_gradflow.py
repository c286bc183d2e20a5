"""The Plain vs Residual page: AppTest flows through app.py and one real browser."""
from __future__ import annotations

import base64
import json
import threading

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
from streamlit.testing.v1 import AppTest

from cnnviz.core.blocks import REGISTRY
from cnnviz.pages import PLAIN_VS_RESIDUAL

PAGE = "pages/plain_vs_residual.py"


def _ys(chart) -> list:
    """The y arrays of a plotly chart element (plain lists or base64 'bdata')."""
    out = []
    for trace in json.loads(chart.proto.spec)["data"]:
        y = trace.get("y")
        if isinstance(y, dict) and "bdata" in y:
            y = np.frombuffer(base64.b64decode(y["bdata"]), dtype=y["dtype"]).tolist()
        out.append(y)
    return out


@pytest.fixture
def at() -> AppTest:
    st.cache_data.clear()
    st.cache_resource.clear()
    app = app_test(timeout=240).run()
    app.session_state["gf_depth"] = 6  # small: a quick first probe
    app.switch_page(page_file(PAGE)).run()
    assert not app.exception
    return app


def test_depth_and_norm_change_the_charts(at):
    charts = at.get("plotly_chart")
    assert len(charts) == 3
    assert len(_ys(charts[0])[0]) == 12  # 6 blocks x 2 convs, plain
    ratio = at.metric[0].value
    at.slider(key="gf_depth").set_value(10).run()
    assert not at.exception
    assert len(_ys(at.get("plotly_chart")[0])[0]) == 20
    assert at.metric[0].value != ratio
    at.selectbox(key="gf_norm").set_value("batch").run()
    assert not at.exception
    assert len(at.get("plotly_chart")) == 3
    at.selectbox(key="gf_story").set_value(
        "Exploding forward signal: no norm, Kaiming init").run()
    assert at.selectbox(key="gf_init").value == "kaiming_out"
    assert any("Forward" in m.value for m in at.markdown)


def test_a_student_waiting_for_a_heavy_slot_sees_their_place_then_the_result(at):
    """Every heavy slot held by other work: a cache miss waits in line, the page says where
    this student stands (through the shell's wait display), and when the slots free up the
    note goes and the charts come, with no cached replay of the note afterwards."""
    from cnnviz.deploy import heavy as hv

    shown_places: list[int | None] = []
    display = hv._wait_display
    hv.set_wait_display(lambda place: (shown_places.append(place), display(place)))
    release, held = threading.Event(), threading.Barrier(hv.SLOTS.size + 1)

    def hold() -> None:
        with hv.SLOTS.hold():
            held.wait()
            release.wait(30)

    holders = [threading.Thread(target=hold) for _ in range(hv.SLOTS.size)]
    try:
        for t in holders:
            t.start()
        held.wait()
        threading.Timer(1.5, release.set).start()
        at.slider(key="gf_depth").set_value(7).run()  # a depth nobody computed yet
    finally:
        release.set()
        hv.set_wait_display(display)
        for t in holders:
            t.join()
    assert not at.exception
    assert shown_places[0] == 1 and shown_places[-1] is None
    assert len(at.get("plotly_chart")) == 3
    assert not [i for i in at.info if "in the queue" in i.value]
    at.slider(key="gf_depth").set_value(6).run()
    at.slider(key="gf_depth").set_value(7).run()  # now a cache hit: nothing to wait for
    assert not [i for i in at.info if "in the queue" in i.value]
    assert len(at.get("plotly_chart")) == 3


def test_the_story_and_degradation_controls_start_from_the_page_spec(at):
    """The page draws its own controls from PageSpec: their keys and starting values."""
    for c in PLAIN_VS_RESIDUAL.own_controls:
        widget = at.selectbox(key=c.key) if c.choices else at.number_input(key=c.key)
        assert widget.value == c.default, c.name


def test_depth_sweep_toggle_adds_a_chart(at):
    at.toggle(key="gf_sweep").set_value(True).run()
    assert not at.exception
    charts = at.get("plotly_chart")
    assert len(charts) == 4
    plain = _ys(charts[3])[0]
    assert len(plain) == 7 and plain[0] is not None


def test_training_button_draws_curves_and_a_verdict(at):
    at.number_input(key="gf_t_depth").set_value(3)
    at.number_input(key="gf_t_shallow").set_value(1)
    at.number_input(key="gf_t_steps").set_value(10)
    at.button(key="gf_train").click().run()
    assert not at.exception
    charts = at.get("plotly_chart")
    assert len(charts) == 5
    curves = _ys(charts[3])
    assert len(curves) == 3 and all(len(y) >= 1 for y in curves)
    verdict = [e.value for e in at.success] + [e.value for e in at.warning]
    assert any("Degradation" in v for v in verdict)


@pytest.mark.browser
def test_page_in_a_browser(streamlit_server, browser_page):
    page = browser_page
    goto_page(page, f"{streamlit_server}/plain_vs_residual", timeout=180_000)
    page.get_by_text("Plain vs residual").first.wait_for()
    assert page.locator(".js-plotly-plot").count() >= 3
    value = page.locator('[data-testid="stMain"] [data-testid="stSliderThumbValue"]').first
    assert value.inner_text() == "30"
    slider = page.locator('[data-testid="stMain"] [data-testid="stSlider"] '
                          'input[type="range"]').first
    slider.focus()
    slider.press("ArrowLeft")  # depth 30 -> 29
    wait_rerun(page, timeout=180_000)
    assert value.inner_text() == "29"
    page.get_by_text("Weight-gradient norm per layer").first.wait_for()
    assert page.locator(".js-plotly-plot").count() >= 3
    save_screenshot(page, "plain_vs_residual")
    assert_clean(page)


def test_the_blocks_slider_and_the_pickers_channels_meet_the_budget():
    """?p_in_channels=128&p_out_channels=128 with Blocks at 200 once ran 115 s to 4.6 GB."""
    st.cache_data.clear()
    app = app_test(timeout=120, p_in_channels="128", p_out_channels="128").run()
    app.session_state["gf_depth"] = 200
    app.switch_page(page_file(PAGE)).run()
    assert not app.exception
    errors = [shown(e.value) for e in app.error]
    assert len(errors) == 1 and "live limit" in errors[0] and "Reduce the depth" in errors[0]
    assert not app.get("plotly_chart")  # nothing was run
    app.slider(key="gf_depth").set_value(4).run()  # within the budget again: the charts
    assert not app.exception and not app.error and len(app.get("plotly_chart")) == 3


def test_training_too_long_is_refused_with_what_to_reduce(at):
    at.number_input(key="gf_t_depth").set_value(60)
    at.number_input(key="gf_t_steps").set_value(1000)
    at.button(key="gf_train").click().run()
    assert not at.exception
    assert any("Training three stacks for 1000 steps" in shown(e.value) for e in at.error)


@pytest.mark.parametrize("block", sorted(REGISTRY))
def test_every_block_opens_plain_vs_residual(block):
    """Blocks without some toggle's parameter (convmixer has no zero_init_last) once crashed
    the page; now those toggles are greyed out and the block keeps its own value."""
    app = app_test(timeout=120, block=block).run()
    app.session_state["gf_depth"] = 3
    app.switch_page(page_file(PAGE)).run()
    assert not app.exception, block
    assert app.get("plotly_chart") or app.error or app.info, block


def test_the_degradation_experiment_runs_on_the_digits_too(at):
    at.selectbox(key="gf_t_data").set_value("digits").run()
    assert at.number_input(key="gf_t_depth").value == 12  # the digits' own preset
    assert at.number_input(key="gf_t_steps").value == 200
    assert any("AdamW" in c.value for c in at.caption)
    at.number_input(key="gf_t_depth").set_value(3)
    at.number_input(key="gf_t_shallow").set_value(1)
    at.number_input(key="gf_t_steps").set_value(10)
    at.button(key="gf_train").click().run()
    assert not at.exception and not at.error
    verdict = [e.value for e in at.success] + [e.value for e in at.warning]
    assert any("Degradation" in v for v in verdict)


def test_the_sidebar_says_which_of_its_values_the_page_replaces(at):
    """The picker says depth 1 and batch 1; the page runs its own depth at batch 4: the
    sidebar says so (as escaped text), and follows the page's slider."""
    def shown() -> str:
        return " ".join(i.value for i in at.sidebar.info).replace("\\", "")

    assert "Depth (blocks) 1 → 6" in shown() and "Batch 1 → 4" in shown(), shown()
    at.slider(key="gf_depth").set_value(7).run()
    assert "Depth (blocks) 1 → 7" in shown()

"""The Trained Networks page: AppTest flows through app.py, and a real browser with a mouse
drawing on the canvas."""
from __future__ import annotations

import threading
import time

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
from support_server import draw_strokes

from cnnviz.core.datasets import load_dataset
from cnnviz.deploy.heavy import TRAINING_SLOTS
from cnnviz.pages import TrainedView, labels
from cnnviz.topics import learned

PAGE = "pages/trained.py"


def open_page(view: str | None = None, **query: str) -> AppTest:
    st.cache_data.clear()
    at = app_test(timeout=240, **query).run()
    at.switch_page(page_file(PAGE)).run()
    if view:  # a view beyond the first, chosen as a click would (its URL: browser tests)
        at.session_state["view"] = view
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def image_captions(at: AppTest) -> list[str]:
    return [image.caption for element in at.get("image") for image in element.proto.imgs]


def predictions(at: AppTest) -> list[str]:
    return [m.value for m in at.metric if m.label == "Prediction"]


def test_the_page_opens_on_the_pair_where_shortcuts_make_a_difference():
    records = learned.shipped()
    gaps = {pair: records[residual]["test_accuracy"] - records[plain]["test_accuracy"]
            for pair, (plain, residual) in learned.PAIRS.items()}
    best = max(gaps, key=gaps.get)
    assert gaps[best] > 0 and learned.opening_pair() == best  # depth 12: 97.33% vs 99.33%
    at = open_page()
    assert at.selectbox(key="tr_pair").value == best
    plain, residual = (f"{records[n]['test_accuracy']:.2%}" for n in learned.PAIRS[best])
    assert f"Test accuracy: plain, depth 12: {plain} · residual, depth 12: {residual}" in [
        c.value for c in at.caption]
    at.selectbox(key="tr_pair").set_value("depth 4").run()  # equal scores: said so
    assert any("here the shortcuts do not change the accuracy" in c.value for c in at.caption)


def test_the_first_view_answers_for_a_test_image_until_something_is_drawn():
    at = open_page()
    test = load_dataset("digits", 16)
    truth = str(int(test.y_test[0]))
    assert predictions(at) == [truth, truth]  # plain and residual of the opening pair
    assert any("Nothing drawn yet" in c.value for c in at.caption)
    assert [c.value for c in at.caption].count("Showing test image 1") == 2
    assert at.number_input(key="tr_image").disabled  # drawing is the default input
    assert any("1,347 training and 450 test images" in c.value for c in at.caption)
    tables = [m.value for m in at.markdown if m.value.startswith("| class | probability")]
    assert len(tables) == 2 and all(t.count("\n|") == 11 for t in tables)  # ten classes


def test_another_test_image_changes_the_answer():
    at = open_page()
    at.radio(key="tr_source").set_value("test").run()
    test = load_dataset("digits", 16)
    plain = learned.PAIRS[learned.opening_pair()][0]
    wrong = learned.test_results(*(lambda r: (r.model(), learned.run_data(r)))(
        learned.shipped_run(plain))).mistakes[0]
    at.number_input(key="tr_image").set_value(int(wrong) + 1).run()
    assert not at.exception
    said = predictions(at)
    assert said[0] != str(int(test.y_test[wrong]))  # the plain stack's known mistake
    assert any(f"test image #{wrong + 1}," in caption for caption in image_captions(at))
    assert f"Showing test image {wrong + 1}" in [c.value for c in at.caption]


def test_every_view_draws_without_an_error():
    for view in labels(TrainedView):
        at = open_page(view)
        assert not at.error, (view, [e.value for e in at.error])
    at = open_page("Test split")
    accuracy = [m.value for m in at.metric if m.label == "Test accuracy"]
    assert accuracy == [f"{learned.shipped()[n]['test_accuracy']:.2%}"
                        for n in learned.PAIRS[learned.opening_pair()]]
    assert len(at.get("plotly_chart")) == 6  # confusion, curves and gradients, twice


def test_the_deep_pair_and_a_channels_top_images():
    at = open_page("Filters and channels")
    at.selectbox(key="tr_pair").set_value("depth 12").run()
    assert at.number_input(key="tr_block").value == 12
    at.number_input(key="tr_channel").set_value(17).run()
    assert any("Channel 17 does not exist: this block has 16" in shown(e.value)
               for e in at.error)


def test_train_your_own_then_look_inside():
    at = open_page("Train your own", depth="1", p_in_channels="8", p_out_channels="8")
    at.selectbox(key="tr_size").set_value(8)
    at.number_input(key="tr_epochs").set_value(2)
    at.button(key="tr_train").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="tr_pair").value == "yours"
    titles = [shown(m.value) for m in at.markdown if shown(m.value).startswith("**yours: ")]
    assert titles[:2] == ["**yours: plain basic block ×1**",
                          "**yours: residual basic block ×1**"]
    assert len(predictions(at)) == 2  # the page went on to look inside them
    at.segmented_control(key="view").set_value("Train your own")
    at.run()
    assert [m.label for m in at.metric if "test accuracy" in m.label] == [
        "yours: plain basic block ×1: test accuracy",
        "yours: residual basic block ×1: test accuracy"]


def test_the_picker_is_drawn_only_in_the_view_that_trains_it():
    at = open_page(block="vgg", depth="2")
    assert not [w for w in at.selectbox if w.key == "pick_block"]
    at.segmented_control(key="view").set_value("Train your own")
    at.run()
    assert at.sidebar.selectbox(key="pick_block").value == "vgg"
    assert at.sidebar.number_input(key="pick_depth").value == 2
    assert any("VGG block ×2" in c.value for c in at.caption)  # what Train would train


def test_training_over_the_budget_is_a_sentence_and_runs_nothing():
    at = open_page("Train your own", depth="40", p_in_channels="32", p_out_channels="32")
    at.selectbox(key="tr_size").set_value(32).run()
    errors = [shown(e.value) for e in at.error]
    assert errors and ("live limit" in errors[0] or "at most" in errors[0])
    assert not [b for b in at.button if b.key == "tr_train"]


def test_a_waiting_student_sees_their_place_in_the_queue():
    """Both training slots held elsewhere: the page says where this student stands."""
    release = threading.Event()
    holders = [threading.Thread(target=lambda: _hold(release)) for _ in
               range(TRAINING_SLOTS.size)]
    for t in holders:
        t.start()
    try:
        at = open_page("Train your own", depth="1", p_in_channels="8", p_out_channels="8")
        at.number_input(key="tr_epochs").set_value(1)
        threading.Timer(2.0, release.set).start()
        at.button(key="tr_train").click().run()
        assert not at.exception
        assert at.selectbox(key="tr_pair").value == "yours"
    finally:
        release.set()
        for t in holders:
            t.join()


def _hold(release: threading.Event) -> None:
    with TRAINING_SLOTS.hold():
        release.wait(30)


# --- a real browser ---------------------------------------------------------------------

SEVEN = [[(0.25, 0.2), (0.75, 0.2), (0.45, 0.85)]]
ONE = [[(0.5, 0.15), (0.5, 0.85)]]


@pytest.mark.browser
def test_drawing_with_the_mouse_changes_the_prediction(streamlit_server, browser_page):
    page = browser_page
    goto_page(page, f"{streamlit_server}/trained", timeout=180_000)
    page.get_by_text("Nothing drawn yet").first.wait_for()
    metrics = page.locator('[data-testid="stMetricValue"]')
    first = metrics.all_inner_texts()
    draw_strokes(page, SEVEN)
    wait_rerun(page, timeout=60_000)
    page.get_by_text("your drawing").first.wait_for()
    seven = metrics.all_inner_texts()
    assert seven[:2] == ["7", "7"] and seven != first
    save_screenshot(page, "trained_seven")
    page.get_by_role("button", name="Reset canvas & history").click()
    wait_rerun(page, timeout=60_000)
    draw_strokes(page, ONE)
    wait_rerun(page, timeout=60_000)
    assert metrics.all_inner_texts()[:2] != seven[:2]
    assert_clean(page)


@pytest.mark.browser
def test_the_views_open_from_the_url_and_write_it(streamlit_server, browser_page):
    """A link opens its view; choosing another one draws it and puts it in the URL."""
    page = browser_page
    goto_page(page, f"{streamlit_server}/trained?view=Test+split", timeout=180_000)
    page.get_by_text("Test accuracy").first.wait_for()
    assert page.locator('[data-testid="stMetricValue"]').count() >= 2
    assert page.locator("canvas.upper-canvas").count() == 0  # Look inside is not drawn
    views = page.get_by_role("radiogroup", name="View")
    assert views.get_by_role("radio", checked=True).inner_text() == "Test split"
    views.get_by_role("radio", name="Filters and channels").click()
    wait_rerun(page, timeout=60_000)
    page.get_by_text("The first layer's filters").first.wait_for()
    assert "view=Filters+and+channels" in page.url, page.url
    # the Test split's metrics are gone (the pair's caption above the views stays)
    assert page.locator('[data-testid="stMetricLabel"]', has_text="Test accuracy").count() == 0
    save_screenshot(page, "trained_filters_view")
    assert_clean(page)


@pytest.mark.browser
def test_stop_ends_a_training_and_frees_its_slot(streamlit_server, browser_page):
    page = browser_page
    goto_page(page, f"{streamlit_server}/trained?view=Train+your+own&depth=4",
              timeout=180_000)
    page.get_by_role("button", name="Train", exact=True).click()
    page.get_by_text("Training plain").first.wait_for(timeout=60_000)
    started = time.monotonic()
    page.get_by_role("button", name="Stop").click()
    page.get_by_text("Training stopped before it finished").first.wait_for(timeout=30_000)
    wait_rerun(page)
    assert time.monotonic() - started < 10
    # the slot is free again: a new training starts at once, with no queue
    page.get_by_role("button", name="Train", exact=True).click()
    page.get_by_text("Training plain").first.wait_for(timeout=30_000)
    assert page.get_by_text("in the queue").count() == 0
    page.get_by_role("button", name="Stop").click()
    wait_rerun(page)
    assert_clean(page)


@pytest.mark.browser
def test_a_closed_tabs_training_stops_and_frees_its_slot(streamlit_server, browser):
    """A student closes the tab mid-training: another student's training starts at once,
    not after the abandoned one would have finished."""
    from conftest import VIEWPORT, watched_page
    url = f"{streamlit_server}/trained?view=Train+your+own&depth=8"
    first = browser.new_context(viewport=VIEWPORT)
    page = watched_page(first)
    goto_page(page, url, timeout=180_000)
    page.get_by_role("button", name="Train", exact=True).click()
    page.get_by_text("Training plain").first.wait_for(timeout=60_000)
    first.close()  # the tab is gone; its session lingers on the server
    second = browser.new_context(viewport=VIEWPORT)
    try:
        other = watched_page(second)
        goto_page(other, url.replace("depth=8", "depth=1"), timeout=180_000)
        started = time.monotonic()
        other.get_by_role("button", name="Train", exact=True).click()
        other.get_by_text("Training plain").first.wait_for(timeout=30_000)
        assert time.monotonic() - started < 8  # depth 8 alone trains for far longer
        other.get_by_role("button", name="Stop").click()
        wait_rerun(other)
        assert_clean(other)
    finally:
        second.close()

"""Lessons in a real Chromium: every step of every lesson opens with no console error and its
state in the picker (or the page's URL), Next walks the lesson across pages, and presenter
mode at 1280×720 hides the sidebar, keeps the type large and follows the arrow keys.
"""
from __future__ import annotations

import re

import pytest
from conftest import APP_IDLE, assert_clean, goto_page, save_screenshot, watched_page
from support_server import SKELETON

from cnnviz.lessons import Lesson, Step, load_lessons
from cnnviz.pages import PAGES
from cnnviz.ui.frame.picker import block_label, url_values
from cnnviz.ui.lessons.presenter import BODY_PX, CHART_PX

pytestmark = pytest.mark.browser

TIMEOUT = 120_000  # ms; a cold page builds and measures torch modules
LESSONS = load_lessons().lessons
PANEL = ".st-key-lesson_panel"
DRAWN_BY_VIEW = ("trained",)  # pages that draw the picker only in one of their views
PROJECTOR = {"width": 1280, "height": 720}


def wait_step(page, lesson: Lesson, number: int) -> None:
    """Wait until the panel shows step `number` and the page has finished its run."""
    page.locator(PANEL).get_by_text(f"step {number} of {len(lesson.steps)}",
                                    exact=False).wait_for(timeout=TIMEOUT)
    page.wait_for_selector(APP_IDLE, timeout=TIMEOUT)  # the step's run has drawn its panel
    page.wait_for_selector(SKELETON, state="detached", timeout=TIMEOUT)


def assert_state_shown(page, step: Step) -> None:
    """The picker (or, on the Networks page, the URL the page reads) shows the step's state."""
    info = PAGES[step.page]
    if info.takes_stack and step.page in DRAWN_BY_VIEW and "Train" not in page.url:
        # the picker is drawn in Train your own only; elsewhere the URL keeps its stack
        for name, value in url_values(step.state.stack).items():
            assert f"{name}={value}" in page.url, (name, value, page.url)
    elif info.takes_stack:
        spec = step.state.stack
        sidebar = page.locator('[data-testid="stSidebar"]')
        block = sidebar.get_by_label("Block", exact=True).input_value()  # "Family · title"
        assert block == block_label(spec.block), (block, spec.block)
        depth = sidebar.get_by_label("Depth (blocks)", exact=True).input_value()
        assert depth == str(spec.depth)
    for name, value in step.state.resolved().items():
        control = info.all_controls(step.state.resolved())[name]
        if control.in_url:
            assert f"{control.key}={value}" in page.url


@pytest.mark.parametrize("lesson", LESSONS, ids=[lesson.name for lesson in LESSONS])
def test_every_step_opens_cleanly_with_its_state(streamlit_server, browser_page, lesson):
    page = browser_page
    goto_page(page, f"{streamlit_server}/{lesson.url(1)}", TIMEOUT)
    for step in lesson.steps:
        wait_step(page, lesson, step.number)
        assert PAGES[step.page].url_path in page.url
        assert_state_shown(page, step)
        assert_clean(page)
        if step.number == 1:
            save_screenshot(page, f"lesson-{lesson.name}-1")
        if step.number < len(lesson.steps):
            page.locator(".st-key-lesson_next button").click()
    page.locator(".st-key-lesson_finish button").click()
    page.get_by_text("Your answers:", exact=False).wait_for(timeout=TIMEOUT)
    assert_clean(page)


def _font_px(locator) -> float:
    return float(locator.evaluate("e => getComputedStyle(e).fontSize").removesuffix("px"))


def test_presenter_mode_on_a_projector(streamlit_server, browser):
    lesson = next(x for x in LESSONS if x.name == "output_size")
    context = browser.new_context(viewport=PROJECTOR)
    page = watched_page(context)
    try:
        goto_page(page, f"{streamlit_server}/{lesson.url(1)}&present=1", TIMEOUT)
        wait_step(page, lesson, 1)
        assert_clean(page)
        assert not page.locator('[data-testid="stSidebar"]').is_visible()
        # the step's own text (the room's row above it has its own, smaller type)
        body = page.locator(f"{PANEL} [data-testid='stMarkdownContainer'] p",
                            has_text="window slides over").first
        assert _font_px(body) >= 20 and BODY_PX >= 20
        page_text = page.locator('[data-testid="stMain"] [data-testid="stCaptionContainer"]')
        assert min(_font_px(page_text.nth(i)) for i in range(page_text.count())) >= 14
        # the step sets the operation; the page's own geometry, guess and reveal are hidden
        assert page.locator(".st-key-arith_mode").is_visible()
        for hidden in ("arith_height", "arith_guess_h", "arith_reveal"):
            assert not page.locator(f".st-key-{hidden}").is_visible(), hidden
        assert page.locator(".st-key-arith_slide").count() == 1  # the step's figure stays
        assert not page.locator(".st-key-arith_cb").is_visible()  # the other one does not
        assert page.locator(".st-key-lesson_next button").bounding_box()["height"] >= 50
        ticks = page.locator(".st-key-arith_slide .js-plotly-plot :is(.xtick, .ytick) text")
        assert ticks.count() and min(_font_px(ticks.nth(i)) for i in range(ticks.count())) \
            >= CHART_PX >= 18  # readable from the back of the room
        bars = page.locator(".st-key-arith_slide .modebar-container")  # drawn, shown on hover
        assert bars.count() and all(bars.nth(i).evaluate("e => getComputedStyle(e).display")
                                    == "none" for i in range(bars.count()))  # no toolbar
        save_screenshot_viewport(page, "presenter-output_size-1")

        # the page could show the answer: it is blurred until the reveal, the panel is not
        assert _blurred(page, ".st-key-arith_mode") and not _blurred(page, PANEL)
        page.locator(f"{PANEL} button", has_text="Reveal").click()
        page.get_by_text("The answer is 3", exact=False).wait_for(timeout=TIMEOUT)
        page.wait_for_selector(APP_IDLE, timeout=TIMEOUT)  # the run's end removes the veil
        assert not _blurred(page, ".st-key-arith_mode")
        save_screenshot_viewport(page, "presenter-output_size-1-revealed")

        page.evaluate("document.activeElement && document.activeElement.blur()")  # no widget
        for number in range(2, len(lesson.steps) + 1):  # → to the end, across two pages
            page.keyboard.press("ArrowRight")
            wait_step(page, lesson, number)
            assert_clean(page)
        assert "present=1" in page.url and not page.locator(
            '[data-testid="stSidebar"]').is_visible()
        save_screenshot_viewport(page, f"presenter-output_size-{len(lesson.steps)}")
        page.keyboard.press("ArrowLeft")
        wait_step(page, lesson, len(lesson.steps) - 1)
        assert page.locator(".st-key-arith_mode").is_visible()
        assert_clean(page)
    finally:
        context.close()


def _blurred(page, selector: str) -> bool:
    """Whether the element or one of its parents is drawn blurred."""
    return page.locator(selector).first.evaluate(
        "e => { for (; e; e = e.parentElement) if (getComputedStyle(e).filter.includes('blur'))"
        " return true; return false; }")


def save_screenshot_viewport(page, name: str) -> None:
    """What the projector shows: the 1280×720 viewport, not the whole scrolled page."""
    from conftest import SCREENSHOTS

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def test_the_lessons_page_starts_a_lesson(streamlit_server, browser_page):
    page = browser_page
    goto_page(page, f"{streamlit_server}/lessons", TIMEOUT)
    assert_clean(page)
    for lesson in LESSONS:
        assert page.get_by_text(lesson.title, exact=True).count() == 1
    save_screenshot(page, "page-lessons")
    first = LESSONS[0]
    page.get_by_role("link", name=re.compile("Start the lesson")).first.click()
    wait_step(page, first, 1)
    assert_state_shown(page, first.steps[0])
    assert_clean(page)

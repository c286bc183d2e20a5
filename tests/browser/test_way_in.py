"""A first visit in a real Chromium: Start here at /, an older link to / that still opens the
Explorer, a lesson's answer that survives a reload (the browser's local storage) with
*Continue where you left off*, and a step's "Section 4" that scrolls to the section."""
from __future__ import annotations

import pytest
from conftest import APP_IDLE, assert_clean, goto_page, wait_rerun, watched_page

from cnnviz.lessons import answer, load_lessons
from cnnviz.lessons.kept import parse
from cnnviz.ui.lessons.memory import STORAGE_KEY

pytestmark = pytest.mark.browser

TIMEOUT = 120_000  # ms
PANEL = ".st-key-lesson_panel"
LESSONS = {lesson.name: lesson for lesson in load_lessons().lessons}


def test_start_here_at_the_root_and_an_older_link_opens_the_explorer(streamlit_server,
                                                                      browser_page):
    page = browser_page
    goto_page(page, f"{streamlit_server}/", TIMEOUT)
    for key in ("start_learn", "start_teach", "start_explore"):
        assert page.locator(f".st-key-{key}").is_visible(), key
    learn = page.locator('.st-key-start_learn a[href*="lesson="]').first
    assert learn.get_attribute("href").endswith(
        "lesson=convolution_by_hand&step=1")
    goto_page(page, f"{streamlit_server}/?block=inception", TIMEOUT)
    page.get_by_role("heading", name="Block Explorer").wait_for(timeout=TIMEOUT)
    assert "/explorer?" in page.url and "block=inception" in page.url
    assert_clean(page)


def _stored(page) -> str:
    return page.evaluate(f"() => window.localStorage.getItem('{STORAGE_KEY}')") or ""


def test_a_reload_keeps_the_answers_and_the_lessons_page_continues(streamlit_server,
                                                                   browser_page):
    page, lesson = browser_page, LESSONS["convolution_by_hand"]
    step = lesson.steps[0]
    truth = answer(step.question, step.state)
    goto_page(page, f"{streamlit_server}/{lesson.url(1)}", TIMEOUT)
    panel = page.locator(PANEL)
    guess = panel.get_by_label("Your prediction")
    guess.fill(str(truth.text()).replace(",", ""))
    guess.press("Enter")
    wait_rerun(page, TIMEOUT)
    panel.locator(f".st-key-lesson_{lesson.name}_1_reveal button").click()
    panel.get_by_text("Right: the answer is", exact=False).wait_for(timeout=TIMEOUT)
    page.wait_for_selector(APP_IDLE, timeout=TIMEOUT)
    page.wait_for_function(f"() => (window.localStorage.getItem('{STORAGE_KEY}') || '')"
                           f".includes('{lesson.name}')", timeout=30_000)
    kept = parse(_stored(page))
    assert kept.answers[lesson.name][1].value == truth.value
    assert kept.last == (lesson.name, 1)

    page.reload()  # a new session: the answer comes back from the browser
    page.locator(PANEL).get_by_text("Right: the answer is", exact=False).wait_for(
        timeout=TIMEOUT)
    assert_clean(page)

    goto_page(page, f"{streamlit_server}/lessons", TIMEOUT)
    resume = page.locator(".st-key-lessons_continue")
    resume.wait_for(timeout=TIMEOUT)
    assert "Continue where you left off" in resume.inner_text()
    card = page.locator(f".st-key-lessons_card_{lesson.name}").inner_text()
    assert f"1 of {lesson.questions} revealed, 1 right" in card
    assert_clean(page)

    goto_page(page, f"{streamlit_server}/", TIMEOUT)  # Start here: where they left off too
    page.locator(".st-key-start_continue").get_by_role("link", name="Continue").wait_for(
        timeout=TIMEOUT)


def test_a_section_named_by_a_step_is_a_link_that_scrolls_to_it(streamlit_server, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page, lesson = watched_page(context), LESSONS["receptive_field_growth"]
    number = next(s.number for s in lesson.steps if "Section 4" in s.text)
    goto_page(page, f"{streamlit_server}/{lesson.url(number)}", TIMEOUT)
    link = page.locator(f'{PANEL} a[href="#gridding"]').first
    link.wait_for(timeout=TIMEOUT)
    heading = page.locator("#gridding")
    assert heading.evaluate("e => e.getBoundingClientRect().top") > 720  # below the fold
    pages_before = len(page.context.pages)
    link.click()
    page.wait_for_function("() => { const e = document.getElementById('gridding');"
                           " const t = e.getBoundingClientRect().top;"
                           " return t >= -5 && t < window.innerHeight / 2; }",
                           timeout=10_000)
    assert len(page.context.pages) == pages_before  # scrolled here, not a new tab
    assert_clean(page)
    context.close()

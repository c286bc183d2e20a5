"""The design challenge in real browsers: a teacher opens one on the projector (1280×720),
three students design on phones (390×844), one over the budget and refused; the server
trains the two others and the teacher's leaderboard shows them, live; the best one opens on
Trained Networks with its trained weights."""
from __future__ import annotations

import re

import pytest
from conftest import assert_clean, goto_page, save_screenshot, wait_rerun

pytestmark = pytest.mark.browser
TIMEOUT = 180_000
PHONE = {"width": 390, "height": 844}
PROJECTOR = {"width": 1280, "height": 720}


def _page(browser, viewport: dict):
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    return context, page


def _number(page, label: str, value: int) -> None:
    field = page.get_by_label(label, exact=True)
    field.fill(str(value))
    field.press("Enter")
    wait_rerun(page)


def student_designs(browser, url: str, code: str, nickname: str, width: int):
    context, page = _page(browser, PHONE)
    goto_page(page, f"{url}/challenge?challenge={code}", TIMEOUT)
    page.get_by_text("Budget:").wait_for()
    _number(page, "Width (channels)", width)
    _number(page, "Epochs", 1)
    return context, page


def test_a_challenge_from_budget_to_leaderboard(streamlit_server, browser):
    url = streamlit_server
    teacher_context, teacher = _page(browser, PROJECTOR)
    goto_page(teacher, url + "/challenge", TIMEOUT)
    teacher.get_by_text("For the teacher: open a challenge").click()
    teacher.get_by_label("Most parameters", exact=True).fill("3000")
    teacher.get_by_label("Most MACs per image", exact=True).fill("200000")
    teacher.get_by_label("Most epochs", exact=True).fill("2")
    teacher.get_by_role("button", name="Open the challenge").click()
    teacher.locator(".challenge-code").wait_for(timeout=60_000)
    code = teacher.locator(".challenge-code").inner_text().strip()
    assert re.fullmatch(r"[A-HJ-KM-NP-Z2-9]{6}", code), code
    phones = []
    for nickname, width in (("<b>Ada</b>", 8), ("Bob", 12)):
        context, phone = student_designs(browser, url, code, nickname, width)
        phone.get_by_label("Nickname on the leaderboard", exact=True).fill(nickname)
        phone.get_by_role("button", name="Send my design").click()
        phone.get_by_text("in the queue as").wait_for(timeout=30_000)
        phones.append((context, phone))
    big_context, big = student_designs(browser, url, code, "Big", 64)
    big.get_by_text("the budget is 3,000").wait_for()
    assert big.get_by_role("button", name="Send my design").count() == 0
    save_screenshot(big, "challenge-over-budget-phone")
    teacher.get_by_text("2 trained").wait_for(timeout=150_000)
    teacher.locator(".js-plotly-plot").first.wait_for()
    assert teacher.locator(".js-plotly-plot").count() == 2
    # a nickname is text on the chart, not markup
    assert teacher.locator(".js-plotly-plot text", has_text="<b>Ada</b>").count() >= 1
    save_screenshot(teacher, "challenge-leaderboard")
    _, ada = phones[0]
    ada.get_by_text("Your last design is trained").wait_for(timeout=30_000)
    save_screenshot(ada, "challenge-phone-result")
    # the best entry, with its trained weights, on Trained Networks
    teacher.get_by_role("button", name="Open on Trained Networks").click()
    teacher.locator("strong", has_text="'s design (").first.wait_for(timeout=60_000)
    assert teacher.url.endswith("/trained")
    teacher.get_by_text("Prediction", exact=True).first.wait_for(timeout=60_000)
    wait_rerun(teacher)
    assert teacher.get_by_text("Prediction", exact=True).count() == 1  # the entry alone
    save_screenshot(teacher, "challenge-entry-on-trained")
    for page in (teacher, ada, big):
        assert_clean(page)
    for context in (teacher_context, big_context, *[c for c, _ in phones]):
        context.close()

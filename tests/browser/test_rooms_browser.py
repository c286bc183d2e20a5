"""Ask the room, in real browsers: a teacher in presenter mode, students on phones; a
server killed mid-round; two processes sharing one PostgreSQL."""
from __future__ import annotations

import os
import re
import signal

import pytest
from conftest import assert_clean, goto_page, save_screenshot, wait_rerun
from support_pg import postgres_server, require
from support_server import start_server, stop_server

from cnnviz.store import NotTeacher, RoomStore

pytestmark = pytest.mark.browser
TIMEOUT = 180_000
STEP = "/conv_arithmetic?lesson=output_size&step=1&present=1"  # asks "How tall...?" (3)
PHONE = {"width": 390, "height": 844}
PROJECTOR = {"width": 1280, "height": 720}
ROOM_CHARTS = '[class*="st-key-room_"] .js-plotly-plot'  # the room's, not the page's own


def teacher_opens_a_room(browser, url: str, step: str = STEP):
    context = browser.new_context(viewport=PROJECTOR)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    goto_page(page, url + step, TIMEOUT)
    page.get_by_role("button", name="Ask the room").click()
    wait_rerun(page)
    code = page.locator(".room-code").inner_text().strip()
    assert re.fullmatch(r"[A-HJ-KM-NP-Z2-9]{6}", code), code
    return context, page, code


def student_answers(browser, url: str, code: str, guess: str, via_link: bool = True):
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    if via_link:
        goto_page(page, f"{url}/join?room={code}", TIMEOUT)
    else:
        goto_page(page, f"{url}/join", TIMEOUT)
        page.get_by_label("Room code", exact=True).fill(code.lower())
        page.get_by_label("Room code", exact=True).press("Enter")
        wait_rerun(page)
    page.get_by_text("How tall is the output?").wait_for()
    page.get_by_label("Your answer", exact=True).fill(guess)
    page.get_by_role("button", name="Send my answer").click()
    page.get_by_text("is in").wait_for(timeout=30_000)
    return context, page


def test_the_room_runs_peer_instruction_and_the_teacher_sees_it_live(streamlit_server,
                                                                      browser):
    """Round 1 alone, closed without revealing, round 2 after discussion, the reveal with
    both rounds side by side, then the twin answered alone and its gain."""
    url = streamlit_server
    teacher_context, teacher, code = teacher_opens_a_room(browser, url)
    students = [student_answers(browser, url, code, guess, via_link=i != 1)
                for i, guess in enumerate(["3", "3", "4"])]
    _, phone = students[0]
    save_screenshot(phone, "room-join-phone")
    assert phone.get_by_role("button", name="Close round 1").count() == 0  # no controls
    assert phone.get_by_text(re.compile(r"^\d+ answers?$")).count() == 0  # no count
    assert phone.locator(".js-plotly-plot").count() == 0  # nobody else's answers
    # the teacher's count follows without a reload
    teacher.get_by_text("3 answers").wait_for(timeout=10_000)
    opened = save_screenshot(teacher, "room-teacher-open")
    # code, QR code, count and the round's buttons in one row within the first 720 px
    boxes = [teacher.locator(sel).first.bounding_box() for sel in (
        ".room-code", ".st-key-room_panel img", ".st-key-room_panel h3",
        ".st-key-room_close")]
    assert all(b is not None for b in boxes), boxes
    assert max(b["y"] + b["height"] for b in boxes) <= PROJECTOR["height"], boxes
    assert max(b["y"] for b in boxes) - min(b["y"] for b in boxes) < 150, boxes  # one row
    teacher.screenshot(path=str(opened.with_name("room-teacher-open-720.png")))
    # a forged teacher action (the code, not the secret) changes nothing
    with pytest.raises(NotTeacher):
        RoomStore().close(code, code)
    # closed without revealing: the suggested move, no share, no chart, no answer
    teacher.get_by_role("button", name="Close round 1").click()
    wait_rerun(teacher)
    teacher.get_by_text("Suggested next move").wait_for(timeout=30_000)
    assert teacher.get_by_text(re.compile(r"\d+% right \(")).count() == 0  # no share
    assert teacher.locator(ROOM_CHARTS).count() == 0
    phone.get_by_text("This round is closed").wait_for(timeout=10_000)
    # round 2, after discussion
    teacher.get_by_role("button", name="Discuss, then vote again").click()
    wait_rerun(teacher)
    phone.get_by_text("Discuss with your neighbour, then vote again").wait_for(
        timeout=10_000)
    phone.get_by_label("Your answer", exact=True).fill("3")
    phone.get_by_text("sure", exact=True).click()
    phone.get_by_role("button", name="Send my answer").click()
    phone.get_by_text("Your answer 3 (sure) is in").wait_for(timeout=30_000)
    teacher.get_by_text("1 answer", exact=True).wait_for(timeout=10_000)
    teacher.get_by_role("button", name="Close round 2").click()
    wait_rerun(teacher)
    teacher.get_by_role("button", name="Reveal", exact=True).click()
    wait_rerun(teacher)
    teacher.get_by_text("Round 2: 1 answer").wait_for(timeout=30_000)
    assert teacher.get_by_text("Round 1: 3 answers").count() == 1
    assert teacher.get_by_text("67% right").count() == 1
    assert teacher.locator(ROOM_CHARTS).count() == 2
    assert teacher.get_by_role("button", name="Reveal", exact=True).count() == 0  # pressed
    teacher.locator(".st-key-room_controls").scroll_into_view_if_needed()
    shot = save_screenshot(teacher, "room-teacher-reveal")
    teacher.screenshot(path=str(shot.with_name("room-teacher-reveal-720.png")))
    teacher.get_by_text("Switches of the 1 student who").scroll_into_view_if_needed()
    teacher.screenshot(path=str(shot.with_name("room-teacher-switches-720.png")))
    assert phone.get_by_text("the answer is").count() == 0  # the truth stays on the projector
    # the twin, alone: its own question on the phone
    teacher.get_by_role("button", name="Ask the twin").click()
    wait_rerun(teacher)
    phone.get_by_text("on an 11×11 input: how tall is the output?").wait_for(timeout=10_000)
    phone.get_by_label("Your answer", exact=True).fill("5")
    phone.get_by_role("button", name="Send my answer").click()
    phone.get_by_text("Your answer 5 is in").wait_for(timeout=30_000)
    save_screenshot(phone, "room-join-phone-twin")
    teacher.get_by_text("1 answer", exact=True).wait_for(timeout=10_000)
    teacher.get_by_role("button", name="Close and reveal the twin").click()
    wait_rerun(teacher)
    teacher.get_by_text("Twin: 1 answer").wait_for(timeout=30_000)
    teacher.get_by_text("Gain g = 1.00").wait_for(timeout=10_000)
    teacher.get_by_text("Gain g = 1.00").scroll_into_view_if_needed()
    teacher.screenshot(path=str(shot.with_name("room-teacher-twin-720.png")))
    teacher.get_by_text("Results of this room").click()  # the report, behind the secret
    teacher.get_by_role("button", name="Download the report (CSV)").scroll_into_view_if_needed()
    teacher.screenshot(path=str(shot.with_name("room-teacher-results-720.png")))
    # F5 on the projector: the browser kept the room, so it resumes with the same code
    teacher.reload()
    teacher.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]')
    teacher.get_by_role("button", name=f"Resume room {code}").click(timeout=30_000)
    wait_rerun(teacher)
    assert teacher.locator(".room-code").inner_text().strip() == code
    # a clicker's PageDown is Next: the room follows to step 2, the phones too, and the
    # new step starts at the top of the page
    teacher.keyboard.press("PageDown")
    teacher.get_by_text("step 2 of").wait_for(timeout=30_000)
    phone.get_by_text("How wide is the output now?").wait_for(timeout=15_000)
    wait_rerun(teacher)
    assert teacher.locator(".room-code").bounding_box()["y"] < PROJECTOR["height"]
    for page in (teacher, *[p for _, p in students]):
        assert not page.errors, page.errors
    assert_clean(teacher)
    teacher_context.close()
    for context, _ in students:
        context.close()


def test_wrong_codes_get_a_sentence_and_then_a_pause(streamlit_server, browser):
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    goto_page(page, f"{streamlit_server}/join?room=<b>x</b>", TIMEOUT)
    page.get_by_text("A room code is 6 letters and digits").wait_for()
    box = page.get_by_label("Room code", exact=True)
    for code in ("ZZZZZ2", "ZZZZZ3", "ZZZZZ4", "ZZZZZ5"):
        box.fill(code)
        box.press("Enter")
        wait_rerun(page)
    page.get_by_text("Too many codes that open no room").wait_for()
    assert page.locator("b").filter(has_text="x").count() == 0  # the URL's HTML is text
    context.close()


def test_a_server_killed_mid_round_keeps_every_acknowledged_answer(browser, tmp_path):
    env = {"CNNVIZ_DATA_DIR": str(tmp_path)}
    proc, url, _ = start_server(env=env)
    rooms = RoomStore(f"sqlite:///{tmp_path / 'cnnviz.sqlite3'}")
    try:
        room, _ = rooms.open_room("output_size", 1)
        pages = [student_answers(browser, url, room.code, str(g)) for g in (2, 3, 4)]
        os.kill(proc.pid, signal.SIGKILL)  # no goodbye: the process just ends
        proc.wait(timeout=10)
        assert rooms.count(room.code, 1, 1) == 3  # all three acknowledged answers
        proc, url, _ = start_server(env=env)
        context, again = student_answers(browser, url, room.code, "5")
        assert rooms.count(room.code, 1, 1) == 4
        for context, _ in pages:
            context.close()
    finally:
        stop_server(proc)
        rooms.engine.dispose()


def test_two_processes_share_rooms_through_one_postgresql(browser):
    require()
    with postgres_server() as db:
        env = {"CNNVIZ_DATABASE_URL": db}
        one, url_one, _ = start_server(env=env, address="127.0.0.1")
        two, url_two, _ = start_server(env=env, address="127.0.0.2")
        try:
            context, teacher, code = teacher_opens_a_room(browser, url_one)
            students = [student_answers(browser, url_two, code, g) for g in ("3", "2")]
            teacher.get_by_text("2 answers").wait_for(timeout=10_000)
            teacher.get_by_role("button", name="Close round 1").click()
            wait_rerun(teacher)
            teacher.get_by_role("button", name="Reveal", exact=True).click()
            wait_rerun(teacher)
            teacher.get_by_text("50% right").wait_for(timeout=30_000)
            try:
                students[0][1].get_by_text("This round is closed").wait_for(timeout=20_000)
            except Exception:
                save_screenshot(students[0][1], "debug-pg-student")
                raise
            for c, _ in [(context, teacher), *students]:
                c.close()
        finally:
            stop_server(one)
            stop_server(two)


def test_a_reload_keeps_the_browsers_anonymous_id(streamlit_server, browser):
    """One answer per student per round: a student who reloads and answers again replaces
    their answer (the id lives in the browser's storage, not in the session)."""
    rooms = RoomStore()
    room, _ = rooms.open_room("output_size", 1)
    context, phone = student_answers(browser, streamlit_server, room.code, "2")
    phone.reload()
    phone.get_by_text("How tall is the output?").wait_for(timeout=TIMEOUT)
    phone.get_by_label("Your answer", exact=True).fill("3")
    phone.get_by_role("button", name="Send my answer").click()
    phone.get_by_text("Your answer 3 is in").wait_for(timeout=30_000)
    answers = rooms.answers(room.code)
    assert [a.value for a in answers] == [3.0] and len(answers[0].student) == 32
    context.close()


def test_a_phone_shows_the_figure_the_question_reads_and_the_projector_lifts_its_veil(
        streamlit_server, browser):
    """Convolution by hand in a room: the student's phone (390×844) shows the input's
    numbers and the kernel, fits its width, and shows no answer; on the projector that
    figure is sharp while the rest of the page stays blurred."""
    url = streamlit_server
    teacher_context, teacher, code = teacher_opens_a_room(
        browser, url, "/conv_arithmetic?lesson=convolution_by_hand&step=1&present=1")
    figure = teacher.locator(".st-key-arith_hand")
    figure.wait_for(timeout=30_000)
    assert figure.evaluate("e => getComputedStyle(e).filter") == "none"
    assert teacher.locator(".st-key-arith_hand_reveal").evaluate(
        "e => { for (; e; e = e.parentElement) if (getComputedStyle(e).filter !== 'none') "
        "return true; return false; }")  # the page's own reveal stays under the veil
    context = browser.new_context(viewport=PHONE)
    phone = context.new_page()
    phone.errors = []
    phone.on("pageerror", lambda e: phone.errors.append(str(e)))
    goto_page(phone, f"{url}/join?room={code}", TIMEOUT)
    phone.get_by_text("What is the value of output row 1, column 1").wait_for()
    phone.locator(".js-plotly-plot").first.wait_for(timeout=30_000)
    assert phone.locator(".js-plotly-plot").count() == 1
    widths = phone.evaluate("() => [document.documentElement.scrollWidth, "
                            "document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], widths  # no horizontal scrolling on a phone
    box = phone.locator(".js-plotly-plot").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert phone.get_by_text("the answer is").count() == 0
    save_screenshot(phone, "room-join-phone-figure")
    assert not phone.errors, phone.errors
    context.close()
    teacher_context.close()

"""Every page passes axe-core's WCAG 2.1 A and AA rules: no serious or critical violation.

axe-core comes inside the `axe-playwright-python` package (nothing is fetched). Pages are
checked as a student first sees them, plus the states that draw something else: the
Explorer's Code tab and a U-Net's diagram, the Trained Networks tabs, the Networks page's
Scaling tab, Feature Maps with a squeeze-excitation gate, presenter mode with a veiled page
and the teacher's room, and the Join page on a phone with a room open.
"""
from __future__ import annotations

import pytest
from conftest import goto_page, wait_rerun

from cnnviz import pages
from cnnviz.store import store

pytestmark = pytest.mark.browser
TIMEOUT = 180_000
WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
PAGES = ["/" + p.url_path for p in pages.PAGES.values()]
STATES = ["/?view=Code", "/trained?view=Test+split",
          "/conv_arithmetic?lesson=output_size&step=1&present=1",
          "/network?net=efficientnet_b0&net_view=Scaling", "/feature_maps?block=se",
          "/?block=unet&view=Diagram"]


def serious(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe
    page.wait_for_timeout(500)  # late images and charts
    found = Axe().run(page, options=WCAG).response["violations"]
    return [f"{v['id']} ({v['impact']}): {v['help']}; e.g. {v['nodes'][0]['target']}"
            for v in found if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("path", PAGES + STATES)
def test_no_serious_wcag_violation(streamlit_server, browser_page, path):
    goto_page(browser_page, streamlit_server + path, TIMEOUT)
    assert serious(browser_page) == []


def test_a_room_on_the_projector_and_on_a_phone(streamlit_server, browser):
    teacher = browser.new_page(viewport={"width": 1280, "height": 720})
    goto_page(teacher, streamlit_server + "/conv_arithmetic?lesson=output_size&step=1&present=1",
              TIMEOUT)
    teacher.get_by_role("button", name="Ask the room").click()
    wait_rerun(teacher)
    assert serious(teacher) == []
    code = teacher.locator(".room-code").inner_text().strip()
    phone = browser.new_page(viewport={"width": 390, "height": 844})
    goto_page(phone, f"{streamlit_server}/join?room={code}", TIMEOUT)
    phone.get_by_text("How tall is the output?").wait_for()
    assert serious(phone) == []
    store().room(code)  # the room is real
    teacher.close()
    phone.close()

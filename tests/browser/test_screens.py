"""Every page read on a phone (390×844) and on a projector (1280×720, presenter mode).

On a phone: the page does not scroll sideways, no chart toolbar lies over a title, no
chart title runs off its chart, no table cell or link is cut (tables are static HTML that wraps;
a canvas grid would cut long cells). On a projector, in a lesson step on each page: every
table's and every chart's text is at least CHART_PX and no chart toolbar is shown.
Each page's screenshot at both sizes lands in test-artifacts/screenshots.
"""
from __future__ import annotations

import pytest
from conftest import goto_page, save_screenshot, watched_page

from cnnviz.lessons import load_lessons
from cnnviz.pages import PAGES
from cnnviz.ui.lessons.presenter import CHART_PX

pytestmark = pytest.mark.browser

TIMEOUT = 180_000
PHONE = {"width": 390, "height": 844}
PROJECTOR = {"width": 1280, "height": 720}


def _first_step_on_each_page() -> dict[str, str]:
    """page -> the URL of the first lesson step shown on it (presenter mode)."""
    found: dict[str, str] = {}
    for lesson in load_lessons().lessons:
        for step in lesson.steps:
            found.setdefault(step.page, lesson.url(step.number) + "&present=1")
    return found


STEPS = _first_step_on_each_page()

# What a reader cannot read: each check returns a list of sentences (empty: all is well).
_VISIBLE = "const seen = e => e.getClientRects().length > 0;"
_PHONE_PROBLEMS = "() => {" + _VISIBLE + """
  const problems = [];
  const main = document.querySelector('[data-testid="stMain"]');
  if (main.scrollWidth > main.clientWidth + 1)
    problems.push(`the page scrolls sideways (${main.scrollWidth} px)`);
  document.querySelectorAll('[data-testid="stDataFrame"]').forEach(
    () => problems.push('a canvas grid (it cuts long cells)'));
  document.querySelectorAll('[data-testid="stTable"] :is(td, th)').forEach(c => {
    if (seen(c) && c.scrollWidth > c.clientWidth + 1)
      problems.push('a cut cell: ' + c.innerText.slice(0, 40)); });
  document.querySelectorAll('[data-testid="stPageLink"] p').forEach(e => {
    if (seen(e) && e.scrollWidth > e.clientWidth + 1)
      problems.push('a cut link: ' + e.textContent.slice(0, 40)); });
  document.querySelectorAll('.js-plotly-plot').forEach(p => {
    if (!seen(p)) return;
    const box = p.getBoundingClientRect();
    p.querySelectorAll('.gtitle, .g-gtitle text').forEach(t => {
      const b = t.getBoundingClientRect();
      if (seen(t) && (b.right > box.right + 1 || b.left < box.left - 1))
        problems.push('a title off its chart: ' + t.textContent.slice(0, 50)); });
    const bar = p.querySelector('.modebar-container');
    if (bar && getComputedStyle(bar).display !== 'none') problems.push('a chart toolbar');
  });
  return problems;
}"""
_PROJECTOR_PROBLEMS = "() => {" + _VISIBLE + """
  const problems = [];
  const px = e => parseFloat(getComputedStyle(e).fontSize);
  const small = (what, e) => {
    if (seen(e) && e.textContent.trim() && px(e) < MIN)
      problems.push(`${what} at ${px(e)} px: ${e.textContent.trim().slice(0, 40)}`); };
  document.querySelectorAll('[data-testid="stDataFrame"]').forEach(
    () => problems.push('a canvas grid (its type cannot grow)'));
  document.querySelectorAll('[data-testid="stTable"] :is(td, th)').forEach(c => small('a cell', c));
  document.querySelectorAll('.js-plotly-plot .main-svg text, .js-plotly-plot .infolayer text')
    .forEach(t => small('chart text', t));
  document.querySelectorAll('[data-testid="stEChartsChart"] svg text, .echarts svg text')
    .forEach(t => small('chart text', t));
  document.querySelectorAll('.modebar-container').forEach(bar => {
    if (getComputedStyle(bar).display !== 'none') problems.push('a chart toolbar'); });
  return problems;
}""".replace("MIN", str(CHART_PX))


@pytest.fixture
def screen(browser, request):
    context = browser.new_context(viewport=request.param)
    yield watched_page(context)
    context.close()


@pytest.mark.parametrize("screen", [PHONE], indirect=True, ids=["phone"])
@pytest.mark.parametrize("page", list(PAGES), ids=list(PAGES))
def test_every_page_reads_on_a_phone(streamlit_server, screen, page):
    goto_page(screen, f"{streamlit_server}/{PAGES[page].url_path}", TIMEOUT)
    screen.wait_for_timeout(500)  # late charts
    save_screenshot(screen, f"phone-{page}")
    problems = screen.evaluate(_PHONE_PROBLEMS)
    assert problems == [], problems


@pytest.mark.parametrize("screen", [PROJECTOR], indirect=True, ids=["projector"])
@pytest.mark.parametrize("page", list(STEPS), ids=list(STEPS))
def test_every_page_reads_on_a_projector(streamlit_server, screen, page):
    goto_page(screen, f"{streamlit_server}/{STEPS[page]}", TIMEOUT)
    screen.wait_for_timeout(500)
    save_screenshot(screen, f"projector-{page}")
    problems = screen.evaluate(_PROJECTOR_PROBLEMS)
    assert problems == [], problems

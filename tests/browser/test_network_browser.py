"""The Network page in a real Chromium: every preset and a custom network opened by URL on
one server, with no console error, the stage table drawn and the library's numbers shown.

Expected numbers come from the library (cnnviz.core.network), never from a literal.
"""
from __future__ import annotations

from urllib.parse import urlencode

import pytest
from conftest import assert_clean, goto_page, save_screenshot, wait_rerun, watched_page

from cnnviz.core.network import PRESETS, NetworkSpec
from cnnviz.core.network.report import make_network_report
from cnnviz.render.explorer_charts import number
from cnnviz.render.network_charts import shape_text

pytestmark = pytest.mark.browser

PAGE_TIMEOUT = 120_000  # ms
CUSTOM = ("stem=conv_bn_act:out_channels=16,kernel_size=3,stride=2,padding=1"
          "|body=resnet_basic*2:out_channels=32,stride=2|head=adaptive_avgpool;flatten;linear")
SMALL = {"width": 1280, "height": 720}  # a classroom projector


def _open(page, server: str, **query: str) -> None:
    goto_page(page, f"{server}/network?{urlencode(query)}", PAGE_TIMEOUT)
    page.locator('[data-testid="stTable"]').first.wait_for(state="visible",
                                                               timeout=PAGE_TIMEOUT)


def _metrics(page) -> dict[str, str]:
    labels = page.locator('[data-testid="stMetricLabel"]').all_inner_texts()
    values = page.locator('[data-testid="stMetricValue"]').all_inner_texts()
    return {label.strip(): value.strip() for label, value in zip(labels, values)}


def _expect(page, spec: NetworkSpec) -> None:
    p = make_network_report(spec, measured=False).predicted
    shown = _metrics(page)
    assert shown.get("Parameters") == number(p.params), shown
    assert shown.get("MACs") == number(p.macs), shown
    assert shown.get("Output") == shape_text(p.output_shape[1:]), shown


def test_every_preset_by_url(streamlit_server, browser_page):
    page = browser_page
    for name, preset in PRESETS.items():
        _open(page, streamlit_server, net=name)
        _expect(page, NetworkSpec.create(preset.text, name))
        main = page.locator('[data-testid="stMain"]').inner_text()
        assert preset.title in main and "Stage by stage" in main
        assert page.locator('[data-testid="stSidebar"]').get_by_text("Network").count()
        save_screenshot(page, f"network-{name}")
        assert_clean(page)


def test_custom_network_by_url(streamlit_server, browser_page):
    page = browser_page
    _open(page, streamlit_server, arch=CUSTOM, input="3,64,64", classes="10")
    _expect(page, NetworkSpec.create(CUSTOM, height=64, width=64, classes=10))
    assert "Your own network" in page.locator('[data-testid="stMain"]').inner_text()
    save_screenshot(page, "network-custom")
    assert_clean(page)


def test_tampered_url_warns(streamlit_server, browser_page):
    page = browser_page
    _open(page, streamlit_server, arch="[x](http://evil.example)|<img src=x>")
    warning = page.locator('[data-testid="stAlertContentWarning"]').first.inner_text()
    assert "[x](http" in warning.replace("\u2060", "") and "is not a network" in warning
    assert page.locator('[data-testid="stMain"] a[href*="evil"]').count() == 0
    assert page.locator('[data-testid="stMain"] img[src="x"]').count() == 0
    _expect(page, NetworkSpec.create(PRESETS["resnet18"].text, "resnet18"))
    assert_clean(page)


@pytest.mark.parametrize("view", ["Cost by layer kind", "Across networks", "Diagram"])
def test_views_at_projector_size(streamlit_server, browser, view):
    """The page as a 1280×720 projector shows it: the top, then a tab scrolled into view."""
    context = browser.new_context(viewport=SMALL)
    try:
        page = watched_page(context)
        _open(page, streamlit_server, net="mobilenet_v2", net_view=view)
        page.get_by_role("tab", name=view, exact=True).scroll_into_view_if_needed()
        content = {"Diagram": '[data-testid="stGraphVizChart"] svg',
                   "Across networks": '[data-testid="stPlotlyChart"] .main-svg'}.get(
            view, '[data-testid="stTabs"] [data-testid="stTable"]')
        page.locator(content).first.wait_for(timeout=PAGE_TIMEOUT)
        page.locator(content).first.scroll_into_view_if_needed()
        save_screenshot(page, f"network-small-{view.split()[0].lower()}")
        assert_clean(page)
    finally:
        context.close()


def test_top_of_the_page_at_projector_size(streamlit_server, browser):
    context = browser.new_context(viewport=SMALL)
    try:
        page = watched_page(context)
        _open(page, streamlit_server, net="vgg16")
        save_screenshot(page, "network-small-top")
        page.get_by_text("Build your own").click()
        wait_rerun(page, PAGE_TIMEOUT)
        page.get_by_text("Apply to the stage").scroll_into_view_if_needed()
        save_screenshot(page, "network-small-builder")
        assert_clean(page)
    finally:
        context.close()

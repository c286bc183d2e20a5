"""Rerun time of the Plain vs Residual page at depth 50 in a real browser (not a test).

Starts `streamlit run app.py`, opens the page in Debian's Chromium, sets the page's
"Blocks" slider to 50 and changes the init several times. Each change to an init not
seen yet probes the plain and the residual stack afresh (uncached); repeats hit the cache.

    python bench/gradflow_page_latency.py
"""
from __future__ import annotations

import statistics
import sys
import time

import _harness  # noqa: F401  (the repository root on the import path)

from cnnviz.pages import PLAIN_VS_RESIDUAL  # noqa: E402
from tests.support_server import (
    APP_IDLE,
    APP_RUNNING,
    CHROMIUM,
    CHROMIUM_ARGS,
    VIEWPORT,
    goto_page,
    start_server,
    stop_server,
    wait_rerun,
)

TIMEOUT_MS = 120_000
INITS = ["kaiming_in", "xavier", "kaiming_out", "bad_small", "kaiming_in", "xavier"]


def main() -> int:
    from playwright.sync_api import sync_playwright

    proc, url, _ = start_server()
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport=VIEWPORT)
            goto_page(page, url, TIMEOUT_MS)
            page.get_by_role("link", name=PLAIN_VS_RESIDUAL.title).click()
            page.get_by_text("Weight-gradient norm per layer").first.wait_for(timeout=TIMEOUT_MS)
            page.wait_for_selector(APP_IDLE, timeout=TIMEOUT_MS)
            page.get_by_role("slider").first.focus()  # "Blocks", 30 by default
            for _ in range(20):
                page.keyboard.press("ArrowRight")
            wait_rerun(page, TIMEOUT_MS)
            time.sleep(2)
            page.wait_for_selector(APP_IDLE, timeout=TIMEOUT_MS)
            depth = page.locator('[data-testid="stSliderThumbValue"]').first.inner_text()
            init_box = page.locator('[data-testid="stMain"] [data-testid="stSelectbox"]'
                                    ).filter(has_text="Init")
            times = []
            for init in INITS:
                init_box.click()
                start = time.perf_counter()
                page.get_by_role("option", name=init, exact=True).click()
                page.wait_for_selector(APP_RUNNING, timeout=5_000)
                page.wait_for_selector(APP_IDLE, timeout=TIMEOUT_MS)
                times.append((time.perf_counter() - start) * 1e3)
            browser.close()
    finally:
        stop_server(proc)
    fresh, cached = times[:4], times[4:]
    print(f"Plain vs Residual at depth {depth}: uncached rerun median "
          f"{statistics.median(fresh):.0f} ms {[round(t) for t in fresh]}, cached "
          f"{[round(t) for t in cached]} ms (target <= 1500 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The Network page's first view of each preset, in a real browser, after the warm-up.

Not a test. Starts `streamlit run app.py` (whose warm-up computes every preset's predicted
report a few seconds after start), waits `--settle` seconds, then opens
`/network?net=<preset>` for every preset in one browser tab and times each from the
navigation to a complete page: the script idle and the headline metrics showing the
parameter count and MACs cnnviz predicts for that preset.

    python bench/network_first_view.py [--settle 20] [--json]
"""
from __future__ import annotations

import argparse
import json
import statistics
import time

import _harness  # noqa: F401  (the repository root on the import path)

from cnnviz.core.network import PRESETS, network_spec
from cnnviz.core.network.report import network_prediction
from cnnviz.render.explorer_charts import number
from tests.support_server import (
    CHROMIUM,
    CHROMIUM_ARGS,
    VIEWPORT,
    goto_page,
    start_server,
    stop_server,
)

TIMEOUT_MS = 60_000
WAIT = """(wanted) => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
    const vals = [...document.querySelectorAll('[data-testid="stMetricValue"]')]
        .map(e => e.innerText.trim());
    return wanted.every(w => vals.includes(w));
}"""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--settle", type=float, default=20.0,
                    help="seconds between the server's start and the first view")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright

    wanted = {}
    for name in PRESETS:
        p = network_prediction(network_spec(name))[2]
        wanted[name] = [number(p.params), number(p.macs)]
    proc, url, _ = start_server()
    times: dict[str, float] = {}
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport=VIEWPORT)
            goto_page(page, url, TIMEOUT_MS)  # the Explorer: the session and the JS loaded
            time.sleep(args.settle)
            for name in PRESETS:
                t0 = time.perf_counter()
                page.goto(f"{url}/network?net={name}", wait_until="commit")
                page.wait_for_function(WAIT, arg=wanted[name], timeout=TIMEOUT_MS,
                                       polling="raf")
                times[name] = round((time.perf_counter() - t0) * 1e3, 1)
            browser.close()
    finally:
        stop_server(proc)
    result = {"first_view_ms": times, "p50_ms": statistics.median(times.values()),
              "max_ms": max(times.values()), "target_ms": 1000}
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for name, ms in times.items():
            print(f"{name:20} {ms:8.1f} ms")
        print(f"p50 {result['p50_ms']:.0f} ms, max {result['max_ms']:.0f} ms (target <= 1000 ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Latency a student feels in a real browser: picker change -> updated Explorer, and cold start.

Not a test. Starts `streamlit run app.py` on a free loopback port (as the browser tests do),
drives Debian's Chromium with playwright and reports p50/p95 in milliseconds:

- cold start: process spawn -> first complete Explorer page (metrics and chart shown,
  script idle), in a fresh browser profile and in a returning browser (HTTP cache warm);
- change at depth D: type a new kernel size (alternating 3 and 5) into the sidebar and
  wait until the Explorer's metrics show the numbers cnnviz predicts for the new spec and
  its receptive-field chart has been redrawn (its title states the new field).

    python bench/browser_latency.py [--changes 20] [--depths 1,20] [--json]
    python bench/browser_latency.py --floor --cold-only --cold-runs 5   # the cold-start ratio

The first change of each kind fills the server's caches; every change after that
alternates between two specs the cache already holds, so the figures are mostly
Streamlit's rerun + rendering, plus the cache lookups.
"""
from __future__ import annotations

import argparse
import json
import time

import _harness  # noqa: F401  (the repository root on the import path)

from cnnviz.core.report import make_report
from cnnviz.core.spec import StackSpec
from cnnviz.render import explorer_charts as plots
from tests.support_server import (
    CHROMIUM,
    CHROMIUM_ARGS,
    VIEWPORT,
    goto_page,
    start_server,
    stop_server,
)

BLOCK = "resnet_basic"
TIMEOUT_MS = 120_000


def _expected(depth: int, kernel: int) -> tuple[list[str], str]:
    """What the Explorer shows for this spec: metric values (parameters, receptive field)
    and the receptive-field chart's title."""
    p = make_report(StackSpec.create(BLOCK, {"kernel_size": kernel}, depth=depth),
                    measured=False).predicted
    metrics = [plots.number(p.params), plots.rf_text(p.receptive_field)]
    return metrics, plots.rf_growth_chart(p.layers, p.receptive_field)["title"]["text"]


def _wait_page(page, wanted: tuple[list[str], str], timeout_s: float = TIMEOUT_MS / 1000
               ) -> None:
    """Poll (in the page, every animation frame) until the script is idle, all wanted texts
    are metric values and a drawn chart (ECharts, as SVG) carries the wanted title (if any)."""
    page.wait_for_function(
        """([metrics, title]) => {
            const app = document.querySelector('[data-testid="stApp"]');
            if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
            const vals = [...document.querySelectorAll('[data-testid="stMetricValue"]')]
                .map(e => e.innerText.trim());
            const titles = [...document.querySelectorAll('[data-testid="stEChartsChart"] svg text')]
                .map(e => e.textContent);
            return metrics.every(w => vals.includes(w)) && (!title || titles.includes(title));
        }""", arg=list(wanted), timeout=timeout_s * 1000, polling="raf")


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    k = (len(xs) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def _summary(xs: list[float]) -> dict:
    return {"n": len(xs), "p50_ms": round(_pct(xs, 0.5), 1), "p95_ms": round(_pct(xs, 0.95), 1),
            "min_ms": round(min(xs), 1), "max_ms": round(max(xs), 1)}


FLOOR = ("bench/trivial_app.py", (["3,702"], ""))  # its Parameters metric at depth 3


def cold_start(browser, runs: int, returning: bool = False, floor: bool = False
               ) -> tuple[list[float], list[float]]:
    """Spawn the server, open the Explorer, wait for its metrics and chart; stop; repeat.

    Each run opens the page in a fresh browser context (an empty HTTP cache), unless
    `returning`: then all runs share one context that visited the app once before (not
    timed), like a student's browser reloading after the teacher restarts the server.
    With `floor`, each run is followed by one of bench/trivial_app.py (a slider and a
    metric) in the same way: the two alternate, so a busy moment falls on both alike.
    Returns the times of cnnviz and of the floor (empty without `floor`).
    """
    times: dict[str, list[float]] = {"app.py": [], FLOOR[0]: []}
    apps = [("app.py", _expected(1, 3))] + ([FLOOR] if floor else [])
    shared = browser.new_context(viewport=VIEWPORT) if returning else None
    for i in range(runs + returning):
        for script, want in apps:
            t0 = time.perf_counter()
            proc, url, _ = start_server(script=script, poll_s=0.02)
            try:
                context = shared or browser.new_context(viewport=VIEWPORT)
                page = context.new_page()
                goto_page(page, url, TIMEOUT_MS)
                _wait_page(page, want)
                if not (returning and i == 0):
                    times[script].append((time.perf_counter() - t0) * 1e3)
                page.close()
                if context is not shared:
                    context.close()
            finally:
                stop_server(proc)
    if shared:
        shared.close()
    return times["app.py"], times[FLOOR[0]]


def picker_changes(browser, url: str, depth: int, changes: int) -> list[float]:
    page = browser.new_page(viewport=VIEWPORT)
    goto_page(page, f"{url}/?depth={depth}", TIMEOUT_MS)
    _wait_page(page, _expected(depth, 3))
    field = page.get_by_label("kernel size", exact=True)
    kernels = [5, 3]
    wanted = {k: _expected(depth, k) for k in kernels}
    times = []
    for i in range(changes + 1):  # the first change warms the cache and is not counted
        k = kernels[i % 2]
        field.fill(str(k))
        t0 = time.perf_counter()
        field.press("Enter")
        _wait_page(page, wanted[k])
        if i > 0:
            times.append((time.perf_counter() - t0) * 1e3)
    page.close()
    return times


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--changes", type=int, default=20, help="timed picker changes per depth")
    ap.add_argument("--depths", default="1,20", help="comma-separated stack depths")
    ap.add_argument("--cold-runs", type=int, default=7, help="cold starts to time, per kind")
    ap.add_argument("--floor", action="store_true",
                    help="alternate each fresh cold start with bench/trivial_app.py's")
    ap.add_argument("--cold-only", action="store_true", help="skip the picker changes")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)
    depths = [int(d) for d in args.depths.split(",")]

    from playwright.sync_api import sync_playwright

    result: dict = {"block": BLOCK, "change": "kernel size 3 <-> 5", "depths": {}}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            app, floor = cold_start(browser, args.cold_runs, floor=args.floor)
            result["cold_start"] = _summary(app)
            if floor:
                result["cold_start_floor"] = _summary(floor)
                result["cold_start_ratio"] = round(_pct(app, 0.5) / _pct(floor, 0.5), 2)
            if not args.cold_only:
                result["cold_start_returning"] = _summary(
                    cold_start(browser, args.cold_runs, True)[0])
                proc, url, _ = start_server()
                try:
                    for d in depths:
                        result["depths"][str(d)] = _summary(
                            picker_changes(browser, url, d, args.changes))
                finally:
                    stop_server(proc)
        finally:
            browser.close()

    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, who in (("cold_start", "fresh browser profile"),
                         ("cold_start_floor", "the floor, bench/trivial_app.py"),
                         ("cold_start_returning", "returning browser")):
            if key not in result:
                continue
            c = result[key]
            print(f"cold start (spawn -> complete Explorer), {who}, n={c['n']}: "
                  f"p50 {c['p50_ms']:.0f} ms, p95 {c['p95_ms']:.0f} ms")
        if "cold_start_ratio" in result:
            print(f"cold start ratio cnnviz / floor (p50s, alternating): "
                  f"{result['cold_start_ratio']}x")
        for d, s in result["depths"].items():
            print(f"picker change -> updated metrics and chart, {BLOCK} depth {d}, n={s['n']}: "
                  f"p50 {s['p50_ms']:.0f} ms, p95 {s['p95_ms']:.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

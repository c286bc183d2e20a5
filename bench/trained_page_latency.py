"""The Trained Networks page in a real browser: its first view, and a stroke's new answer.

Not a test. Starts `streamlit run app.py` (its warm-up loads the shipped stacks and computes
the page's first view), waits `--settle` seconds, then in one browser tab:

* first view: opens `/trained` `--views` times (each a navigation from another page) and
  times it from the navigation to a complete page: the script idle, both Prediction
  metrics, the evidence maps and the feature maps drawn;
* stroke: draws `--strokes` different drawings with the mouse (each after clearing the
  canvas; a digit drawn again is shifted, so no answer comes from a cache) and times each
  from the mouse button's release to the new predictions, evidence and maps on the page
  (the script idle again with every image loaded). It also notes when
  the browser sent the drawing to the server: streamlit-drawable-canvas waits 200 ms after
  the last change before it sends (its own debounce), so the figure is split into the
  canvas's share and cnnviz's (from that message to the complete page).

With `--floor` it draws the same strokes on bench/canvas_floor_app.py instead: the same
canvas in a fragment with two metrics and no network at all, what a stroke costs on this
machine before cnnviz does anything.

The window is a classroom projector's, 1280×720, unless `--viewport` says otherwise.

    python bench/trained_page_latency.py [--settle 20] [--views 10] [--strokes 10]
                                         [--viewport 1280x720] [--json]
    python bench/trained_page_latency.py --floor [--strokes 10] [--viewport WxH] [--json]
"""
from __future__ import annotations

import argparse
import json
import statistics
import time

import _harness  # noqa: F401  (the repository root on the import path)

from tests.support_server import (
    APP_IDLE,
    CHROMIUM,
    CHROMIUM_ARGS,
    draw_strokes,
    goto_page,
    start_server,
    stop_server,
)

TIMEOUT_MS = 60_000
# timestamps of the page's WebSocket messages (the canvas's value goes to the server there)
SPY = """(() => { const send = WebSocket.prototype.send;
    WebSocket.prototype.send = function (d) {
        if (window.__sent == null) window.__sent = performance.now();
        return send.call(this, d); }; })()"""
# complete: idle, two predictions, every image decoded (evidence and maps included)
DONE = """(before) => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
    const vals = [...document.querySelectorAll('[data-testid="stMetricValue"]')];
    const imgs = [...document.querySelectorAll('[data-testid="stMain"] img')];
    // the Look inside view: the inputs, and each network's evidence over its feature maps
    if (vals.length < 2 || imgs.length < 3 || !imgs.every(i => i.complete)) return false;
    const shown = document.querySelector('[data-testid="stMain"]').innerText;
    return before === null || (shown.includes('your drawing') && shown !== before);
}"""
# the floor page: idle, and its text changed
FLOOR_DONE = """(before) => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
    return document.querySelector('[data-testid="stMain"]').innerText !== before;
}"""
# digits as strokes, in fractions of the canvas side
STROKES = {
    "7": [[(0.25, 0.2), (0.75, 0.2), (0.45, 0.85)]],
    "1": [[(0.5, 0.15), (0.5, 0.85)]],
    "4": [[(0.55, 0.15), (0.25, 0.6), (0.8, 0.6)], [(0.6, 0.35), (0.6, 0.9)]],
    "L": [[(0.3, 0.15), (0.3, 0.85), (0.75, 0.85)]],
    "Z": [[(0.25, 0.2), (0.75, 0.2), (0.25, 0.85), (0.75, 0.85)]],
}


def draw_and_time(page, count: int, done: str, reset: bool) -> tuple[list, list]:
    """Draw `count` digits; per stroke, ms from the mouse's release to `done` and from the
    canvas's message to it."""
    strokes, ours = [], []
    names = list(STROKES)
    for i in range(count):
        if i and reset:
            page.get_by_role("button", name="Reset canvas & history").click()
            page.wait_for_selector(APP_IDLE, timeout=TIMEOUT_MS)
            page.get_by_text("Nothing drawn yet").first.wait_for(timeout=TIMEOUT_MS)
        before = page.locator('[data-testid="stMain"]').inner_text()
        shift = 0.03 * (i // len(names))  # a digit drawn again lands elsewhere: a new image
        strokes_of_digit = [[(x + shift, y + shift) for x, y in stroke]
                            for stroke in STROKES[names[i % len(names)]]]
        draw_strokes(page, strokes_of_digit, release_last=False)
        up = page.evaluate("() => (window.__sent = null, performance.now())")
        page.mouse.up()
        page.wait_for_function(done, arg=before, timeout=TIMEOUT_MS, polling="raf")
        end, sent = page.evaluate("() => [performance.now(), window.__sent]")
        strokes.append(end - up)
        ours.append(end - sent)
    return strokes, ours


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--settle", type=float, default=20.0)
    ap.add_argument("--views", type=int, default=10)
    ap.add_argument("--strokes", type=int, default=10)
    ap.add_argument("--floor", action="store_true",
                    help="time strokes on a page with the canvas and no network")
    ap.add_argument("--viewport", default="1280x720",
                    help="the browser window, WxH: a classroom projector by default; "
                         "1400x2600 has the whole page in view (painted on every stroke)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    width, height = (int(v) for v in args.viewport.lower().split("x"))
    from playwright.sync_api import sync_playwright

    script, done = ("bench/canvas_floor_app.py", FLOOR_DONE) if args.floor else ("app.py", DONE)
    proc, url, _ = start_server(script=script)
    views: list[float] = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": width, "height": height})
            page.add_init_script(SPY)
            goto_page(page, url, TIMEOUT_MS)
            if not args.floor:
                time.sleep(args.settle)
                for _ in range(args.views):
                    goto_page(page, f"{url}/lessons", TIMEOUT_MS)
                    t0 = time.perf_counter()
                    page.goto(f"{url}/trained", wait_until="commit")
                    page.wait_for_function(DONE, arg=None, timeout=TIMEOUT_MS, polling="raf")
                    views.append((time.perf_counter() - t0) * 1e3)
            strokes, ours = draw_and_time(page, args.strokes, done, reset=not args.floor)
            browser.close()
    finally:
        stop_server(proc)
    report(views, strokes, ours, args.floor, args.json)
    return 0


def report(views: list[float], strokes: list[float], ours: list[float], floor: bool,
           as_json: bool) -> None:
    result = {"stroke_ms": [round(v, 1) for v in strokes],
              "stroke_p50_ms": statistics.median(strokes), "stroke_target_ms": 300,
              "from_message_ms": [round(v, 1) for v in ours],
              "from_message_p50_ms": statistics.median(ours)}
    if views:
        result |= {"first_view_ms": [round(v, 1) for v in views],
                   "first_view_p50_ms": statistics.median(views), "first_view_target_ms": 1000}
    if as_json:
        print(json.dumps(result, indent=2))
        return
    if views:
        print(f"first view: p50 {result['first_view_p50_ms']:.0f} ms, max {max(views):.0f} ms "
              f"over {len(views)} (target <= 1000 ms)")
    what = "new text (the floor: no network)" if floor else "new answer, evidence and maps"
    print(f"stroke -> {what}: p50 {result['stroke_p50_ms']:.0f} ms, max {max(strokes):.0f} ms "
          f"over {len(strokes)} (target <= 300 ms)")
    print(f"  of which from the canvas's message to the complete page: p50 "
          f"{result['from_message_p50_ms']:.0f} ms (the rest is the canvas's 200 ms debounce)")


if __name__ == "__main__":
    raise SystemExit(main())

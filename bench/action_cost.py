"""What one student action costs the server, next to what Streamlit itself costs.

Not a test: a guard to run after any change to pages/, cnnviz/ui or the shell. It starts
two servers on this machine, cnnviz (`app.py`) and the floor (`bench/trivial_app.py`: a
slider and a line of text), and drives each with one protocol-level tab
(tests/support_protocol.py: the frontend's WebSocket messages, no browser).

On cnnviz the tab plays a fixed script of the actions a class does most (the classroom
bench's mix, without its randomness): depth, block and kernel changes on the Explorer, every
Explorer tab, a visit to Plain vs Residual with two moves of its Blocks slider, back to the
Explorer. The script is played once to warm the caches and the imports, then --passes times
measured. On the floor the tab moves the slider as many times. The server's CPU time (user +
system, all threads, from /proc in clock ticks of 10 ms) is read before and after each
action; the figure is its mean per action (a sum over many actions, so the ticks average
out), and the ratio cnnviz / floor, which moves far less with the machine than a time.

    python bench/action_cost.py                 # both servers, 3 measured passes
    python bench/action_cost.py --passes 5 --json
    python bench/action_cost.py --cold 5        # and 5 cold starts of each, alternating

A cold start is the time from spawning `streamlit run` to the first complete page in a new
tab (for cnnviz: the Explorer with its Parameters metric), the two apps alternating so the
machine's mood falls on both alike; its figure is the ratio of the medians.

The seed of a new model (a cache miss: a new module built and measured) is reported on its
own row: it is the one action whose cost is the work a student asked for. The seed then
goes back, so each pass plays the same configurations: the routine figure is what an
action costs when its results are already cached, the per-run overhead this guard watches.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path

import _harness  # noqa: F401  (the repository root on the import path)

from cnnviz.pages import EXPLORER, PLAIN_VS_RESIDUAL
from tests.support_protocol import Tab
from tests.support_server import start_server, stop_server

GRADFLOW_PAGE = PLAIN_VS_RESIDUAL.url_path
BLOCKS = PLAIN_VS_RESIDUAL.control("depth").key  # its Blocks slider


def _cpu_ms(pid: int) -> float:
    """The process's user + system time so far, all threads (from /proc: no psutil here)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


class Meter:
    """The server's CPU per action, by kind of action."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.costs: dict[str, list[float]] = {}
        self.wall: dict[str, list[float]] = {}
        self.errors: list[str] = []

    async def act(self, kind: str, action) -> None:
        before = _cpu_ms(self.pid)
        result = await action
        # the run's last messages leave before script_finished's bookkeeping: let it settle
        await asyncio.sleep(0.05)
        self.costs.setdefault(kind, []).append(_cpu_ms(self.pid) - before)
        self.wall.setdefault(kind, []).append(result.ms)
        self.errors.extend(result.errors)


async def cnnviz_pass(tab: Tab, meter: Meter, seed: int) -> None:
    """One pass of the fixed script on an open tab (which ends on the Explorer)."""
    for key, values in (("pick_depth", (4, 8, 3)), ("pick_p_kernel_size", (5, 3))):
        for value in values:
            await meter.act("widget_change", tab.rerun({tab.widget(key).id: value}))
    block = tab.widget("pick_block")
    first = block.value
    for other in [o for o in block.element.options if o != first][:2] + [first]:
        await meter.act("widget_change", tab.rerun({tab.widget("pick_block").id: other}))
    view = tab.widget(EXPLORER.view_key)
    for label in [*view.labels[1:], view.labels[0]]:
        await meter.act("tab_switch", tab.rerun({tab.widget(EXPLORER.view_key).id: label}))
    await meter.act("navigate", tab.rerun(page_hash=tab.page_hash_of(GRADFLOW_PAGE)))
    for blocks in (8, 3):
        slider = tab.widget(BLOCKS)
        await meter.act("gradflow_depth", tab.rerun({slider.id: [blocks]}))
    await meter.act("navigate", tab.rerun(page_hash=tab.page_hash_of(EXPLORER.url_path)))
    seed_box = tab.widget("pick_seed")
    first_seed = seed_box.value
    await meter.act("new_seed", tab.rerun({seed_box.id: seed}))
    # back to the first seed, so every pass plays the same configurations (cache hits after
    # the warm pass); this move is not counted
    await meter.act("seed_back", tab.rerun({tab.widget("pick_seed").id: first_seed}))


async def floor_pass(tab: Tab, meter: Meter, actions: int) -> None:
    for i in range(actions):
        slider = tab.widget("depth")
        await meter.act("widget_change", tab.rerun({slider.id: [2 + i % 50]}))


async def measure(url: str, pid: int, passes: int, floor_actions: int | None) -> Meter:
    tab = Tab(url)
    warm = Meter(pid)
    try:
        await tab.open(EXPLORER.url_path, "")
        if floor_actions is None:
            await cnnviz_pass(tab, warm, seed=1)  # imports, caches, the pages' first runs
        else:
            await floor_pass(tab, warm, 20)
        meter = Meter(pid)
        for i in range(passes):
            if floor_actions is None:
                await cnnviz_pass(tab, meter, seed=2 + i)
            else:
                await floor_pass(tab, meter, floor_actions)
        return meter
    finally:
        await tab.close()


def settle(pid: int, quiet_ms: float = 20, timeout_s: float = 90) -> None:
    """Wait until the server spends under `quiet_ms` of CPU in a second."""
    deadline = time.monotonic() + timeout_s
    before = _cpu_ms(pid)
    while time.monotonic() < deadline:
        time.sleep(1)
        now = _cpu_ms(pid)
        if now - before < quiet_ms:
            return
        before = now


async def _first_page(url: str, metric: str) -> float:
    tab = Tab(url)
    try:
        result = await tab.open(EXPLORER.url_path, "")
    finally:
        await tab.close()
    if metric not in result.metrics:
        raise RuntimeError(f"the first page came without its {metric} metric: "
                           f"{result.errors or sorted(result.metrics)}")
    return result.ms


def cold_start(script: str, metric: str) -> float:
    """Seconds from spawning the server to its first complete page in a new tab."""
    t0 = time.perf_counter()
    proc, url, _ = start_server(script=script, poll_s=0.02)
    try:
        asyncio.run(_first_page(url, metric))
        return time.perf_counter() - t0
    finally:
        stop_server(proc)


def cold_starts(runs: int) -> dict:
    times: dict[str, list[float]] = {"cnnviz": [], "floor": []}
    for _ in range(runs):
        times["cnnviz"].append(cold_start("app.py", "Parameters"))
        times["floor"].append(cold_start("bench/trivial_app.py", "Parameters"))
    medians = {k: statistics.median(v) for k, v in times.items()}
    return {"runs": runs, "cnnviz_s": [round(t, 2) for t in times["cnnviz"]],
            "floor_s": [round(t, 2) for t in times["floor"]],
            "cnnviz_median_s": round(medians["cnnviz"], 2),
            "floor_median_s": round(medians["floor"], 2),
            "ratio": round(medians["cnnviz"] / medians["floor"], 2)}


def run(passes: int = 3) -> dict:
    figures: dict = {"passes": passes}
    app, url, _ = start_server()
    try:
        settle(app.pid)  # the start-up's warm-up (cnnviz/ui/prewarm.py) is not an action
        meter = asyncio.run(measure(url, app.pid, passes, None))
    finally:
        stop_server(app)
    routine = [c for k, cs in meter.costs.items() if k not in ("new_seed", "seed_back")
               for c in cs]
    figures["cnnviz"] = {
        "actions": len(routine), "cpu_ms": round(statistics.fmean(routine), 1),
        "by_kind": {k: {"n": len(cs), "cpu_ms": round(statistics.fmean(cs), 1),
                        "wall_ms_median": round(statistics.median(meter.wall[k]), 1)}
                    for k, cs in meter.costs.items() if k != "seed_back"},
        "errors": meter.errors[:5]}
    floor, url, _ = start_server(script="bench/trivial_app.py")
    try:
        fmeter = asyncio.run(measure(url, floor.pid, 1, max(len(routine), 60)))
    finally:
        stop_server(floor)
    fcosts = fmeter.costs["widget_change"]
    figures["floor"] = {"actions": len(fcosts), "cpu_ms": round(statistics.fmean(fcosts), 1)}
    figures["ratio"] = round(statistics.fmean(routine) / max(statistics.fmean(fcosts), 0.1), 1)
    return figures


def format_table(f: dict) -> str:
    c, fl = f["cnnviz"], f["floor"]
    lines = [f"server CPU per action (mean), {f['passes']} measured passes of the script", "",
             f"{'kind':16} {'n':>4} {'CPU ms':>8} {'wall ms (median)':>17}"]
    for kind, k in c["by_kind"].items():
        lines.append(f"{kind:16} {k['n']:>4} {k['cpu_ms']:>8} {k['wall_ms_median']:>17}")
    lines += ["",
              f"cnnviz, a routine action: {c['cpu_ms']} ms over {c['actions']} actions "
              "(new_seed left out)",
              f"floor (bench/trivial_app.py): {fl['cpu_ms']} ms over {fl['actions']} reruns",
              f"ratio cnnviz / floor: {f['ratio']}x"]
    if c["errors"]:
        lines.append("errors: " + "; ".join(c["errors"]))
    if "cold" in f:
        k = f["cold"]
        lines += ["", f"cold start, spawn -> first complete page, {k['runs']} each, alternating:"
                  f" cnnviz {k['cnnviz_median_s']} s, floor {k['floor_median_s']} s (medians),"
                  f" ratio {k['ratio']}x"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--passes", type=int, default=3, help="measured passes of the script")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument("--cold", type=int, default=0, metavar="N",
                    help="also time N cold starts of each app, alternating")
    args = ap.parse_args(argv)
    figures = run(args.passes)
    if args.cold:
        figures["cold"] = cold_starts(args.cold)
    print(json.dumps(figures, indent=2) if args.json else format_table(figures))
    return 1 if figures["cnnviz"]["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())

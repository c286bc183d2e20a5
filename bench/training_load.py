"""A class pressing *Train* at once on the Trained Networks page, at the WebSocket level.

Not a test. Starts `streamlit run app.py` (or uses --url), opens one tab per student on
`/trained?view=Train+your+own` with the picker's stack in the query (default: resnet_basic,
depth 1), waits for every page, then every student presses *Train* within one second and
waits for the run to end. Each student either trains (the slots take them in turn; a
waiting one is told its place in the queue) or gets a sentence; nobody may see an
exception. The tabs stay open afterwards, each session holding its trained stacks, and
the server's memory is measured: idle before the class, peak, and with every session
holding its stacks.

    python bench/training_load.py [--students 30] [--query depth=1] [--json]
    python bench/training_load.py --url http://127.0.0.1:8501 --match "streamlit run"

Reuses the protocol client of bench/classroom_load.py (a Tab is one browser tab).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time

import _harness  # noqa: F401  (the repository root on the import path)
from classroom_load import (
    ActionError,
    Monitor,
    Tab,
    find_pids,
    served,
)
from streamlit.proto.WidgetStates_pb2 import WidgetState

from cnnviz.pages import TRAINED  # noqa: E402

QUEUE = "in the queue"


class TrainingTab(Tab):
    """A tab that also knows the page's buttons, so it can press one."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.buttons: dict[str, str] = {}  # key -> widget id
        self.alerts: list[str] = []

    def _on_delta(self, msg, result, seen, tabs) -> None:
        super()._on_delta(msg, result, seen, tabs)
        delta = msg.delta
        if delta.WhichOneof("type") != "new_element":
            return
        element = delta.new_element
        kind = element.WhichOneof("type")
        if kind == "button" and element.button.id:
            key = element.button.id.rsplit("-", 1)[-1]
            self.buttons[key] = element.button.id
        elif kind == "alert":
            self.alerts.append(element.alert.body)

    async def press(self, key: str):
        """A click: the button's trigger with every other widget's state."""
        wid = self.buttons.get(key)
        if wid is None:
            raise ActionError(f"no button {key!r} on the page")
        state = WidgetState(id=wid, trigger_value=True)
        original = self.widgets.get(wid)

        class Trigger:  # sent once, like the frontend's trigger value
            def state(self) -> WidgetState:
                return state

        self.widgets[wid] = Trigger()  # type: ignore[assignment]
        try:
            return await self.rerun(page_hash=self.page_hash)
        finally:
            if original is not None:
                self.widgets[wid] = original
            else:
                self.widgets.pop(wid, None)


async def student(base: str, query: str, start: asyncio.Event, out: dict, i: int,
                  timeout: float) -> TrainingTab:
    tab = TrainingTab(base, timeout=timeout)
    await tab.open(TRAINED.url_path, query)
    out.setdefault("ready", 0)
    out["ready"] += 1
    await start.wait()
    await asyncio.sleep(i / 30)  # all within one second
    t0 = time.perf_counter()
    tab.alerts.clear()
    try:
        result = await tab.press("tr_train")
    except ActionError as e:
        out.setdefault("errors", []).append(str(e))
        return tab
    seconds = time.perf_counter() - t0
    trained = any(m.endswith("test accuracy") for m in result.metrics)
    queued = any(QUEUE in a for a in tab.alerts)
    out.setdefault("results", []).append({"seconds": seconds, "trained": trained,
                                          "queued": queued, "errors": result.errors,
                                          "refusals": result.refusals})
    return tab


async def run_async(base: str, students: int, query: str, pids: list[int],
                    timeout: float) -> dict:
    monitor = Monitor(pids)
    out: dict = {}
    start = asyncio.Event()
    tasks = [asyncio.create_task(student(base, query, start, out, i, timeout))
             for i in range(students)]
    while out.get("ready", 0) < students and not all(t.done() for t in tasks):
        await asyncio.sleep(0.2)
    monitor.mark_idle()
    sampler = asyncio.create_task(monitor.sample())
    start.set()
    t0 = time.perf_counter()
    tabs = await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - t0
    await asyncio.sleep(2)
    holding = monitor.rss_now()
    sampler.cancel()
    for tab in tabs:
        await tab.close()
    results = out.get("results", [])
    seconds = [r["seconds"] for r in results]
    return {"students": students, "query": query, "elapsed_s": round(elapsed, 1),
            "trained": sum(r["trained"] for r in results),
            "told_their_place": sum(r["queued"] for r in results),
            "refused": sum(bool(r["refusals"]) for r in results),
            "errors": out.get("errors", []) + [e for r in results for e in r["errors"]],
            "wait_and_train_s": {"p50": round(statistics.median(seconds), 1) if seconds
                                 else None, "max": round(max(seconds), 1) if seconds else None},
            "rss_mb": {"idle": round(monitor.idle / 2**20), "peak": round(monitor.peak / 2**20),
                       "holding": round(holding / 2**20),
                       "holding_minus_idle": round((holding - monitor.idle) / 2**20)}}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--students", type=int, default=30)
    ap.add_argument("--query", default="depth=1",
                    help="the picker's stack in the URL (default depth=1: resnet_basic x1)")
    ap.add_argument("--url")
    ap.add_argument("--match", help="server processes to measure (command-line substring)")
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    query = "view=Train+your+own" + (f"&{a.query}" if a.query else "")

    def go(url: str, pids: list[int]) -> dict:
        return asyncio.run(run_async(url, a.students, query, pids, a.timeout))

    if a.url:
        result = go(a.url, find_pids(a.url, a.match))
    else:
        with served() as (url, pid):
            time.sleep(15)  # the warm-up
            result = go(url, [pid])
    if a.json:
        print(json.dumps(result, indent=2))
    else:
        r = result
        print(f"{r['students']} students pressed Train within a second ({r['query']}): "
              f"{r['trained']} trained, {r['refused']} refused with a sentence, "
              f"{len(r['errors'])} errors; {r['told_their_place']} were told their place "
              f"in the queue")
        print(f"press -> trained: p50 {r['wait_and_train_s']['p50']} s, max "
              f"{r['wait_and_train_s']['max']} s; all done in {r['elapsed_s']} s")
        m = r["rss_mb"]
        print(f"server RSS: idle {m['idle']} MB, peak {m['peak']} MB, with every session "
              f"holding its trained stacks {m['holding']} MB (+{m['holding_minus_idle']} MB)")
        for e in r["errors"][:5]:
            print("error:", e)
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    raise SystemExit(main())

"""A room of 200 students answering one question within ten seconds, at the WebSocket level.

Not a test. A teacher (one real Chromium, presenter mode, 1280x720) opens a room for the
first question of the output-size lesson; `--students` simulated students (the protocol
client of bench/classroom_load.py: no browser each) open `/join?room=CODE` while the
teacher waits, then each sends its answer at a random moment of a `--window`-second
window (the form's text and its submit button, as a browser sends them) and waits for the
acknowledgment ("Your answer ... is in"). Then:

* lost answers: the answers in the database minus the acknowledged ones (must be 0);
* submit -> acknowledgment: p50, p95 and max;
* catch-up: from the last acknowledgment to the teacher's page showing the full count.

    python bench/room_load.py                      # one process, SQLite (a fresh file)
    python bench/room_load.py --hall 2 --postgres  # 2 processes behind nginx, PostgreSQL
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

import _harness  # noqa: F401  (the repository root on the import path)
from classroom_load import ActionError, Tab
from streamlit.proto.WidgetStates_pb2 import WidgetState

from cnnviz.pages import JOIN  # noqa: E402
from tests.support_server import CHROMIUM, CHROMIUM_ARGS, goto_page, start_server, stop_server

STEP = "/conv_arithmetic?lesson=output_size&step=1&present=1"


class Student(Tab):
    """One phone: its page, the answer form, the acknowledgment."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.submit_id: str | None = None
        self.acknowledged = False

    def _on_delta(self, msg, result, seen, tabs) -> None:
        super()._on_delta(msg, result, seen, tabs)
        delta = msg.delta
        if delta.WhichOneof("type") != "new_element":
            return
        element = delta.new_element
        kind = element.WhichOneof("type")
        if kind == "button" and element.button.is_form_submitter:
            self.submit_id = element.button.id
        elif kind == "alert" and "is in" in element.alert.body:
            self.acknowledged = True

    async def answer(self, code: str, guess: str) -> float:
        """Type the guess, press Send; seconds until the acknowledgment."""
        field = self.widget(f"join_{code}_1_1_number")
        if field is None or self.submit_id is None:
            raise ActionError("the answer form is not on the page")
        field.value = guess
        trigger = WidgetState(id=self.submit_id, trigger_value=True)

        class Press:
            def state(self) -> WidgetState:
                return trigger

        self.widgets[self.submit_id] = Press()  # type: ignore[assignment]
        self.acknowledged = False
        t0 = time.perf_counter()
        try:
            await self.rerun(page_hash=self.page_hash)
        finally:
            self.widgets.pop(self.submit_id, None)
        if not self.acknowledged:
            raise ActionError("no acknowledgment")
        return time.perf_counter() - t0


async def run_students(url: str, code: str, students: int, window: float, rng: random.Random
                       ) -> dict:
    tabs = [Student(url, timeout=120) for _ in range(students)]
    await asyncio.gather(*(t.open(JOIN.url_path, f"room={code}") for t in tabs))
    latencies: list[float] = []
    errors: list[str] = []
    last_ack = [0.0]

    async def one(tab: Student) -> None:
        await asyncio.sleep(rng.uniform(0, window))
        try:
            latencies.append(await tab.answer(code, str(rng.choice([2, 3, 3, 3, 4, 5]))))
            last_ack[0] = max(last_ack[0], time.monotonic())
        except ActionError as e:
            errors.append(str(e))

    start = time.monotonic()
    await asyncio.gather(*(one(t) for t in tabs))
    for t in tabs:
        await t.close()
    return {"latencies": latencies, "errors": errors, "window_s": time.monotonic() - start,
            "last_ack": last_ack[0]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--students", type=int, default=200)
    ap.add_argument("--window", type=float, default=10.0)
    ap.add_argument("--hall", type=int, default=0, help="app processes behind nginx (0: one "
                                                       "plain process)")
    ap.add_argument("--postgres", action="store_true", help="a fresh PostgreSQL, else SQLite")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright

    from cnnviz.deploy.hall import start_hall
    from cnnviz.store import RoomStore

    with ExitStack() as stack:
        if a.postgres:
            from support_pg import postgres_server
            database = stack.enter_context(postgres_server())
        else:
            database = f"sqlite:///{tempfile.mkdtemp(prefix='cnnviz-room-bench-')}/rooms.db"
        os.environ["CNNVIZ_DATABASE_URL"] = database
        if a.hall:
            hall = start_hall(a.hall, 0, database=database)
            stack.callback(hall.stop)
            url = hall.url
        else:
            proc, url, _ = start_server(env={"CNNVIZ_DATABASE_URL": database})
            stack.callback(stop_server, proc)
        rooms = RoomStore(database)
        stack.callback(rooms.engine.dispose)
        pw = stack.enter_context(sync_playwright())
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        teacher = browser.new_page(viewport={"width": 1280, "height": 720})
        goto_page(teacher, url + STEP, 180_000)
        teacher.get_by_role("button", name="Ask the room").click()
        teacher.locator(".room-code").wait_for(timeout=60_000)
        code = teacher.locator(".room-code").inner_text().strip()
        with ThreadPoolExecutor(1) as pool:  # the students' own event loop, off Playwright's
            result = pool.submit(asyncio.run, run_students(
                url, code, a.students, a.window, random.Random(a.seed))).result()
        acked = len(result["latencies"])
        wanted = f"{acked} answer{'' if acked == 1 else 's'}"
        teacher.get_by_text(wanted, exact=True).wait_for(timeout=30_000)
        catch_up = time.monotonic() - result["last_ack"]
        stored = rooms.count(code, 1, 1)
        browser.close()
    lat = sorted(result["latencies"])
    q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] * 1000 if lat else float("nan")  # noqa: E731
    out = {"setup": f"{a.hall or 1} process(es), {'PostgreSQL' if a.postgres else 'SQLite'}",
           "students": a.students, "acknowledged": acked, "stored": stored,
           "lost": acked - stored if stored <= acked else 0, "extra": max(0, stored - acked),
           "errors": result["errors"][:5], "submit_ack_ms": {
               "p50": round(statistics.median(lat) * 1000) if lat else None,
               "p95": round(q(0.95)), "max": round(lat[-1] * 1000) if lat else None},
           "teacher_catch_up_s": round(catch_up, 2)}
    if a.json:
        print(json.dumps(out, indent=2))
    else:
        print(f"{out['setup']}: {a.students} students in {a.window:g} s; acknowledged "
              f"{acked}, in the database {stored}, lost {out['lost']}, errors "
              f"{len(result['errors'])}")
        s = out["submit_ack_ms"]
        print(f"submit -> acknowledgment: p50 {s['p50']} ms, p95 {s['p95']} ms, max "
              f"{s['max']} ms (target p95 <= 500 ms)")
        print(f"teacher's count caught up {out['teacher_catch_up_s']} s after the last "
              f"acknowledgment (target <= 2 s)")
    return 1 if out["lost"] or result["errors"] else 0


if __name__ == "__main__":
    raise SystemExit(main())

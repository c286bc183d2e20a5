"""A room of 200 students through peer instruction, at the WebSocket level.

Not a test. A teacher (one real Chromium, presenter mode, 1280x720) opens a room for the
first question of the output-size lesson; `--students` simulated students (the protocol
client of bench/classroom_load.py: no browser each) open `/join?room=CODE` while the
teacher waits. Then three rounds, as Crouch & Mazur's peer instruction runs a question and
Smith et al. 2009 check it: round 1 (alone), the teacher closes it without revealing and
starts round 2 (after discussion), then reveals and asks the isomorphic twin. In each
round every student sends an answer at a random moment of a `--window`-second window (the
form's text and its submit button, as a browser sends them) and waits for the
acknowledgment ("Your answer ... is in"); between rounds each student's page reruns, as
its poll does when the teacher moves. Per round:

* lost answers: the acknowledged ones minus those in the database (must be 0);
* submit -> acknowledgment: p50, p95 and max;
* catch-up: from the last acknowledgment to the teacher's page showing the full count.

    python bench/room_load.py                      # one process, SQLite (a fresh file)
    python bench/room_load.py --hall 2 --postgres  # 2 processes behind nginx, PostgreSQL
    python bench/room_load.py --rounds 1           # round 1 only
"""
from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import statistics
import threading
import time
from contextlib import ExitStack

import _harness  # noqa: F401  (the repository root on the import path)
import _served
from classroom_load import ActionError, Tab
from streamlit.proto.WidgetStates_pb2 import WidgetState

from cnnviz.pages import JOIN  # noqa: E402
from cnnviz.store.rounds import Phase  # noqa: E402
from cnnviz.ui.rooms.reveal import answers_text, round_name  # noqa: E402
from tests.support_server import (
    APP_IDLE,
    CHROMIUM,
    CHROMIUM_ARGS,
    goto_page,
)

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

    async def answer(self, field_key: str, guess: str) -> float:
        """Type the guess, press Send; seconds until the acknowledgment."""
        field = self.widget(field_key)
        if field is None or self.submit_id is None:
            raise ActionError(f"the answer form ({field_key}) is not on the page: "
                              f"{sorted(w.key or '' for w in self.widgets.values())}")
        field.value = guess
        self.acknowledged = False
        t0 = time.perf_counter()
        # the form's submit button, pressed: a trigger sent with the form's values
        await self.rerun(page_hash=self.page_hash,
                         raw=[WidgetState(id=self.submit_id, trigger_value=True)])
        if not self.acknowledged:
            raise ActionError("no acknowledgment")
        return time.perf_counter() - t0


# (name, as the room's results name it; the teacher's buttons that open it; the room's round
# and phase once they are pressed)
ROUNDS = [("round 1", [], 1, Phase.VOTE1),
          ("round 2", ["Close round 1", "Discuss, then vote again"], 2, Phase.VOTE2),
          ("twin", ["Close round 2", "Reveal", "Ask the twin"], 3, Phase.TWIN)]
GUESSES = {"round 1": [2, 3, 3, 3, 4, 5], "round 2": [3, 3, 3, 3, 4], "twin": [4, 5, 5, 5, 6]}


async def join(url: str, code: str, students: int) -> list[Student]:
    tabs = [Student(url, timeout=120) for _ in range(students)]
    await asyncio.gather(*(t.open(JOIN.url_path, f"room={code}") for t in tabs))
    return tabs


async def answer_round(tabs: list[Student], code: str, name: str, room_round: int,
                       refresh: bool, window: float, rng: random.Random) -> dict:
    """Each student (its page rerun first when the teacher moved on) answers once at a
    random moment of the window."""
    said: dict[int, list[str]] = {}
    if refresh:  # what each phone's poll does when the round changes
        runs = await asyncio.gather(*(t.rerun(page_hash=t.page_hash) for t in tabs))
        said = {id(t): r.errors + r.refusals + r.warnings for t, r in zip(tabs, runs)}
    latencies: list[float] = []
    errors: list[str] = []
    last_ack = [0.0]
    field_key = f"join_{code}_1_{room_round}_number"

    async def one(tab: Student) -> None:
        await asyncio.sleep(rng.uniform(0, window))
        try:
            latencies.append(await tab.answer(field_key, str(rng.choice(GUESSES[name]))))
            last_ack[0] = max(last_ack[0], time.monotonic())
        except ActionError as e:
            errors.append(f"{e} {said.get(id(tab), [])}"[:400])

    await asyncio.gather(*(one(t) for t in tabs))
    return {"latencies": latencies, "errors": errors, "last_ack": last_ack[0]}


def figures(name: str, result: dict, stored: int, catch_up: float) -> dict:
    lat = sorted(result["latencies"])
    acked = len(lat)
    return {"round": name, "acknowledged": acked, "stored": stored,
            "lost": max(0, acked - stored), "extra": max(0, stored - acked),
            "errors": result["errors"][:5], "error_count": len(result["errors"]),
            "submit_ack_ms": {"p50": round(statistics.median(lat) * 1000) if lat else None,
                              "p95": round(lat[math.ceil(0.95 * acked) - 1] * 1000) if lat
                              else None,
                              "max": round(lat[-1] * 1000) if lat else None},
            "teacher_catch_up_s": round(catch_up, 2)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--students", type=int, default=200)
    ap.add_argument("--window", type=float, default=10.0)
    ap.add_argument("--rounds", type=int, default=3, choices=(1, 2, 3),
                    help="round 1 only, rounds 1-2, or rounds 1-2 and the twin")
    _served.add_options(ap)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright

    from cnnviz.store import RoomStore

    rng = random.Random(a.seed)
    rounds: list[dict] = []
    with ExitStack() as stack:
        url, database = _served.serve(stack, a, "room")
        rooms = RoomStore(database)
        stack.callback(rooms.engine.dispose)
        # the students' sockets live on one event loop of their own, off Playwright's thread
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, daemon=True)
        thread.start()
        stack.callback(thread.join, 5)
        stack.callback(loop.call_soon_threadsafe, loop.stop)

        def students(coro):
            return asyncio.run_coroutine_threadsafe(coro, loop).result()

        pw = stack.enter_context(sync_playwright())
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        stack.callback(browser.close)
        teacher = browser.new_page(viewport={"width": 1280, "height": 720})
        goto_page(teacher, url + STEP, 180_000)
        teacher.get_by_role("button", name="Ask the room").click()
        teacher.locator(".room-code").wait_for(timeout=60_000)
        code = teacher.locator(".room-code").inner_text().strip()
        tabs = students(join(url, code, a.students))

        async def leave() -> None:
            await asyncio.gather(*(t.close() for t in tabs))

        stack.callback(lambda: students(leave()))
        for number, (name, buttons, room_round, phase) in enumerate(ROUNDS[:a.rounds]):
            for label in buttons:  # the teacher's moves, as clicked on the projector
                teacher.get_by_role("button", name=label, exact=True).click()
                teacher.wait_for_selector(APP_IDLE, timeout=60_000)
            # the page may still read idle before the click's run: the move is made when
            # the database says so (students see it at their next poll, within 2 s)
            deadline = time.monotonic() + 30
            while rooms.room(code).phase != phase and time.monotonic() < deadline:
                time.sleep(0.1)
            result = students(answer_round(tabs, code, name, room_round, number > 0,
                                           a.window, rng))
            acked = len(result["latencies"])
            teacher.get_by_text(answers_text(acked), exact=True).first.wait_for(
                timeout=30_000)
            catch_up = time.monotonic() - result["last_ack"]
            stored = sum(round_name(x) == name for x in rooms.answers(code, 1))
            rounds.append(figures(name, result, stored, catch_up))
    out = {"setup": _served.setup_text(a),
           "students": a.students, "window_s": a.window, "rounds": rounds}
    if a.json:
        print(json.dumps(out, indent=2))
    else:
        print(f"{out['setup']}: {a.students} students, each round's answers within "
              f"{a.window:g} s")
        for r in rounds:
            s = r["submit_ack_ms"]
            print(f"{r['round']:>8}: acknowledged {r['acknowledged']}, in the database "
                  f"{r['stored']}, lost {r['lost']}, errors {r['error_count']}; submit -> "
                  f"acknowledgment p50 {s['p50']} ms, p95 {s['p95']} ms, max {s['max']} ms; "
                  f"teacher's count caught up in {r['teacher_catch_up_s']} s")
            for e in r["errors"]:
                print(f"          error: {e}")
        print("targets: 0 lost, p95 <= 500 ms, catch-up <= 2 s")
    bad = any(r["lost"] or r["error_count"] for r in rounds) or len(rounds) < a.rounds
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())

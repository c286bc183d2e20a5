"""A design challenge with 30 students sending designs within a minute, at the WebSocket level.

Not a test. The bench opens a challenge in the database (the digits at 8×8, a budget every
design below fits); `--students` simulated students (the protocol client of
bench/classroom_load.py: no browser each) open `/challenge?challenge=CODE`, each at a
random moment of a `--window`-second window sets a design (depth 1-3, width 4-24, 1-3
epochs), types a nickname and presses *Send my design*, as a browser would. The server's
own workers train the queue. Then, from the database:

* sent and stored: every student's design must be there (0 lost), none failed;
* per design: its queue wait (sent -> training started) and training time;
* the last result's time after the last submission (target <= 6 min on 2 cores).

    python bench/challenge_load.py                 # one process, SQLite (a fresh file)
    python bench/challenge_load.py --hall 2 --postgres
"""
from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import time
from contextlib import ExitStack

import _harness  # noqa: F401  (the repository root on the import path)
import _served
from classroom_load import ActionError, Tab
from streamlit.proto.WidgetStates_pb2 import WidgetState

from cnnviz.pages import CHALLENGE  # noqa: E402


async def one_student(url: str, code: str, i: int, window: float, rng: random.Random,
                      errors: list[str]) -> None:
    await asyncio.sleep(rng.uniform(0, window))
    tab = Tab(url, timeout=120)
    try:
        await tab.open(CHALLENGE.url_path, f"challenge={code}")
        changes = {}
        for key, value in (("ch_depth", rng.randint(1, 3)), ("ch_width", rng.randint(4, 24)),
                           ("ch_epochs", rng.randint(1, 3))):
            widget = tab.widget(key)
            if widget is None:
                raise ActionError(f"no {key} on the page")
            changes[widget.id] = value
        await tab.rerun(changes, page_hash=tab.page_hash)
        nick, send = tab.widget("ch_nick"), tab.widget("ch_send")
        if nick is None or send is None:
            raise ActionError("no send form (the design is over the budget?)")
        nick.value = f"student {i:02d}"
        await tab.rerun(page_hash=tab.page_hash,
                        raw=[WidgetState(id=send.id, trigger_value=True)])
    except ActionError as e:
        errors.append(f"student {i}: {e}")
    finally:
        await tab.close()


async def run_students(url: str, code: str, students: int, window: float, seed: int
                       ) -> list[str]:
    rng, errors = random.Random(seed), []
    await asyncio.gather(*(one_student(url, code, i, window, random.Random(rng.random()),
                                       errors) for i in range(students)))
    return errors


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--students", type=int, default=30)
    ap.add_argument("--window", type=float, default=60.0)
    _served.add_options(ap)
    ap.add_argument("--limit", type=float, default=600.0, help="seconds to wait for results")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    from cnnviz.store import ChallengeStore

    with ExitStack() as stack:
        url, database = _served.serve(stack, a, "design")
        store = ChallengeStore(database)
        stack.callback(store.engine.dispose)
        found, _ = store.open_challenge(8, 100_000, 5_000_000, 3, 30)
        errors = asyncio.run(run_students(url, found.code, a.students, a.window, a.seed))
        deadline = time.time() + a.limit
        while time.time() < deadline:
            designs = store.submissions(found.code)
            if designs and not any(d.active for d in designs):
                break
            time.sleep(1.0)
        designs = store.submissions(found.code)
    waits = [d.started - d.submitted for d in designs if d.started is not None]
    trains = [d.finished - d.started for d in designs
              if d.status == "done" and d.started is not None and d.finished is not None]
    last_sent = max((d.submitted for d in designs), default=float("nan"))
    last_done = max((d.finished or 0.0 for d in designs), default=float("nan"))
    out = {"setup": _served.setup_text(a),
           "students": a.students, "stored": len(designs),
           "lost": a.students - len(designs) - len(errors),
           "done": sum(d.status == "done" for d in designs),
           "failed": [d.message for d in designs if d.status == "failed"][:5],
           "still_active": sum(d.active for d in designs), "errors": errors[:5],
           "queue_wait_s": {"median": round(statistics.median(waits), 1) if waits else None,
                            "max": round(max(waits), 1) if waits else None},
           "training_s": {"median": round(statistics.median(trains), 1) if trains else None,
                          "max": round(max(trains), 1) if trains else None},
           "last_result_after_last_submission_s": round(last_done - last_sent, 1),
           "designs": [{"nickname": d.nickname, "params": d.params, "macs": d.macs,
                        "epochs": d.spec.get("epochs"), "status": d.status,
                        "wait_s": round(d.started - d.submitted, 1) if d.started else None,
                        "train_s": round(d.finished - d.started, 1)
                        if d.started and d.finished else None,
                        "public": d.public} for d in designs]}
    if a.json:
        print(json.dumps(out, indent=2))
    else:
        print(f"{out['setup']}: {a.students} students within {a.window:g} s; stored "
              f"{out['stored']}, trained {out['done']}, failed {len(out['failed'])}, "
              f"errors {len(errors)}")
        for d in out["designs"]:
            print(f"  {d['nickname']}: {d['params']:,} params, {d['macs']:,} MACs, "
                  f"{d['epochs']} epochs: {d['status']}, waited {d['wait_s']} s, trained "
                  f"in {d['train_s']} s")
        print(f"queue wait: median {out['queue_wait_s']['median']} s, max "
              f"{out['queue_wait_s']['max']} s; training: median "
              f"{out['training_s']['median']} s, max {out['training_s']['max']} s")
        print(f"last result {out['last_result_after_last_submission_s']} s after the last "
              f"submission (target <= 360 s)")
    return 1 if out["lost"] or errors or out["failed"] or out["still_active"] else 0


if __name__ == "__main__":
    raise SystemExit(main())

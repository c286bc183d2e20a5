"""The protocol fuzzer on a room: a student's join page with a live question, and the
lesson's presenter mode where a teacher asks the room, against a server with a database of
its own. After the battery: the fuzzer's checks (no exception element, every run finished),
and nothing stored wrongly (every stored number finite, every confidence one the room
offers, every answer on the room's question).
"""
from __future__ import annotations

import asyncio
import math

import pytest
from conftest import own_server
from test_fuzz import Fuzzer

from cnnviz.store.rooms import RoomStore

pytestmark = pytest.mark.slow

LESSON, STEP = "output_size", 1
CONFIDENCES = {None, "sure", "fairly sure", "guessing"}


@pytest.fixture(scope="module")
def room_server(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('rooms') / 'rooms.sqlite3'}"
    for proc, base, _ in own_server(env={"CNNVIZ_DATABASE_URL": url}):
        yield proc, base, url


async def _fuzz(base: str, pid: int, code: str) -> Fuzzer:
    fuzzer = Fuzzer(base, pid)
    await fuzzer.page("join", f"room={code}")
    await fuzzer.page("lessons", f"lesson={LESSON}&step={STEP}&present=1")
    return fuzzer


def test_a_rooms_student_and_teacher_pages_survive_hostile_values(room_server):
    proc, base, url = room_server
    store = RoomStore(url)
    room, _ = store.open_room(LESSON, STEP)
    fuzzer = asyncio.run(_fuzz(base, proc.pid, room.code))
    assert fuzzer.runs > 10, "the fuzzer hardly ran"
    kinds = {w.kind for w in fuzzer.seen.values()}
    assert {"number_input", "button"} <= kinds, f"the answer form was not reached: {kinds}"
    assert fuzzer.failures == [], "\n".join(f[:400] for f in fuzzer.failures[:40])
    answers = store.answers(room.code)
    for a in answers:
        assert a.step == STEP
        assert a.number is None or math.isfinite(a.number), a
        assert a.confidence in CONFIDENCES, a

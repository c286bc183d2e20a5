"""The room's files from the projector page (cnnviz.ui.rooms.results.room_files) are the
command line's, byte for byte, for a room that followed the teacher through two lessons;
and they are made only for the room's teacher."""
from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest

from cnnviz.store import NotTeacher, RoomStore, UnknownRoom
from cnnviz.ui.rooms.results import room_files

ROOT = Path(__file__).resolve().parents[2]
STUDENTS = [c * 32 for c in "abcd"]


def cli(db: str, *args: str) -> str:
    return subprocess.run([sys.executable, "-m", "cnnviz", "rooms", "--database", db, *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=120,
                          check=True).stdout


@pytest.fixture(scope="module")
def room(tmp_path_factory) -> tuple[str, RoomStore, str, str]:
    """output_size step 1 (answer 3), then the same room on convolution_by_hand step 1."""
    db = f"sqlite:///{tmp_path_factory.mktemp('files') / 'rooms.sqlite3'}"
    rooms = RoomStore(db)
    room, secret = rooms.open_room("output_size", 1)
    for s, v in zip(STUDENTS, [3, 2, -3, 3]):
        rooms.submit(room.code, s, number=v, confidence="sure")
    rooms.reveal(room.code, secret)
    moved = rooms.move(room.code, secret, 1, "convolution_by_hand")
    assert (moved.lesson, moved.step, moved.round) == ("convolution_by_hand", 1, 1)
    for s, v in zip(STUDENTS[:2], [1.5, 7]):  # the same students, another lesson's step 1
        rooms.submit(room.code, s, number=v)
    yield db, rooms, room.code, secret
    rooms.engine.dispose()


def test_the_downloads_are_the_command_lines_files(room):
    db, rooms, code, secret = room
    files = room_files(rooms, code, secret)
    # the same rows (a text-mode pipe reads the CSV's \r\n line ends as \n)
    assert files["answers"].replace("\r\n", "\n") == cli(db, "export", code, "--csv")
    assert files["report"].replace("\r\n", "\n") == cli(db, "report", code, "--csv")
    answers = list(csv.DictReader(io.StringIO(files["answers"])))
    assert [(r["lesson"], r["step"], r["answer"]) for r in answers] == [
        ("output_size", "1", "3"), ("output_size", "1", "2"), ("output_size", "1", "-3"),
        ("output_size", "1", "3"), ("convolution_by_hand", "1", "1.5"),
        ("convolution_by_hand", "1", "7")]
    assert [r["right"] for r in answers[:4]] == ["true", "false", "false", "true"]
    assert {r["computed"] for r in answers[:4]} == {"3"}
    report = list(csv.DictReader(io.StringIO(files["report"])))
    assert [(r["lesson"], r["round 1 answers"], r["round 1 right %"]) for r in report][0] \
        == ("output_size", "4", "50.0")
    assert [r["lesson"] for r in report] == ["output_size", "convolution_by_hand"]


def test_a_forged_secret_gets_no_file(room):
    _, rooms, code, _ = room
    _, theirs = rooms.open_room("output_size", 1)  # another teacher's room
    for forged in ("forged", theirs, "", code):
        with pytest.raises(NotTeacher, match="Only the teacher who opened this room"):
            room_files(rooms, code, forged)
    with pytest.raises(UnknownRoom):
        room_files(rooms, "ZZZZZZ", "forged")

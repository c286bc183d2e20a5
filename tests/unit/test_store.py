"""The room store on SQLite and on a real PostgreSQL server (skipped without its binaries,
except under CI=true, where .ci/run installs them)."""
from __future__ import annotations

import os
import sqlite3
import stat
import time

import pytest
from sqlalchemy import text
from support_pg import postgres_server, require

from cnnviz.store import (
    ALPHABET,
    CODE_LENGTH,
    NotTeacher,
    RoomClosed,
    RoomError,
    RoomStore,
    StoreUnavailable,
    UnknownRoom,
    database_url,
    normal_code,
)
from cnnviz.store.rooms import SCHEMA_VERSION

ALICE, BOB = "a" * 32, "b" * 32
CHOICES = ("one 5×5", "two 3×3")


@pytest.fixture(scope="module")
def postgres_url():
    require()
    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def rooms(request, tmp_path) -> RoomStore:
    if request.param == "sqlite":
        store = RoomStore(f"sqlite:///{tmp_path / 'data' / 'rooms.sqlite3'}")
    else:
        store = RoomStore(request.getfixturevalue("postgres_url"))
        with store.engine.begin() as c:  # each test starts from empty tables
            c.execute(text("DELETE FROM answers"))
            c.execute(text("DELETE FROM rooms"))
    yield store
    if request.param == "postgresql":  # leave the shared database as a new one would be
        with store.engine.begin() as c:
            c.execute(text(f"UPDATE schema_version SET version = {SCHEMA_VERSION}"))
    store.engine.dispose()


def test_codes_are_short_unambiguous_and_random(rooms):
    codes = {rooms.open_room("output_size", 1)[0].code for _ in range(30)}
    assert len(codes) == 30
    for code in codes:
        assert len(code) == CODE_LENGTH and set(code) <= set(ALPHABET)
        assert not set(code) & set("0O1IL")
    assert normal_code(" k7q-x2m ") == "K7QX2M"
    for bad in ("K7QX2", "K7QX2MM", "K7QX2O", "'; DROP", "", "٣٣٣٣٣٣"):
        with pytest.raises(RoomError, match="6 letters and digits"):
            normal_code(bad)


def test_one_answer_per_student_per_round_the_last_one_kept(rooms):
    room, secret = rooms.open_room("output_size", 1)
    rooms.submit(room.code, ALICE, number=2)
    rooms.submit(room.code, ALICE, number=3)  # changes her mind
    rooms.submit(room.code.lower(), BOB, number=3)
    assert rooms.count(room.code, 1, 1) == 2
    assert sorted(a.value for a in rooms.answers(room.code)) == [3.0, 3.0]
    rooms.close(room.code, secret)
    with pytest.raises(RoomClosed):
        rooms.submit(room.code, ALICE, number=9)
    assert [a.value for a in rooms.answers(room.code) if a.student == ALICE] == [3.0]


def test_peer_instruction_rounds_and_the_next_question(rooms):
    room, secret = rooms.open_room("bottleneck", 2)
    rooms.submit(room.code, ALICE, choice="two 3×3", options=CHOICES)
    rooms.close(room.code, secret)
    again = rooms.new_round(room.code, secret)
    assert (again.round, again.open) == (2, True)
    rooms.submit(room.code, ALICE, choice="one 5×5", options=CHOICES)
    assert [(a.round, a.value) for a in rooms.answers(room.code)] == [
        (1, "two 3×3"), (2, "one 5×5")]
    moved = rooms.move(room.code, secret, 4)
    assert (moved.step, moved.round, moved.open) == (4, 1, True)
    assert rooms.count(room.code, 4, 1) == 0


def test_only_the_teachers_secret_changes_a_room(rooms):
    room, secret = rooms.open_room("output_size", 1)
    last = "y" if secret.endswith("x") else "x"  # one character off, never the secret
    for forged in ("", "guess", room.code, secret[:-1] + last):
        for action in (rooms.close, rooms.new_round, rooms.end):
            with pytest.raises(NotTeacher):
                action(room.code, forged)
        with pytest.raises(NotTeacher):
            rooms.move(room.code, forged, 3)
    assert rooms.room(room.code).open and rooms.room(room.code).round == 1


@pytest.mark.parametrize("fields, says", [
    ({"number": float("nan")}, "finite"), ({"number": float("inf")}, "finite"),
    ({"choice": "x" * 10_000_000, "options": ["a"]}, "not one of the choices"),
    ({"choice": "a"}, "not one of the choices"),  # a number question has no choices
    ({"choice": "c", "options": ["a", "b"]}, "not one of the choices"),
    ({"choice": 3, "options": [3]}, "not one of the choices"),
    ({"number": 2, "options": ["a", "b"]}, "one of the choices, not a number"),
    ({"number": 1e308}, "too large"), ({"number": -1e308}, "too large"),
    ({"number": 1e16}, "too large"), ({"number": 10**400}, "finite"),
    ({"number": "3"}, "must be a number"), ({"number": True}, "must be a number"),
    ({}, "a number or one"),
    ({"number": 1, "choice": "a"}, "a number or one")])
def test_bad_answers_store_nothing(rooms, fields, says):
    room, _ = rooms.open_room("output_size", 1)
    with pytest.raises(RoomError, match=says):
        rooms.submit(room.code, ALICE, **fields)
    with pytest.raises(RoomError, match="anonymous id"):
        rooms.submit(room.code, "not-an-id", number=1)
    assert rooms.answers(room.code) == []


def test_rooms_expire_and_their_answers_are_deleted(rooms):
    now = time.time()
    old, _ = rooms.open_room("output_size", 1, now=now - 25 * 3600)
    rooms.submit(old.code, ALICE, number=1, now=now - 25 * 3600)
    with pytest.raises(UnknownRoom):
        rooms.room(old.code)
    with pytest.raises(UnknownRoom):
        rooms.submit(old.code, BOB, number=1, now=now)
    assert rooms.purge() == 1 and rooms.answers(old.code) == []
    again, _ = rooms.open_room("output_size", 1, now=now - 25 * 3600)
    new, _ = rooms.open_room("output_size", 1)  # opening a room purges the expired ones
    assert [r.code for r, _ in rooms.rooms()] == [new.code] and again.code != new.code


def test_the_schema_is_versioned_and_migrated(rooms):
    assert rooms.migrate() == rooms.schema_version() == SCHEMA_VERSION
    with rooms.engine.begin() as c:
        c.execute(text("UPDATE schema_version SET version = 0"))
    assert rooms.migrate() == SCHEMA_VERSION and rooms.schema_version() == SCHEMA_VERSION
    with rooms.engine.begin() as c:
        c.execute(text(f"UPDATE schema_version SET version = {SCHEMA_VERSION + 1}"))
    with pytest.raises(StoreUnavailable, match="newer than this cnnviz"):
        rooms.migrate()


def test_the_default_database_is_a_file_in_the_data_directory(tmp_path, monkeypatch):
    monkeypatch.delenv("CNNVIZ_DATABASE_URL", raising=False)
    monkeypatch.setenv("CNNVIZ_DATA_DIR", str(tmp_path / "made" / "here"))
    assert database_url() == f"sqlite:///{tmp_path / 'made' / 'here' / 'cnnviz.sqlite3'}"
    store = RoomStore()  # created on first use
    assert (tmp_path / "made" / "here" / "cnnviz.sqlite3").is_file()
    with store.engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    monkeypatch.setenv("CNNVIZ_DATABASE_URL", "postgres://u@h/db")
    assert database_url() == "postgresql+psycopg://u@h/db"
    with pytest.raises(StoreUnavailable, match="must start with"):
        database_url("mysql://u@h/db")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to read-only files")
def test_a_read_only_database_is_a_sentence(tmp_path):
    path = tmp_path / "rooms.sqlite3"
    rooms = RoomStore(f"sqlite:///{path}")
    room, _ = rooms.open_room("output_size", 1)
    rooms.engine.dispose()
    path.chmod(stat.S_IREAD)
    with pytest.raises(StoreUnavailable, match="unavailable"):
        RoomStore(f"sqlite:///{path}").submit(room.code, ALICE, number=1)


def test_a_missing_or_locked_database_is_a_sentence(tmp_path):
    with pytest.raises(StoreUnavailable, match="unavailable"):
        RoomStore("sqlite:////proc/no/such/dir/rooms.sqlite3")
    path = tmp_path / "rooms.sqlite3"
    rooms = RoomStore(f"sqlite:///{path}")
    room, _ = rooms.open_room("output_size", 1)
    other = sqlite3.connect(path, timeout=0)
    other.execute("BEGIN EXCLUSIVE")  # another program holds the whole file
    try:
        with pytest.raises(StoreUnavailable, match="locked"):
            rooms.submit(room.code, ALICE, number=1)
    finally:
        other.rollback()
        other.close()
    rooms.submit(room.code, ALICE, number=1)  # and works again once it lets go
    assert rooms.count(room.code, 1, 1) == 1


def test_two_stores_on_one_postgresql_see_each_other(postgres_url):
    """Two processes (here two engines) share rooms through the database alone."""
    teacher, student = RoomStore(postgres_url), RoomStore(postgres_url)
    try:
        room, secret = teacher.open_room("output_size", 1)
        student.submit(room.code, ALICE, number=3)
        assert teacher.count(room.code, 1, 1) == 1
        teacher.close(room.code, secret)
        with pytest.raises(RoomClosed):
            student.submit(room.code, BOB, number=3)
    finally:
        teacher.engine.dispose()
        student.engine.dispose()

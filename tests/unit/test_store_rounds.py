"""Peer instruction in the room store: the phases of a question, the teacher's moves and
their refusals, confidence and twin answers, and an older database upgraded in place; on
SQLite and a real PostgreSQL (skipped without its binaries, except under CI=true)."""
from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from support_pg import postgres_server, require

from cnnviz.store import (
    CONFIDENCES,
    NotTeacher,
    Phase,
    RoomClosed,
    RoomError,
    RoomStore,
    UnknownRoom,
    WrongPhase,
)
from cnnviz.store.database import SCHEMA_VERSION

ALICE, BOB = "a" * 32, "b" * 32


@pytest.fixture(scope="module")
def postgres_url():
    require()
    with postgres_server() as url:
        yield url


def _empty(url: str) -> None:
    engine = create_engine(url.replace("postgresql:", "postgresql+psycopg:", 1)
                           if url.startswith("postgresql:") else url)
    with engine.begin() as c:
        for table in ("answers", "rooms", "schema_version"):
            c.execute(text(f"DROP TABLE IF EXISTS {table}"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'rooms.sqlite3'}"
    found = request.getfixturevalue("postgres_url")
    _empty(found)  # each test starts from no tables at all
    return found


@pytest.fixture
def rooms(url):
    store = RoomStore(url)
    yield store
    store.engine.dispose()


def test_a_question_through_peer_instruction(rooms):
    room, secret = rooms.open_room("output_size", 1)
    assert (room.phase, room.round, room.open, room.twin) == (Phase.VOTE1, 1, True, False)
    rooms.submit(room.code, ALICE, number=2, confidence="sure")
    rooms.submit(room.code, ALICE, number=3, confidence="guessing")  # replaces her first
    rooms.submit(room.code, BOB, number=3)
    closed = rooms.close(room.code, secret)
    assert (closed.phase, closed.open) == (Phase.CLOSED1, False)
    with pytest.raises(RoomClosed):
        rooms.submit(room.code, BOB, number=4)
    second = rooms.start_round_two(room.code, secret)
    assert (second.phase, second.round, second.open) == (Phase.VOTE2, 2, True)
    rooms.submit(room.code, ALICE, number=3, confidence="sure")
    assert rooms.close(room.code, secret).phase == Phase.CLOSED2
    revealed = rooms.reveal(room.code, secret)
    assert (revealed.phase, revealed.open) == (Phase.REVEALED, False)
    twin = rooms.ask_twin(room.code, secret)
    assert (twin.phase, twin.round, twin.open, twin.twin) == (Phase.TWIN, 3, True, True)
    rooms.submit(room.code, BOB, number=5, confidence="fairly sure")
    assert rooms.close(room.code, secret).phase == Phase.TWIN_CLOSED
    assert rooms.reveal(room.code, secret).phase == Phase.TWIN_REVEALED
    assert sorted((a.round, a.student, a.value, a.confidence, a.twin)
                  for a in rooms.answers(room.code)) == [
        (1, ALICE, 3.0, "guessing", False), (1, BOB, 3.0, None, False),
        (2, ALICE, 3.0, "sure", False), (3, BOB, 5.0, "fairly sure", True)]
    assert rooms.room(room.code).phase == Phase.TWIN_REVEALED  # stored, not only returned
    moved = rooms.move(room.code, secret, 3)
    assert (moved.phase, moved.step, moved.round, moved.open) == (Phase.VOTE1, 3, 1, True)


def test_reveal_after_round_one_and_a_twin_as_round_two(rooms):
    """Most were right alone: reveal at once (an open round closes), then the twin."""
    room, secret = rooms.open_room("output_size", 1)
    assert rooms.reveal(room.code, secret).phase == Phase.REVEALED
    twin = rooms.ask_twin(room.code, secret)
    assert (twin.round, twin.twin) == (2, True)
    rooms.submit(room.code, ALICE, number=5)
    assert [(a.round, a.twin) for a in rooms.answers(room.code)] == [(2, True)]


@pytest.mark.parametrize("moves, refused, says", [
    ((), "start_round_two", "Round 1 is still open"),
    ((), "ask_twin", "Reveal the answer before"),
    (("close",), "close", "already closed"),
    (("close",), "ask_twin", "Reveal the answer before"),
    (("close", "start_round_two"), "start_round_two", "already has its round 2"),
    (("close", "start_round_two", "close"), "start_round_two", "already has its round 2"),
    (("reveal",), "start_round_two", "whose answer is on the projector"),
    (("reveal",), "reveal", "already revealed"),
    (("reveal",), "close", "already closed"),
    (("reveal", "ask_twin"), "ask_twin", "already been asked"),
    (("reveal", "ask_twin"), "start_round_two", "whose answer is on the projector"),
    (("reveal", "ask_twin", "reveal"), "reveal", "already revealed")])
def test_impossible_moves_are_refused_with_a_sentence(rooms, moves, refused, says):
    room, secret = rooms.open_room("output_size", 1)
    for move in moves:
        getattr(rooms, move)(room.code, secret)
    before = rooms.room(room.code)
    with pytest.raises(WrongPhase, match=says):
        getattr(rooms, refused)(room.code, secret)
    assert rooms.room(room.code) == before  # nothing changed


def test_a_forged_secret_moves_nothing_whatever_the_phase(rooms):
    room, secret = rooms.open_room("output_size", 1)
    last = "y" if secret.endswith("x") else "x"
    for setup in ((), ("close",), ("start_round_two", "close", "reveal")):
        for move in setup:
            getattr(rooms, move)(room.code, secret)
        before = rooms.room(room.code)
        for forged in ("", "guess", room.code, secret[:-1] + last):
            for action in (rooms.close, rooms.start_round_two, rooms.new_round, rooms.reveal,
                           rooms.ask_twin, rooms.end):
                with pytest.raises(NotTeacher):  # the secret first, then the phase
                    action(room.code, forged)
        assert rooms.room(room.code) == before
    with pytest.raises(UnknownRoom):
        rooms.reveal("ZZZZZZ", secret)


def test_new_round_is_round_two_under_its_old_name(rooms):
    room, secret = rooms.open_room("output_size", 1)
    rooms.close(room.code, secret)
    assert rooms.new_round(room.code, secret).phase == Phase.VOTE2
    rooms.close(room.code, secret)
    with pytest.raises(WrongPhase, match="reveal the answer next"):
        rooms.new_round(room.code, secret)  # no third round: a twin, after the reveal


@pytest.mark.parametrize("confidence", ["SURE", "certain", "", 3, ["sure"]])
def test_a_confidence_is_one_of_three_or_none(rooms, confidence):
    assert CONFIDENCES == ("sure", "fairly sure", "guessing")
    room, _ = rooms.open_room("output_size", 1)
    with pytest.raises(RoomError, match="How sure you are is one of"):
        rooms.submit(room.code, ALICE, number=3, confidence=confidence)
    assert rooms.answers(room.code) == []


OLD_SCHEMA = (  # version 1, as cnnviz created it before peer instruction's phases
    "CREATE TABLE rooms (code VARCHAR(6) PRIMARY KEY, teacher VARCHAR(64) NOT NULL, "
    "lesson VARCHAR(80) NOT NULL, step INTEGER NOT NULL, round INTEGER NOT NULL, "
    "is_open BOOLEAN NOT NULL, created FLOAT NOT NULL, expires FLOAT NOT NULL)",
    "CREATE TABLE answers (code VARCHAR(6) NOT NULL, step INTEGER NOT NULL, "
    "round INTEGER NOT NULL, student VARCHAR(32) NOT NULL, number FLOAT, "
    "choice VARCHAR(200), at FLOAT NOT NULL, PRIMARY KEY (code, step, round, student))",
    "CREATE TABLE schema_version (version INTEGER NOT NULL)",
    "INSERT INTO schema_version VALUES (1)")


def test_an_older_database_is_upgraded_in_place(url):
    import hashlib
    import time

    engine = create_engine(url.replace("postgresql:", "postgresql+psycopg:", 1)
                           if url.startswith("postgresql:") else url)
    far = time.time() + 3600
    with engine.begin() as c:
        for statement in OLD_SCHEMA:
            c.execute(text(statement))
        teacher = hashlib.sha256(b"secret").hexdigest()
        for code, round_, is_open in (("AAAAAA", 1, True), ("BBBBBB", 1, False),
                                      ("CCCCCC", 2, True), ("DDDDDD", 2, False)):
            c.execute(text("INSERT INTO rooms VALUES (:code, :t, 'output_size', 1, :r, :o, "
                           "0, :far)"), dict(code=code, t=teacher, r=round_, o=is_open,
                                             far=far))
        c.execute(text(f"INSERT INTO answers VALUES ('DDDDDD', 1, 2, '{ALICE}', 3, NULL, 1)"))
    engine.dispose()
    rooms = RoomStore(url)
    try:
        assert rooms.schema_version() == SCHEMA_VERSION == 5
        assert {r.code: r.phase for r, _ in rooms.rooms()} == {
            "AAAAAA": Phase.VOTE1, "BBBBBB": Phase.CLOSED1, "CCCCCC": Phase.VOTE2,
            "DDDDDD": Phase.CLOSED2}
        [old] = rooms.answers("DDDDDD")
        assert (old.round, old.value, old.confidence, old.twin) == (2, 3.0, None, False)
        assert old.lesson == "output_size"  # version 3: from its room
        assert rooms.start_round_two("BBBBBB", "secret").phase == Phase.VOTE2
        rooms.reveal("DDDDDD", "secret")
        rooms.ask_twin("DDDDDD", "secret")
        rooms.submit("DDDDDD", ALICE, number=5, confidence="sure")
        assert [(a.round, a.twin) for a in rooms.answers("DDDDDD")] == [(2, False), (3, True)]
        with rooms.engine.begin() as c:  # the upgrade may run again: it adds nothing twice
            c.execute(text("UPDATE schema_version SET version = 1"))
        assert rooms.migrate() == SCHEMA_VERSION
        assert rooms.room("DDDDDD").phase == Phase.TWIN  # not reset from round and is_open
    finally:
        rooms.engine.dispose()


def test_one_room_follows_the_teacher_across_lessons(rooms):
    """Version 3: an answer names its lesson, so two lessons' step 1 keep their answers."""
    room, secret = rooms.open_room("output_size", 1)
    rooms.submit(room.code, ALICE, number=3)
    rooms.reveal(room.code, secret)
    with pytest.raises(NotTeacher):
        rooms.move(room.code, "forged", 1, "convolution_by_hand")
    moved = rooms.move(room.code, secret, 1, "convolution_by_hand")
    assert (moved.code, moved.lesson, moved.step, moved.phase) == (
        room.code, "convolution_by_hand", 1, Phase.VOTE1)
    rooms.submit(room.code, ALICE, number=7)
    rooms.submit(room.code, BOB, number=8)
    assert [(a.lesson, a.value) for a in rooms.answers(room.code)] == [
        ("output_size", 3.0), ("convolution_by_hand", 7.0), ("convolution_by_hand", 8.0)]
    assert rooms.count(room.code, 1, 1, "output_size") == 1
    assert rooms.count(room.code, 1, 1, "convolution_by_hand") == 2
    assert len(rooms.answers(room.code, 1, 1, lesson="convolution_by_hand")) == 2
    assert rooms.move(room.code, secret, 1, "output_size").lesson == "output_size"
    rooms.submit(room.code, ALICE, number=4)  # back on the first question: replaced
    assert [a.value for a in rooms.answers(room.code, lesson="output_size")] == [4.0]


def test_the_teacher_room_checks_the_secret_and_changes_nothing(rooms):
    room, secret = rooms.open_room("output_size", 1)
    _, theirs = rooms.open_room("output_size", 1)
    assert rooms.teacher_room(room.code.lower(), secret) == rooms.room(room.code)
    for forged in ("forged", theirs, "", secret + "x"):
        with pytest.raises(NotTeacher):
            rooms.teacher_room(room.code, forged)
    rooms.end(room.code, secret)
    with pytest.raises(UnknownRoom):
        rooms.teacher_room(room.code, secret)

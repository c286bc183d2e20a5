"""The room store when its database fails under it (issue 29): a SQLite file deleted or
replaced while serving, a PostgreSQL that holds a lock, sleeps or runs out of connections,
a server that stops answering (its processes frozen), a file that is no database. Each is
a StoreUnavailable sentence, within seconds, and an answer is acknowledged only when the
next reader finds it."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import event, text
from support_pg import frozen, postgres_server, require

from cnnviz.store import RoomStore, StoreUnavailable, UnknownRoom
from cnnviz.store.engine import (
    CALL_DEADLINE_S,
    CONNECT_TIMEOUT_S,
    LATE,
    LOCK_TIMEOUT_MS,
    POOL_TIMEOUT_S,
    STATEMENT_TIMEOUT_MS,
    CallDeadline,
)

ALICE, BOB = "a" * 32, "b" * 32
ROOT = Path(__file__).resolve().parents[2]
GONE = "removed or replaced while cnnviz was running"


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'rooms.db'}"


def _file(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


def test_an_answer_to_a_deleted_file_is_refused_and_the_next_call_uses_a_new_one(sqlite_url):
    rooms = RoomStore(sqlite_url)
    room, secret = rooms.open_room("output_size", 1)
    rooms.submit(room.code, ALICE, number=3)
    os.remove(_file(sqlite_url))  # `rm rooms.db` while the server runs
    with pytest.raises(StoreUnavailable, match=GONE):
        rooms.submit(room.code, BOB, number=4)  # not acknowledged
    reader = RoomStore(sqlite_url)  # what the next process (or the next call) finds
    with pytest.raises(UnknownRoom):
        reader.room(room.code)
    assert reader.answers(room.code) == []  # no phantom answer
    with pytest.raises(UnknownRoom):  # the same store recovered, on the new file
        rooms.submit(room.code, BOB, number=4)
    again, _ = rooms.open_room("output_size", 1)
    rooms.submit(again.code, BOB, number=4)
    assert [a.student for a in reader.answers(again.code)] == [BOB]


def test_an_answer_to_a_replaced_file_is_refused(sqlite_url, tmp_path):
    rooms = RoomStore(sqlite_url)
    room, _ = rooms.open_room("output_size", 1)
    other_url = f"sqlite:///{tmp_path / 'other.db'}"
    other = RoomStore(other_url)
    theirs, _ = other.open_room("bottleneck", 2)
    other.dispose()  # the program that made it has ended
    os.replace(_file(other_url), _file(sqlite_url))  # `mv other.db rooms.db`
    with pytest.raises(StoreUnavailable, match=GONE):
        rooms.submit(room.code, ALICE, number=3)
    reader = RoomStore(sqlite_url)
    assert reader.answers(room.code) == [] and reader.room(theirs.code).lesson == "bottleneck"
    assert rooms.room(theirs.code).step == 2  # the store now reads the file at the path


def test_a_file_deleted_during_the_commit_is_not_acknowledged(sqlite_url):
    """The file checked before the transaction can go before its commit: the check after
    the commit refuses the answer, which went to the unlinked file."""
    rooms = RoomStore(sqlite_url)
    room, _ = rooms.open_room("output_size", 1)

    def delete_it(_connection) -> None:
        _file(sqlite_url).unlink(missing_ok=True)

    event.listen(rooms.engine, "commit", delete_it)
    try:
        with pytest.raises(StoreUnavailable, match=GONE):
            rooms.submit(room.code, ALICE, number=3)
    finally:
        event.remove(rooms.engine, "commit", delete_it)
    assert RoomStore(sqlite_url).answers(room.code) == []


@pytest.mark.parametrize("make", ["a folder", "not a database", "inside a file"])
def test_a_database_path_that_cannot_be_one_is_a_sentence(tmp_path, make):
    path = tmp_path / "rooms.db"
    if make == "a folder":
        path.mkdir()
    elif make == "not a database":
        path.write_bytes(b"this is not SQLite " * 100)
    else:
        path.write_text("a file")
        path = path / "rooms.db"
    with pytest.raises(StoreUnavailable, match="room database is unavailable"):
        RoomStore(f"sqlite:///{path}")
    if make == "not a database":  # and the CLI: one line, status 2 (list, export)
        for command in (["list"], ["export", "K7QX2M", "--csv"]):
            out = subprocess.run([sys.executable, "-m", "cnnviz", "rooms", "--database",
                                  f"sqlite:///{path}", *command], cwd=ROOT,
                                 capture_output=True, text=True, timeout=120)
            assert out.returncode == 2 and out.stdout == ""
            assert out.stderr.count("\n") == 1
            assert "room database is unavailable" in out.stderr


# --- PostgreSQL: every wait is bounded ---------------------------------------------------

@pytest.fixture(scope="module")
def postgres_url():
    require()
    with postgres_server() as url:
        yield url


@pytest.fixture
def pg(postgres_url):
    rooms = RoomStore(postgres_url)
    yield rooms
    rooms.dispose()


def _refused_within(seconds: float, says: str, call) -> None:
    start = time.monotonic()
    with pytest.raises(StoreUnavailable, match=says):
        call()
    assert time.monotonic() - start < seconds


def test_a_locked_table_is_a_sentence_within_seconds(pg):
    room, _ = pg.open_room("output_size", 1)
    with pg.engine.connect() as other:  # another program holds the table
        other.execute(text("LOCK TABLE answers IN ACCESS EXCLUSIVE MODE"))
        _refused_within(LOCK_TIMEOUT_MS / 1000 + 3, "lock timeout",
                        lambda: pg.submit(room.code, ALICE, number=3))
        other.rollback()
    pg.submit(room.code, ALICE, number=3)  # and works again once it lets go
    assert pg.count(room.code, 1, 1) == 1


def test_a_statement_that_stalls_is_a_sentence_within_seconds(pg):
    def stall() -> None:
        with pg._tx() as c:
            c.execute(text("SELECT pg_sleep(30)"))

    _refused_within(STATEMENT_TIMEOUT_MS / 1000 + 3, "statement timeout", stall)


def test_no_free_connection_is_a_sentence_within_seconds(pg):
    room, _ = pg.open_room("output_size", 1)
    held = [pg.engine.connect() for _ in range(16)]  # pool_size + max_overflow
    try:
        _refused_within(POOL_TIMEOUT_S + 3, "unavailable",
                        lambda: pg.submit(room.code, ALICE, number=3))
    finally:
        for c in held:
            c.close()
    assert pg.count(room.code, 1, 1) == 0


def test_a_server_that_never_answers_is_a_sentence_within_seconds():
    """A server that accepts the connection and then says nothing (stalled, or the network
    gone under it): the connect timeout ends the wait."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        _refused_within(CONNECT_TIMEOUT_S + 3, "unavailable",
                        lambda: RoomStore(f"postgresql://u@127.0.0.1:{port}/db"))


# --- a server that stops answering: the client's own deadline ----------------------------

def _in_thread(call, limit: float) -> tuple[BaseException | None, float]:
    """Run `call` in a thread; its error (None if it returned) and how long it took. A call
    still running after `limit` seconds fails the test (and is left to the frozen server's
    SIGCONT, which the caller's `frozen` block always sends)."""
    result: list = []

    def run() -> None:
        start = time.monotonic()
        try:
            call()
            result.append(None)
        except BaseException as e:  # noqa: BLE001 - handed to the test
            result.append(e)
        result.append(time.monotonic() - start)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(limit)
    assert not thread.is_alive(), f"the call still waits after {limit} s"
    return result[0], result[1]


class _Socketed:
    """What a deadline needs of a connection: its socket's descriptor."""

    def __init__(self, sock: socket.socket):
        self.sock = sock

    def fileno(self) -> int:
        return self.sock.fileno()


def test_a_deadline_cuts_a_read_that_waits_for_ever_and_nothing_after_it_ends():
    mine, silent = socket.socketpair()
    with mine, silent:
        def wait_for_an_answer() -> None:
            with CallDeadline.of(0.5) as deadline:
                deadline.watch(_Socketed(mine))
                assert mine.recv(1) == b""  # the shut socket ends the read
                assert deadline.expired

        error, took = _in_thread(wait_for_an_answer, 5)
        assert error is None and 0.4 < took < 2
    other, peer = socket.socketpair()
    with other, peer:
        with CallDeadline.of(0.2) as deadline:
            deadline.watch(_Socketed(other))
        time.sleep(0.4)  # past the deadline of a call that has ended: nothing is cut
        peer.sendall(b"x")
        assert other.recv(1) == b"x" and not deadline.expired


def test_a_frozen_server_is_a_sentence_within_the_deadline_and_then_works_again(
        pg, postgres_url):
    room, _ = pg.open_room("output_size", 1)
    with frozen(postgres_url):  # stopped: connections open, nothing answers, ever
        error, took = _in_thread(lambda: pg.submit(room.code, ALICE, number=3),
                                 CALL_DEADLINE_S + 4)
        assert isinstance(error, StoreUnavailable) and str(error) == LATE
        assert took < CALL_DEADLINE_S + 2
        error, took = _in_thread(lambda: pg.room(room.code), CALL_DEADLINE_S + 4)
        assert isinstance(error, StoreUnavailable) and took < CALL_DEADLINE_S + 2
    pg.submit(room.code, BOB, number=4)  # a fresh connection, once the server is back
    assert [a.student for a in pg.answers(room.code)] == [BOB]


def test_a_server_frozen_in_the_middle_of_a_call_loses_that_connection(pg, postgres_url):
    """The call starts on a running server; the server stops between two statements."""
    used, ready, go_on, outcome = [], threading.Event(), threading.Event(), []

    def call() -> None:
        with pg._tx() as c:
            used.append(c.connection.dbapi_connection)
            c.execute(text("SELECT 1"))
            ready.set()
            go_on.wait(10)
            c.execute(text("SELECT 2"))  # sent to a server that has stopped

    runner = threading.Thread(target=lambda: outcome.append(_in_thread(call, 15)),
                              daemon=True)
    runner.start()
    assert ready.wait(10)
    with frozen(postgres_url):
        go_on.set()
        runner.join(CALL_DEADLINE_S + 4)
    assert outcome, "the call still waits"
    error, took = outcome[0]
    assert isinstance(error, StoreUnavailable) and str(error) == LATE
    assert took < CALL_DEADLINE_S + 2
    assert used[0].closed  # discarded, never back in the pool
    assert pg.engine.pool.checkedout() == 0
    assert pg.count("K7QX2M", 1, 1) == 0  # and the next call works


def test_a_new_connection_to_a_frozen_server_gives_up_within_the_connect_timeout(
        postgres_url):
    with frozen(postgres_url):
        error, took = _in_thread(lambda: RoomStore(postgres_url), CONNECT_TIMEOUT_S + 4)
    assert isinstance(error, StoreUnavailable) and "unavailable" in str(error)
    assert took < CONNECT_TIMEOUT_S + 2


def test_a_connection_the_server_ended_is_replaced_before_it_is_used(pg):
    room, _ = pg.open_room("output_size", 1)  # its connection now waits in the pool
    with pg.engine.connect() as admin:
        admin.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                           "WHERE datname = 'cnnviz' AND pid <> pg_backend_pid()"))
    pg.submit(room.code, ALICE, number=3)  # the ping found it dead: a new one, no error
    assert pg.count(room.code, 1, 1) == 1


def test_a_new_table_is_one_declaration_on_the_databases_metadata(tmp_path):
    """The store's seam (cnnviz.store.database): a table declared on META by a module of
    its own appears in a new database and in one made before the table existed."""
    from sqlalchemy import Column, Integer, Table, inspect

    from cnnviz.store.database import META, Database

    url = f"sqlite:///{tmp_path / 'class.db'}"
    Database(url).dispose()  # a database from before the table
    notes = Table("notes_of_a_test", META, Column("id", Integer, primary_key=True))
    try:
        for where in (url, f"sqlite:///{tmp_path / 'new.db'}"):
            db = Database(where)
            with db._tx() as c:
                assert inspect(c).has_table("notes_of_a_test")
                c.execute(notes.insert().values(id=1))
            db.dispose()
    finally:
        META.remove(notes)

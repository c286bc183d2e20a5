"""Where the room database is, how it is opened, and how its errors read.

SQLite: WAL mode, every commit on disk, 5 s for a lock held by another program; and the
file's identity (device and inode) watched, so a file deleted or replaced while the server
runs is noticed (FileIdentity). PostgreSQL: every wait is bounded, so a stalled or
unreachable server is a sentence within seconds, not a hung session: connecting (5 s), a
statement (5 s), waiting for a lock (3 s), a free connection in the pool (5 s), and TCP
keepalives and a user timeout for a server gone from the network. The server enforces the
statement and lock timeouts, so a server that stalls (stopped, swapping, frozen by its
host) with the connection open answers nothing, ever: each call therefore has a deadline
of its own on the client (6 s, CallDeadline), which cuts its connections when it passes.
"""
from __future__ import annotations

import heapq
import itertools
import math
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DisconnectionError, SQLAlchemyError

from cnnviz.store.errors import StoreUnavailable

ENV_URL, ENV_DIR = "CNNVIZ_DATABASE_URL", "CNNVIZ_DATA_DIR"
CONNECT_TIMEOUT_S, POOL_TIMEOUT_S = 5, 5
STATEMENT_TIMEOUT_MS, LOCK_TIMEOUT_MS = 5000, 3000
CALL_DEADLINE_S = 6  # a whole call on PostgreSQL, a little over one statement's timeout
# What a database call may raise besides a RoomError: SQLAlchemy's errors (the driver's
# wrapped in them), the file system's, and SQLite's own from a connection's pragmas.
DATABASE_ERRORS: tuple[type[BaseException], ...] = (SQLAlchemyError, OSError, sqlite3.Error)


def data_dir() -> Path:
    """CNNVIZ_DATA_DIR, else $XDG_DATA_HOME/cnnviz, else ~/.local/share/cnnviz."""
    if os.environ.get(ENV_DIR):
        return Path(os.environ[ENV_DIR])
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "cnnviz"


def database_url(url: str | None = None) -> str:
    """The database to use: `url`, else CNNVIZ_DATABASE_URL, else SQLite in data_dir()."""
    url = url or os.environ.get(ENV_URL) or f"sqlite:///{data_dir() / 'cnnviz.sqlite3'}"
    scheme = url.split(":", 1)[0].lower()
    if scheme in ("postgres", "postgresql"):
        return "postgresql+psycopg:" + url.split(":", 1)[1]
    if scheme in ("postgresql+psycopg", "sqlite"):
        return url
    raise StoreUnavailable(f"The database URL must start with sqlite:/// or postgresql://, "
                           f"not {url[:40]!r}.")


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL; None for PostgreSQL and for SQLite in memory."""
    if not url.startswith("sqlite"):
        return None
    path = url.removeprefix("sqlite:///").split("?", 1)[0]
    return Path(path) if path and path != ":memory:" and url.startswith("sqlite:///") \
        else None


def make_engine(url: str) -> Engine:
    """An engine for `url` (see the module's docstring for its settings)."""
    if url.startswith("sqlite"):
        path = sqlite_file(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 5, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(connection: Any, _record: Any) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
            cursor.execute("PRAGMA synchronous=FULL")  # committed means on disk
            cursor.execute("PRAGMA busy_timeout=5000")
            cursor.close()
        return engine
    options = f"-c statement_timeout={STATEMENT_TIMEOUT_MS} -c lock_timeout={LOCK_TIMEOUT_MS}"
    engine = create_engine(url, pool_size=8, max_overflow=8, pool_timeout=POOL_TIMEOUT_S,
                           connect_args={"connect_timeout": CONNECT_TIMEOUT_S,
                                         "options": options, "keepalives": 1,
                                         "keepalives_idle": 5, "keepalives_interval": 2,
                                         "keepalives_count": 3, "tcp_user_timeout": 10_000})
    _watched_by_deadlines(engine)
    return engine


def _watched_by_deadlines(engine: Engine) -> None:
    """Every connection a call takes from the pool is watched by the call's deadline, if it
    has one, before the connection is first used: the ping that checks a pooled
    connection is alive (SQLAlchemy's own pre-ping runs before any event could see the
    connection, so this one replaces it) is as bounded as the call's statements. A new
    connection gets what is left of the deadline to connect, at most the connect timeout."""

    @event.listens_for(engine, "connect")
    def _new(_dbapi_connection: Any, record: Any) -> None:
        record.info["fresh"] = True  # just connected: no need to ping it

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        deadline = CallDeadline.current()
        if deadline is not None:
            deadline.watch(dbapi_connection)
        if record.info.pop("fresh", False):
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as e:
            raise DisconnectionError(str(e)) from e  # the pool replaces this connection

    @event.listens_for(engine, "do_connect")
    def _connect(dialect, _record, cargs, cparams):
        deadline = CallDeadline.current()
        if deadline is None:
            return None  # the dialect connects with the engine's settings
        left = deadline.left()
        if left <= 0:
            raise TimeoutError("the call's deadline passed")
        timeout = min(CONNECT_TIMEOUT_S, max(2, math.ceil(left)))  # libpq's least is 2 s
        return dialect.connect(*cargs, **{**cparams, "connect_timeout": timeout})


LATE = (f"The room database did not answer within {CALL_DEADLINE_S} seconds, so nothing was "
        f"confirmed; try again in a moment (the rest of cnnviz still works).")


class CallDeadline:
    """A deadline for one store call on PostgreSQL, enforced on the client.

    A server that stops answering with the connection open (its processes stopped, its
    host frozen) leaves a query waiting for a reply forever: the statement timeout is the
    server's own, and TCP keepalives are answered by the server's kernel. A cancel request
    needs the server too. So when the deadline passes, a watchdog thread (one for the
    process, _Watchdog) shuts the call's sockets down, through duplicates of their
    descriptors (a descriptor closed and reused meanwhile is never touched): the blocked
    read returns at once with an error, the pool discards the broken connection, and the
    call ends in StoreUnavailable(LATE).
    """

    _local = threading.local()

    def __init__(self, seconds: float):
        self.ends = time.monotonic() + seconds
        self.expired = False
        self._done = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    @classmethod
    def current(cls) -> CallDeadline | None:
        """The deadline of the call this thread is making, if any."""
        return getattr(cls._local, "deadline", None)

    def left(self) -> float:
        return self.ends - time.monotonic()

    def watch(self, dbapi_connection: Any) -> None:
        """Cut this connection too when the deadline passes (at once if it has passed)."""
        watched = socket.socket(fileno=os.dup(dbapi_connection.fileno()))
        with self._lock:
            self._sockets.append(watched)
            if self.expired:
                _cut(watched)

    def _expire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.expired = True
            for watched in self._sockets:
                _cut(watched)

    def _end(self) -> None:
        with self._lock:  # after this, the watchdog cuts nothing
            self._done = True
            for watched in self._sockets:
                watched.close()  # our duplicate only: the connection's own stays open
            self._sockets.clear()

    @classmethod
    @contextmanager
    def of(cls, seconds: float = CALL_DEADLINE_S) -> Iterator[CallDeadline]:
        """The block as one call with a deadline: when it passed, a database error in the
        block becomes StoreUnavailable(LATE)."""
        deadline, outer = cls(seconds), cls.current()
        cls._local.deadline = deadline
        _WATCHDOG.arm(deadline)
        try:
            yield deadline
        except DATABASE_ERRORS:
            if deadline.expired or deadline.left() <= 0:  # (the watchdog may be a moment late)
                raise StoreUnavailable(LATE) from None
            raise
        finally:
            cls._local.deadline = outer
            deadline._end()


class _Watchdog:
    """One thread for every call's deadline (a thread per call would cost more than the
    call): it sleeps until the earliest deadline and expires it. A deadline whose call has
    ended stays queued until its time and then does nothing."""

    def __init__(self) -> None:
        self._due: list[tuple[float, int, CallDeadline]] = []
        self._order = itertools.count()  # ties broken by arrival, never by the deadline
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None

    def arm(self, deadline: CallDeadline) -> None:
        with self._wake:
            heapq.heappush(self._due, (deadline.ends, next(self._order), deadline))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, daemon=True,
                                                name="cnnviz-store-deadlines")
                self._thread.start()
            self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._due or self._due[0][0] > time.monotonic():
                    self._wake.wait(self._due[0][0] - time.monotonic() if self._due else None)
                deadline = heapq.heappop(self._due)[2]
            deadline._expire()


_WATCHDOG = _Watchdog()


def _cut(watched: socket.socket) -> None:
    try:
        watched.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed by the server or the network: the read ends anyway


class FileIdentity:
    """A SQLite file's identity (device, inode) as the store opened it, and one connection
    held on that file.

    `rm rooms.db` or `mv other.db rooms.db` while the server runs leaves the store's open
    connections on the old, unlinked file: a write there would be acknowledged and then
    found by no reader. So every transaction compares the path's identity now with the one
    the store opened (`now()` against `opened`), before it starts and after it commits.
    The old file's write-ahead log stays at the path (rooms.db-wal) and SQLite would read
    its pages into whatever file comes there next; so `release` first moves the log into
    the old file and empties it, through the connection held on that file.
    """

    def __init__(self, path: Path):
        self.path = path
        self.opened: tuple[int, int] | None = None  # None: (re)open before the next call
        self.held: sqlite3.Connection | None = None

    def now(self) -> tuple[int, int] | None:
        """The identity of the file at the path now; None when there is none."""
        try:
            found = os.stat(self.path)
        except FileNotFoundError:
            return None
        return found.st_dev, found.st_ino

    def hold(self) -> None:
        """Note the identity of the file at the path (its folder made if it went away)
        and hold a connection on it; call once the schema is there."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        before = self.now()
        held = sqlite3.connect(self.path, timeout=5, check_same_thread=False)
        held.execute("SELECT count(*) FROM sqlite_master").fetchone()  # its log opened
        if self.now() != before or before is None:
            held.close()
            raise sqlite3.OperationalError("the file changed while it was being opened")
        self.held, self.opened = held, before

    def release(self) -> None:
        """Let the file go: its log moved into it and emptied, the connection closed."""
        held, self.held, self.opened = self.held, None, None
        if held is not None:
            try:
                held.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
            except sqlite3.Error:
                pass  # the log stays as it was: nothing better can be done here
            finally:
                held.close()


GONE = ("The room database file was removed or replaced while cnnviz was running, so this "
        "was not saved; try again (cnnviz now opens the file found at its place).")

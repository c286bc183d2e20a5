"""Where the room database is, how it is opened, and how its errors read.

SQLite: WAL mode, every commit on disk, 5 s for a lock held by another program; and the
file's identity (device and inode) watched, so a file deleted or replaced while the server
runs is noticed (FileIdentity). PostgreSQL: every wait is bounded, so a stalled or
unreachable server is a sentence within seconds, not a hung session: connecting (5 s), a
statement (5 s), waiting for a lock (3 s), a free connection in the pool (5 s), and TCP
keepalives and a user timeout for a server gone from the network.
"""
from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import SQLAlchemyError

from cnnviz.store.errors import StoreUnavailable

ENV_URL, ENV_DIR = "CNNVIZ_DATABASE_URL", "CNNVIZ_DATA_DIR"
CONNECT_TIMEOUT_S, POOL_TIMEOUT_S = 5, 5
STATEMENT_TIMEOUT_MS, LOCK_TIMEOUT_MS = 5000, 3000
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
        def _pragmas(connection, _record) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
            cursor.execute("PRAGMA synchronous=FULL")  # committed means on disk
            cursor.execute("PRAGMA busy_timeout=5000")
            cursor.close()
        return engine
    options = f"-c statement_timeout={STATEMENT_TIMEOUT_MS} -c lock_timeout={LOCK_TIMEOUT_MS}"
    return create_engine(url, pool_size=8, max_overflow=8, pool_pre_ping=True,
                         pool_timeout=POOL_TIMEOUT_S,
                         connect_args={"connect_timeout": CONNECT_TIMEOUT_S,
                                       "options": options, "keepalives": 1,
                                       "keepalives_idle": 5, "keepalives_interval": 2,
                                       "keepalives_count": 3, "tcp_user_timeout": 10_000})


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

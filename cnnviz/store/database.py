"""The database under every store: its engine, its tables' metadata, its schema version
and the migrations that bring an older database up to date.

A store is a `Database` with the methods of its own tables (cnnviz.store.rooms.RoomStore).
Its tables are declared in its own module on `META`, which this module knows nothing about:
a new table is one module that declares it (imported by cnnviz.store) and one step here,
SCHEMA_VERSION raised with what brings the previous version up to date (`create_all` makes
a table that does not exist yet, so a step that only adds tables has nothing to say).
A step is SQL statements, or functions of the connection for what must look first (a
column added only where it is missing, so a step may run again on a database it already
brought up to date).

`Database` keeps the promises every store makes: each call is a transaction that commits
before it returns, on the SQLite file the store opened (a file removed or replaced while
serving refuses the call: see _same_file); on PostgreSQL each call has a deadline of its
own; every failure of the database is a StoreUnavailable with a sentence.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext

from sqlalchemy import Column, Connection, Integer, MetaData, Table, inspect, select, update
from sqlalchemy.exc import IntegrityError

from cnnviz.store.engine import (
    DATABASE_ERRORS,
    GONE,
    CallDeadline,
    FileIdentity,
    database_url,
    make_engine,
    sqlite_file,
)
from cnnviz.store.errors import RoomError, StoreUnavailable, unavailable

SCHEMA_VERSION = 5
META = MetaData()
VERSION = Table("schema_version", META, Column("version", Integer, nullable=False))
Step = str | Callable[[Connection], None]


def add_column(table: str, column: str, ddl: str, then: tuple[str, ...] = ()) -> Step:
    """A step that adds `column` (declared by `ddl`, e.g. "VARCHAR(16)") to `table` where
    it is missing, then runs the statements `then` (which fill it from older columns)."""
    def step(c: Connection) -> None:
        if column in {col["name"] for col in inspect(c).get_columns(table)}:
            return
        c.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {column} {ddl}")
        for statement in then:
            c.exec_driver_sql(statement)
    return step


def answers_name_their_lesson(c: Connection) -> None:
    """Version 3: an answer names its lesson (one room follows the teacher through a class's
    lessons, so two lessons' step 1 must not meet), filled from its room's lesson and part
    of the answers' primary key. PostgreSQL changes the key in place; SQLite cannot, so the
    table is made again and its rows copied."""
    if "lesson" in {col["name"] for col in inspect(c).get_columns("answers")}:
        return
    if c.dialect.name == "postgresql":
        key = inspect(c).get_pk_constraint("answers")["name"]
        c.exec_driver_sql("ALTER TABLE answers ADD COLUMN lesson VARCHAR(80) NOT NULL "
                          "DEFAULT ''")
        c.exec_driver_sql("UPDATE answers SET lesson = COALESCE((SELECT lesson FROM rooms "
                          "WHERE rooms.code = answers.code), '')")
        c.exec_driver_sql(f'ALTER TABLE answers DROP CONSTRAINT "{key}", '
                          "ADD PRIMARY KEY (code, lesson, step, round, student)")
        return
    columns = "step, round, student, number, choice, at, confidence, twin"
    c.exec_driver_sql("ALTER TABLE answers RENAME TO answers_before_3")
    META.tables["answers"].create(c)
    c.exec_driver_sql(f"INSERT INTO answers (code, lesson, {columns}) SELECT a.code, "
                      f"COALESCE(r.lesson, ''), "
                      + ", ".join(f"a.{x.strip()}" for x in columns.split(","))
                      + " FROM answers_before_3 a LEFT JOIN rooms r ON r.code = a.code")
    c.exec_driver_sql("DROP TABLE answers_before_3")


# version -> the steps that bring a database of the version before it up to that one
MIGRATIONS: dict[int, list[Step]] = {
    # peer instruction (cnnviz.store.rounds): a room's phase, filled from its round and
    # whether it was open; an answer's confidence and whether it answers the twin
    2: [add_column("rooms", "phase", "VARCHAR(16) NOT NULL DEFAULT 'vote1'", then=(
            "UPDATE rooms SET phase = CASE WHEN round <= 1 AND is_open THEN 'vote1' "
            "WHEN round <= 1 THEN 'closed1' WHEN is_open THEN 'vote2' ELSE 'closed2' END",)),
        add_column("answers", "confidence", "VARCHAR(16)"),
        add_column("answers", "twin", "BOOLEAN NOT NULL DEFAULT FALSE")],
    # one room for a class: an answer names its lesson
    3: [answers_name_their_lesson],
    # design challenges (cnnviz.store.challenges): new tables only, made by create_all
    4: [],
    # a challenge's trained weights (cnnviz.store.challenge_weights): a new table only
    5: [],
}


def migrate(c: Connection) -> int:
    """Create the tables, or bring an older schema up to date, in the transaction `c`;
    the version now. A database newer than this cnnviz is refused (StoreUnavailable)."""
    META.create_all(c, checkfirst=True)
    found = c.execute(select(VERSION.c.version)).scalar()
    if found is None:
        c.execute(VERSION.insert().values(version=SCHEMA_VERSION))
        return SCHEMA_VERSION
    if found > SCHEMA_VERSION:
        raise StoreUnavailable(f"The room database has schema version {found}, newer "
                               f"than this cnnviz ({SCHEMA_VERSION}): update cnnviz.")
    for version in range(found + 1, SCHEMA_VERSION + 1):
        for step in MIGRATIONS.get(version, []):
            if isinstance(step, str):
                c.exec_driver_sql(step)
            else:
                step(c)
    c.execute(update(VERSION).values(version=SCHEMA_VERSION))
    return SCHEMA_VERSION


class Database:
    """One database, thread-safe: every call takes a connection from a pool."""

    def __init__(self, url: str | None = None):
        self.url = database_url(url)
        path = sqlite_file(self.url)
        self.file = FileIdentity(path) if path is not None else None
        self._lock = threading.RLock()
        with self._errors():
            self.engine = make_engine(self.url)
            self._open()

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """The database's errors, wherever raised, become StoreUnavailable (a sentence)."""
        try:
            yield
        except (RoomError, IntegrityError):
            raise
        except DATABASE_ERRORS as e:
            raise StoreUnavailable(unavailable(e)) from None

    @contextmanager
    def _tx(self) -> Iterator:
        """A transaction that commits when the block ends, on the file the store opened:
        when that file is gone or replaced, before or after the commit, StoreUnavailable
        and nothing is acknowledged (see _same_file). On PostgreSQL the whole call, from
        taking a connection to the commit, has a deadline (see _deadline)."""
        with self._errors():
            before = self._same_file()
            with self._deadline(), self.engine.begin() as connection:
                yield connection
            if self.file is not None and self.file.now() != before:
                self._lost(before)  # committed to a file no reader opens: not acknowledged

    def _same_file(self) -> tuple[int, int] | None:
        """The identity of the SQLite file this store uses (None on PostgreSQL).

        When the file was deleted or replaced since the store opened it, this call is
        refused (StoreUnavailable): what it would write goes to the unlinked file, where
        no reader finds it. The pool is emptied and the next call opens whatever file is
        at the path then (a new empty one when it was deleted), with its identity; so a
        server recovers without a restart, and a room of the old file is unknown."""
        if self.file is None:
            return None
        with self._lock:
            if self.file.opened is None:
                self._open()
            elif self.file.now() != self.file.opened:
                self._lost(self.file.opened)
            return self.file.opened

    def _deadline(self) -> AbstractContextManager:
        """On PostgreSQL, a deadline for one call (engine.CallDeadline): a server that stops
        answering is a sentence after CALL_DEADLINE_S, its connection discarded. SQLite's
        waits are bounded by its busy timeout."""
        return CallDeadline.of() if self.engine.dialect.name == "postgresql" else nullcontext()

    def _open(self) -> None:
        """The schema made or brought up to date; the SQLite file's identity noted."""
        with self._lock:
            if self.file is not None:
                self.file.path.parent.mkdir(parents=True, exist_ok=True)
            with self._deadline(), self.engine.begin() as c:
                migrate(c)
            if self.file is not None:
                self.file.hold()

    def _lost(self, seen: tuple[int, int] | None) -> None:
        """Refuse this call; unless another call already did, forget the file `seen` and
        close the pool's connections to it, so that the next call opens the path anew."""
        with self._lock:
            if self.file is not None and self.file.opened == seen:
                self.engine.dispose()
                self.file.release()
        raise StoreUnavailable(GONE)

    def dispose(self) -> None:
        """Close every connection of this store (the next call opens the database again)."""
        with self._lock:
            self.engine.dispose()
            if self.file is not None:
                self.file.release()

    def migrate(self) -> int:
        """Create the tables, or bring an older schema up to date; the version now."""
        with self._tx() as c:
            return migrate(c)

    def schema_version(self) -> int:
        with self._tx() as c:
            return int(c.execute(select(VERSION.c.version)).scalar_one())

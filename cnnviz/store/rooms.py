"""Rooms, rounds and answers: a class answering the teacher's question, on a database.

A teacher opens a room for one question of a lesson: it gets a short code for the room to
type (no look-alike characters) and a secret only the teacher's session holds. Students
answer with an anonymous id (and, if they like, how sure they are); one answer per
student per round, a new one replaces it, until the teacher closes the round. A question
goes through peer instruction's phases (cnnviz.store.rounds): round 1 alone, closed without
revealing, round 2 after discussion, the reveal, then an isomorphic twin answered alone;
each teacher's move checks the secret, then the phase. The teacher may move the room to
the next question, or, at the end of a lesson run as a pre/post test, ask the test's
twins one by one (post_test). Rooms expire (24 h by default) and `purge` deletes them with their
answers.

The room's two tables live here, on the database's metadata; the database itself (SQLite
by default, a file in the data directory in WAL mode, or PostgreSQL with
CNNVIZ_DATABASE_URL=postgresql://...) is cnnviz.store.database's: every write commits
before it returns, so an acknowledged answer survives the server being killed, and only
on the file the next reader opens; every failure is a StoreUnavailable with a sentence.
"""
from __future__ import annotations

import re
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    Integer,
    RowMapping,
    String,
    Table,
    false,
    func,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from cnnviz.core.errors import AnswerError
from cnnviz.core.numbers import checked_number
from cnnviz.store.codes import (
    ALPHABET,
    CODE_LENGTH,
    check_secret,
    normal_code,
    open_with_code,
    purge_expired,
)
from cnnviz.store.database import META, SCHEMA_VERSION, Database
from cnnviz.store.engine import database_url
from cnnviz.store.errors import (
    NotTeacher,
    RoomClosed,
    RoomError,
    StoreUnavailable,
    UnknownRoom,
)
from cnnviz.store.rounds import (
    CLOSE,
    POST_ROUND,
    REVEAL,
    ROUND_TWO,
    TWIN,
    Phase,
    WrongPhase,
    checked_confidence,
    next_phase,
    phase_of,
)

MAX_CHOICE = 200
ROOMS = Table(
    "rooms", META,
    Column("code", String(CODE_LENGTH), primary_key=True),
    Column("teacher", String(64), nullable=False),   # sha256 of the teacher's secret
    Column("lesson", String(80), nullable=False),
    Column("step", Integer, nullable=False),
    Column("round", Integer, nullable=False),
    Column("is_open", Boolean, nullable=False),
    Column("created", Float, nullable=False),
    Column("expires", Float, nullable=False),
    Column("phase", String(16), nullable=False, server_default=Phase.VOTE1.value))
ANSWERS = Table(
    "answers", META,
    Column("code", String(CODE_LENGTH), primary_key=True),
    Column("lesson", String(80), primary_key=True, server_default=""),  # the room follows
    Column("step", Integer, primary_key=True),                          # the teacher
    Column("round", Integer, primary_key=True),
    Column("student", String(32), primary_key=True),
    Column("number", Float),
    Column("choice", String(MAX_CHOICE)),
    Column("at", Float, nullable=False),
    Column("confidence", String(16)),  # one of rounds.CONFIDENCES, or not given
    Column("twin", Boolean, nullable=False, server_default=false()))  # answers the twin
ROOM_TTL_S = 24 * 3600
STUDENT_ID_LENGTH = 32                          # hex digits of a random 128-bit id
STUDENT_ID = re.compile(rf"[0-9a-f]{{{STUDENT_ID_LENGTH}}}")
__all__ = ["ALPHABET", "ANSWERS", "CODE_LENGTH", "MAX_CHOICE", "ROOMS", "SCHEMA_VERSION",
           "NotTeacher", "Phase", "RoomClosed", "RoomError", "StoreUnavailable", "UnknownRoom",
           "WrongPhase", "database_url", "normal_code"]


@dataclass(frozen=True)
class Room:
    code: str
    lesson: str
    step: int
    round: int
    open: bool      # taking answers
    created: float
    expires: float
    phase: Phase = Phase.VOTE1  # where the question is in peer instruction

    @property
    def twin(self) -> bool:
        """The round is the twin's (an isomorphic question, answered alone)."""
        return self.phase.is_twin


@dataclass(frozen=True)
class Answer:
    step: int
    round: int
    student: str
    number: float | None
    choice: str | None
    at: float
    confidence: str | None = None  # sure, fairly sure, guessing; or not given
    twin: bool = False             # an answer to the question's twin
    lesson: str = ""               # the lesson of the question it answers

    @property
    def post(self) -> bool:
        """An answer of a pre/post test's post-test (to the twin, in round POST_ROUND: no
        other round has that number, so the schema needs no column of its own)."""
        return self.twin and self.round == POST_ROUND

    @property
    def value(self) -> float | str | None:
        return self.number if self.number is not None else self.choice


class RoomStore(Database):
    """The rooms of one database. Thread-safe: every call takes a connection from a pool."""

    def __init__(self, url: str | None = None, ttl: float = ROOM_TTL_S):
        self.ttl = ttl
        super().__init__(url)

    # --- the teacher ------------------------------------------------------------------

    def open_room(self, lesson: str, step: int, now: float | None = None
                  ) -> tuple[Room, str]:
        """A new room on `lesson`'s step, round 1 open; and the teacher's secret. Rooms that
        have expired are deleted first, with their answers."""
        now = time.time() if now is None else now
        self.purge(now)

        def insert(code: str, teacher: str) -> dict:
            row = dict(code=code, teacher=teacher, lesson=lesson, step=step, round=1,
                       is_open=True, created=now, expires=now + self.ttl,
                       phase=Phase.VOTE1.value)
            with self._tx() as c:
                c.execute(ROOMS.insert().values(**row))
            return row

        row, secret = open_with_code(insert, "room")
        return _room(row), secret

    def close(self, code: str, secret: str) -> Room:
        """Close the open round without revealing anything: no more answers."""
        return self._teacher(code, secret, CLOSE)

    def start_round_two(self, code: str, secret: str) -> Room:
        """Round 2 of the question (the class discussed it in pairs), open; only after
        round 1 closed and before the reveal."""
        return self._teacher(code, secret, ROUND_TWO)

    def new_round(self, code: str, secret: str) -> Room:
        """The same question again after discussion: start_round_two (its older name)."""
        return self.start_round_two(code, secret)

    def reveal(self, code: str, secret: str) -> Room:
        """Reveal the computed answer (closing the round if it is open)."""
        return self._teacher(code, secret, REVEAL)

    def ask_twin(self, code: str, secret: str) -> Room:
        """After the reveal, the question's isomorphic twin, open: a round of its own whose
        answers are marked as the twin's. The caller checks that the question has one."""
        return self._teacher(code, secret, TWIN)

    def move(self, code: str, secret: str, step: int, lesson: str | None = None) -> Room:
        """The room moves to another step of its lesson (or of `lesson`: one room follows
        the teacher through a class's lessons): round 1, open."""
        lessons = {} if lesson is None else {"lesson": str(lesson)[:80]}
        return self._teacher(code, secret, None, step=step, round=1, is_open=True,
                             phase=Phase.VOTE1, **lessons)

    def post_test(self, code: str, secret: str, step: int, lesson: str) -> Room:
        """The post-test of `lesson`'s pre/post test, on its question at `step`: the twin,
        open, answered alone (round POST_ROUND; its answers marked as the twin's and the
        post-test's). From any phase, like moving to another step; the caller checks that
        the step is one of the test's."""
        return self._teacher(code, secret, None, step=step, lesson=str(lesson)[:80],
                             round=POST_ROUND, is_open=True, phase=Phase.POST)

    def teacher_room(self, code: str, secret: str) -> Room:
        """The room, when `secret` is its teacher's (a browser resuming it, a download);
        UnknownRoom or NotTeacher otherwise. Changes nothing."""
        room = self.room(code)
        with self._tx() as c:
            held = c.execute(select(ROOMS.c.teacher).where(ROOMS.c.code == room.code)
                             ).scalar()
        check_secret(held, secret, "room")
        return room

    def end(self, code: str, secret: str, now: float | None = None) -> Room:
        """End the room now: it expires (its answers go at the next purge)."""
        return self._teacher(code, secret, None, is_open=False,
                             expires=time.time() if now is None else now)

    def _teacher(self, code: str, secret: str, move: str | None, **changes: Any) -> Room:
        """Check the secret, then (for a peer-instruction `move`) the phase, and change the
        room in one transaction; the update names the phase it read, so of two teachers'
        clicks at once the second finds the phase changed and is refused."""
        code = normal_code(code)
        with self._tx() as c:
            row = c.execute(select(ROOMS).where(ROOMS.c.code == code)).mappings().first()
            if row is None or row["expires"] <= time.time():
                raise UnknownRoom(_no_room(code))
            check_secret(row["teacher"], secret, "room")
            now = phase_of(row["phase"], row["round"], row["is_open"])
            if move is not None:
                to = next_phase(move, now)
                changes = {"phase": to, "is_open": to.is_open}
                if move in (ROUND_TWO, TWIN):
                    changes["round"] = row["round"] + 1
            done = c.execute(update(ROOMS).where(ROOMS.c.code == code,
                                                 ROOMS.c.phase == row["phase"])
                             .values(**{k: (v.value if isinstance(v, Phase) else v)
                                        for k, v in changes.items()}))
            if done.rowcount != 1:
                raise WrongPhase("Another click changed the room first; look again.")
            return _room({**row, **changes})

    # --- everyone ----------------------------------------------------------------------

    def room(self, code: str, now: float | None = None) -> Room:
        """The room with this code; UnknownRoom when there is none (or it expired)."""
        code = normal_code(code)
        now = time.time() if now is None else now
        with self._tx() as c:
            row = c.execute(select(ROOMS).where(ROOMS.c.code == code)).mappings().first()
        if row is None or row["expires"] <= now:
            raise UnknownRoom(_no_room(code))
        return _room(row)

    def submit(self, code: str, student: str, number: float | None = None,
               choice: str | None = None, now: float | None = None,
               options: Sequence[str] | None = None, confidence: str | None = None
               ) -> Room:
        """Store a student's answer to the room's open round (replacing their earlier one);
        committed when this returns. `options` are the question's choices (the twin's in a
        twin round; None for a number question): a choice is stored only when it is one of
        them, a number only under the answer rule (cnnviz.core.numbers). `confidence` is
        one of cnnviz.store.rounds.CONFIDENCES, or None."""
        confidence = checked_confidence(confidence)
        if not STUDENT_ID.fullmatch(str(student)):
            raise RoomError("This browser's anonymous id is malformed; reload the page.")
        if (number is None) == (choice is None):
            raise RoomError("An answer is a number or one of the choices.")
        if number is not None:
            if options is not None:
                raise RoomError("This question asks for one of the choices, not a number.")
            try:
                number = checked_number(number)
            except AnswerError as e:
                raise RoomError(str(e)) from None
        if choice is not None and not (isinstance(choice, str) and options is not None
                                       and 0 < len(choice) <= MAX_CHOICE
                                       and choice in options):
            raise RoomError("That is not one of the choices.")
        now = time.time() if now is None else now
        code = normal_code(code)
        with self._tx() as c:
            row = c.execute(select(ROOMS).where(ROOMS.c.code == code)).mappings().first()
            if row is None or row["expires"] <= now:
                raise UnknownRoom(_no_room(code))
            if not row["is_open"]:
                raise RoomClosed("This round is closed: look at the projector.")
            phase = phase_of(row["phase"], row["round"], row["is_open"])
            values = dict(code=code, lesson=row["lesson"], step=row["step"],
                          round=row["round"], student=student,
                          number=None if number is None else float(number), choice=choice,
                          at=now, confidence=confidence, twin=phase.is_twin)
            c.execute(self._upsert(values))
            return _room(row)

    def _upsert(self, values: dict) -> Any:
        dialect = sqlite if self.engine.dialect.name == "sqlite" else postgresql
        insert = dialect.insert(ANSWERS).values(**values)
        return insert.on_conflict_do_update(
            index_elements=["code", "lesson", "step", "round", "student"],
            set_={k: insert.excluded[k] for k in ("number", "choice", "at", "confidence",
                                                  "twin")})

    def count(self, code: str, step: int, round: int, lesson: str | None = None) -> int:
        """How many students answered this round (of `lesson`'s step, if given)."""
        query = select(func.count()).select_from(ANSWERS).where(
            ANSWERS.c.code == code, ANSWERS.c.step == step, ANSWERS.c.round == round)
        if lesson is not None:
            query = query.where(ANSWERS.c.lesson == lesson)
        with self._tx() as c:
            return int(c.execute(query).scalar_one())

    def answers(self, code: str, step: int | None = None, round: int | None = None,
                lesson: str | None = None) -> list[Answer]:
        """The room's answers (of one lesson, step and round, if given), oldest first."""
        query = select(ANSWERS).where(ANSWERS.c.code == normal_code(code))
        if lesson is not None:
            query = query.where(ANSWERS.c.lesson == lesson)
        if step is not None:
            query = query.where(ANSWERS.c.step == step)
        if round is not None:
            query = query.where(ANSWERS.c.round == round)
        with self._tx() as c:
            rows = c.execute(query.order_by(ANSWERS.c.at, ANSWERS.c.student)).mappings()
            return [Answer(r["step"], r["round"], r["student"], r["number"], r["choice"],
                           r["at"], r["confidence"], bool(r["twin"]), r["lesson"])
                    for r in rows]

    def rooms(self) -> list[tuple[Room, int]]:
        """Every room not yet purged, newest first, with its number of answers."""
        with self._tx() as c:
            counts = {code: n for code, n in c.execute(
                select(ANSWERS.c.code, func.count()).group_by(ANSWERS.c.code))}
            rows = c.execute(select(ROOMS).order_by(ROOMS.c.created.desc())).mappings()
            return [(_room(r), counts.get(r["code"], 0)) for r in rows]

    def purge(self, now: float | None = None) -> int:
        """Delete the expired rooms and their answers; how many rooms went."""
        now = time.time() if now is None else now
        with self._tx() as c:
            return purge_expired(c, ROOMS, [ANSWERS], now)


def _room(row: Mapping[str, Any] | RowMapping) -> Room:
    return Room(row["code"], row["lesson"], int(row["step"]), int(row["round"]),
                bool(row["is_open"]), float(row["created"]), float(row["expires"]),
                phase_of(row["phase"], int(row["round"]), bool(row["is_open"])))


def _no_room(code: str) -> str:
    return f"No open room has the code {code}: check it with your teacher."


_stores: dict[str, RoomStore] = {}
_lock = threading.Lock()


def store(url: str | None = None) -> RoomStore:
    """The process's store for `url` (default: database_url()), made on first use."""
    key = database_url(url)
    with _lock:
        if key not in _stores:
            _stores[key] = RoomStore(key)
        return _stores[key]

"""Design challenges on the database: a teacher's budget, and the designs students submit.

A teacher opens a challenge: a code for the class and a secret only the teacher's session
holds (both as a room's: cnnviz.store.codes), the data's size, a budget
(parameters, MACs per image, epochs) and a closing time. A student submits a design under a
nickname (unique in the challenge, kept per student); the numbers stored with it are the
server's own (cnnviz.topics.challenge computes them from the spec, never from the client).

A submission is queued, then claimed by one worker of any process (one atomic update, so
two never train the same design), trained, and done (with its accuracy on the public and
the private test split) or failed (with a sentence). One active (queued or training)
submission per student. A worker writes a heartbeat while it trains; a submission whose
heartbeat stopped (its server was stopped or killed) is queued again by `recover`, or
marked failed with a sentence after MAX_ATTEMPTS: never lost silently.
"""
from __future__ import annotations

import json
import threading
import time
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Float,
    Integer,
    RowMapping,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from cnnviz.store import challenge_weights
from cnnviz.store.challenge_rows import (
    ACTIVE,
    DONE,
    FAILED,
    NICKNAME_LENGTH,
    QUEUED,
    TRAINING,
    WITHDRAWN,
    Challenge,
    Submission,
    challenge_of,
    checked_nickname,
    submission_of,
)
from cnnviz.store.codes import (
    CODE_LENGTH,
    check_secret,
    normal_code,
    open_with_code,
    purge_expired,
)
from cnnviz.store.database import META, Database
from cnnviz.store.engine import database_url
from cnnviz.store.errors import RoomError
from cnnviz.store.rooms import STUDENT_ID

NOUN = "challenge"  # the word for one in sentences (and the browser slot that keeps it)
MAX_SUBMISSIONS = 10           # per student and challenge: 100 tries are refused politely
MAX_ATTEMPTS = 2               # trainings cut short by a stopped server before it fails
STALE_S = 45.0                 # a heartbeat older than this: the training's server is gone
CHALLENGE_TTL_S = 24 * 3600

CHALLENGES = Table(
    "challenges", META,
    Column("code", String(CODE_LENGTH), primary_key=True),
    Column("teacher", String(64), nullable=False),    # sha256 of the teacher's secret
    Column("size", Integer, nullable=False),          # the digits' side: 8, 16 or 32
    Column("max_params", Integer, nullable=False),
    Column("max_macs", Integer, nullable=False),      # per image at `size`
    Column("max_epochs", Integer, nullable=False),
    Column("closes", Float, nullable=False),          # no submissions after this
    Column("created", Float, nullable=False),
    Column("expires", Float, nullable=False),
    Column("revealed", Boolean, nullable=False))      # the private split's scores shown
PLAYERS = Table(
    "challenge_players", META,
    Column("code", String(CODE_LENGTH), primary_key=True),
    Column("student", String(32), primary_key=True),
    Column("nickname", String(NICKNAME_LENGTH), nullable=False),
    Column("nick_key", String(4 * NICKNAME_LENGTH), nullable=False),
    UniqueConstraint("code", "nick_key", name="challenge_players_nick"))
SUBMISSIONS = Table(
    "submissions", META,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("code", String(CODE_LENGTH), nullable=False, index=True),
    Column("student", String(32), nullable=False),
    Column("spec", Text, nullable=False),             # the design as JSON
    Column("params", Integer, nullable=False),        # computed by the server
    Column("macs", Integer, nullable=False),
    Column("status", String(12), nullable=False, index=True),
    Column("message", String(300)),                   # why it failed, or was queued again
    Column("public", Float),                          # accuracy on the public test split
    Column("private", Float),                         # ... and on the private one
    Column("submitted", Float, nullable=False),
    Column("started", Float),
    Column("finished", Float),
    Column("heartbeat", Float),
    Column("attempts", Integer, nullable=False))


class ChallengeStore(Database):
    """The challenges of one database. Thread-safe: every call takes a pooled connection."""

    def __init__(self, url: str | None = None, ttl: float = CHALLENGE_TTL_S):
        self.ttl = ttl
        super().__init__(url)

    # --- the teacher ------------------------------------------------------------------

    def open_challenge(self, size: int, max_params: int, max_macs: int, max_epochs: int,
                       minutes: float, now: float | None = None) -> tuple[Challenge, str]:
        """A new challenge open for `minutes`; and the teacher's secret. The caller checks
        the budget's numbers (cnnviz.topics.challenge.open_challenge)."""
        now = time.time() if now is None else now
        self.purge(now)

        def insert(code: str, teacher: str) -> dict:
            row = dict(code=code, teacher=teacher, size=size, max_params=max_params,
                       max_macs=max_macs, max_epochs=max_epochs, closes=now + 60 * minutes,
                       created=now, expires=now + self.ttl, revealed=False)
            with self._tx() as c:
                c.execute(CHALLENGES.insert().values(**row))
            return row

        row, secret = open_with_code(insert, "challenge")
        return challenge_of(row), secret

    def _teacher(self, code: str, secret: str, close: bool = False, **changes: Any
                 ) -> Challenge:
        """Check the secret, then change the challenge (`close`: no submissions from now)."""
        code = normal_code(code, "challenge")
        with self._tx() as c:
            row = self._row(c, code)
            check_secret(row["teacher"], secret, "challenge")
            if close:
                changes["closes"] = min(row["closes"], time.time())
            if changes:
                c.execute(update(CHALLENGES).where(CHALLENGES.c.code == code)
                          .values(**changes))
            return challenge_of({**row, **changes})

    def reveal_private(self, code: str, secret: str) -> Challenge:
        """Show the private split's scores (and close the challenge if it is open)."""
        return self._teacher(code, secret, close=True, revealed=True)

    def close(self, code: str, secret: str) -> Challenge:
        """No more submissions; the queued ones are still trained."""
        return self._teacher(code, secret, close=True)

    def check_teacher(self, code: str, secret: str) -> Challenge:
        """The challenge, when `secret` is its teacher's; NotTeacher otherwise."""
        return self._teacher(code, secret)

    # --- everyone ----------------------------------------------------------------------

    def _row(self, c: Connection, code: str, now: float | None = None) -> RowMapping:
        row = c.execute(select(CHALLENGES).where(CHALLENGES.c.code == code)).mappings().first()
        if row is None or row["expires"] <= (time.time() if now is None else now):
            raise RoomError(f"No challenge has the code {code}: check it with your teacher.")
        return row

    def challenge(self, code: str, now: float | None = None) -> Challenge:
        code = normal_code(code, "challenge")
        with self._tx() as c:
            return challenge_of(self._row(c, code, now))

    def submit(self, code: str, student: str, nickname: str, spec: dict[str, Any],
               params: int, macs: int, now: float | None = None) -> Submission:
        """Queue a design whose numbers the server computed (and checked against the
        budget). RoomError with a sentence: the challenge closed, another active design of
        this student, too many designs, a nickname another student holds."""
        if not STUDENT_ID.fullmatch(str(student)):
            raise RoomError("This browser's anonymous id is malformed; reload the page.")
        nickname, key = checked_nickname(nickname)
        now = time.time() if now is None else now
        code = normal_code(code, "challenge")
        text = json.dumps(spec, sort_keys=True)
        try:
            with self._tx() as c:
                row = self._row(c, code, now)
                if now >= row["closes"]:
                    raise RoomError("This challenge is closed: no more designs are taken.")
                mine = c.execute(select(SUBMISSIONS.c.status).where(
                    SUBMISSIONS.c.code == code, SUBMISSIONS.c.student == student)).all()
                if any(s in ACTIVE for (s,) in mine):
                    raise RoomError("Your last design is still queued or training: wait for "
                                    "its result (or stop it) before sending another.")
                if len(mine) >= MAX_SUBMISSIONS:
                    raise RoomError(f"You have sent {MAX_SUBMISSIONS} designs, the most one "
                                    f"student may send in a challenge.")
                self._claim_nickname(c, code, student, nickname, key)
                values = dict(code=code, student=student, spec=text, params=int(params),
                              macs=int(macs), status=QUEUED, submitted=now, attempts=0)
                new_id = c.execute(SUBMISSIONS.insert().values(**values)
                                   ).inserted_primary_key[0]
        except IntegrityError:
            raise RoomError("Another student has this nickname: choose another.") from None
        return self.submission(int(new_id))

    def _claim_nickname(self, c: Connection, code: str, student: str, nickname: str,
                        key: str) -> None:
        taken = c.execute(select(PLAYERS.c.student).where(
            PLAYERS.c.code == code, PLAYERS.c.nick_key == key)).scalar()
        if taken is not None and taken != student:
            raise RoomError("Another student has this nickname: choose another.")
        held = c.execute(select(PLAYERS.c.nickname).where(
            PLAYERS.c.code == code, PLAYERS.c.student == student)).scalar()
        if held is None:
            c.execute(PLAYERS.insert().values(code=code, student=student, nickname=nickname,
                                              nick_key=key))
        elif held != nickname:
            c.execute(update(PLAYERS).where(PLAYERS.c.code == code,
                                            PLAYERS.c.student == student)
                      .values(nickname=nickname, nick_key=key))

    def withdraw(self, code: str, student: str) -> int:
        """Stop this student's active design (a training ends at its next heartbeat); how
        many were stopped."""
        with self._tx() as c:
            done = c.execute(update(SUBMISSIONS).where(
                SUBMISSIONS.c.code == normal_code(code, "challenge"),
                SUBMISSIONS.c.student == student,
                SUBMISSIONS.c.status.in_(ACTIVE)).values(
                status=WITHDRAWN, finished=time.time(), message="Stopped by its author."))
            return int(done.rowcount)

    def submissions(self, code: str, student: str | None = None) -> list[Submission]:
        """The challenge's submissions (one student's, if given), oldest first."""
        query = (select(SUBMISSIONS, PLAYERS.c.nickname)
                 .join(PLAYERS, (PLAYERS.c.code == SUBMISSIONS.c.code)
                       & (PLAYERS.c.student == SUBMISSIONS.c.student))
                 .where(SUBMISSIONS.c.code == normal_code(code, "challenge")))
        if student is not None:
            query = query.where(SUBMISSIONS.c.student == student)
        with self._tx() as c:
            return [submission_of(r) for r in
                    c.execute(query.order_by(SUBMISSIONS.c.id)).mappings()]

    def submission(self, id: int) -> Submission:
        query = (select(SUBMISSIONS, PLAYERS.c.nickname)
                 .join(PLAYERS, (PLAYERS.c.code == SUBMISSIONS.c.code)
                       & (PLAYERS.c.student == SUBMISSIONS.c.student))
                 .where(SUBMISSIONS.c.id == id))
        with self._tx() as c:
            row = c.execute(query).mappings().first()
        if row is None:
            raise RoomError("That design is no longer stored.")
        return submission_of(row)

    def queue_place(self, id: int) -> int | None:
        """1 for the next design every worker takes (of every challenge on this
        database), None when it is not queued."""
        with self._tx() as c:
            status = c.execute(select(SUBMISSIONS.c.status).where(SUBMISSIONS.c.id == id)
                               ).scalar()
            if status != QUEUED:
                return None
            ahead = c.execute(select(func.count()).select_from(SUBMISSIONS).where(
                SUBMISSIONS.c.status == QUEUED, SUBMISSIONS.c.id < id)).scalar_one()
            return int(ahead) + 1

    # --- the workers -------------------------------------------------------------------

    def waiting(self) -> int:
        """How many designs are queued (of every challenge on this database)."""
        with self._tx() as c:
            return int(c.execute(select(func.count()).select_from(SUBMISSIONS)
                                 .where(SUBMISSIONS.c.status == QUEUED)).scalar_one())

    def claim(self, now: float | None = None) -> Submission | None:
        """The oldest queued submission, now marked training by this caller; None when
        none is queued. Of two workers that pick the same one, one update wins."""
        now = time.time() if now is None else now
        for _ in range(5):
            with self._tx() as c:
                first = c.execute(select(SUBMISSIONS.c.id).where(SUBMISSIONS.c.status == QUEUED)
                                  .order_by(SUBMISSIONS.c.id).limit(1)).scalar()
                if first is None:
                    return None
                won = c.execute(update(SUBMISSIONS).where(
                    SUBMISSIONS.c.id == first, SUBMISSIONS.c.status == QUEUED).values(
                    status=TRAINING, started=now, heartbeat=now,
                    attempts=SUBMISSIONS.c.attempts + 1)).rowcount
            if won == 1:
                return self.submission(int(first))
        return None

    def beat(self, id: int, now: float | None = None) -> bool:
        """A training's heartbeat; False when it should stop (withdrawn, or no longer its)."""
        with self._tx() as c:
            done = c.execute(update(SUBMISSIONS).where(
                SUBMISSIONS.c.id == id, SUBMISSIONS.c.status == TRAINING).values(
                heartbeat=time.time() if now is None else now))
            return done.rowcount == 1

    def finish(self, id: int, public: float, private: float,
               weights: tuple[bytes, bytes] | None = None) -> None:
        """A training's scores; with its weights and record (kept, bounded: see
        cnnviz.store.challenge_weights), in the same transaction."""
        with self._tx() as c:
            done = c.execute(update(SUBMISSIONS).where(
                SUBMISSIONS.c.id == id, SUBMISSIONS.c.status == TRAINING).values(
                status=DONE, public=public, private=private, finished=time.time(),
                message=None))
            code = c.execute(select(SUBMISSIONS.c.code).where(SUBMISSIONS.c.id == id)
                             ).scalar()
            if done.rowcount == 1 and weights is not None and code is not None:
                challenge_weights.keep(c, code, id, public, *weights)

    def weights(self, code: str, id: int) -> tuple[bytes, bytes]:
        """The trained weights and record of design `id`; WeightsDropped (a sentence) when
        they are no longer kept."""
        with self._tx() as c:
            self._row(c, normal_code(code, "challenge"))
            return challenge_weights.read(c, normal_code(code, "challenge"), int(id))

    def kept_weights(self, code: str) -> set[int]:
        """The designs whose weights are kept (every process sees the same)."""
        with self._tx() as c:
            return challenge_weights.kept(c, normal_code(code, "challenge"))

    def fail(self, id: int, message: str) -> None:
        with self._tx() as c:
            c.execute(update(SUBMISSIONS).where(
                SUBMISSIONS.c.id == id, SUBMISSIONS.c.status.in_(ACTIVE)).values(
                status=FAILED, message=message[:300], finished=time.time()))

    def recover(self, stale_after: float = STALE_S, now: float | None = None) -> int:
        """Trainings whose heartbeat stopped (their server stopped): queued again, or failed
        with a sentence after MAX_ATTEMPTS; how many were found."""
        now = time.time() if now is None else now
        limit = now - stale_after
        with self._tx() as c:
            stale = (SUBMISSIONS.c.status == TRAINING) & (SUBMISSIONS.c.heartbeat < limit)
            again = c.execute(update(SUBMISSIONS).where(
                stale, SUBMISSIONS.c.attempts < MAX_ATTEMPTS).values(
                status=QUEUED, started=None, heartbeat=None,
                message="The server stopped during its training; it is queued again."))
            failed = c.execute(update(SUBMISSIONS).where(stale).values(
                status=FAILED, finished=now,
                message=f"The server stopped during its training {MAX_ATTEMPTS} times; it "
                        f"was not trained. Send it again."))
            return int(again.rowcount) + int(failed.rowcount)

    def purge(self, now: float | None = None) -> int:
        """Delete the expired challenges with their players and submissions."""
        now = time.time() if now is None else now
        with self._tx() as c:
            return purge_expired(c, CHALLENGES, [challenge_weights.WEIGHTS, SUBMISSIONS,
                                                 PLAYERS], now)


_stores: dict[str, ChallengeStore] = {}
_lock = threading.Lock()


def challenge_store(url: str | None = None) -> ChallengeStore:
    """The process's challenge store for `url` (default: database_url()), made on first use."""
    key = database_url(url)
    with _lock:
        if key not in _stores:
            _stores[key] = ChallengeStore(key)
        return _stores[key]


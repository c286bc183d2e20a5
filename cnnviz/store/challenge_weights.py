"""The trained weights of a challenge's designs, kept for the challenge's lifetime, bounded.

A design's weights are stored with its scores (in the same transaction), as the bytes
cnnviz.topics.challenge makes of them, so every process of a hall (and every machine on
one PostgreSQL) can open any leaderboard entry on Trained Networks. What is kept is
bounded twice: one design's weights are at most MAX_BYTES (a network of the trained
stacks' parameter limit, a million float32 weights, is 4 MB), and a challenge keeps the
weights of at most KEEP designs and KEEP_BYTES in all: the designs ranked lowest on the
public split (among equal scores, the oldest) are dropped first, and opening one that was
dropped says so in a sentence. The weights go with their challenge when it is purged.
"""
from __future__ import annotations

from sqlalchemy import (
    Column,
    Connection,
    Float,
    Integer,
    LargeBinary,
    String,
    Table,
    delete,
    func,
    select,
)

from cnnviz.store.codes import CODE_LENGTH
from cnnviz.store.database import META
from cnnviz.store.errors import RoomError

MAX_BYTES = 5_000_000       # one design's weights
KEEP = 24                   # designs whose weights a challenge keeps
KEEP_BYTES = 64_000_000     # and their bytes in all

WEIGHTS = Table(
    "challenge_weights", META,
    Column("id", Integer, primary_key=True),          # the submission's id
    Column("code", String(CODE_LENGTH), nullable=False, index=True),
    Column("public", Float, nullable=False),          # its rank when some must go
    Column("size", Integer, nullable=False),
    Column("weights", LargeBinary, nullable=False),
    Column("record", LargeBinary, nullable=False))    # how it trained (JSON), for its charts


class WeightsDropped(RoomError):
    """The weights of this design are no longer kept (or never were)."""


def keep(c: Connection, code: str, id: int, public: float, weights: bytes, record: bytes
         ) -> None:
    """Store a design's weights and record in the transaction `c`, then drop the lowest
    ranked designs' until the challenge keeps at most KEEP designs and KEEP_BYTES."""
    size = len(weights) + len(record)
    if size > MAX_BYTES:
        return  # not kept: opening it says so
    c.execute(WEIGHTS.insert().values(id=id, code=code, public=public, size=size,
                                      weights=weights, record=record))
    ranked = c.execute(select(WEIGHTS.c.id, WEIGHTS.c.size).where(WEIGHTS.c.code == code)
                       .order_by(WEIGHTS.c.public.desc(), WEIGHTS.c.id.desc())).all()
    total, drop = 0, []
    for i, (kept, bytes_) in enumerate(ranked):
        total += bytes_
        if i >= KEEP or total > KEEP_BYTES:
            drop.append(kept)
    if drop:
        c.execute(delete(WEIGHTS).where(WEIGHTS.c.id.in_(drop)))


def read(c: Connection, code: str, id: int) -> tuple[bytes, bytes]:
    """The weights and record of design `id` of challenge `code`; WeightsDropped with a
    sentence when they are not kept."""
    row = c.execute(select(WEIGHTS.c.weights, WEIGHTS.c.record).where(
        WEIGHTS.c.id == id, WEIGHTS.c.code == code)).first()
    if row is None:
        raise WeightsDropped(
            f"The trained weights of this design are no longer kept: a challenge keeps "
            f"those of its {KEEP} best designs on the public split (at most "
            f"{KEEP_BYTES // 1_000_000} MB, {MAX_BYTES // 1_000_000} MB a design), and better "
            f"designs took its place. Its scores stay on the leaderboard.")
    return bytes(row[0]), bytes(row[1])


def kept(c: Connection, code: str) -> set[int]:
    """The designs of challenge `code` whose weights are kept."""
    return {i for (i,) in c.execute(select(WEIGHTS.c.id).where(WEIGHTS.c.code == code))}


def total(c: Connection, code: str) -> int:
    """The bytes a challenge's kept weights take."""
    return int(c.execute(select(func.coalesce(func.sum(WEIGHTS.c.size), 0))
                         .where(WEIGHTS.c.code == code)).scalar_one())

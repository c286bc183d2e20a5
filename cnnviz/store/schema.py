"""The room database's tables and its schema version, brought up to date at start."""
from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    select,
    update,
)

from cnnviz.store.errors import StoreUnavailable

SCHEMA_VERSION = 1
CODE_LENGTH = 6                                 # 31^6 ≈ 887 million codes
MAX_CHOICE = 200

META = MetaData()
VERSION = Table("schema_version", META, Column("version", Integer, nullable=False))
ROOMS = Table(
    "rooms", META,
    Column("code", String(CODE_LENGTH), primary_key=True),
    Column("teacher", String(64), nullable=False),   # sha256 of the teacher's secret
    Column("lesson", String(80), nullable=False),
    Column("step", Integer, nullable=False),
    Column("round", Integer, nullable=False),
    Column("is_open", Boolean, nullable=False),
    Column("created", Float, nullable=False),
    Column("expires", Float, nullable=False))
ANSWERS = Table(
    "answers", META,
    Column("code", String(CODE_LENGTH), primary_key=True),
    Column("step", Integer, primary_key=True),
    Column("round", Integer, primary_key=True),
    Column("student", String(32), primary_key=True),
    Column("number", Float),
    Column("choice", String(MAX_CHOICE)),
    Column("at", Float, nullable=False))
# version -> what brings a database of the version before it up to that one
MIGRATIONS: dict[int, list[str]] = {}


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
        for statement in MIGRATIONS.get(version, []):
            c.exec_driver_sql(statement)
    c.execute(update(VERSION).values(version=SCHEMA_VERSION))
    return SCHEMA_VERSION

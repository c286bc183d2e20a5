"""`cnnviz rooms list|export|purge`: output, CSV, one-line errors."""
from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cnnviz.store import RoomStore

ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str, db: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cnnviz", "rooms", "--database", db, *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


@pytest.fixture
def db(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'rooms.sqlite3'}"


def test_list_export_and_purge(db):
    rooms = RoomStore(db)
    room, secret = rooms.open_room("output_size", 1)
    rooms.submit(room.code, "a" * 32, number=3)
    rooms.submit(room.code, "b" * 32, number=2.5)
    old, _ = rooms.open_room("output_size", 1, now=time.time() - 2 * 86400)
    listed = json.loads(cli("list", "--json", db=db).stdout)
    assert {r["code"]: r["answers"] for r in listed} == {room.code: 2, old.code: 0}
    out = cli("export", room.code, "--csv", db=db)
    assert out.returncode == 0, out.stderr
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert [(r["student"], r["answer"], r["computed"]) for r in rows] == [
        ("a" * 32, "3", "3"), ("b" * 32, "2.5", "3")]  # 7x7, 3x3 at stride 2: 3 rows
    assert "2 answers" in cli("export", room.code.lower(), db=db).stdout
    assert cli("purge", db=db).stdout.startswith("Purged 1 expired room")
    assert [r["code"] for r in json.loads(cli("list", "--json", db=db).stdout)] == [room.code]


@pytest.mark.parametrize("args, says", [(("export", "ZZZZZZ"), "No room has the code"),
                                        (("export", "0000"), "6 letters and digits"),
                                        (("export",), "the following arguments"),
                                        (("nope",), "invalid choice")])
def test_bad_input_exits_2_with_one_line(db, args, says):
    result = cli(*args, db=db)
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert says in result.stderr, result.stderr


def test_an_unusable_database_is_one_line(tmp_path):
    for db, says in (("mysql://x", "must start with"),
                     ("sqlite:////proc/no/dir/rooms.db", "unavailable")):
        result = cli("list", db=db)
        assert result.returncode == 2 and says in result.stderr, result.stderr


FORMULAS = ["=1+1", "+1+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0", "@SUM(1+1)*cmd",
            "\t=1+1", "\r=1+1", "-", "=HYPERLINK(\"http://e.vil\",\"x\")"]


@pytest.mark.parametrize("cell", FORMULAS)
def test_a_cell_a_spreadsheet_would_run_is_text(cell):
    from cnnviz.core.csv_cells import csv_cell
    assert csv_cell(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["-3", "-1,234", "-1.5e+08", "+2", "3", "two 3×3", "",
                                  "a=b", 7, None, 2.5])
def test_numbers_and_plain_text_are_kept(cell):
    from cnnviz.core.csv_cells import csv_cell
    assert csv_cell(cell) == cell


def test_the_csv_export_neutralises_every_text_cell(db):
    """Choices stored before the store checked them against the options, written straight
    into the database: no exported cell begins with what a spreadsheet runs."""
    from sqlalchemy import insert

    from cnnviz.store.rooms import ANSWERS

    rooms = RoomStore(db)
    room, _ = rooms.open_room("output_size", 1)
    with rooms.engine.begin() as c:
        for i, cell in enumerate(FORMULAS):
            c.execute(insert(ANSWERS).values(code=room.code, step=1, round=1,
                                             student=f"{i:032x}", number=None, choice=cell,
                                             at=time.time()))
    rooms.submit(room.code, "f" * 32, number=-3)
    rooms.engine.dispose()
    out = cli("export", room.code, "--csv", db=db)
    assert out.returncode == 0, out.stderr
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    # (text mode reads the quoted CR inside a cell as a newline)
    assert sorted(r["answer"] for r in rows) == sorted(
        ["'" + f.replace("\r", "\n") for f in FORMULAS] + ["-3"])
    for row in rows:
        for value in row.values():
            assert value == "-3" or not value.startswith(("=", "+", "-", "@", "\t", "\r"))

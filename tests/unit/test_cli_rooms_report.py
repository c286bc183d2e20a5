"""`cnnviz rooms report` and the export's new columns; `lesson check` on bad twins."""
from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from cnnviz.store import RoomStore

ROOT = Path(__file__).resolve().parents[2]
LESSON = ROOT / "assets" / "lessons" / "output_size.toml"
STUDENTS = [c * 32 for c in "abcdef"]


def cli(*args: str, db: str | None = None) -> subprocess.CompletedProcess:
    head = ["rooms", "--database", db] if db else []
    return subprocess.run([sys.executable, "-m", "cnnviz", *head, *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def room(tmp_path_factory) -> tuple[str, str]:
    """output_size step 1 (answer 3, twin 5) through both rounds and the twin."""
    db = f"sqlite:///{tmp_path_factory.mktemp('report') / 'rooms.sqlite3'}"
    rooms = RoomStore(db)
    room, secret = rooms.open_room("output_size", 1)
    for s, v, c in zip(STUDENTS, [3, 2, 2, 3, 4, 2],
                       ["sure", "sure", "guessing", None, "fairly sure", "sure"]):
        rooms.submit(room.code, s, number=v, confidence=c)
    rooms.close(room.code, secret)
    rooms.start_round_two(room.code, secret)
    for s, v in zip(STUDENTS, [3, 3, 3, 3, 2, 3]):
        rooms.submit(room.code, s, number=v)
    rooms.reveal(room.code, secret)
    rooms.ask_twin(room.code, secret)
    for s, v in zip(STUDENTS[:5], [5, 5, 4, 5, 5]):
        rooms.submit(room.code, s, number=v, confidence="sure")
    rooms.close(room.code, secret)
    rooms.engine.dispose()
    return db, room.code


def test_report_by_hand(room):
    db, code = room
    out = cli("report", code, "--json", db=db)
    assert out.returncode == 0, out.stderr
    [q] = json.loads(out.stdout)["questions"]
    r = q["rounds"]
    # round 1: a, d right of 6; b, e, f wrong and sure or fairly sure (c guessed)
    assert (r["round 1"]["answers"], r["round 1"]["right"], r["round 1"]["confident_wrong"]) \
        == (6, 2, 3)
    assert (r["round 2"]["right"], r["twin"]["answers"], r["twin"]["right"]) == (5, 5, 4)
    assert q["switches"] == {"wrong_to_right": 3, "right_to_wrong": 0, "right_to_right": 2,
                             "wrong_to_wrong": 1}
    assert q["gain"] == pytest.approx((80 - 100 / 3) / (100 - 100 / 3))  # 0.70
    assert (q["answer"], q["twin_answer"], q["next_move"]) == ("3", "5", "explain again")  # 33%
    # output_size declares no pre/post test: an ordinary question's round 1 and twin give
    # the question's g, never a class ⟨g⟩
    assert json.loads(out.stdout)["pre_post"] == [] and q["test"] is False
    text = cli("report", code, db=db).stdout
    assert "wrong→right 3" in text and "gain round 1 → twin: 0.70" in text
    rows = list(csv.DictReader(io.StringIO(cli("report", code, "--csv", db=db).stdout)))
    assert rows[0]["round 1 right %"] == "33.3" and rows[0]["gain"] == "0.7"


def test_export_has_round_confidence_and_twin_columns(room):
    db, code = room
    rows = list(csv.DictReader(io.StringIO(cli("export", code, "--csv", db=db).stdout)))
    twins = [r for r in rows if r["twin"] == "true"]
    assert len(rows) == 17 and len(twins) == 5
    assert {(r["round"], r["computed"]) for r in twins} == {("3", "5")}
    first = {r["student"]: r for r in rows if r["round"] == "1"}
    assert (first["b" * 32]["confidence"], first["b" * 32]["right"]) == ("sure", "false")
    assert first["d" * 32]["confidence"] == "" and first["d" * 32]["right"] == "true"


def test_a_formula_in_a_report_cell_is_neutralised(tmp_path):
    from cnnviz.core.csv_cells import csv_row
    from cnnviz.lessons.exports import report_row
    row = csv_row(report_row({"step": 1, "ask": "=HYPERLINK(1)", "answer": "-x",
                               "twin_answer": "@a", "rounds": {}, "switches": {},
                               "gain": None, "next_move": "+1"}))
    assert (row["ask"], row["answer"], row["twin answer"], row["next move"]) == (
        "'=HYPERLINK(1)", "'-x", "'@a", "+1")  # a plain number stays a number


@pytest.mark.parametrize("args, says", [
    (("report", "ZZZZZZ"), "No room has the code"),
    (("report", "0000"), "6 letters and digits"),
    (("report",), "the following arguments"),
    (("report", "ZZZZZZ", "--json", "--csv"), "not allowed with"),
    (("report", "ZZZZZZ", "--pdf"), "unrecognized arguments")])
def test_bad_input_is_one_line_and_exit_2(tmp_path, args, says):
    out = cli(*args, db=f"sqlite:///{tmp_path / 'rooms.sqlite3'}")
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.count("\n") == 1 and says in out.stderr


@pytest.mark.parametrize("change, says", [
    (("input = [3, 11, 11]\nask", "input = [3, 7, 7]\nask"), "the twin changes nothing"),
    (("input = [3, 11, 11]\nask", "input = [3, 8, 8]\nask"), "its answer is the question's"),
    (("input = [3, 11, 11]\nask", "inptu = [3, 8, 8]\nask"), "twin, inptu: unknown field"),
    (("input = [3, 11, 11]\nask", "params = { stride = 9 }\nask"), "twin, params.stride"),
    (("[steps.question.twin]\ninput = [3, 11, 11]\nask", "twin = 3\nlater"),
     "must be a table")])
def test_lesson_check_explains_a_bad_twin(tmp_path, change, says):
    text = LESSON.read_text()
    assert change[0] in text
    bad = tmp_path / "bad_twin.toml"
    bad.write_text(text.replace(change[0], change[1], 1))
    out = cli("lesson", "check", str(bad))
    assert out.returncode == 2 and says in out.stderr, out.stderr


def test_a_twin_on_a_choice_is_refused(tmp_path):
    bad = tmp_path / "choice_twin.toml"
    bad.write_text('title="t"\naudience="a"\nduration=5\nconcepts=["c"]\n[[steps]]\n'
                   'page="explorer"\nblock="conv_bn_act"\nsources=["computed"]\ntext="x"\n'
                   '[steps.question]\nkind="choice"\nask="Which?"\ncompute="params"\n'
                   'explain="e"\noptions=[{label="a", depth=1},{label="b", depth=2}]\n'
                   'twin={depth=3}\n')
    out = cli("lesson", "check", str(bad))
    assert out.returncode == 2 and "number questions only" in out.stderr

"""A lesson run as a pre/post test and twins drawn from ranges: the class's gain against
hand-computed cases, the draw (deterministic, valid, another answer), lesson check's
sentences on bad ranges and tests, and the post-test in the store on SQLite and a real
PostgreSQL (skipped without its binaries, except under CI=true), then `rooms report`."""
from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from support_pg import postgres_server, require

from cnnviz.lessons import grade, load_lesson
from cnnviz.lessons.grading import answer
from cnnviz.lessons.results import prepost_gain, question_results, round_name
from cnnviz.lessons.twins import combinations, draw_key, drawn_twin, twin_answer, twin_step
from cnnviz.store import NotTeacher, Phase, RoomStore, WrongPhase
from cnnviz.store.rooms import Answer
from cnnviz.store.rounds import POST_ROUND

ROOT = Path(__file__).resolve().parents[2]
LESSON = ROOT / "assets" / "lessons" / "output_size_test.toml"
CODE = "K7QX2M"
A, B, C, D = (c * 32 for c in "abcd")


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cnnviz", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=180)


# --- twins drawn from ranges ----------------------------------------------------------------

def test_a_drawn_twin_is_the_rooms_own_and_differs_from_the_question():
    lesson = load_lesson("output_size_test")
    step = lesson.steps[0]
    assert step.question is not None and step.question.twin is not None
    original = answer(step.question, step.state).value
    assert original == 4  # floor((9 - 3) / 2) + 1
    seen = set()
    for code in ("K7QX2M", "ABCDEF", "ZZZZZZ", "234567", "HJKMNP"):
        key = draw_key(code, lesson.name)
        twin = twin_step(step, key)
        assert twin is not None and twin.question is not None
        spec = twin.state.stack
        k, s, h = spec.values["kernel_size"], spec.values["stride"], spec.height
        assert spec.width == h and k in (3, 5) and 1 <= s <= 3 and 9 <= h <= 14
        result = twin_answer(step, key=key)
        assert result is not None and result.value == (h - k) // s + 1 != original
        assert twin.question.ask == (f"A {k}×{k} kernel at stride {s}, without padding, on "
                                     f"a {h}×{h} input: how tall is the output?")
        assert twin_step(step, key) == twin  # the same room draws the same twin
        assert grade(twin.question, result, result.value).right
        seen.add((k, s, h))
    assert len(seen) > 1  # rooms draw different twins


def test_every_process_draws_the_same_twin():
    here = twin_step(load_lesson("output_size_test").steps[1], draw_key(CODE, "x"))
    assert here is not None
    out = subprocess.run(
        [sys.executable, "-c", "from cnnviz.lessons import load_lesson\n"
         "from cnnviz.lessons.twins import twin_step, draw_key\n"
         "t = twin_step(load_lesson('output_size_test').steps[1], draw_key('K7QX2M', 'x'))\n"
         "print(t.question.ask)"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={"PYTHONHASHSEED": "12345", "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert here.question is not None and out.stdout.strip() == here.question.ask


def test_every_draw_of_the_shipped_ranges_is_computable():
    lesson = load_lesson("output_size_test")
    for number in lesson.test.questions if lesson.test else ():
        step = lesson.steps[number - 1]
        assert step.question is not None and step.question.twin is not None
        draws = list(combinations(step.question.twin))
        assert len(draws) == {1: 2 * 3 * 6, 2: 2 * 2 * 2 * 5}[number]
        for combination in draws:
            twin = drawn_twin(step.question.twin, combination)
            asked = replace(step.question, ask=twin.ask, twin=None)
            value = answer(asked, twin.state).value
            spec = twin.state.stack
            k, s, p = (spec.values[n] for n in ("kernel_size", "stride", "padding"))
            assert value == (spec.height + 2 * p - k) // s + 1 >= 1  # predicted = formula


BAD = [
    ("ranges = { kernel_size = [3, 5], stride = { from = 1, to = 3 }, size = { from = 9, "
     "to = 14 } }", "ranges = { kernel_size = [] }", "an empty list"),
    ("stride = { from = 1, to = 3 }", "stride = { from = 3, to = 1 }", "the range is empty"),
    ("kernel_size = [3, 5]", "kernel_size = [3, 0]", "ranges, kernel_size: 0"),
    ("kernel_size = [3, 5]", "colour = [3, 5]", "not 'colour'"),
    ("stride = { from = 1, to = 3 }", "stride = 2", "must be a list of values"),
    ("size = { from = 9, to = 14 }", "size = { from = 2, to = 14 }", "cannot be computed"),
    ("size = { from = 9, to = 14 }", "size = { from = 1, to = 999 }", "at most 64"),
    ("on a {size}×{size} input", "on a {width}×{width} input", "names {width}"),
    ("kernel_size = [3, 5], stride = { from = 1, to = 3 }, size = { from = 9, to = 14 }",
     "kernel_size = [3], stride = [2], size = [9]", "every draw has the question's answer"),
    ("questions = [1, 2]", "questions = [1, 3]",
     "test, questions, step 3: a test question is a number question with a twin"),
    ("questions = [1, 2]", "questions = [2]", "step 2 comes after step 1, which teaches"),
    ("questions = [1, 2]", "questions = []", "must be a list of step numbers"),
    ("post = 4", "post = 3", "asks a question of its own"),
    ("post = 4", "post = 9", "must be a step number from 1 to 4"),
]


@pytest.mark.parametrize("old, new, says", BAD)
def test_lesson_check_explains_bad_ranges_and_tests(tmp_path, old, new, says):
    text_ = LESSON.read_text()
    assert old in text_
    bad = tmp_path / "bad_test.toml"
    bad.write_text(text_.replace(old, new, 1))
    out = cli("lesson", "check", str(bad))
    assert out.returncode == 2 and says in out.stderr, out.stderr
    assert "Traceback" not in out.stderr


# --- the gain from the pre/post pairs, by hand ----------------------------------------------

def _answers(pre: dict[str, tuple[bool, bool]], post: dict[str, tuple[bool, bool]]
             ) -> list[Answer]:
    """Stored answers: each student's right (True) or wrong answer to the test's two
    questions, before (round 1) and after (the post-test's twins)."""
    lesson = load_lesson("output_size_test")
    key = draw_key(CODE, lesson.name)
    out = []
    for number in (1, 2):
        step = lesson.steps[number - 1]
        assert step.question is not None
        truth = float(answer(step.question, step.state).value)
        twin = twin_answer(step, key=key)
        assert twin is not None
        for student, marks in pre.items():
            out.append(Answer(number, 1, student, truth if marks[number - 1] else truth + 1,
                              None, 0.0, lesson=lesson.name))
        for student, marks in post.items():
            value = float(twin.value)
            out.append(Answer(number, POST_ROUND, student,
                              value if marks[number - 1] else value + 1, None, 0.0,
                              twin=True, lesson=lesson.name))
    return out


def _gain(pre, post):
    lesson = load_lesson("output_size_test")
    results = question_results(lesson, _answers(pre, post), key=draw_key(CODE, lesson.name))
    return prepost_gain(lesson, results), results


def test_the_class_gain_by_hand():
    # a: 50% -> 100%; b: 0% -> 50%; c: 100% -> 100%; d answered only the pre-test (0%)
    pre = {A: (True, False), B: (False, False), C: (True, True), D: (False, False)}
    post = {A: (True, True), B: (True, False), C: (True, True)}
    test, results = _gain(pre, post)
    assert test is not None and test.questions == (1, 2)
    g = test.gain
    assert g.pre == pytest.approx(37.5)              # (50 + 0 + 100 + 0) / 4
    assert g.post == pytest.approx(250 / 3)          # (100 + 50 + 100) / 3
    assert g.average.value == pytest.approx((250 / 3 - 37.5) / 62.5)  # 0.7333
    # own g: a (100-50)/50 = 1, b (50-0)/100 = 0.5; c at 100 before; d has no post
    assert (g.students, g.left_out) == (2, 1)
    assert g.mean == pytest.approx(0.75) and g.sd == pytest.approx(0.5 ** 0.5 / 2)
    assert all(r.test for r in results)
    assert [round_name(a) for a in _answers({A: (True, True)}, {A: (True, True)})] == [
        "round 1", "post-test", "round 1", "post-test"]


def test_everyone_right_before_leaves_nothing_to_gain():
    test, _ = _gain({A: (True, True), B: (True, True)}, {A: (True, True), B: (False, True)})
    assert test is not None
    assert test.gain.pre == 100 and test.gain.post == 75
    assert test.gain.average.value is None and "nothing left to gain" in \
        test.gain.average.text()
    assert (test.gain.students, test.gain.left_out, test.gain.mean) == (0, 2, None)


def test_no_post_answers_is_no_gain_not_a_zero():
    test, _ = _gain({A: (True, False), B: (False, False)}, {})
    assert test is not None and test.gain.pre == 25 and test.gain.post is None
    assert test.gain.average.value is None and "no answers after" in test.gain.average.text()
    assert test.gain.students == 0 and test.gain.sd is None


def test_ordinary_twins_make_no_class_gain():
    lesson = load_lesson("output_size")  # twins, but no [test]
    step = lesson.steps[0]
    answers = [Answer(1, 1, A, 3.0, None, 0.0, lesson="output_size"),
               Answer(1, 2, A, 5.0, None, 0.0, twin=True, lesson="output_size")]
    results = question_results(lesson, answers)
    assert results[0].votes["twin"] and not results[0].votes["post-test"]
    assert prepost_gain(lesson, results) is None and step.question is not None


# --- the post-test in the store ---------------------------------------------------------------

@pytest.fixture(scope="module")
def postgres_url():
    require()
    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def rooms(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'rooms.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_url")
        engine = create_engine(url.replace("postgresql:", "postgresql+psycopg:", 1))
        with engine.begin() as c:
            for table in ("answers", "rooms", "schema_version"):
                c.execute(text(f"DROP TABLE IF EXISTS {table}"))
        engine.dispose()
    store = RoomStore(url)
    yield store
    store.engine.dispose()


def test_the_post_test_in_the_store(rooms):
    room, secret = rooms.open_room("output_size_test", 1)
    rooms.submit(room.code, A, number=4)  # the pre-test, round 1
    rooms.close(room.code, secret)
    with pytest.raises(NotTeacher):
        rooms.post_test(room.code, "forged", 1, "output_size_test")
    rooms.move(room.code, secret, 4, "output_size_test")  # the post step
    room = rooms.post_test(room.code, secret, 1, "output_size_test")
    assert (room.phase, room.round, room.open, room.twin, room.step) == (
        Phase.POST, POST_ROUND, True, True, 1)
    rooms.submit(room.code, A, number=7, confidence="sure")
    rooms.submit(room.code, B, number=6)
    assert rooms.count(room.code, 1, POST_ROUND, "output_size_test") == 2
    with pytest.raises(WrongPhase, match="reveals nothing"):
        rooms.reveal(room.code, secret)
    assert rooms.close(room.code, secret).phase == Phase.POST_CLOSED
    with pytest.raises(WrongPhase):
        rooms.ask_twin(room.code, secret)
    assert rooms.post_test(room.code, secret, 2, "output_size_test").step == 2
    answers = rooms.answers(room.code)
    assert [(a.step, a.round, a.twin, a.post) for a in answers] == [
        (1, 1, False, False), (1, POST_ROUND, True, True), (1, POST_ROUND, True, True)]
    assert rooms.room(room.code).phase.text() == "post-test open"


def test_the_report_gives_the_tests_gain(tmp_path):
    db = f"sqlite:///{tmp_path / 'rooms.sqlite3'}"
    rooms = RoomStore(db)
    lesson = load_lesson("output_size_test")
    room, secret = rooms.open_room(lesson.name, 1)
    key = draw_key(room.code, lesson.name)
    truths = {n: answer(lesson.steps[n - 1].question, lesson.steps[n - 1].state).value
              for n in (1, 2)}
    twins = {n: twin_answer(lesson.steps[n - 1], key=key).value for n in (1, 2)}
    # pre: a 1 of 2, b 0 of 2; post: a 2 of 2, b 1 of 2 -> 25% -> 75%, <g> = 50/75
    for n in (1, 2):
        rooms.submit(room.code, A, number=truths[n] + (n - 1))
        rooms.submit(room.code, B, number=truths[n] + 1)
        rooms.close(room.code, secret)
        rooms.move(room.code, secret, n + 1, lesson.name)
    for n in (1, 2):
        rooms.post_test(room.code, secret, n, lesson.name)
        rooms.submit(room.code, A, number=twins[n])
        rooms.submit(room.code, B, number=twins[n] + (n - 1))
        rooms.close(room.code, secret)
    rooms.engine.dispose()
    out = cli("rooms", "--database", db, "report", room.code, "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    [test] = report["pre_post"]
    assert (test["lesson"], test["questions"], test["pre"], test["post"]) == (
        lesson.name, [1, 2], 25.0, 75.0)
    assert test["average_gain"] == pytest.approx(50 / 75)
    # own g: a (100-50)/50 = 1, b (50-0)/100 = 0.5
    assert test["mean_student_gain"] == pytest.approx(0.75)
    assert [q["rounds"]["post-test"]["answers"] for q in report["questions"]] == [2, 2]
    rows = list(csv.DictReader(io.StringIO(
        cli("rooms", "--database", db, "report", room.code, "--csv").stdout)))
    assert [r["pre/post test"] for r in rows] == ["yes", "yes"]
    assert {r["test class gain"] for r in rows} == {"0.667"}
    assert {(r["test pre %"], r["test post %"]) for r in rows} == {("25.0", "75.0")}
    plain = cli("rooms", "--database", db, "report", room.code).stdout
    assert "pre/post test of output_size_test (steps 1, 2): class ⟨g⟩ 0.67" in plain
    exported = list(csv.DictReader(io.StringIO(
        cli("rooms", "--database", db, "export", room.code, "--csv").stdout)))
    assert sum(r["post-test"] == "true" for r in exported) == 4
    assert {r["computed"] for r in exported if r["post-test"] == "true"} == {
        str(int(v)) for v in twins.values()}

"""A lesson run as a pre/post test, under AppTest on a real store (a fresh SQLite file):
the teacher asks the test's questions first (round 1, closed with nothing revealed), walks
to the post step, asks each question's twin (drawn for this room) in the post-test, and
reads the class's gain in the room's results; the student's page shows the drawn twin."""
from __future__ import annotations

import pytest
from conftest import app_test, page_file, shown
from streamlit.testing.v1 import AppTest

from cnnviz.lessons import load_lesson
from cnnviz.lessons.grading import answer
from cnnviz.lessons.twins import draw_key, twin_answer, twin_step
from cnnviz.store import Phase, store
from cnnviz.store.rounds import POST_ROUND

LESSON = "output_size_test"
STUDENTS = [c * 32 for c in "abcd"]


@pytest.fixture
def db(tmp_path, monkeypatch) -> str:
    url = f"sqlite:///{tmp_path / 'rooms.sqlite3'}"
    monkeypatch.setenv("CNNVIZ_DATABASE_URL", url)
    return url


def clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def said(at: AppTest) -> str:
    return " ".join(shown(e.value) for e in [*at.markdown, *at.caption, *at.info,
                                             *at.success, *at.warning, *at.error]
                    ).replace("**", "")


def buttons(at: AppTest) -> list[str]:
    return [b.label for b in at.button if (b.key or "").startswith("room_")]


def test_the_teacher_runs_a_pre_post_test_and_reads_the_class_gain(db):
    lesson = load_lesson(LESSON)
    at = app_test(timeout=180, lesson=LESSON, step="1", present="1").run()
    at.button(key="room_open").click().run()
    clean(at)
    code = at.session_state["room__teacher"]["code"]
    rooms, key = store(), draw_key(code, LESSON)
    truth = {n: answer(lesson.steps[n - 1].question, lesson.steps[n - 1].state).value
             for n in (1, 2)}
    twin = {n: twin_answer(lesson.steps[n - 1], key=key).value for n in (1, 2)}
    # the pre-test: a right on both, b on one, c on none, d only on question 1 (then left)
    marks = {1: [True, True, False, True], 2: [True, False, False, None]}
    for n in (1, 2):
        assert "A question of the pre-test" in said(at)
        for student, right in zip(STUDENTS, marks[n]):
            if right is not None:
                rooms.submit(code, student, number=truth[n] if right else truth[n] + 1)
        assert buttons(at) == ["Close round 1", "End the room"]  # no discussion, no reveal
        at.button(key="room_close").click().run()
        clean(at)
        assert buttons(at) == ["Next question ▶", "End the room"]
        assert "Suggested next move" not in said(at)
        at.button(key="room_next").click().run()
        clean(at)
    assert store().room(code).step == 3  # the lesson's own question, ordinary peer instruction
    at.button(key="lesson_next").click().run()  # the post step
    clean(at)
    assert store().room(code).step == 4
    assert buttons(at) == ["Start the post-test", "End the room"]
    at.button(key="room_post").click().run()
    clean(at)
    room = store().room(code)
    assert (room.phase, room.step, room.round) == (Phase.POST, 1, POST_ROUND)
    asked = twin_step(lesson.steps[0], key)
    assert asked is not None and asked.question is not None
    assert f"Post-test, question 1 of 2 (open): {asked.question.ask}" in said(at)
    # the student's page asks the same drawn twin
    student = app_test(timeout=120, room=code).run()
    student.switch_page(page_file("pages/join.py")).run()
    clean(student)
    assert any(m.value == f"**{asked.question.ask}**" for m in student.markdown)
    assert "the post-test" in said(student)
    post = {1: [True, True, False], 2: [True, True, True]}  # d left before the post-test
    for n in (1, 2):
        if n == 2:
            at.button(key="room_post_next").click().run()
            clean(at)
        for student_id, right in zip(STUDENTS, post[n]):
            rooms.submit(code, student_id, number=twin[n] if right else twin[n] + 1)
        at.button(key="room_close").click().run()
        clean(at)
    assert store().room(code).phase == Phase.POST_CLOSED
    text = said(at)
    assert "The post-test is over" in text
    # pre: a 100, b 50, c 0, d 50 (one of two) -> 50; post: a 100, b 100, c 50 -> 83.33
    # <g> = (83.33 - 50) / 50 = 0.67; own g: b 1.0, c 0.5 (a at 100 left out)
    assert "Pre/post test (steps 1, 2): the class's ⟨g⟩ = 0.67, from 50% right before " \
           "to 83% after; the students' own g: mean 0.75, standard deviation 0.35 " \
           "(2 students with both, 1 already at 100% left out)." in text
    assert "Hake 1998" in text
    [table] = at.table
    assert list(table.value["post-test"]) == ["67% of 3", "100% of 3"]

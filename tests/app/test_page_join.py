"""The Join page and the teacher's room panel under AppTest: bad input stores nothing and
reveals nothing; a missing database leaves the rest of the app working; a student sees
what the question reads (its figure, or the step's setting in words), never the answer."""
from __future__ import annotations

import base64
import json
import re

import numpy as np
import pytest
from conftest import app_test, page_file, shown
from streamlit.testing.v1 import AppTest

from cnnviz.lessons import load_lessons
from cnnviz.lessons.facts import question_facts
from cnnviz.pages import PAGES
from cnnviz.store import RoomStore, store
from cnnviz.topics import sliding
from cnnviz.ui.rooms import question as room_question

PAGE = "pages/join.py"


def join(**query: str) -> AppTest:
    at = app_test(timeout=120, **query).run()
    at.switch_page(page_file(PAGE)).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(at: AppTest) -> list[str]:
    return [shown(e.value) for e in [*at.error, *at.warning, *at.info, *at.success]]


@pytest.fixture
def room():
    room, secret = store().open_room("output_size", 1)
    return room.code, secret


def test_a_student_answers_and_sees_only_their_own_answer(room):
    code, _ = room
    at = join()
    at.text_input(key="join_code").input(code.lower()).run()
    assert any(m.value.startswith("**How tall") for m in at.markdown)
    assert not at.get("plotly_chart")  # no histogram, no other answers
    assert not [b for b in at.button if b.label in ("Close round 1", "End the room")]
    key = f"join_{code}_1_1"
    at.text_input(key=f"{key}_number").input("3")
    at.button(key=f"FormSubmitter:{key}-Send my answer").click().run()
    assert any("Your answer 3 is in" in t for t in texts(at))
    assert store().count(code, 1, 1) == 1


@pytest.mark.parametrize("guess", ["nan", "inf", "-1e999", "three", "x" * 10_000_000])
def test_a_guess_that_is_not_a_number_stores_nothing(room, guess):
    code, _ = room
    at = join(room=code)
    key = f"join_{code}_1_1"
    at.text_input(key=f"{key}_number").input(guess)
    at.button(key=f"FormSubmitter:{key}-Send my answer").click().run()
    assert not at.exception
    said = texts(at)
    assert any("is not a number" in t for t in said)
    assert all(len(t) < 400 for t in said)  # a 10 MB guess is not echoed
    assert store().count(code, 1, 1) == 0


@pytest.mark.parametrize("code, says", [("ZZZZZZ", "No open room has the code ZZZZZZ"),
                                        ("[x](http://e.vil)", "6 letters and digits"),
                                        ("0OO1II", "6 letters and digits")])
def test_a_wrong_or_malformed_code_is_a_sentence(code, says):
    at = join(room=code)
    assert any(says in t for t in texts(at)), texts(at)
    assert not any("e.vil" in m.value for m in at.markdown)


def test_an_expired_room_is_gone(tmp_path):
    rooms = store()
    room, _ = rooms.open_room("output_size", 1, now=0.0)  # opened in 1970: long expired
    at = join(room=room.code)
    assert any("No open room" in t for t in texts(at))


def test_a_missing_database_leaves_the_rest_of_the_app_working(monkeypatch):
    monkeypatch.setenv("CNNVIZ_DATABASE_URL", "sqlite:////proc/no/such/dir/rooms.db")
    at = join(room="K7QX2M")
    assert any("room database is unavailable" in t for t in texts(at))
    at.switch_page(page_file("pages/explorer.py")).run()
    assert not at.exception and at.metric  # the Explorer does not need the database


def test_presenter_mode_opens_a_room_and_only_its_session_controls_it():
    at = app_test(timeout=120, lesson="output_size", step="1", present="1").run()
    at.button(key="room_open").click().run()
    assert not at.exception
    mine = at.session_state["room__teacher"]
    assert [b.label for b in at.button if b.key == "room_close"] == ["Close round 1"]
    other = app_test(timeout=120, lesson="output_size", step="1", present="1").run()
    assert not [b for b in other.button if b.key == "room_close"]  # another session: none
    at.button(key="room_close").click().run()
    assert not at.exception
    assert not RoomStore().room(mine["code"]).open
    assert any("Suggested next move" in i.value for i in at.info)  # closed, not revealed
    assert [b.key for b in at.button if b.key in ("room_again", "room_reveal")] == [
        "room_again", "room_reveal"]


# --- the teacher's panel when the store fails (issue 29) ----------------------------------

def _break(path) -> None:
    """The database file removed and a folder put at its path: every call fails now."""
    path.unlink()
    path.mkdir()


def _lesson_still_works(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert at.subheader  # the step's title
    assert at.button(key="lesson_next") and at.button(key="lesson_present")


@pytest.fixture
def own_database(tmp_path, monkeypatch):
    path = tmp_path / "rooms.db"
    monkeypatch.setenv("CNNVIZ_DATABASE_URL", f"sqlite:///{path}")
    store()  # opened while the file is fine, as on a server that has been running
    return path


def test_opening_a_room_on_a_failing_store_is_a_sentence(own_database):
    at = app_test(timeout=120, lesson="output_size", step="1", present="1").run()
    _break(own_database)
    at.button(key="room_open").click().run()
    _lesson_still_works(at)
    assert any("removed or replaced" in shown(e.value) for e in at.error)
    at.button(key="room_open").click().run()  # the path is no database now
    _lesson_still_works(at)
    assert any("room database is unavailable" in shown(e.value) for e in at.error)
    assert "room__teacher" not in at.session_state


def test_a_store_failing_under_an_open_room_is_a_sentence(own_database):
    at = app_test(timeout=120, lesson="output_size", step="1", present="1").run()
    at.button(key="room_open").click().run()
    assert at.button(key="room_close")
    _break(own_database)
    at.button(key="room_close").click().run()  # the button, the panel, the live count
    _lesson_still_works(at)
    said = [shown(e.value) for e in at.error]
    assert any("removed or replaced" in t for t in said), said
    for _ in range(2):  # and on every later run, the presenter's view stays up
        at.run()
        _lesson_still_works(at)
        assert any("room database is unavailable" in shown(e.value) for e in at.error)
    assert "room__teacher" in at.session_state  # the room is not forgotten: it may return
    at.button(key="lesson_next").click().run()
    _lesson_still_works(at)


def test_a_database_removed_under_an_open_room_ends_it_with_a_sentence(own_database):
    at = app_test(timeout=120, lesson="output_size", step="1", present="1").run()
    at.button(key="room_open").click().run()
    own_database.unlink()  # `rm rooms.db`: the next call uses a new, empty file
    at.run()
    _lesson_still_works(at)
    assert any("removed or replaced" in shown(e.value) for e in at.error)
    at.run()
    _lesson_still_works(at)
    assert any("The room has ended" in i.value for i in at.info)
    at.run().button(key="room_open").click().run()  # a new room opens on the new file
    assert at.button(key="room_close") and not at.exception


def test_an_answer_to_a_removed_database_is_not_acknowledged(own_database):
    code = store().open_room("output_size", 1)[0].code
    at = join(room=code)
    own_database.unlink()
    key = f"join_{code}_1_1"
    at.text_input(key=f"{key}_number").input("3")
    at.button(key=f"FormSubmitter:{key}-Send my answer").click().run()
    assert not at.exception
    said = texts(at)
    assert any("removed or replaced" in t for t in said), said
    assert not any("is in" in t for t in said)
    assert RoomStore().answers(code) == []


# --- what the question reads (issue 28, item 5) -------------------------------------------

def student_sees(lesson: str, step: int) -> AppTest:
    """A student's page for a room on `lesson`'s `step`, opened by its link."""
    room, _ = store().open_room(lesson, step)
    return join(room=room.code)


def grid(z) -> list:
    """A heatmap's numbers (a plain list, or plotly's base64 'bdata' with dtype and shape)."""
    if isinstance(z, dict) and "bdata" in z:
        shape = [int(n) for n in str(z["shape"]).split(",")]
        return np.frombuffer(base64.b64decode(z["bdata"]), dtype=z["dtype"]).reshape(
            shape).tolist()
    return np.asarray(z).tolist()


def test_a_question_on_a_figure_shows_the_figure_and_not_the_answer():
    """Convolution by hand: the input's numbers and the kernel, the window outlined, as on
    the page; not the output, its sum written out, nor any list of settings."""
    at = student_sees("convolution_by_hand", 1)
    charts = at.get("plotly_chart")
    assert len(charts) == 1
    figure = json.loads(charts[0].proto.spec)
    hand = sliding.hand_sum(2)  # the step's numbers (ws_seed = 2)
    grids = [grid(trace["z"]) for trace in figure["data"]]
    assert grids == [hand.image.tolist(), hand.kernel.tolist()]  # no output grid
    outline = figure["layout"]["shapes"][0]
    assert (outline["x0"], outline["y0"]) == (-0.5, -0.5)  # output row 1, column 1's window
    said = " ".join(shown(m.value) for m in [*at.markdown, *at.caption])
    assert "kernel" in said
    value = hand.by_hand(0, 0)  # the sum is not written out, nor its value given
    first = r"{} \cdot {}".format(*hand.products(0, 0)[0])
    assert first not in said and f"= {value}" not in said and f"= {value:+d}" not in said
    assert not [m for m in at.markdown if "Block:" in m.value]


def test_a_question_without_one_lists_the_steps_setting_and_not_the_answer():
    """The output size: the input, kernel, stride and padding in words; not the step's
    figure (the sliding window shows the output's size), nor the output's size."""
    at = student_sees("output_size", 1)
    assert not at.get("plotly_chart")
    facts = [shown(m.value) for m in at.markdown if "Block:" in m.value]
    assert len(facts) == 1, [m.value for m in at.markdown]
    for line in ("Input: 3×7×7", "Kernel size: 3×3", "Stride: 2", "Padding: 0"):
        assert line in facts[0].replace("*", ""), facts[0]
    assert "output height" not in facts[0].lower() and "conv_bn_act" not in facts[0]
    assert not any("answer is" in t for t in texts(at))


def test_every_questions_list_is_words_and_never_its_answer():
    """Every question of every lesson: its list names settings in words (no identifier),
    a figure shown to a room shows only what the question reads, and a setting that is
    the answer itself (the output channels when they are asked) is left out."""
    lessons = load_lessons().lessons
    assert lessons
    for info in PAGES.values():
        assert set(info.question_figures) <= set(info.figures)
        assert set(info.question_figures) <= set(room_question.QUESTION_FIGURES)
    snake = re.compile(r"\b[a-z][a-z0-9]*_[a-z0-9_]+\b")
    for lesson in lessons:
        for step in lesson.steps:
            if step.question is None:
                continue
            facts = question_facts(step)
            where = f"{lesson.name} step {step.number}"
            assert all(not snake.search(f"{a} {b}") for a, b in facts), (where, facts)
            if step.question.compute == "output_channels":
                assert "Output channels" not in dict(facts), where


@pytest.mark.parametrize("lesson, lifted", [("convolution_by_hand", True),
                                            ("output_size", False)])
def test_the_projector_lifts_the_veil_only_on_a_figure_the_question_reads(lesson, lifted):
    at = app_test(timeout=120, lesson=lesson, step="1", present="1").run()
    assert not at.exception
    veils = [h.proto.body for h in at.get("html") if "blur(16px)" in h.proto.body]
    assert len(veils) == 1
    assert (":not(.st-key-arith_hand)" in veils[0]) is lifted

"""The Join page and the teacher's room panel under AppTest: bad input stores nothing and
reveals nothing; a missing database leaves the rest of the app working."""
from __future__ import annotations

import pytest
from conftest import app_test, page_file, shown
from streamlit.testing.v1 import AppTest

from cnnviz.store import RoomStore, store

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
    assert not [b for b in at.button if b.label in ("Close and reveal", "End the room")]
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
    assert [b.label for b in at.button if b.key == "room_close"] == ["Close and reveal"]
    other = app_test(timeout=120, lesson="output_size", step="1", present="1").run()
    assert not [b for b in other.button if b.key == "room_close"]  # another session: none
    at.button(key="room_close").click().run()
    assert not at.exception
    assert not RoomStore().room(mine["code"]).open
    assert any("right" in m.value for m in at.markdown)

"""The room in a real classroom, under AppTest on a real store (a fresh SQLite file): the
teacher's reload resumes the room from the secret the browser keeps (never from a forged
one), one room follows the teacher across steps and lessons, the room's *Reveal* is the
step's one *Reveal* and lifts its veil, and the files are refused to a forged secret."""
from __future__ import annotations

import pytest
from conftest import app_test, shown
from streamlit.testing.v1 import AppTest
from test_room_peer import STUDENTS, buttons, clean, join, presenter, said

from cnnviz.store import Phase, store

KEEPER = "room_keeper"  # the element that reads the browser's local storage


@pytest.fixture(autouse=True)
def db(tmp_path, monkeypatch) -> str:
    url = f"sqlite:///{tmp_path / 'rooms.sqlite3'}"
    monkeypatch.setenv("CNNVIZ_DATABASE_URL", url)
    return url


def reloaded(code: str, secret: str, step: str = "1") -> AppTest:
    """A new session of the projector's page (F5) whose browser keeps `code` and `secret`
    (what the browser's script reports, as it would after a reload)."""
    at = app_test(timeout=120, lesson="output_size", step=step, present="1")
    at.session_state[KEEPER] = {"room": {"code": code, "secret": secret}}
    return at.run()


def veiled(at: AppTest) -> bool:
    return any("blur(16px)" in h.proto.body for h in at.get("html"))


def test_a_reload_resumes_the_room_with_the_same_code(db):
    _, code, secret = presenter()
    store().submit(code, STUDENTS[0], number=3)
    at = reloaded(code, secret)
    clean(at)
    assert buttons(at) == ["🙋 Ask the room", f"Resume room {code}"]
    at.button(key="room_resume").click().run()
    clean(at)
    assert at.session_state["room__teacher"]["code"] == code
    assert buttons(at) == ["Close round 1", "End the room"]
    assert "1 answer" in said(at)  # the round went on: same room, same answers
    at.button(key="room_close").click().run()
    assert store().room(code).phase == Phase.CLOSED1


@pytest.mark.parametrize("kept", [{"code": "forged"}, {"secret": "forged"}, "forged",
                                  {"code": "ZZZZZZ", "secret": "x" * 32}])
def test_a_forged_or_foreign_kept_room_offers_nothing(db, kept):
    _, code, secret = presenter()
    room = {"code": code, "secret": "forged"} if kept == {"secret": "forged"} else kept
    at = app_test(timeout=120, lesson="output_size", step="1", present="1")
    at.session_state[KEEPER] = {"room": room}
    at.run()
    clean(at)
    assert buttons(at) == ["🙋 Ask the room"]
    assert store().room(code).phase == Phase.VOTE1


def test_the_room_follows_the_teacher_across_steps_and_lessons(db):
    at, code, secret = presenter()
    at.button(key="lesson_next").click().run()  # step 2 asks a question too
    clean(at)
    room = store().room(code)
    assert (room.lesson, room.step, room.phase) == ("output_size", 2, Phase.VOTE1)
    assert buttons(at) == ["Close round 1", "End the room"]
    at.query_params["lesson"] = "convolution_by_hand"  # the class's next lesson
    at.query_params["step"] = "1"
    at.run()
    clean(at)
    room = store().room(code)
    assert (room.code, room.lesson, room.step) == (code, "convolution_by_hand", 1)
    student = join(code)  # the students' page follows: the new lesson's question
    assert any("output row 1, column 1" in m.value for m in student.markdown)
    store().submit(code, STUDENTS[0], number=1)
    at.run()
    assert "1 answer" in said(at)


def test_the_rooms_reveal_is_the_steps_one_reveal(db):
    at, code, secret = presenter()
    assert not [b for b in at.button if b.key == "lesson_output_size_1_reveal"]
    assert veiled(at)
    store().submit(code, STUDENTS[0], number=3)
    at.button(key="room_close").click().run()
    assert veiled(at)  # closed without revealing: the page still veiled
    at.button(key="room_reveal").click().run()
    clean(at)
    assert not veiled(at)  # one Reveal: the room's answer and the step's page
    assert "The answer is 3" in said(at)
    # no second Reveal for the step (the page's own exercises keep theirs)
    assert [b.key for b in at.button if b.label.startswith("Reveal")
            and b.key.startswith(("lesson_", "room_"))] == []


def test_without_a_room_the_step_has_its_own_reveal(db):
    at = app_test(timeout=120, lesson="output_size", step="1", present="1").run()
    [reveal] = [b for b in at.button if b.key == "lesson_output_size_1_reveal"]
    assert reveal.label == "Reveal"  # the same name as the room's


def test_a_forged_secret_gets_no_download(db):
    at, code, secret = presenter()
    assert len(at.get("download_button")) == 2
    at.session_state["room__teacher"] = {"code": code, "secret": "forged",
                                         "lesson": "output_size"}
    at.run()
    clean(at)
    assert not at.get("download_button")
    assert any("Only the teacher who opened this room" in shown(e.value) for e in at.error)

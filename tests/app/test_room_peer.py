"""Peer instruction in the room under AppTest, on a real store (a fresh SQLite file): the
teacher's panel phase by phase (round 1, closed without revealing, round 2, the reveal,
the twin and its gain), the student's confidence and the twin on the Join page, every
refused move a sentence, and the results' CSV the same as `cnnviz rooms report --csv`."""
from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from conftest import ROOT, app_test, page_file, shown
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from cnnviz.store import Phase, store

STUDENTS = [c * 32 for c in "abcdef"]
# output_size step 1 asks "How tall is the output?" (3); its twin, on 11×11, has 5
ROUND_1 = [3, 3, 2, 2, 4, 2]       # a, b right: 33%; c (sure) and e (fairly sure) wrong
CONFIDENCE = ["sure", None, "sure", "guessing", "fairly sure", None]
ROUND_2 = [3, 3, 3, 3, 2, 3]       # 83%: c, d, f wrong -> right; e wrong -> wrong
TWIN = [5, 5, 4, 5, 5]             # a-e: 80%
TWIN_ASK = ("The same 3×3 kernel at stride 2, without padding, on an 11×11 input: how tall "
            "is the output?")
CHART_TITLE = re.compile(r"^(Round \d|Twin|The twin): \d+ answers?$")


@pytest.fixture
def db(tmp_path, monkeypatch) -> str:
    url = f"sqlite:///{tmp_path / 'rooms.sqlite3'}"
    monkeypatch.setenv("CNNVIZ_DATABASE_URL", url)
    return url


def presenter() -> tuple[AppTest, str, str]:
    """The teacher's session on output_size step 1, a room open: (AppTest, code, secret)."""
    at = app_test(timeout=120, lesson="output_size", step="1", present="1").run()
    at.button(key="room_open").click().run()
    clean(at)
    mine = at.session_state["room__teacher"]
    return at, mine["code"], mine["secret"]


def clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def said(at: AppTest) -> str:
    """Every text on the page as a reader sees it (escapes and bold marks dropped)."""
    return " ".join(shown(e.value) for e in [*at.markdown, *at.caption, *at.info,
                                             *at.success, *at.warning, *at.error]
                    ).replace("**", "")


def buttons(at: AppTest) -> list[str]:
    """The room's buttons, in order (Ask the room, the phase's, Next question, End)."""
    return [b.label for b in at.button if (b.key or "").startswith("room_")]


def room_charts(at: AppTest) -> dict[str, dict]:
    """The room's charts by title (the page below the panel draws charts of its own)."""
    out = {}
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        title = spec["layout"].get("title", {}).get("text", "")
        if CHART_TITLE.match(title):
            out[title] = spec
    return out


def answer_line(spec: dict) -> bool:
    """Whether a histogram marks the computed answer (its dashed line)."""
    return any(s.get("type") == "line" for s in spec["layout"].get("shapes", []))


def test_the_teacher_runs_a_question_through_both_rounds_the_reveal_and_the_twin(db):
    at, code, secret = presenter()
    rooms = store()
    for s, v, c in zip(STUDENTS, ROUND_1, CONFIDENCE):
        rooms.submit(code, s, number=v, confidence=c)
    at.run()
    assert buttons(at) == ["Close round 1", "End the room"]
    assert "6 answers" in said(at) and not room_charts(at)  # hidden until chosen
    assert at.toggle(key="room_show_1_0").value is False
    # round 1 closed, nothing revealed: no chart, no share, no answer; the next move
    at.button(key="room_close").click().run()
    clean(at)
    assert rooms.room(code).phase == Phase.CLOSED1
    assert buttons(at) == ["Discuss, then vote again", "Reveal", "Next question ▶",
                           "End the room"]
    text = said(at)
    assert not room_charts(at) and not re.search(r"\d+% right \(", text), text
    assert "The answer is" not in text and "33%" not in text and not at.table
    assert "Suggested next move" in text and "Explain again." in text  # 33% < 35%
    assert "Crouch & Mazur 2001" in text and "a suggestion: you decide" in text
    # shown on the teacher's choice: round 1's guesses, nothing marked, and the share
    at.toggle(key="room_show_1_0").set_value(True).run()
    [chart] = room_charts(at).values()
    assert chart["layout"]["title"]["text"] == "Round 1: 6 answers" and not answer_line(chart)
    assert "33% right alone" in said(at) and "The answer is" not in said(at)
    at.toggle(key="room_show_1_0").set_value(False).run()
    assert not room_charts(at)
    # round 2, after discussion
    at.button(key="room_again").click().run()
    assert rooms.room(code).phase == Phase.VOTE2
    assert buttons(at) == ["Close round 2", "End the room"]
    for s, v in zip(STUDENTS, ROUND_2):
        rooms.submit(code, s, number=v)
    at.button(key="room_close").click().run()
    assert buttons(at) == ["Reveal", "Next question ▶", "End the room"]
    assert not room_charts(at) and "The answer is" not in said(at)
    # the reveal: both rounds side by side, the answer marked, shares and switches
    at.button(key="room_reveal").click().run()
    clean(at)
    charts = room_charts(at)
    assert list(charts) == ["Round 1: 6 answers", "Round 2: 6 answers"]
    assert all(answer_line(c) for c in charts.values())
    text = said(at)
    assert "33% right (2 of 6); 2 sure and wrong" in text
    assert "83% right (5 of 6)" in text and "The answer is 3" in text
    table = next(m.value for m in at.markdown if "right in round 2" in m.value)
    assert "| **right in round 1** | 2 | 0 |" in table
    assert "| **wrong in round 1** | 3 | 1 |" in table
    assert "3 wrong → right, 0 right → wrong" in text
    assert buttons(at) == ["Ask the twin", "Next question ▶", "End the room"]
    # the twin: its own question, answered alone, then its share and the gain
    at.button(key="room_twin").click().run()
    clean(at)
    assert rooms.room(code).phase == Phase.TWIN
    assert any(TWIN_ASK in m.value for m in at.markdown)
    assert buttons(at) == ["Close and reveal the twin", "End the room"]
    for s, v in zip(STUDENTS, TWIN):
        rooms.submit(code, s, number=v, confidence="sure")
    at.run()
    assert "5 answers" in said(at) and not room_charts(at)
    at.button(key="room_twin_reveal").click().run()
    clean(at)
    assert rooms.room(code).phase == Phase.TWIN_REVEALED
    charts = room_charts(at)
    assert list(charts) == ["Round 1: 6 answers", "Round 2: 6 answers", "Twin: 5 answers"]
    text = said(at)
    assert "80% right (4 of 5); 1 sure and wrong" in text and "twin's answer is 5" in text
    assert "Gain g = 0.70 from round 1 (33% right) to the twin (80% right)" in text
    assert "(post − pre) / (100 − pre)" in text and "Hake 1998" in text
    assert buttons(at) == ["Next question ▶", "End the room"]
    twins = [a for a in rooms.answers(code) if a.round == 3]
    assert len(twins) == 5 and all(a.twin for a in twins)


def test_revealing_straight_after_round_1_shows_one_round_and_no_switches(db):
    at, code, _ = presenter()
    store().submit(code, STUDENTS[0], number=3)
    at.button(key="room_close").click().run()
    at.button(key="room_reveal").click().run()
    clean(at)
    assert list(room_charts(at)) == ["Round 1: 1 answer"]
    assert "100% right (1 of 1)" in said(at)
    assert not [m for m in at.markdown if "right in round 2" in m.value]


def test_a_forged_or_foreign_secret_changes_nothing_and_says_so(db):
    at, code, secret = presenter()
    _, theirs = store().open_room("output_size", 1)  # another teacher's room and secret
    for forged in ("forged", theirs, ""):
        at.session_state["room__teacher"] = {"code": code, "secret": forged,
                                             "lesson": "output_size"}
        at.run()  # the buttons now carry the forged secret
        at.button(key="room_close").click().run()
        clean(at)
        assert any("Only the teacher who opened this room can change it" in shown(e.value)
                   for e in at.error), forged
        assert store().room(code).phase == Phase.VOTE1


def test_a_click_the_phase_no_longer_allows_is_a_sentence(db):
    at, code, secret = presenter()
    store().close(code, secret)  # the teacher's other tab closed round 1 first
    at.button(key="room_close").click().run()  # the button this page still shows
    clean(at)
    assert any("This round is already closed" in shown(e.value) for e in at.error)
    at.button(key="room_reveal").click().run()  # the page now follows the room
    assert store().room(code).phase == Phase.REVEALED
    at.button(key="room_twin").click().run()
    store().reveal(code, secret)  # revealed from elsewhere meanwhile
    at.button(key="room_twin_reveal").click().run()
    assert any("already revealed" in shown(e.value) for e in at.error)


def join(code: str) -> AppTest:
    at = app_test(timeout=120, room=code).run()
    at.switch_page(page_file("pages/join.py")).run()
    clean(at)
    return at


def test_a_student_says_how_sure_they_are_and_it_is_stored(db):
    room, _ = store().open_room("output_size", 1)
    at = join(room.code)
    key = f"join_{room.code}_1_1"
    assert at.radio(key=f"{key}_sure").options == ["sure", "fairly sure", "guessing"]
    assert at.radio(key=f"{key}_sure").value is None  # optional
    at.text_input(key=f"{key}_number").input("3")
    at.radio(key=f"{key}_sure").set_value("fairly sure")
    at.button(key=f"FormSubmitter:{key}-Send my answer").click().run()
    clean(at)
    assert "Your answer 3 (fairly sure) is in" in said(at)
    [stored] = store().answers(room.code)
    assert (stored.number, stored.confidence, stored.twin) == (3.0, "fairly sure", False)


def test_round_2_asks_the_student_to_discuss_first(db):
    room, secret = store().open_room("output_size", 1)
    store().close(room.code, secret)
    store().start_round_two(room.code, secret)
    at = join(room.code)
    assert "Discuss with your neighbour, then vote again." in said(at)
    assert "round 2" in said(at) and "twin" not in said(at)


def test_the_twin_shows_its_own_question_on_the_students_page(db):
    room, secret = store().open_room("output_size", 1)
    rooms = store()
    rooms.close(room.code, secret)
    rooms.reveal(room.code, secret)
    rooms.ask_twin(room.code, secret)  # round 2: revealed straight after round 1
    at = join(room.code)
    assert any(m.value == f"**{TWIN_ASK}**" for m in at.markdown)
    assert not any(m.value == "**How tall is the output?**" for m in at.markdown)
    text = said(at)
    assert "Answer alone" in text and "the twin question" in text
    assert "Input: 3×11×11" in text.replace("*", "") and "7×7" not in text
    assert not at.expander  # the step's text describes the original's numbers
    key = f"join_{room.code}_1_2"
    at.text_input(key=f"{key}_number").input("5")
    at.button(key=f"FormSubmitter:{key}-Send my answer").click().run()
    clean(at)
    [stored] = rooms.answers(room.code)
    assert (stored.number, stored.round, stored.twin) == (5.0, 2, True)
    assert not at.get("plotly_chart")  # nobody else's answers, no truth


def test_the_results_download_is_the_reports_csv(db):
    at, code, secret = presenter()
    rooms = store()
    for s, v, c in zip(STUDENTS, ROUND_1, CONFIDENCE):
        rooms.submit(code, s, number=v, confidence=c)
    rooms.close(code, secret)
    rooms.start_round_two(code, secret)
    for s, v in zip(STUDENTS, ROUND_2):
        rooms.submit(code, s, number=v)
    rooms.reveal(code, secret)
    rooms.ask_twin(code, secret)
    for s, v in zip(STUDENTS, TWIN):
        rooms.submit(code, s, number=v, confidence="sure")
    rooms.reveal(code, secret)
    at.run()
    clean(at)
    [expander] = [e for e in at.expander if e.label == "Results of this room"]
    [table] = at.table
    text = said(at)
    # the question's g, and no class ⟨g⟩: output_size declares no pre/post test
    assert "⟨g⟩" not in text and "Hake 1998" in text
    assert table.value.iloc[0]["round 1"] == "33% of 6"
    assert table.value.iloc[0]["gain g"] == "0.70"
    # the same numbers drawn: shares per round with g over the question, and the switches
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    figures = {f["layout"].get("title", {}).get("text"): f for f in specs}
    rounds = figures["Share right per round, and g from round 1 to the twin"]
    assert {t["name"]: round(t["y"][0]) for t in rounds["data"]} == \
        {"round 1": 33, "round 2": int(table.value.iloc[0]["round 2"].split("%")[0]),
         "twin": int(table.value.iloc[0]["twin"].split("%")[0])}
    assert [a["text"] for a in rounds["layout"]["annotations"]] == ["g = 0.70"]
    switched = {t["name"]: t["y"][0]
                for t in figures["Round 1 → round 2: how answers changed"]["data"]}
    assert switched["wrong → right"] == int(table.value.iloc[0]["wrong → right"])
    assert switched["right → wrong"] == int(table.value.iloc[0]["right → wrong"])
    assert sum(switched.values()) == len(STUDENTS)

    def cli(*args: str) -> bytes:
        return subprocess.run([sys.executable, "-m", "cnnviz", "rooms", "--database", db,
                               *args, code, "--csv"], cwd=ROOT, capture_output=True,
                              timeout=120, check=True).stdout

    out = cli("report")
    assert out.count(b"\r\n") == 2 and b",33.3," in out
    buttons = {b.proto.label: b.proto.url for b in at.get("download_button")}
    assert list(buttons) == ["Download the answers (CSV)", "Download the report (CSV)"]
    for label, text, name in (("Download the report (CSV)", out, "report"),
                              ("Download the answers (CSV)", cli("export"), "answers")):
        expected = MediaFileManager(MemoryMediaFileStorage("/mock/media")).add(
            text, "text/csv", "x", file_name=f"room-{code}-{name}.csv",
            is_for_static_download=True)
        assert buttons[label] == expected  # the file's id is its content's hash

# ruff: noqa: F811  (the db fixture is imported from test_page_challenge)
"""The design challenge's later parts under AppTest, on a real store (a fresh SQLite file):
a design written as a network's text is counted and sent; any finished leaderboard entry
opens on Trained Networks with its trained weights (a dropped one, or a network's text, is
a sentence); the teacher's reload resumes the challenge from the secret the browser keeps,
never from a forged one."""
from __future__ import annotations

import time

import pytest
from conftest import app_test, page_file
from streamlit.testing.v1 import AppTest
from test_page_challenge import clean, db, open_challenge, page, said  # noqa: F401

from cnnviz.store import challenge_store
from cnnviz.store import challenge_weights as kept
from cnnviz.topics import challenge as ch

KEEPER = "challenge_keeper"  # the door's element that reads the browser's storage
TEXT = "stem=conv_bn_act:out_channels=6|body=resnet_basic:out_channels=6" \
       "|head=adaptive_avgpool;flatten;linear"


def _trained(code: str, count: int) -> list:
    store = challenge_store()
    deadline = time.monotonic() + 150
    while time.monotonic() < deadline:
        designs = store.submissions(code)
        if len(designs) == count and not any(d.active for d in designs):
            return designs
        time.sleep(0.5)  # the page's own workers train them
    raise AssertionError(store.submissions(code))


def _write(code: str, nickname: str, text: str) -> AppTest:
    at = page(challenge=code)
    at.radio(key="ch_how").set_value("text").run()
    at.text_area(key="ch_text").input(text)
    at.number_input(key="ch_epochs").set_value(1).run()
    clean(at)
    if any(w.key == "ch_nick" for w in at.text_input):
        at.text_input(key="ch_nick").input(nickname)
        at.button(key="ch_send").click().run()
        clean(at)
    return at


def test_a_network_text_is_counted_sent_and_trained(db):
    teacher, code, _ = open_challenge()
    wrong = _write(code, "Nope", "stem=conv_bn_act:out_channels=8|head=adaptive_avgpool")
    assert any("must end in the 10 digits' scores" in t for t in said(wrong)), said(wrong)
    ada = _write(code, "Ada", TEXT)
    expected = ch.cost(ch.TextDesign.create(TEXT, 1, 8), 8)
    assert [m.value for m in ada.metric][:2] == [f"{expected.params:,}",
                                                 f"{expected.macs:,}"]
    assert any("in the queue" in t for t in said(ada)), said(ada)
    (done,) = _trained(code, 1)
    assert done.status == "done" and done.spec == {"network": TEXT, "epochs": 1}
    assert (done.params, done.macs) == (expected.params, expected.macs)
    teacher.run()
    clean(teacher)
    teacher.button(key="ch_open_entry").click().run()  # on Trained Networks, every view
    clean(teacher)
    assert teacher.selectbox(key="tr_pair").value == "challenge"
    assert [m.label for m in teacher.metric] == ["Prediction"]
    for view in ("Filters and channels", "Test split"):
        teacher.session_state["view"] = view
        teacher.switch_page(page_file("pages/trained.py")).run()
        clean(teacher)
    assert teacher.selectbox(key="tr_pair").value == "challenge"
    assert [m.label for m in teacher.metric] == ["Test accuracy", "Training accuracy"]
    private = ch.private_mask(8)  # the page's accuracy: both halves, from the kept weights
    right = round(done.public * (~private).sum() + done.private * private.sum())
    assert teacher.metric[0].value == f"{right / len(private):.2%}"


def test_any_entry_opens_on_trained_networks_and_a_dropped_one_says_so(db, monkeypatch):
    monkeypatch.setattr(kept, "KEEP", 1)
    teacher, code, _ = open_challenge()
    store = challenge_store()
    for student, name, width in (("a" * 32, "Ada", 8), ("b" * 32, "Bob", 4)):
        design = ch.Design.create("conv_bn_act", 1, width, 3, 1, 1, 8)
        cost = ch.cost(design, 8)
        store.submit(code, student, name, design.to_json(), cost.params, cost.macs)
    designs = _trained(code, 2)
    best = max(designs, key=lambda d: (d.public, -d.params, -d.id))
    other = next(d for d in designs if d.id != best.id)
    assert store.kept_weights(code) == {best.id}
    teacher.run()
    clean(teacher)
    teacher.selectbox(key="ch_entry").select(other.id)
    teacher.button(key="ch_open_entry").click().run()
    assert any("no longer kept" in t for t in said(teacher)), said(teacher)
    teacher.selectbox(key="ch_entry").select(best.id)
    teacher.button(key="ch_open_entry").click().run()
    clean(teacher)
    assert teacher.selectbox(key="tr_pair").value == "challenge"  # on Trained Networks
    titles = [m.value for m in teacher.markdown if m.value.startswith("**")]
    assert any(best.nickname in t for t in titles), titles
    assert [m.label for m in teacher.metric] == ["Prediction"]


def reloaded(code: str, secret: str) -> AppTest:
    """A new session of the challenge page (F5) whose browser keeps `code` and `secret`."""
    at = app_test(timeout=120).run()
    at.session_state[KEEPER] = {"room": {"code": code, "secret": secret}}
    at.switch_page(page_file("pages/challenge.py")).run()
    clean(at)
    return at


def test_a_reload_resumes_the_challenge(db):
    _, code, secret = open_challenge()
    at = reloaded(code, secret)
    assert [b.label for b in at.button if b.key == "ch_resume"] == [f"Resume challenge {code}"]
    assert "ch__teacher" not in at.session_state
    at.button(key="ch_resume").click().run()
    clean(at)
    assert at.session_state["ch__teacher"] == {"code": code, "secret": secret}
    assert any(code in h.proto.body for h in at.get("html"))
    at.button(key="ch_close").click().run()
    clean(at)
    assert not challenge_store().challenge(code).is_open()


@pytest.mark.parametrize("kept_value", ["forged", {"code": "forged"}, None,
                                        {"code": "ZZZZZZ", "secret": "x" * 32}])
def test_a_forged_or_foreign_kept_challenge_offers_nothing(db, kept_value):
    _, code, _ = open_challenge()
    room = kept_value if kept_value is not None else {"code": code, "secret": "forged"}
    at = app_test(timeout=120).run()
    at.session_state[KEEPER] = {"room": room}
    at.switch_page(page_file("pages/challenge.py")).run()
    clean(at)
    assert not [b for b in at.button if b.key == "ch_resume"]
    assert "ch__teacher" not in at.session_state


@pytest.mark.parametrize("text, says", [
    ("[x](http://e.vil) ![i](http://e.vil/i.png)", "must be written name=parts"),
    ("stem=conv_bn_act:out_channels=1000000|head=adaptive_avgpool;flatten;linear",
     "out_channels"),
    ("s=" + ";".join(["conv_bn_act:out_channels=8"] * 17), "1 to 16"),
    ("стем=conv", "Stage name"),
])
def test_a_hostile_network_text_is_a_sentence_and_sends_nothing(db, text, says):
    _, code, _ = open_challenge()
    at = _write(code, "Eve", text)
    assert any(says in t for t in said(at)), said(at)
    assert not any("e.vil" in m.value for m in at.markdown)
    assert not [b for b in at.button if b.key == "ch_send"]
    assert challenge_store().submissions(code) == []

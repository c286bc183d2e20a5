"""The Design challenge page under AppTest, on a real store (a fresh SQLite file): a teacher
opens a challenge, three students design (one over the budget, refused with a sentence and
never sent), the server trains the two others, and the teacher's leaderboard shows them
with the Pareto front and the nicknames as text; a forged secret shows nothing."""
from __future__ import annotations

import json
import time

import pytest
from conftest import app_test, page_file, shown
from streamlit.testing.v1 import AppTest

from cnnviz.store import challenge_store
from cnnviz.topics.challenge_worker import stop_workers
from cnnviz.ui.frame.text import cell_text

PAGE = "pages/challenge.py"
HOSTILE = "<img src=x onerror=f()>"


@pytest.fixture
def db(tmp_path, monkeypatch) -> str:
    url = f"sqlite:///{tmp_path / 'challenge.sqlite3'}"
    monkeypatch.setenv("CNNVIZ_DATABASE_URL", url)
    yield url
    stop_workers()


def page(**query: str) -> AppTest:
    at = app_test(timeout=120, **query).run()
    at.switch_page(page_file(PAGE)).run()
    clean(at)
    return at


def clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def said(at: AppTest) -> list[str]:
    return [shown(e.value) for e in [*at.error, *at.warning, *at.info, *at.success]]


def open_challenge() -> tuple[AppTest, str, str]:
    at = page()
    at.selectbox(key="ch_size").select(8)
    at.number_input(key="ch_max_params").set_value(3000)
    at.number_input(key="ch_max_macs").set_value(200_000)
    at.number_input(key="ch_max_epochs").set_value(2)
    at.button(key="FormSubmitter:ch_open-Open the challenge").click().run()
    clean(at)
    mine = at.session_state["ch__teacher"]
    return at, mine["code"], mine["secret"]


def student(code: str, nickname: str, width: int, block: str = "conv_bn_act") -> AppTest:
    at = page(challenge=code)
    at.selectbox(key="ch_block").select(block).run()
    at.number_input(key="ch_depth").set_value(1)
    at.number_input(key="ch_width").set_value(width)
    at.number_input(key="ch_epochs").set_value(1).run()
    clean(at)
    if _has(at, "ch_nick"):
        at.text_input(key="ch_nick").input(nickname)
        at.button(key="ch_send").click().run()
        clean(at)
    return at


def _has(at: AppTest, key: str) -> bool:
    return any(w.key == key for w in at.text_input)


def test_three_designs_one_over_budget_reach_the_leaderboard(db):
    teacher, code, _ = open_challenge()
    assert any(code in h.proto.body for h in teacher.get("html"))
    ada = student(code, HOSTILE, 8)
    assert any("in the queue" in t for t in said(ada)), said(ada)
    bob = student(code, "Bob", 12, block="dw_separable")
    assert any("in the queue" in t for t in said(bob)), said(bob)
    big = student(code, "Big", 64)  # 64 channels: far over 3,000 parameters
    assert any("parameters; the budget is 3,000" in t for t in said(big)), said(big)
    assert not [b for b in big.button if b.key == "ch_send"]  # nothing to send
    store = challenge_store()
    designs = store.submissions(code)
    assert [d.nickname for d in designs] == [HOSTILE, "Bob"]
    assert all(d.params <= 3000 and d.macs <= 200_000 for d in designs)
    deadline = time.monotonic() + 120
    while any(d.active for d in store.submissions(code)) and time.monotonic() < deadline:
        time.sleep(0.5)  # the page's own workers train them
    designs = store.submissions(code)
    assert [d.status for d in designs] == ["done", "done"], designs
    teacher.run()
    clean(teacher)
    assert any("2 trained" in m.value for m in teacher.markdown)
    charts = [json.loads(c.proto.spec) for c in teacher.get("plotly_chart")]
    assert len(charts) == 2
    texts = [t for chart in charts for trace in chart["data"] for t in trace.get("text", [])]
    assert "&lt;img src=x onerror=f()&gt;" in texts and HOSTILE not in texts
    assert any("Pareto front" == trace.get("name") for trace in charts[0]["data"])
    top = teacher.table[0].value
    assert set(top["nickname"]) == {cell_text(HOSTILE), "Bob"}  # escaped: shown as text
    assert "private accuracy" not in top.columns
    teacher.button(key="ch_reveal").click().run()
    clean(teacher)
    assert "private accuracy" in teacher.table[0].value.columns
    ada.run()  # the student sees their own result, and no send while closed
    clean(ada)
    assert any("closed" in t for t in said(ada))
    assert any("Your last design is trained" in t for t in said(ada))
    assert ada.table[0].value["status"].tolist() == ["finished"]


def test_a_forged_secret_shows_no_leaderboard(db):
    _, code, _ = open_challenge()
    at = page()
    at.session_state["ch__teacher"] = {"code": code, "secret": "forged"}
    at.run()
    clean(at)
    assert any("Only the teacher who opened this challenge" in t for t in said(at))
    assert not at.get("plotly_chart") and not [b for b in at.button if b.key == "ch_reveal"]


@pytest.mark.parametrize("code, says", [("ZZZZZZ", "No challenge has the code ZZZZZZ"),
                                        ("[x](http://e.vil)", "6 letters and digits")])
def test_a_wrong_code_is_a_sentence(db, code, says):
    at = page(challenge=code)
    assert any(says in t for t in said(at)), said(at)
    assert not any("e.vil" in m.value for m in at.markdown)

"""Numbers at the edges of float64 in answers (issue 29 §1): one rule accepts or refuses
them (cnnviz.core.numbers), the store applies it, and the reveal's histogram draws only
what it accepts, whatever the database holds."""
from __future__ import annotations

import math

import numpy as np
import pytest
from sqlalchemy import insert

from cnnviz.core.numbers import MAX_ANSWER, TooLarge, checked_number, parse_number
from cnnviz.render import room_charts as charts
from cnnviz.store import RoomError, RoomStore
from cnnviz.store.rooms import ANSWERS

DENORMAL = 5e-324
ACCEPTED = [0.0, -0.0, 3, 2.5, DENORMAL, -DENORMAL, 2.2250738585072014e-308, MAX_ANSWER,
            -MAX_ANSWER, 10**15]
REFUSED = [1e308, -1e308, 1.7976931348623157e308, MAX_ANSWER * 1.0000001, math.inf,
           -math.inf, math.nan, 10**400, True, "3", None, [1]]


@pytest.mark.parametrize("value", ACCEPTED)
def test_the_rule_accepts_finite_numbers_within_its_bound(value):
    assert checked_number(value) == value


@pytest.mark.parametrize("value", REFUSED)
def test_the_rule_refuses_the_rest_with_a_sentence(value):
    with pytest.raises(ValueError, match=r"^The answer (must be|is too large)"):
        checked_number(value)


def test_typed_numbers_follow_the_same_rule():
    assert parse_number("1,000_000") == 1e6 and parse_number("5e-324") == DENORMAL
    with pytest.raises(TooLarge):
        parse_number("1e308")
    for text in ("nan", "-inf", "1e999", "three", ""):
        with pytest.raises(ValueError):
            parse_number(text)


@pytest.fixture
def rooms(tmp_path):
    store = RoomStore(f"sqlite:///{tmp_path / 'rooms.sqlite3'}")
    yield store
    store.engine.dispose()


STUDENTS = [f"{i:032x}" for i in range(len(ACCEPTED) + len(REFUSED))]


def test_the_store_keeps_exactly_what_the_rule_accepts(rooms):
    room, _ = rooms.open_room("output_size", 1)
    for student, value in zip(STUDENTS, ACCEPTED):
        rooms.submit(room.code, student, number=value)
    for student, value in zip(STUDENTS[len(ACCEPTED):], REFUSED):
        if value is None:
            continue
        with pytest.raises(RoomError):
            rooms.submit(room.code, student, number=value)
    kept = sorted(a.value for a in rooms.answers(room.code))
    assert kept == sorted(float(v) for v in ACCEPTED)


def bar_xs(fig) -> np.ndarray:
    return np.asarray(fig.data[0].x, dtype=float)


@pytest.mark.parametrize("guesses", [
    [1e308, -1e308],                         # once crashed the teacher's reveal
    [1e308, -1e308, 3.0, DENORMAL],
    [MAX_ANSWER, -MAX_ANSWER, 3.0],          # the widest span the rule allows
    [DENORMAL, -DENORMAL, 0.0],
    [math.nan, math.inf, -math.inf, 2.0],
    [],
])
def test_the_histogram_draws_what_the_rule_accepts(guesses):
    fig = charts.fig_numbers(guesses, 3.0, 2.5, 3.5, "round 1")
    xs, counts = bar_xs(fig), np.asarray(fig.data[0].y)
    assert np.isfinite(xs).all() and np.all(np.diff(xs) > 0)
    assert counts.sum() == sum(map(lambda g: math.isfinite(g) and abs(g) <= MAX_ANSWER,
                                   guesses))
    fig.to_json()  # what is sent to the browser serialises


def test_an_answer_beyond_the_rule_still_draws():
    """The computed answer is not typed and not bound by the rule: the bins' edges are
    never its difference from a guess, which overflows."""
    fig = charts.fig_numbers([-MAX_ANSWER, 1.0], 1.7e308, 1.6e308, 1.7e308, "round 1")
    assert np.isfinite(bar_xs(fig)).all() and sum(fig.data[0].y) == 2


def test_rows_from_before_the_rule_are_left_out_of_the_reveal(rooms):
    """A database written before the rule may hold 1e308: the reveal draws without it."""
    room, _ = rooms.open_room("output_size", 1)
    with rooms.engine.begin() as c:
        for student, value in ((STUDENTS[0], 1e308), (STUDENTS[1], -1e308)):
            c.execute(insert(ANSWERS).values(code=room.code, step=1, round=1,
                                             student=student, number=value, choice=None,
                                             at=0.0))
    rooms.submit(room.code, STUDENTS[2], number=3)
    guesses = [a.value for a in rooms.answers(room.code)]
    fig = charts.fig_numbers(guesses, 3.0, 2.5, 3.5, "round 1")
    assert sum(fig.data[0].y) == 1 and np.isfinite(bar_xs(fig)).all()


def typed_script(text: str):
    import streamlit as st

    from cnnviz.ui.frame.widgets import number_or_warn
    st.caption(repr(number_or_warn(text)))


@pytest.mark.parametrize("text, value, says", [
    ("1e308", None, "is too large: an answer is at most 1e15"),
    ("-1e308", None, "is too large"), ("1e999", None, "is not a number"),
    ("nan", None, "is not a number"), ("5e-324", DENORMAL, None), ("1,000", 1000.0, None)])
def test_a_typed_answer_is_warned_about_by_the_same_rule(text, value, says):
    from streamlit.testing.v1 import AppTest
    at = AppTest.from_function(typed_script, args=(text,), default_timeout=30).run()
    assert not at.exception and at.caption[0].value == repr(value)
    assert [says in w.value for w in at.warning] == ([True] if says else [])

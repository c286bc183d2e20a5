"""What the projector shows of a room's answers: each round's guesses, hidden until the
teacher chooses, then against the computed answer; the share right per round, the
switches between the rounds, the suggested next move and the question's gain.

Grading is cnnviz.lessons.results's (the rule a student's own guess meets on the page),
the numbers cnnviz.topics.gains's. Sources, named where their numbers are shown:
Crouch & Mazur 2001 (Am. J. Phys. 69(9), 970–977) for the rounds, the switches and the
next move; Smith et al. 2009 (Science 323, 122–124) for the twin; Hake 1998 (Am. J.
Phys. 66(1), 64–74) for the normalized gain.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import plotly.graph_objects as go

from dataclasses import replace

import streamlit as st

from cnnviz.core.errors import InputError
from cnnviz.core.numbers import is_accepted
from cnnviz.lessons import Lesson, Question, Step, answer, band
from cnnviz.lessons.results import QuestionResult, question_results
from cnnviz.lessons.results import round_name as results_round
from cnnviz.lessons.twins import draw_key, twin_step
from cnnviz.render import room_charts as charts
from cnnviz.store import Answer, Room, RoomStore
from cnnviz.topics.gains import EXPLAIN_BELOW, MOVE_ON_ABOVE, Move, confident_wrong
from cnnviz.ui.analysis.lab import CachedLab
from cnnviz.ui.frame.text import safe_text
from cnnviz.ui.frame.widgets import show_error

TITLES = {"round 1": "Round 1", "round 2": "Round 2", "twin": "Twin"}
CHART_HEIGHT = 260  # the rounds side by side stay within a 720 px projector
HAKE = ("Hake's normalized gain (Hake 1998): g = (post − pre) / (100 − pre), the share of "
        "what could be gained that was gained; here pre is round 1 and post the twin, "
        "both answered alone.")

__all__ = ["answers_text", "guesses", "hidden", "revealed", "step_result", "suggestion"]


def answers_text(n: int) -> str:
    return f"{n} answer{'' if n == 1 else 's'}"


def round_name(a: Answer) -> str | None:
    """Which of the question's rounds an answer belongs to (results.ROUNDS)."""
    return results_round(a)


def guesses(question: Question, answers: list[Answer]) -> list[float | str]:
    """The answers a chart draws: a number the answer rule accepts, or a choice (the
    question's kind only: an older database may hold the other)."""
    if question.kind == "number":
        return [float(a.number) for a in answers
                if a.number is not None and is_accepted(a.number)]
    return [a.choice for a in answers if a.choice is not None]


def _figure(question: Question, values: list, truth: float | str | None, title: str,
            height: int = CHART_HEIGHT) -> go.Figure:
    if question.kind == "choice":
        return charts.fig_choices([str(v) for v in values],
                                  [o.label for o in question.options],
                                  None if truth is None else str(truth), title, height)
    if truth is None:
        return charts.fig_numbers([float(v) for v in values], None, 0.0, 0.0, title, height)
    low, high = band(question, float(truth))
    return charts.fig_numbers([float(v) for v in values], float(truth), low, high, title,
                              height)


def hidden(rooms: RoomStore, room: Room, asked: Step, key: str) -> None:
    """The current round's guesses with nothing marked (the answer not revealed)."""
    question = asked.question
    assert question is not None
    values = guesses(question, rooms.answers(room.code, room.step, room.round,
                                             lesson=room.lesson))
    title = f"{'The twin' if room.twin else f'Round {room.round}'}: {answers_text(len(values))}"
    st.plotly_chart(_figure(question, values, None, title), width="stretch", key=key,
                    config={"displayModeBar": False})
    _common(values)


def _common(values: list) -> None:
    """The five most common answers, as typed: a typo stays readable here even when the
    chart counts it under *other*."""
    top = charts.common(values)
    if top:
        st.caption("Most common: " + ", ".join(
            f"{safe_text(v)} (×{n})" for v, n in top))


def _shares(question: Question, values: list, truth: float | str) -> None:
    """Right, close and off, of a number question's answers (charts.Shares)."""
    if question.kind != "number" or not values:
        return
    low, high = band(question, float(truth))
    st.caption(charts.shares([float(v) for v in values], float(truth), low, high).text()
               + " (close: off by at most 1, a tenth of the answer or the band's width)")


def step_result(lesson: Lesson, step: Step, answers: list[Answer], device: str,
                key: str = "") -> QuestionResult | None:
    """The class's numbers for this step's question (None: no graded answer yet); `key`:
    the room's draw_key (a drawn twin is the room's)."""
    found = question_results(replace(lesson, steps=(step,)),
                             [a for a in answers if a.step == step.number], CachedLab(device),
                             key)
    return found[0] if found else None


def suggestion(result: QuestionResult | None, show: bool) -> None:
    """After round 1: the next move Crouch & Mazur 2001 suggest from its share right; the
    share itself only when the teacher shows the answers."""
    if result is None or result.suggestion.move == Move.WAIT:
        st.info("**Suggested next move**: none yet, no answers in round 1.", icon="💡")
        return
    text = result.suggestion.text if show else \
        f"{result.suggestion.move.value[0].upper()}{result.suggestion.move.value[1:]}."
    st.info(f"**Suggested next move** (a suggestion: you decide). {text}", icon="💡")
    st.caption(f"From round 1's share right: discussion helps most when {EXPLAIN_BELOW:.0f}"
               f"–{MOVE_ON_ABOVE:.0f}% are right alone (Crouch & Mazur 2001); below "
               f"{EXPLAIN_BELOW:.0f}%, explain again; above {MOVE_ON_ABOVE:.0f}%, explain "
               f"briefly and move on."
               + ("" if show else " The share stays hidden until you show the answers."))


def _share_line(result: QuestionResult | None, name: str) -> str:
    votes = result.votes[name] if result is not None else []
    if not votes:
        return "no graded answers"
    right = sum(v.right for v in votes)
    line = f"**{right / len(votes):.0%} right** ({right} of {len(votes)})"
    sure_wrong = confident_wrong(votes)
    if sure_wrong:
        line += f"; {sure_wrong} sure and wrong"
    return line


def revealed(rooms: RoomStore, room: Room, lesson: Lesson, step: Step, device: str) -> None:
    """The revealed question: each round (and the twin, once revealed) side by side with
    the computed answer marked, the share right per round, the switches and the gain."""
    question = step.question
    assert question is not None
    key = draw_key(room.code, room.lesson)
    try:
        twin = twin_step(step, key, CachedLab(device)) if room.twin else None
        truth = answer(question, step.state, CachedLab(device))
        twin_truth = answer(twin.question, twin.state, CachedLab(device)) \
            if twin is not None and twin.question is not None else None
    except InputError as e:
        show_error(e)
        return
    answers = rooms.answers(room.code, room.step, lesson=room.lesson)
    result = step_result(lesson, step, answers, device, key)
    names = ["round 1"] + (["round 2"] if any(round_name(a) == "round 2" for a in answers)
                           or room.round == 2 and not room.twin else [])
    if twin_truth is not None and room.phase.revealed:
        names.append("twin")
    for name, column in zip(names, st.columns(len(names))):
        asked, truth_here = (twin.question, twin_truth) if name == "twin" and twin \
            else (question, truth)
        assert asked is not None and truth_here is not None
        values = guesses(asked, [a for a in answers if round_name(a) == name])
        with column:  # the share first: on a 720 px projector it stays in view
            st.markdown(_share_line(result, name))
            st.plotly_chart(_figure(asked, values, truth_here.value,
                                    f"{TITLES[name]}: {answers_text(len(values))}"),
                            width="stretch", key=f"room_chart_{name.replace(' ', '_')}",
                            config={"displayModeBar": False})
            _shares(asked, values, truth_here.value)
            _common(values)
    st.markdown(f"The answer is **{truth.text()}**." + (
        f" The twin's answer is **{twin_truth.text()}**."
        if twin_truth is not None and "twin" in names else ""))
    if "round 2" in names and result is not None:
        _switches(result)
    if "twin" in names and result is not None:
        gain = result.gain
        pre, post = result.share("round 1"), result.share("twin")
        st.markdown(f"**Gain g = {gain.text()}** from round 1"
                    + (f" ({pre:.0f}% right)" if pre is not None else "") + " to the twin"
                    + (f" ({post:.0f}% right)" if post is not None else "") + ".")
        st.caption(HAKE)


def _switches(result: QuestionResult) -> None:
    s = result.switches
    st.markdown("| | right in round 2 | wrong in round 2 |\n|---|---:|---:|\n"
                f"| **right in round 1** | {s.right_to_right} | {s.right_to_wrong} |\n"
                f"| **wrong in round 1** | {s.wrong_to_right} | {s.wrong_to_wrong} |")
    st.caption(f"Switches of the {s.both} student{'' if s.both == 1 else 's'} who voted "
               f"in both rounds: "
               f"{s.wrong_to_right} wrong → right, {s.right_to_wrong} right → wrong "
               f"(counted as Crouch & Mazur 2001 count them).")

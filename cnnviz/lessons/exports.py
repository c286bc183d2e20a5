"""A room's answers and report as files: the rows of `cnnviz rooms export` and `cnnviz rooms
report`, every cell through the CSV rule of cnnviz.core.csv_cells.

One place for both doors: the command line prints these rows, and the teacher's projector
page offers the same text as downloads (behind the room's secret). A room may follow the
teacher across lessons, so every row names its lesson; each answer is graded against its
own lesson's computed answer (cnnviz.lessons.results).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from cnnviz.core.csv_cells import csv_text
from cnnviz.lessons.answers import Lab
from cnnviz.lessons.catalog import load_lesson
from cnnviz.lessons.grading import number_text
from cnnviz.lessons.model import Lesson, LessonError
from cnnviz.lessons.results import (
    PrePostGain,
    QuestionResult,
    graded,
    prepost_gain,
    question_results,
    truths,
)
from cnnviz.lessons.twins import draw_key
from cnnviz.store.rooms import Answer, Room

EXPORT_FIELDS = ("lesson", "step", "round", "twin", "post-test", "student", "answer",
                 "confidence", "time", "computed", "right")
TEST_FIELDS = ("test pre %", "test post %", "test class gain", "test students",
               "test mean student gain", "test sd student gain")
REPORT_FIELDS = ("lesson", "step", "ask", "answer", "twin answer",
                 *(f"{n} {what}" for n in ("round 1", "round 2", "twin", "post-test")
                   for what in ("answers", "right %", "confident wrong")),
                 "wrong to right", "right to wrong", "right to right", "wrong to wrong",
                 "gain", "next move", "pre/post test", *TEST_FIELDS)

__all__ = ["EXPORT_FIELDS", "REPORT_FIELDS", "export_csv",
           "export_rows", "lesson_results", "prepost_gains", "report_csv", "report_json",
           "report_row", "when"]


def when(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _by_lesson(room: Room, answers: Sequence[Answer]) -> dict[str, list[Answer]]:
    """The answers per lesson, in the order the room met its lessons (an answer stored
    before answers named their lesson counts as the room's)."""
    out: dict[str, list[Answer]] = {}
    for a in answers:
        out.setdefault(a.lesson or room.lesson, []).append(a)
    return out


def _answered(name: str, given: Sequence[Answer]) -> Lesson:
    """The lesson `name` with only the steps the answers answer: only their answers are
    computed (LookupError, LessonError when it cannot be loaded)."""
    lesson = load_lesson(name)
    steps = {a.step for a in given}
    return replace(lesson, steps=tuple(s for s in lesson.steps if s.number in steps))


def export_rows(room: Room, answers: Sequence[Answer], lab: Lab | None = None
                ) -> list[dict[str, Any]]:
    """Every answer of a room with the answer cnnviz computes for its question and whether
    it is right (`cnnviz rooms export`)."""
    rows: list[dict[str, Any]] = []
    for name, given in _by_lesson(room, answers).items():
        try:
            known = truths(_answered(name, given), lab, draw_key(room.code, name))
        except (LookupError, LessonError):
            known = {}
        for a in given:
            truth = known.get(a.step)
            pair = truth.of(a.twin) if truth is not None else None
            right = graded(truth, a)
            shown = number_text(a.number) if a.number is not None else a.choice
            rows.append({"lesson": name, "step": a.step, "round": a.round,
                         "twin": str(a.twin).lower(), "post-test": str(a.post).lower(),
                         "student": a.student, "answer": shown,
                         "confidence": a.confidence or "", "time": when(a.at),
                         "computed": pair[1].text() if pair else "",
                         "right": "" if right is None else str(right).lower()})
    return rows


def lesson_results(room: Room, answers: Sequence[Answer], lab: Lab | None = None
                   ) -> list[tuple[str, QuestionResult]]:
    """Per question the room answered, lesson by lesson: its lesson's name and the class's
    numbers. A lesson this cnnviz cannot load is left out (its answers cannot be graded)."""
    out: list[tuple[str, QuestionResult]] = []
    for name, given in _by_lesson(room, answers).items():
        try:
            lesson = _answered(name, given)
        except (LookupError, LessonError):
            continue
        out += [(name, r) for r in question_results(lesson, given, lab,
                                                    draw_key(room.code, name))]
    return out


def prepost_gains(results: Sequence[tuple[str, QuestionResult]]) -> list[PrePostGain]:
    """The class's gain on each pre/post test the room asked, lesson by lesson (in the
    order of `results`, lesson_results's)."""
    out = []
    for name in dict.fromkeys(name for name, _ in results):
        try:
            lesson = load_lesson(name)
        except (LookupError, LessonError):
            continue
        gain = prepost_gain(lesson, [r for n, r in results if n == name])
        if gain is not None:
            out.append(gain)
    return out


def report_json(room: Room, results: Sequence[tuple[str, QuestionResult]]) -> dict[str, Any]:
    return {"code": room.code, "lesson": room.lesson, "phase": room.phase.text(),
            "step": room.step,
            "questions": [{"lesson": name} | r.to_json() for name, r in results],
            "pre_post": [g.to_json() for g in prepost_gains(results)]}


def report_row(q: dict[str, Any], test: PrePostGain | None = None) -> dict[str, Any]:
    """One question of the report as a CSV row (`q`: QuestionResult.to_json, with its
    lesson); a question of a pre/post test carries the test's class gain (`test`), the
    same on each of its questions' rows."""
    row: dict[str, Any] = {"lesson": q.get("lesson", ""), "step": q["step"], "ask": q["ask"],
                           "answer": q["answer"], "twin answer": q["twin_answer"] or ""}
    for name, r in q["rounds"].items():
        row |= {f"{name} answers": r["answers"], f"{name} right %": _round(r["share_right"]),
                f"{name} confident wrong": r["confident_wrong"]}
    row |= {k.replace("_", " "): v for k, v in q["switches"].items()}
    row |= {"gain": "" if q["gain"] is None else round(q["gain"], 3),
            "next move": q["next_move"], "pre/post test": "yes" if q.get("test") else ""}
    g = test.gain if test is not None and q.get("test") else None
    if g is not None:
        row |= dict(zip(TEST_FIELDS, (_round(g.pre), _round(g.post), _three(g.average.value),
                                      g.students, _three(g.mean), _three(g.sd))))
    return row


def report_csv(results: Sequence[tuple[str, QuestionResult]]) -> str:
    """The report's rows as CSV text (`cnnviz rooms report CODE --csv`)."""
    tests = {g.lesson: g for g in prepost_gains(results)}
    return csv_text(REPORT_FIELDS, (report_row({"lesson": name} | r.to_json(),
                                               tests.get(name)) for name, r in results))


def export_csv(rows: Sequence[dict[str, Any]]) -> str:
    """The answers as CSV text (`cnnviz rooms export CODE --csv`)."""
    return csv_text(EXPORT_FIELDS, rows)


def _round(share: float | None) -> float | str:
    return "" if share is None else round(share, 1)


def _three(value: float | None) -> float | str:
    return "" if value is None else round(value, 3)

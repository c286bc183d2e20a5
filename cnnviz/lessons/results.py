"""A room's results: each answer graded against its lesson's computed answer, and the class's
numbers per question (cnnviz.topics.gains) for the teacher's report.

Grading is cnnviz.lessons.grading's, the rule a student's own guess meets on the page: a
number within the question's tolerance, a choice that is the right option. A twin's answer
is graded against the twin's computed answer (cnnviz.lessons.twins). A number the answer
rule refuses (cnnviz.core.numbers: only an older database can hold one) is left out, as
the charts leave it out.

Rounds: round 1 is each student alone, round 2 after discussion, the twin the answers
marked as the twin's. The pre/post test of a room is its questions whose twin was asked:
round 1 is the pre-test, the twins the post-test (Smith et al. 2009, Science 323, 122–124,
ask the twin after the revote; Hake 1998, Am. J. Phys. 66(1), 64–74, for ⟨g⟩).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cnnviz.core.errors import InputError
from cnnviz.core.numbers import is_accepted
from cnnviz.lessons.answers import Lab
from cnnviz.lessons.grading import Answer, answer, grade
from cnnviz.lessons.model import Lesson, Question, Step
from cnnviz.lessons.twins import twin_step
from cnnviz.store.rooms import Answer as Stored
from cnnviz.topics.gains import (
    ClassGain,
    Gain,
    Suggestion,
    Switches,
    Vote,
    class_gain,
    confident_wrong,
    next_move,
    normalized_gain,
    scores,
    share_right,
    switches,
)

ROUNDS = ("round 1", "round 2", "twin")


@dataclass(frozen=True)
class Truth:
    """A step's question and its computed answer, and its twin's (None: no twin)."""

    question: Question
    answer: Answer
    twin: tuple[Question, Answer] | None

    def of(self, twin: bool) -> tuple[Question, Answer] | None:
        return self.twin if twin else (self.question, self.answer)


def truths(lesson: Lesson, lab: Lab | None = None) -> dict[int, Truth]:
    """Each question's computed answer (and its twin's) by step number; a question cnnviz
    cannot answer is left out (the lesson checker names it)."""
    out: dict[int, Truth] = {}
    for step in lesson.steps:
        if step.question is None:
            continue
        try:
            result = answer(step.question, step.state, lab)
        except InputError:
            continue
        out[step.number] = Truth(step.question, result, _twin(step, lab))
    return out


def _twin(step: Step, lab: Lab | None) -> tuple[Question, Answer] | None:
    twin = twin_step(step)
    if twin is None or twin.question is None:
        return None
    try:
        return twin.question, answer(twin.question, twin.state, lab)
    except InputError:
        return None


def graded(truth: Truth | None, a: Stored) -> bool | None:
    """Whether a stored answer is right; None when it cannot be graded: no computed answer
    for its step or its twin, a number the answer rule refuses, or an answer of the other
    kind (a choice to a number question, as only an older database can hold)."""
    pair = truth.of(a.twin) if truth is not None else None
    if pair is None or (a.number is not None and not is_accepted(a.number)):
        return None
    question, result = pair
    if (a.choice is None) != (question.kind == "number"):
        return None
    return grade(question, result, a.value).right


@dataclass(frozen=True)
class QuestionResult:
    """The class's numbers for one question of a room."""

    step: int
    ask: str
    answer: str
    twin_answer: str | None
    votes: dict[str, list[Vote]]   # ROUNDS -> the graded votes of that round
    switches: Switches             # round 1 -> round 2
    gain: Gain                     # Hake's g from round 1 to the twin
    suggestion: Suggestion         # the next move after round 1 (Crouch & Mazur 2001)

    def share(self, name: str) -> float | None:
        return share_right(self.votes[name])

    def to_json(self) -> dict[str, Any]:
        return {"step": self.step, "ask": self.ask, "answer": self.answer,
                "twin_answer": self.twin_answer,
                "rounds": {name: {"answers": len(v), "right": sum(x.right for x in v),
                                  "share_right": share_right(v),
                                  "confident_wrong": confident_wrong(v)}
                           for name, v in self.votes.items()},
                "switches": self.switches.to_json(), "gain": self.gain.value,
                "gain_text": self.gain.text(), "next_move": self.suggestion.move.value,
                "next_move_text": self.suggestion.text}


def question_results(lesson: Lesson, answers: Sequence[Stored], lab: Lab | None = None
                     ) -> list[QuestionResult]:
    """Per question the room answered (in step order): its rounds' graded votes, the
    switches, the gain and the suggested next move."""
    known = truths(lesson, lab)
    by_step: dict[int, dict[str, list[Vote]]] = {}
    for a in answers:
        name = "twin" if a.twin else {1: "round 1", 2: "round 2"}.get(a.round)
        right = graded(known.get(a.step), a)
        if name is None or right is None:
            continue
        rounds = by_step.setdefault(a.step, {n: [] for n in ROUNDS})
        rounds[name].append(Vote(a.student, right, a.confidence))
    out = []
    for number in sorted(by_step):
        votes, truth = by_step[number], known[number]
        out.append(QuestionResult(
            number, truth.question.ask, truth.answer.text(),
            truth.twin[1].text() if truth.twin else None, votes,
            switches(votes["round 1"], votes["round 2"]),
            normalized_gain(share_right(votes["round 1"]), share_right(votes["twin"])),
            next_move(share_right(votes["round 1"]))))
    return out


def pre_post_gain(results: Sequence[QuestionResult]) -> ClassGain | None:
    """The room as a pre/post test: over the questions whose twin was answered, round 1
    is the pre-test and the twins the post-test; Hake's ⟨g⟩ and the students' spread
    (cnnviz.topics.gains.class_gain). None when no twin was answered."""
    tested = [r for r in results if r.votes["twin"]]
    if not tested:
        return None
    return class_gain(scores([r.votes["round 1"] for r in tested]),
                      scores([r.votes["twin"] for r in tested]))

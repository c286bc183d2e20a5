"""A room's results: each answer graded against its lesson's computed answer, and the class's
numbers per question (cnnviz.topics.gains) for the teacher's report.

Grading is cnnviz.lessons.grading's, the rule a student's own guess meets on the page: a
number within the question's tolerance, a choice that is the right option. A twin's answer
is graded against the twin's computed answer (cnnviz.lessons.twins). A number the answer
rule refuses (cnnviz.core.numbers: only an older database can hold one) is left out, as
the charts leave it out.

Rounds: round 1 is each student alone, round 2 after discussion, the twin the answers
marked as the twin's in class (Smith et al. 2009, Science 323, 122–124, ask the twin after
the revote), and the post-test the twin's answers at the end of a lesson run as a pre/post
test (cnnviz.lessons.prepost). A question's g goes from round 1 to its twin; a pre/post
test's ⟨g⟩ goes from the test's round 1 (the pre-test) to its post-test (Hake 1998, Am. J.
Phys. 66(1), 64–74), never from ordinary questions. A drawn twin is the one the room drew
(cnnviz.lessons.twins.draw_key): `key` names the room.
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

ROUNDS = ("round 1", "round 2", "twin", "post-test")


@dataclass(frozen=True)
class Truth:
    """A step's question and its computed answer, and its twin's (None: no twin)."""

    question: Question
    answer: Answer
    twin: tuple[Question, Answer] | None

    def of(self, twin: bool) -> tuple[Question, Answer] | None:
        return self.twin if twin else (self.question, self.answer)


def truths(lesson: Lesson, lab: Lab | None = None, key: str = "") -> dict[int, Truth]:
    """Each question's computed answer (and its twin's, as the room `key` draws it) by step
    number; a question cnnviz cannot answer is left out (the lesson checker names it)."""
    out: dict[int, Truth] = {}
    for step in lesson.steps:
        if step.question is None:
            continue
        try:
            result = answer(step.question, step.state, lab)
        except InputError:
            continue
        out[step.number] = Truth(step.question, result, _twin(step, lab, key))
    return out


def _twin(step: Step, lab: Lab | None, key: str) -> tuple[Question, Answer] | None:
    try:
        twin = twin_step(step, key, lab)
        if twin is None or twin.question is None:
            return None
        return twin.question, answer(twin.question, twin.state, lab)
    except InputError:
        return None


def round_name(a: Stored) -> str | None:
    """Which of ROUNDS an answer belongs to (None: a round no question has)."""
    if a.twin:
        return "post-test" if a.post else "twin"
    return {1: "round 1", 2: "round 2"}.get(a.round)


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
    test: bool = False             # one of its lesson's pre/post test questions

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
                "next_move_text": self.suggestion.text, "test": self.test}


def question_results(lesson: Lesson, answers: Sequence[Stored], lab: Lab | None = None,
                     key: str = "") -> list[QuestionResult]:
    """Per question the room answered (in step order): its rounds' graded votes, the
    switches, the gain and the suggested next move. `key`: the room's draw_key."""
    known = truths(lesson, lab, key)
    tested = lesson.test.questions if lesson.test else ()
    by_step: dict[int, dict[str, list[Vote]]] = {}
    for a in answers:
        name = round_name(a)
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
            next_move(share_right(votes["round 1"])), number in tested))
    return out


@dataclass(frozen=True)
class PrePostGain:
    """A lesson's pre/post test in a room: its questions and the class's gain."""

    lesson: str
    questions: tuple[int, ...]
    gain: ClassGain

    def to_json(self) -> dict[str, Any]:
        return {"lesson": self.lesson, "questions": list(self.questions)} | self.gain.to_json()


def prepost_gain(lesson: Lesson, results: Sequence[QuestionResult]) -> PrePostGain | None:
    """The class's gain on `lesson`'s pre/post test: each student's score in percent over
    the test's questions, on the pre-test (round 1) and on the post-test (the twins), a
    question they did not answer counted wrong; Hake's ⟨g⟩ from the two class averages
    and the spread of the students' own g (cnnviz.topics.gains.class_gain). None when the
    lesson has no test or nobody answered it."""
    if lesson.test is None:
        return None
    by_step = {r.step: r for r in results}
    pairs = [(by_step[n].votes["round 1"], by_step[n].votes["post-test"])
             if n in by_step else ([], []) for n in lesson.test.questions]
    if not any(pre or post for pre, post in pairs):
        return None
    return PrePostGain(lesson.name, lesson.test.questions,
                    class_gain(scores([pre for pre, _ in pairs]),
                               scores([post for _, post in pairs])))

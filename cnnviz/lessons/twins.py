"""Isomorphic twins: a question asked again with other numbers, computed by cnnviz.

Smith et al. 2009 (Science 323, 122–124) follow a peer-instruction question with an
isomorphic one, answered alone before any answer is shown, to tell what the class learned
from what it copied (cnnviz's room asks the twin after the reveal).
cnnviz computes every answer from a real module, so a lesson declares a twin as what it
changes, like a choice's option:

    [steps.question.twin]
    input = [3, 9, 9]               # the stack's fields: block, params, depth, input...
    params = { stride = 3 }
    ask = "..."                     # optional: the twin's own words (else the question's)

The twin inherits the step's stack and controls, and its answer is the same quantity
computed on its state with the machinery of the original (cnnviz.lessons.grading.answer)
and graded by the same rule. `cnnviz lesson check` refuses a twin that changes nothing or
has the original's answer, and keeps the question rules on the twin's words.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from cnnviz.lessons.answers import Lab
from cnnviz.lessons.grading import Answer, answer
from cnnviz.lessons.model import Lesson, Problem, Question, Step, StepState, Twin
from cnnviz.lessons.reader import Reader
from cnnviz.lessons.rules import giveaways, tolerance_problems

TWIN_FIELDS = ("ask", "controls", "args", "block", "params", "depth", "input", "batch",
               "seed")


def read_twin(r: Reader, raw: Any, kind: Any, state: StepState | None, args: Mapping,
              read_state: Callable[[Mapping, str], StepState | None],
              read_args: Callable[[Mapping, str], dict], where: str) -> Twin | None:
    """The twin declared by `raw` on a question of `kind` whose step has `state` and whose
    quantity gets `args` (all of them); None with a problem when it is not one.
    `read_state` and `read_args` are the schema's readers for an option's state and
    arguments (a twin is read like one)."""
    if not isinstance(raw, dict):
        r.problem(where, "must be a table ([steps.question.twin]) of what the twin changes.")
        return None
    if kind != "number":
        r.problem(where, "a twin is declared for number questions only (each option of a "
                  "choice would need a twin of its own).")
        return None
    before = len(r.problems)
    r.unknown(raw, TWIN_FIELDS, where)
    ask = r.text(raw, "ask", where, required=False)
    twin_state = read_state(raw, where)
    twin_args = {**args, **read_args(r.table(raw, "args", where), where)}
    if twin_state is None or len(r.problems) > before:
        return None
    if state is not None and twin_state == state and twin_args == dict(args):
        r.problem(where, "the twin changes nothing; give it other numbers (e.g. another "
                  "input, kernel or stride).")
        return None
    return Twin(twin_state, tuple(twin_args.items()), ask)


def twin_question(question: Question) -> Question | None:
    """The twin as a question of its own (its arguments and words, no twin), or None."""
    twin = question.twin
    if twin is None:
        return None
    return replace(question, args=twin.args, ask=twin.ask or question.ask, twin=None)


def twin_step(step: Step) -> Step | None:
    """The step as the twin asks it: its state and question the twin's; None when the
    step's question has no twin. Its answer is grading.answer(q, s.state) as for any
    step, and the question rules (cnnviz.lessons.rules) apply to it unchanged."""
    q = step.question
    twin = twin_question(q) if q is not None else None
    if twin is None or q is None or q.twin is None:
        return None
    return replace(step, state=q.twin.state, question=twin)


def twin_answer(step: Step, lab: Lab | None = None) -> Answer | None:
    """The twin's computed answer (None when the step's question has none); InputError
    when cnnviz cannot answer it, as for any question."""
    twin = twin_step(step)
    if twin is None or twin.question is None:
        return None
    return answer(twin.question, twin.state, lab)


def twin_problems(lesson: Lesson, answers: Mapping[int, Answer], lab: Lab | None = None
                  ) -> tuple[dict[int, Answer], list[Problem]]:
    """Each twin's answer by step number, and what is wrong with the twins: one cnnviz
    cannot answer, one whose answer is the question's (it would test nothing new), and
    the question rules (giveaways, tolerances) on the twin's words and answer.
    `answers` are the questions' own answers by step number."""
    found: dict[int, Answer] = {}
    problems: list[Problem] = []
    for step in lesson.steps:
        twin = twin_step(step)
        if twin is None:
            continue
        where = f"step {step.number}, question, twin"
        try:
            result = answer(twin.question, twin.state, lab) if twin.question else None
        except ValueError as e:  # InputError: the sentence says why
            problems.append(Problem(lesson.file, where, f"cnnviz cannot answer it: {e}"))
            continue
        if result is None:
            continue
        found[step.number] = result
        original = answers.get(step.number)
        if original is not None and original.value == result.value:
            problems.append(Problem(lesson.file, where, f"its answer is the question's "
                                    f"({result.text()}): a twin asks for other numbers."))
        for p in giveaways(lesson, twin, result) + tolerance_problems(lesson, twin, result):
            problems.append(Problem(p.file, f"{p.where} (the twin)", p.what))
    return found, problems

"""A lesson run as a pre/post test: its `[test]` table, read and checked.

    [test]
    questions = [2, 3]   # the steps whose questions make the test, asked at the start
    post = 6             # optional: the step that asks their twins (default: the last)

At the start of the class each test question is asked in the room alone (round 1) and
closed with nothing revealed; at the end, on the step `post` (a step without a question
of its own), the room asks each question's twin (cnnviz.lessons.twins: the same question
with other numbers, declared or drawn from ranges), answered alone. The class's Hake gain
⟨g⟩ = (post − pre) / (100 − pre) and its spread over the students come from those pairs
(cnnviz.lessons.results.prepost_gain; Hake 1998, Am. J. Phys. 66(1), 64–74), not from
round 1 against the twin of an ordinary question.

The checks: every test question is a number question with a twin, asked before any other
question of the lesson (a pre-test comes first) and before the post step, which asks
nothing itself.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cnnviz.lessons.model import PrePost, Step
from cnnviz.lessons.reader import Reader

FIELDS = ("questions", "post")


def read_test(r: Reader, raw: Any, steps: Sequence[Step]) -> PrePost | None:
    """The lesson's pre/post test from its `[test]` table, or None with the problems."""
    where = "test"
    if not isinstance(raw, dict):
        r.problem(where, "must be a table: [test] with questions = [step numbers].")
        return None
    before = len(r.problems)
    r.unknown(raw, FIELDS, where)
    by_number = {s.number: s for s in steps}
    questions = raw.get("questions")
    if not (isinstance(questions, list) and questions and all(
            isinstance(n, int) and not isinstance(n, bool) for n in questions)):
        r.problem(f"{where}, questions", f"must be a list of step numbers (whole numbers "
                  f"from 1 to {len(steps)}), e.g. questions = [1, 2], not {questions!r}.")
        return None
    if len(set(questions)) < len(questions):
        r.problem(f"{where}, questions", "names a step twice.")
    post = raw.get("post", len(steps))
    if isinstance(post, bool) or not isinstance(post, int) or post not in by_number:
        r.problem(f"{where}, post", f"must be a step number from 1 to {len(steps)}, not "
                  f"{post!r}.")
        return None
    if by_number[post].question is not None:
        r.problem(f"{where}, post", f"step {post} asks a question of its own; the post-test "
                  f"asks the test's twins on a step that asks nothing (its text introduces "
                  f"the post-test).")
    for n in questions:
        step = by_number.get(n)
        here = f"{where}, questions, step {n}"
        if step is None:
            r.problem(here, f"the lesson has steps 1 to {len(steps)}.")
        elif step.question is None:
            r.problem(here, "asks no question.")
        elif step.question.kind != "number" or step.question.twin is None:
            r.problem(here, "a test question is a number question with a twin "
                      "([steps.question.twin]): the post-test asks the twin.")
        elif n > post:
            r.problem(here, f"comes after the post-test's step {post}.")
    first_other = min((s.number for s in steps if s.question is not None
                       and s.number not in questions), default=None)
    late = [n for n in questions if first_other is not None and n > first_other]
    if late:
        r.problem(f"{where}, questions", f"step {late[0]} comes after step {first_other}, "
                  f"which teaches with a question: a pre-test is asked first, before any "
                  f"other question.")
    if len(r.problems) > before:
        return None
    return PrePost(tuple(sorted(questions)), post)

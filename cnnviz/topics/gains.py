"""What a class learned from a question, in numbers a teacher can show a colleague.

Pure arithmetic on graded votes (who answered, right or not, how sure): the share right
per round, who switched between round 1 and round 2, Hake's normalized gain, the
confident-and-wrong answers, the class's gain over a pre/post test, and the next move a
teacher may make after round 1. Grading itself is cnnviz.lessons.grading's (one rule for
every answer); nothing here reads a database or a lesson.

Sources:
  Hake 1998: R. R. Hake, "Interactive-engagement versus traditional methods: A
    six-thousand-student survey of mechanics test data for introductory physics
    courses", Am. J. Phys. 66(1), 64–74. The average normalized gain
    ⟨g⟩ = (%⟨post⟩ − %⟨pre⟩) / (100 − %⟨pre⟩), from class-average percentages.
  Crouch & Mazur 2001: C. H. Crouch and E. Mazur, "Peer Instruction: Ten years of
    experience and results", Am. J. Phys. 69(9), 970–977. Vote alone, discuss, vote
    again, then explain; what to do next depends on how many were right alone.
  Smith et al. 2009: M. K. Smith et al., "Why peer discussion improves student
    performance on in-class concept questions", Science 323, 122–124. An isomorphic
    question after the revote, answered alone before any answer is shown, tells learning
    from copying. cnnviz asks its twin after the reveal: its gain measures what the class
    kept from the discussion and the explanation together.
"""
from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

CONFIDENT = ("sure", "fairly sure")  # the confidences that count as confident
# Crouch & Mazur 2001: discussion helps most when 35% to 70% are right alone (percent)
EXPLAIN_BELOW, MOVE_ON_ABOVE = 35.0, 70.0


@dataclass(frozen=True)
class Vote:
    """One student's graded answer in one round."""

    student: str
    right: bool
    confidence: str | None = None  # sure, fairly sure, guessing; None when not given


def share_right(votes: Sequence[Vote]) -> float | None:
    """The percentage of votes that are right (0–100); None when nobody voted."""
    if not votes:
        return None
    return 100.0 * sum(v.right for v in votes) / len(votes)


def confident_wrong(votes: Iterable[Vote]) -> int:
    """How many votes are wrong although the student said they were sure or fairly sure:
    a misconception held with conviction, not a guess."""
    return sum(1 for v in votes if not v.right and v.confidence in CONFIDENT)


@dataclass(frozen=True)
class Switches:
    """How the students who voted in both rounds changed between round 1 (alone) and
    round 2 (after discussion), as Crouch & Mazur 2001 count them."""

    wrong_to_right: int = 0
    right_to_wrong: int = 0
    right_to_right: int = 0
    wrong_to_wrong: int = 0

    @property
    def both(self) -> int:
        """Students who voted in both rounds."""
        return (self.wrong_to_right + self.right_to_wrong + self.right_to_right
                + self.wrong_to_wrong)

    def to_json(self) -> dict[str, int]:
        return {"wrong_to_right": self.wrong_to_right, "right_to_wrong": self.right_to_wrong,
                "right_to_right": self.right_to_right, "wrong_to_wrong": self.wrong_to_wrong}


def switches(first: Iterable[Vote], second: Iterable[Vote]) -> Switches:
    """Each student's move from round 1 to round 2, matched by their anonymous id; a student
    who voted in only one round is not counted."""
    before = {v.student: v.right for v in first}
    counts = {(True, True): 0, (True, False): 0, (False, True): 0, (False, False): 0}
    for v in second:
        if v.student in before:
            counts[(before[v.student], v.right)] += 1
    return Switches(wrong_to_right=counts[(False, True)], right_to_wrong=counts[(True, False)],
                    right_to_right=counts[(True, True)],
                    wrong_to_wrong=counts[(False, False)])


@dataclass(frozen=True)
class Gain:
    """A normalized gain, or why there is none (`value` None and `why` a sentence)."""

    value: float | None
    why: str = ""

    def text(self) -> str:
        return f"{self.value:.2f}" if self.value is not None else f"undefined ({self.why})"


def normalized_gain(pre: float | None, post: float | None) -> Gain:
    """Hake's normalized gain g = (post − pre) / (100 − pre), pre and post in percent
    (Hake 1998, Am. J. Phys. 66(1), 64–74): the share of what could be gained that was
    gained. A question's gain takes round 1 (alone) as pre and its twin (alone, after the
    reveal) as post. Undefined, never a division by zero, when pre is 100 (nothing left to
    gain) or either share is missing. It is negative when post is below pre."""
    if pre is None or post is None:
        return Gain(None, "no answers " + ("before" if pre is None else "after"))
    for name, value in (("pre", pre), ("post", post)):
        if not (math.isfinite(value) and 0 <= value <= 100):
            raise ValueError(f"{name} must be a percentage from 0 to 100, not {value!r}")
    if pre == 100:
        return Gain(None, "everyone was already right before: nothing left to gain")
    return Gain((post - pre) / (100 - pre))


@dataclass(frozen=True)
class ClassGain:
    """A pre/post test's gain for the class: Hake's ⟨g⟩ and the spread of the students'
    own gains."""

    pre: float | None    # the class's average score before, percent (everyone who took it)
    post: float | None   # the class's average score after, percent (everyone who took it)
    average: Gain        # ⟨g⟩ from the two class averages (Hake 1998)
    students: int        # students with both scores and a gain of their own
    mean: float | None   # the mean of the students' own gains
    sd: float | None     # their standard deviation (sample, n − 1); None below 2 students
    left_out: int        # students with both scores but 100% before (no gain of their own)

    def to_json(self) -> dict:
        return {"pre": self.pre, "post": self.post, "average_gain": self.average.value,
                "average_gain_text": self.average.text(), "students": self.students,
                "mean_student_gain": self.mean, "sd_student_gain": self.sd,
                "left_out_at_100": self.left_out}


def class_gain(pre: Mapping[str, float], post: Mapping[str, float]) -> ClassGain:
    """A pre/post test's gain. `pre` and `post` map each student to their score in percent
    on the test before and after.

    ⟨g⟩ is Hake 1998's average normalized gain: (%post − %pre) / (100 − %pre) computed from
    the class-average scores (pre over everyone who took the pre-test, post over everyone
    who took the post-test), not the mean of the students' gains. The spread is of the
    single-student gains g = (post − pre)/(100 − pre) of the students who took both, those
    at 100% before left out (their gain is undefined) and counted in `left_out`."""
    mean_pre = statistics.fmean(pre.values()) if pre else None
    mean_post = statistics.fmean(post.values()) if post else None
    own = [normalized_gain(pre[s], post[s]) for s in pre if s in post]
    values = [g.value for g in own if g.value is not None]
    return ClassGain(mean_pre, mean_post, normalized_gain(mean_pre, mean_post), len(values),
                     statistics.fmean(values) if values else None,
                     statistics.stdev(values) if len(values) > 1 else None,
                     len(own) - len(values))


def scores(questions: Sequence[Sequence[Vote]]) -> dict[str, float]:
    """Each student's score in percent over a test's questions (one sequence of votes per
    question): right answers over the questions of the test, a question they did not
    answer counted wrong."""
    right: dict[str, int] = {}
    for votes in questions:
        for v in votes:
            right[v.student] = right.get(v.student, 0) + int(v.right)
    return {s: 100.0 * n / len(questions) for s, n in right.items()} if questions else {}


# --- the next move after round 1 ---------------------------------------------------------

class Move(StrEnum):
    EXPLAIN_AGAIN = "explain again"
    DISCUSS = "peer discussion"
    MOVE_ON = "explain briefly and move on"
    WAIT = "wait for answers"


@dataclass(frozen=True)
class Suggestion:
    move: Move
    text: str


def next_move(share: float | None) -> Suggestion:
    """What Crouch & Mazur 2001 suggest after round 1, from its share right (percent):
    below 35%, too few can convince a neighbour, so explain the idea again and ask
    once more; from 35% to 70%, peer discussion and round 2; above 70%, a
    short explanation and on to the next question. A suggestion: the teacher decides."""
    if share is None:
        return Suggestion(Move.WAIT, "No answers yet.")
    if share < EXPLAIN_BELOW:
        return Suggestion(Move.EXPLAIN_AGAIN, f"{share:.0f}% right alone: too few to "
                          f"convince their neighbours. Explain the idea again, then ask once "
                          f"more.")
    if share <= MOVE_ON_ABOVE:
        return Suggestion(Move.DISCUSS, f"{share:.0f}% right alone: let them convince each "
                          f"other. Discuss with a neighbour, then vote again.")
    return Suggestion(Move.MOVE_ON, f"{share:.0f}% right alone: most of the class has it. "
                      f"A short explanation, then the next question.")

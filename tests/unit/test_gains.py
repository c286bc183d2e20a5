"""Learning gains against hand-computed cases (cnnviz.topics.gains) and twins computed and
graded like their questions (cnnviz.lessons.twins)."""
from __future__ import annotations

import math

import pytest

from cnnviz.lessons import grade, load_lesson
from cnnviz.lessons.twins import twin_answer, twin_step
from cnnviz.topics.gains import (
    Move,
    Vote,
    class_gain,
    confident_wrong,
    next_move,
    normalized_gain,
    scores,
    share_right,
    switches,
)


def votes(marks: str, confidence: str | None = None) -> list[Vote]:
    """'RWR' -> students s0, s1, s2: right, wrong, right."""
    return [Vote(f"s{i}", m == "R", confidence) for i, m in enumerate(marks)]


def test_share_right_and_no_votes():
    assert share_right(votes("RWRW")) == 50.0
    assert share_right(votes("RRRWWWWWWW")) == 30.0
    assert share_right([]) is None


def test_switches_count_each_student_in_both_rounds():
    first, second = votes("RRWWW"), votes("RWRW") + [Vote("late", True)]
    # s0 R->R, s1 R->W, s2 W->R, s3 W->W; s4 skipped round 2; "late" skipped round 1
    s = switches(first, second)
    assert (s.right_to_right, s.right_to_wrong, s.wrong_to_right, s.wrong_to_wrong) == (
        1, 1, 1, 1)
    assert s.both == 4
    assert switches([], second).both == 0
    assert switches(votes("WWW"), votes("RRR")).wrong_to_right == 3


def test_hakes_gain_by_hand():
    assert normalized_gain(40, 70).value == pytest.approx(0.5)      # 30 of 60 possible
    assert normalized_gain(50, 25).value == pytest.approx(-0.5)     # worse after
    assert normalized_gain(0, 100).value == 1.0
    assert normalized_gain(2 / 6 * 100, 80).value == pytest.approx(0.7)  # 46.67 / 66.67
    at_top = normalized_gain(100, 100)
    assert at_top.value is None and "nothing left to gain" in at_top.text()
    assert normalized_gain(None, 50).value is None and normalized_gain(50, None).value is None
    with pytest.raises(ValueError):
        normalized_gain(-1, 50)
    with pytest.raises(ValueError):
        normalized_gain(50, math.nan)


def test_class_gain_from_class_averages_and_the_students_spread():
    pre = {"a": 20.0, "b": 40.0, "c": 100.0, "d": 60.0}   # d missed the post-test
    post = {"a": 60.0, "b": 70.0, "c": 100.0, "e": 90.0}  # e missed the pre-test
    g = class_gain(pre, post)
    assert g.pre == 55.0 and g.post == 80.0
    assert g.average.value == pytest.approx((80 - 55) / 45)       # Hake: from the averages
    # own gains: a (60-20)/80 = 0.5, b (70-40)/60 = 0.5; c at 100 before is left out
    assert (g.students, g.left_out) == (2, 1)
    assert g.mean == pytest.approx(0.5) and g.sd == pytest.approx(0.0)
    empty = class_gain({}, {})
    assert empty.average.value is None and empty.mean is None and empty.sd is None
    assert class_gain({"a": 100.0}, {"a": 100.0}).average.value is None  # never / 0


def test_scores_count_a_missed_question_wrong():
    q1, q2 = votes("RW"), [Vote("s0", True)]
    assert scores([q1, q2]) == {"s0": 100.0, "s1": 0.0}
    assert scores([]) == {}


def test_confident_and_wrong():
    mixed = votes("WW", "sure") + votes("W", "fairly sure") + [Vote("g", False, "guessing"),
                                                             Vote("n", False),
                                                             Vote("r", True, "sure")]
    assert confident_wrong(mixed) == 3
    assert confident_wrong([]) == 0


@pytest.mark.parametrize("share, move", [
    (None, Move.WAIT), (0.0, Move.EXPLAIN_AGAIN), (34.9, Move.EXPLAIN_AGAIN),
    (35.0, Move.DISCUSS), (50.0, Move.DISCUSS), (70.0, Move.DISCUSS),
    (70.1, Move.MOVE_ON), (100.0, Move.MOVE_ON)])
def test_the_next_move_after_round_one(share, move):
    suggestion = next_move(share)
    assert suggestion.move == move and suggestion.text.endswith(".")


@pytest.mark.parametrize("lesson, step, original, twin", [
    ("output_size", 1, 3, 5), ("output_size", 3, 4, 6), ("output_size", 4, 6, 7),
    ("cnn_vs_fully_connected", 1, 432, 600)])
def test_twins_are_computed_and_graded_like_their_question(lesson, step, original, twin):
    s = load_lesson(lesson).steps[step - 1]
    assert s.question is not None and s.question.twin is not None
    result = twin_answer(s)
    assert result is not None and result.value == twin
    asked = twin_step(s)
    assert asked is not None and asked.question is not None
    assert asked.question.ask == s.question.twin.ask and asked.question.twin is None
    assert grade(asked.question, result, twin).right
    assert not grade(asked.question, result, original).right  # round 2's answer is wrong here

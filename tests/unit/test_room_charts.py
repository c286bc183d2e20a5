"""The room's histogram against real answers: zoomed on the answer, a typo in an *other*
bar, identical answers one bar among its neighbours, right/close/off shares and the most
common answers (cnnviz.render.room_charts)."""
from __future__ import annotations

import numpy as np

from cnnviz.render import room_charts as charts

TEN = [3, 3, 3, 3, 2, 2, 4, 3, 5, 100000]  # one typo among ten answers to "3"


def test_one_typo_does_not_squeeze_the_others():
    b = charts.bins([float(v) for v in TEN], 3.0, 3.0, 3.0)
    assert b.whole and b.labels == ("0", "1", "2", "3", "4", "5", "6")
    assert b.counts == (0, 0, 2, 5, 1, 1, 0) and b.other == 1
    fig = charts.fig_numbers([float(v) for v in TEN], 3.0, 3.0, 3.0, "Round 1: 10 answers")
    assert list(fig.data[0].y) == [0, 0, 2, 5, 1, 1, 0, 1]
    assert list(fig.data[0].customdata)[-1] == "other"
    assert fig.layout.xaxis.ticktext[-1] == "other"
    [line] = [s for s in fig.layout.shapes if s.type == "line"]
    assert line.x0 == 3  # the answer's bar: "3" stands at position 3


def test_before_the_reveal_the_chart_zooms_on_the_middle_of_the_guesses():
    b = charts.bins([float(v) for v in TEN])
    assert b.other == 1 and sum(b.counts) == 9 and "3" in b.labels


def test_identical_answers_are_one_bar_among_neighbours():
    for truth in (None, 3.0):
        b = charts.bins([3.0] * 10, truth, 3.0, 3.0)
        assert len(b.labels) == 7 and b.counts[b.labels.index("3")] == 10 and not b.other


def test_large_answers_are_ranges_around_the_answer():
    b = charts.bins([1.2e6, 1.25e6, 1.1e6, 9e6], 1.2e6, 1.14e6, 1.26e6)
    assert not b.whole and b.other == 1 and sum(b.counts) == 3
    assert b.edges[0] <= 1.1e6 and b.edges[-1] >= 1.26e6 and b.edges[-1] < 9e6


def test_right_close_and_off():
    s = charts.shares([float(v) for v in TEN], 3.0, 3.0, 3.0)
    assert (s.right, s.close, s.off) == (5, 3, 2)  # 2, 2, 4 are off by one; 5 and 100000
    assert s.text() == "right 50% · close 30% · off 20%"
    assert charts.shares([], 3.0, 3.0, 3.0).text() == "no answers"


def test_the_five_most_common_answers():
    assert charts.common([float(v) for v in TEN]) == [
        ("3", 5), ("2", 2), ("4", 1), ("5", 1), ("100000", 1)]
    assert charts.common(["two 3×3", "one 5×5", "two 3×3"]) == [("two 3×3", 2),
                                                                ("one 5×5", 1)]
    assert charts.common([float("nan"), 3.0]) == [("3", 1)]


def test_the_projector_reads_it():
    fig = charts.fig_numbers([float(v) for v in TEN], 3.0, 3.0, 3.0, "Round 1: 10 answers")
    assert fig.layout.font.size >= 18
    xs = np.asarray(fig.data[0].x, dtype=float)
    assert len(fig.layout.xaxis.tickvals) <= 9 and np.all(np.diff(xs) > 0)

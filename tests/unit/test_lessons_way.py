"""Lessons one can find and keep (no streamlit): the catalogue's search and filters, the
durations' rule, what the browser keeps (and what it may send back), section links and the
next lesson suggested."""
from __future__ import annotations

import json

import pytest

from cnnviz.lessons import answer, load_lessons
from cnnviz.lessons.catalog import matching
from cnnviz.lessons.kept import Kept, KeptAnswer, fingerprint, parse
from cnnviz.lessons.model import LEVELS, estimated_minutes
from cnnviz.lessons.sections import linked, missing
from cnnviz.pages import CONV_ARITHMETIC, EXPLORER, PAGES, RECEPTIVE_FIELD

LESSONS = load_lessons().lessons
BY_NAME = {lesson.name: lesson for lesson in LESSONS}


def test_every_shipped_lesson_has_a_level_and_the_duration_of_the_rule():
    assert len(LESSONS) == 20  # output_size_test: the pre/post test
    assert {lesson.level for lesson in LESSONS} == set(LEVELS)
    for lesson in LESSONS:
        assert lesson.duration == estimated_minutes(len(lesson.steps), lesson.questions), \
            lesson.name
    assert estimated_minutes(5, 5) == 15 and estimated_minutes(3, 3) == 10


def test_search_and_filters_narrow_the_catalogue():
    assert matching(LESSONS) == LESSONS
    found = matching(LESSONS, "  STRIDE  ")
    assert 0 < len(found) < len(LESSONS)
    assert all("stride" in " ".join((x.title, *x.concepts, *(s.title for s in x.steps)))
               .casefold() for x in found)
    assert matching(LESSONS, "stride zzzz") == ()  # every word must appear
    by_concept = matching(LESSONS, concepts=["bottleneck"])
    assert [x.name for x in by_concept] == ["bottleneck"]
    on_page = matching(LESSONS, pages=["trained"])
    assert on_page and all(any(s.page == "trained" for s in x.steps) for x in on_page)
    assert len(on_page) < len(LESSONS)
    first = matching(LESSONS, levels=["first steps"])
    assert first and all(x.level == "first steps" for x in first)
    both = matching(LESSONS, "receptive", levels=["deeper"])
    assert [x.name for x in both] == ["effective_receptive_field"]


def _kept_answer(name: str, number: int, guess) -> KeptAnswer:
    step = BY_NAME[name].steps[number - 1]
    a = answer(step.question, step.state)
    return KeptAnswer(fingerprint(step), guess, a.value, a.values)


def test_what_the_browser_keeps_comes_back_the_same():
    kept = Kept(last=("output_size", 2), finished={"convolution_by_hand"})
    kept.answers["convolution_by_hand"] = {1: _kept_answer("convolution_by_hand", 1, 7.0)}
    text = kept.dumps()
    again = parse(text)
    assert again == kept and again.dumps() == text
    assert len(text) < 1000


@pytest.mark.parametrize("raw", [
    None, 12, "", "not json", "[1, 2]", "{}", '{"v": 2}', "x" * 70_000,
    json.dumps({"v": 1, "last": ["../etc", 1]}),
    json.dumps({"v": 1, "last": ["output_size", 0]}),
    json.dumps({"v": 1, "answers": {"output_size": {"1": {"f": "zz", "v": 3}}}}),
    json.dumps({"v": 1, "answers": {"output_size": {"1": {"f": "0" * 16, "v": [1]}}}}),
    json.dumps({"v": 1, "answers": {"output_size": {"1": {"f": "0" * 16, "v": 1,
                                                        "g": {"a": 1}}}}}),
    json.dumps({"v": 1, "answers": {"output_size": {"1": {"f": "0" * 16, "v": "x" * 300}}}}),
    "[" * 100_000,
])
def test_anything_else_the_browser_sends_is_dropped(raw):
    kept = parse(raw)
    assert kept.answers == {} and kept.last is None


def test_a_step_read_again_has_the_same_fingerprint_and_another_step_another():
    again = {lesson.name: lesson for lesson in load_lessons().lessons}
    for lesson in LESSONS:
        prints = [fingerprint(s) for s in lesson.steps]
        assert prints == [fingerprint(s) for s in again[lesson.name].steps]
        assert len(set(prints)) == len(prints), lesson.name


def test_the_next_lesson_is_the_next_one_not_finished():
    from cnnviz.ui.lessons.review import next_lesson

    first, second, third = LESSONS[:3]
    assert next_lesson(first, LESSONS, set()) == second
    assert next_lesson(first, LESSONS, {second.name}) == third
    assert next_lesson(LESSONS[-1], LESSONS, set()) == first  # round to the start
    assert next_lesson(first, LESSONS, {x.name for x in LESSONS}) is None


def test_a_step_s_section_becomes_a_link_to_the_page_s_heading():
    text = "Section 4 of this page stacks them; the right panel of section 4 shows it."
    out = linked(text, RECEPTIVE_FIELD)
    assert out.count("](#gridding)") == 2
    assert out.startswith("[Section 4](#gridding) of this page")
    assert missing("Section 9 of this page", RECEPTIVE_FIELD) == [9]
    assert missing(text, RECEPTIVE_FIELD) == []
    assert linked("the section *Checkerboard\nartifacts* upsamples", CONV_ARITHMETIC) == \
        "the section [*Checkerboard artifacts*](#checkerboard) upsamples"
    assert linked(text, EXPLORER) == text  # a page without numbered headings: as written
    for page in PAGES.values():
        assert len({a for a, _ in page.headings}) == len(page.headings)


def test_the_shipped_lessons_link_every_section_they_name():
    linked_steps = 0
    for lesson in LESSONS:
        for step in lesson.steps:
            assert missing(step.text, PAGES[step.page]) == [], (lesson.name, step.number)
            linked_steps += linked(step.text, PAGES[step.page]) != step.text
    assert linked_steps >= 6

"""Lessons one can find, keep and follow (AppTest): the catalogue's search and filters, the
review at *Finish* with the next lesson, and a step's section as a link to the page's
heading. (A reload that keeps the answers needs the browser: tests/browser/test_way_in.py.)
"""
from __future__ import annotations

import pytest
import streamlit as st
from conftest import app_test, page_file, shown
from streamlit.testing.v1 import AppTest

from cnnviz.lessons import answer, load_lessons, number_text
from cnnviz.pages import LESSONS as LESSONS_PAGE
from cnnviz.pages import RECEPTIVE_FIELD
from cnnviz.ui.lessons.catalogue import CONCEPTS, LEVEL, ON_PAGES, SEARCH

LESSONS = load_lessons().lessons
BY_NAME = {lesson.name: lesson for lesson in LESSONS}


@pytest.fixture(autouse=True, scope="module")
def fresh_caches():
    st.cache_data.clear()
    st.cache_resource.clear()
    yield


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def cards(at: AppTest) -> list[str]:
    return [s.value for s in at.subheader]


def catalogue() -> AppTest:
    at = app_test(120).run()
    at.switch_page(page_file(LESSONS_PAGE.file)).run()
    assert_clean(at)
    return at


def test_every_card_shows_a_level_and_a_duration():
    at = catalogue()
    assert cards(at) == [x.title for x in LESSONS]
    captions = " ".join(c.value for c in at.caption)
    for lesson in LESSONS:
        assert f"🎚️ {lesson.level} · ⏱️ about {lesson.duration} min · {len(lesson.steps)} " \
               f"steps" in captions, lesson.name


def test_search_and_filters_narrow_the_cards():
    at = catalogue()
    at.text_input(key=SEARCH).input("stride").run()
    found = cards(at)
    assert 0 < len(found) < len(LESSONS) and "The output-size formula and its floor" in found
    assert any(f"{len(found)} of {len(LESSONS)} lessons" in c.value for c in at.caption)
    at.text_input(key=SEARCH).input("").run()
    at.multiselect(key=CONCEPTS).set_value(["bottleneck"]).run()
    assert cards(at) == [BY_NAME["bottleneck"].title]
    at.multiselect(key=CONCEPTS).set_value([]).run()
    at.multiselect(key=ON_PAGES).set_value(["trained"]).run()
    on_trained = [x.title for x in LESSONS if any(s.page == "trained" for s in x.steps)]
    assert cards(at) == on_trained and len(on_trained) < len(LESSONS)
    at.multiselect(key=ON_PAGES).set_value([]).run()
    at.pills(key=LEVEL).set_value(["deeper"]).run()
    deeper = [x.title for x in LESSONS if x.level == "deeper"]
    assert cards(at) == deeper and 0 < len(deeper) < len(LESSONS)
    at.text_input(key=SEARCH).input("zzzz no such lesson").run()
    assert cards(at) == [] and any("No lesson matches" in i.value for i in at.info)
    assert_clean(at)


def test_finish_reviews_each_answer_and_suggests_the_next_lesson():
    lesson = BY_NAME["convolution_by_hand"]
    at = app_test(120, lesson=lesson.name, step=1).run()
    said = []
    for step in lesson.steps:
        key = f"lesson_{lesson.name}_{step.number}"
        truth = answer(step.question, step.state)
        guess = float(truth.value) + (1 if step.number == 2 else 0)  # one wrong
        said.append((step.number, guess, truth))
        at.text_input(key=f"{key}_guess").input(repr(guess))
        at.button(key=f"{key}_reveal").click().run()
        last = step.number == len(lesson.steps)
        at.button(key="lesson_finish" if last else "lesson_next").click().run()
    assert_clean(at)
    text = [shown(m.value) for m in at.markdown]
    assert f"Your answers: {len(said) - 1} right of {len(said)} questions" in " ".join(text)
    for number, guess, truth in said:
        line = next(t for t in text if t.startswith(("✅", "❌")) and f"Step {number}" in t)
        assert line.startswith("❌" if number == 2 else "✅"), line
        assert f"You said {number_text(guess)}; cnnviz computed {truth.text()}." in \
            line.replace("*", ""), line
    after = LESSONS[[x.name for x in LESSONS].index(lesson.name) + 1]
    labels = [link.proto.label for link in at.get("page_link")]
    assert f"Start the next lesson: {after.title}" in labels
    # the catalogue shows the progress of this session's answers (as All lessons opens it)
    for name in ("lesson", "step"):
        at.query_params.pop(name, None)
    at.switch_page(page_file(LESSONS_PAGE.file)).run()
    captions = " ".join(c.value for c in at.caption)
    assert "your answers: 3 of 3 revealed, 2 right · ✓ finished" in captions


def test_a_step_s_section_is_a_link_to_the_page_s_heading():
    lesson = BY_NAME["receptive_field_growth"]
    step = next(s for s in lesson.steps if "Section 4" in s.text)
    at = app_test(120, lesson=lesson.name, step=step.number).run()
    assert_clean(at)
    assert any("[Section 4](#gridding)" in m.value for m in at.markdown)
    anchors = {h.proto.anchor: h.value for h in at.header}
    assert anchors["gridding"] == RECEPTIVE_FIELD.heading("gridding")
    assert set(anchors) >= {a for a, _ in RECEPTIVE_FIELD.headings}


@pytest.mark.parametrize("name, number", [("convolution_by_hand", 1), ("bottleneck", 5)])
def test_an_answer_the_browser_kept_comes_back_as_the_reveal_it_was(name, number):
    """What a reload reads from the browser becomes the same record a press of Reveal makes
    (a number question and a choice), graded against the step as it is now."""
    from cnnviz.lessons import grade
    from cnnviz.lessons.kept import Kept, KeptAnswer, fingerprint
    from cnnviz.ui.lessons.memory import restore
    from cnnviz.ui.lessons.player import Record

    step = BY_NAME[name].steps[number - 1]
    truth = answer(step.question, step.state)
    kept = Kept()
    kept.answers[name] = {number: KeptAnswer(fingerprint(step), truth.value, truth.value,
                                             truth.values)}
    answers: dict = {}
    finished: set[str] = set()
    restore(kept, answers, finished, Record)
    revealed = answers[name][number]
    assert revealed.asked == step.question
    assert revealed.answer == Record(truth.value, truth, grade(step.question, truth,
                                                                truth.value), fingerprint(step))
    assert revealed.answer.grade.right

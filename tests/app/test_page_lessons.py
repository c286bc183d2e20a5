"""Lessons in the app (AppTest): every step of every lesson opens on its page with its state
applied, each question reveals what the library computes, and a tampered URL or a bad
lesson file gives a message, never an exception.
"""
from __future__ import annotations

import os

import pytest
import streamlit as st
from conftest import app_test, page_file, shown
from streamlit.testing.v1 import AppTest

from cnnviz import ui
from cnnviz.lessons import Lesson, Step, answer, load_lessons, number_text
from cnnviz.lessons import schema as lesson_schema
from cnnviz.pages import ARITH_MODES, EXPLORER_VIEWS, PAGES, lesson_pages
from cnnviz.ui.frame.picker import STACK_DEFAULTS

LESSONS = load_lessons().lessons
WIDGETS = ("selectbox", "number_input", "toggle", "text_input", "radio", "slider",
           "select_slider")


@pytest.fixture(autouse=True, scope="module")
def fresh_caches():
    st.cache_data.clear()
    st.cache_resource.clear()
    yield


def widget(at: AppTest, key: str):
    """The drawn widget whose key is `key` (sidebar or page), whatever its kind."""
    for kind in WIDGETS:
        for w in getattr(at, kind):
            if w.key == key:
                return w
    raise LookupError(f"no widget with key {key!r} on the page")


# pages that draw some controls only in the view that uses them (Trained Networks: the
# picker in Train your own, the input in Look inside)
DRAWN_BY_VIEW = ("trained",)


def picked(at: AppTest, key: str, page: str):
    """A control's value: its widget's, or on a page that does not draw it in the view
    open, the session's, which the widget shows once drawn."""
    try:
        return widget(at, key).value
    except LookupError:
        if page not in DRAWN_BY_VIEW:
            raise
        return at.session_state[key]


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def assert_applied(at: AppTest, lesson: Lesson, step: Step) -> None:
    """The picker and the page's controls show the step's state."""
    assert_clean(at)
    panel = [c.value for c in at.caption]
    assert f"📚 {ui.safe_text(lesson.title)} · step {step.number} of {len(lesson.steps)}" in panel
    assert at.query_params["step"] == str(step.number)
    info, values = PAGES[step.page], step.state.resolved()
    if info.takes_stack:
        spec = step.state.stack
        assert picked(at, "pick_block", step.page) == spec.block
        for name in STACK_DEFAULTS:
            assert picked(at, f"pick_{name}", step.page) == getattr(spec, name), name
        for name, value in spec.params:
            assert picked(at, f"pick_p_{name}", step.page) == value, name
    for name, control in info.all_controls(values).items():
        if name not in values:
            continue
        if control.in_url:  # the page reads it from the URL, and keeps it there
            assert at.query_params[control.key] == str(values[name])
        elif name in ("view", "net_view"):  # tabs: their choice is their key's state
            assert at.session_state[control.key] == values[name]
        else:
            assert picked(at, control.key, step.page) == values[name], (step.page, name)


def veiled(at: AppTest) -> bool:
    """Whether the page below the lesson panel is blurred (a question not yet revealed)."""
    return any("blur(" in h.proto.body for h in at.get("html"))


def reveal_with_the_answer(at: AppTest, lesson: Lesson, step: Step) -> AppTest:
    """Guess what the library computes; the app must call it right. The page, which may
    show the answer, is veiled until then."""
    q = step.question
    assert q is not None
    assert veiled(at)
    truth = answer(q, step.state)
    key = f"lesson_{lesson.name}_{step.number}"
    if q.kind == "number":
        widget(at, f"{key}_guess").input(repr(float(truth.value)))
    else:
        widget(at, f"{key}_guess").set_value(truth.value)
    at.button(key=f"{key}_reveal").click().run()
    assert_clean(at)
    said = [s.value for s in at.success]
    assert any(s.startswith("Right") and truth.text() in s for s in said), (said, truth)
    assert not veiled(at)
    return at


def test_the_page_can_be_shown_before_the_answer():
    at = app_test(120, lesson="networks_tour", step=2).run()
    assert veiled(at)
    at.toggle(key="lesson_networks_tour_2_peek").set_value(True).run()
    assert_clean(at)
    assert not veiled(at) and not at.success  # shown, not revealed


@pytest.mark.parametrize("lesson", LESSONS, ids=[lesson.name for lesson in LESSONS])
def test_every_step_opens_with_its_state_and_reveals_the_computed_answer(lesson):
    at = app_test(120, lesson=lesson.name, step=1).run()
    for step in lesson.steps:
        assert_applied(at, lesson, step)
        assert step.text.split()[0] in " ".join(m.value for m in at.markdown)
        if step.question is not None:
            reveal_with_the_answer(at, lesson, step)
        last = step.number == len(lesson.steps)
        at.button(key="lesson_finish" if last else "lesson_next").click().run()
    assert_clean(at)
    questions = sum(s.question is not None for s in lesson.steps)
    summary = " ".join(m.value for m in at.markdown)
    assert f"Your answers: {questions} right of {questions} questions" in summary


def test_a_link_opens_any_step_on_its_page_and_previous_goes_back():
    lesson = next(x for x in LESSONS if x.name == "output_size")
    last = lesson.steps[-1]
    at = app_test(lesson=lesson.name, step=last.number).run()
    assert_applied(at, lesson, last)
    assert at.title[0].value.endswith(PAGES[last.page].title.split()[-1])
    at.button(key="lesson_prev").click().run()
    assert_applied(at, lesson, lesson.steps[-2])
    assert at.title[0].value.endswith("Convolution arithmetic")


def test_reset_step_restores_the_state_after_the_learner_changed_it():
    lesson = next(x for x in LESSONS if x.name == "vanishing_gradients")
    step = lesson.steps[0]
    at = app_test(lesson=lesson.name, step=1).run()
    widget(at, "pick_height").set_value(16)
    widget(at, "gf_depth").set_value(3).run()
    assert widget(at, "gf_depth").value == 3 and at.query_params["height"] == "16"
    at.button(key="lesson_reset").click().run()
    assert_applied(at, lesson, step)


def test_a_wrong_guess_says_how_far_off_it_was():
    lesson = next(x for x in LESSONS if x.name == "bottleneck")
    step = lesson.steps[1]
    assert step.question is not None
    truth = float(answer(step.question, step.state).value)
    at = app_test(lesson=lesson.name, step=2).run()
    widget(at, "lesson_bottleneck_2_guess").input("50")
    at.button(key="lesson_bottleneck_2_reveal").click().run()
    text = " ".join(w.value for w in at.warning)
    assert f"the answer is {number_text(truth)}; you said 50" in text
    assert f"{abs(50 - truth) / truth * 100:.1f}% off" in text
    for typed in ("lots", "nan", "-inf"):  # float() takes the last two: no answer is either
        widget(at, "lesson_bottleneck_2_guess").input(typed)
        at.run()
        assert any(f"'{typed}' is not a number" in shown(w.value) for w in at.warning), typed


@pytest.mark.parametrize(("query", "expected"), [
    ({"lesson": "nope", "step": "999"}, "There is no lesson 'nope'"),
    ({"lesson": "[evil](http://example.com)"}, "There is no lesson '[evil](http"),
    ({"lesson": "output_size", "step": "999"}, "Step '999' is not in this lesson"),
    ({"lesson": "output_size", "step": "two"}, "Step 'two' is not in this lesson"),
])
def test_a_tampered_url_warns_and_never_raises(query, expected):
    at = app_test(**query).run()
    assert_clean(at)
    warnings = [w.value for w in at.warning]
    assert any(expected in shown(w) for w in warnings), warnings
    assert not any("](http" in w for w in warnings), "a URL value rendered as a link"
    if query["lesson"] == "output_size":
        number = 1 if query["step"] == "two" else 5
        assert at.query_params["step"] == str(number)
    else:
        assert "lesson" not in at.query_params


def test_presenter_mode_hides_the_guess_and_keeps_the_reveal():
    at = app_test(lesson="output_size", step=1, present=1).run()
    assert_clean(at)
    assert not [w for w in at.text_input if w.key.startswith("lesson_")]
    styles = [h.proto.body for h in at.get("html")]
    assert any('[data-testid="stSidebar"]' in s and "font-size: 22px" in s for s in styles)
    # the page's own guess and reveal widgets are hidden, the step's mode control is not
    assert any('[class*="st-key-arith_"]:not([class*="st-key-arith_mode"])' in s
               for s in styles)
    assert at.button(key="lesson_present").label == "Leave presenter mode"
    at.button(key="lesson_output_size_1_reveal").click().run()
    assert any(i.value.startswith("The answer is 3") for i in at.info)
    at.button(key="lesson_present").click().run()
    assert "present" not in at.query_params


def test_presenter_mode_keeps_the_button_a_step_names_and_hides_an_empty_section():
    """'Degradation and shortcuts' says press *Train the three stacks*: presenter mode keeps
    it (and its section); the depth sweep's section, with nothing the step uses, goes."""
    lesson, step = next((lesson, s) for lesson in LESSONS for s in lesson.steps
                        if "Train the three stacks" in s.text)
    at = app_test(lesson=lesson.name, step=step.number, present=1).run()
    assert_clean(at)
    style = next(h.proto.body for h in at.get("html") if "st-key-gf_" in h.proto.body)
    page = PAGES["plain_vs_residual"]
    for kept in (page.control("train").key, page.section("degradation")):
        assert f':not([class*="st-key-{kept}"])' in style, kept
    assert f':not([class*="st-key-{page.section("sweep")}"])' not in style
    assert at.button(key=page.control("train").key)  # drawn, and not hidden


def test_the_lessons_page_lists_every_lesson():
    at = app_test().run()
    at.switch_page(page_file("pages/lessons.py")).run()
    assert_clean(at)
    titles = [s.value for s in at.subheader]
    assert titles == [lesson.title for lesson in LESSONS]
    assert not at.error


def test_a_bad_lesson_file_is_reported_and_the_others_still_load(tmp_path, monkeypatch):
    good = lesson_schema.LESSON_DIR / "output_size.toml"
    (tmp_path / "output_size.toml").write_text(good.read_text())
    (tmp_path / "broken.toml").write_text('title = "x"\nsteps = [ [\n')
    (tmp_path / "sly.toml").write_text(good.read_text().replace(
        'block = "conv_bn_act"', 'block = "[click](http://example.com)"'))
    os.mkfifo(tmp_path / "pipe.toml")  # opened, it would hang the page
    (tmp_path / "zeros.toml").symlink_to("/dev/zero")  # read, it would fill the memory
    monkeypatch.setattr(lesson_schema, "LESSON_DIR", tmp_path)
    at = app_test().run()
    at.switch_page(page_file("pages/lessons.py")).run()
    assert_clean(at)
    kept = next(lesson for lesson in LESSONS if lesson.name == "output_size")
    assert [s.value for s in at.subheader] == [kept.title]
    errors = [e.value for e in at.error]
    assert any("broken.toml: TOML syntax:" in shown(e) for e in errors), errors
    assert any("sly.toml: step 1, block: unknown block '[click](http" in shown(e)
               for e in errors), errors
    for name, kind in (("pipe", "a pipe"), ("zeros", "a device")):
        assert any(f"{name}.toml: file: not a regular file ({kind})" in shown(e)
                   for e in errors), errors
    assert not any("](http" in e for e in errors)
    # a link to the bad lesson: its problems, no panel, no exception
    at = app_test(lesson="sly").run()
    assert_clean(at)
    assert any("unknown block" in shown(e.value) for e in at.error)


def test_every_page_a_step_opens_is_in_the_app_and_starts_from_the_listed_defaults():
    for name, info in lesson_pages().items():
        at = app_test().run()
        if not info.default:
            at.switch_page(page_file(info.file)).run()
        assert_clean(at)
        for control in info.all_controls({}).values():
            if control.default is None:
                continue
            if control.in_url:
                shown_value = at.query_params[control.key]
            elif control.key == "view":
                shown_value = at.session_state["view"]
            else:
                shown = widget(at, control.key)
                shown_value = shown.value
                assert shown.label.startswith(control.label), (name, control.name)
            assert shown_value == control.default, (name, control.name)
        if name == "explorer":  # the tabs and modes a step may name are the page's own
            assert [t.label for t in at.tabs] == list(EXPLORER_VIEWS)
        if name == "conv_arithmetic":
            labels = widget(at, "arith_mode").options  # as the page words them
            assert len(labels) == len(ARITH_MODES)
            assert all(label.startswith(mode) for label, mode in zip(labels, ARITH_MODES))


@pytest.mark.parametrize("name", ["cost_lab", "lessons"])
def test_a_page_that_reads_no_stack_draws_no_picker_and_keeps_its_values(name):
    """Cost & Bottlenecks and Lessons read no stack: the sidebar shows no picker, and the
    picker's values come back on the next page that reads it."""
    at = app_test(block="resnet_bottleneck", depth="3").run()
    at.switch_page(page_file(PAGES[name].file)).run()
    assert_clean(at)
    assert not at.sidebar.selectbox and not at.sidebar.number_input
    at.switch_page(page_file(PAGES["explorer"].file)).run()
    assert widget(at, "pick_block").value == "resnet_bottleneck"
    assert widget(at, "pick_depth").value == 3

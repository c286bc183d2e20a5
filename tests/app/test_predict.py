"""The one predict-then-reveal component (cnnviz.ui.frame.predict) on its own: the answer hidden
until the press, kept while the question is the same, hidden again when it changes, and an
answer that could not be computed keeps nothing. (The pages and the lesson player that draw
it: test_pages_arith.py and test_page_lessons.py.)"""
from __future__ import annotations

from streamlit.testing.v1 import AppTest


def question_script():
    import streamlit as st

    from cnnviz.ui.frame import predict

    side = st.number_input("side", 1, 9, 3, key="q_side")
    guess = st.number_input("your area", 0, 99, 0, key="q_guess")
    predict.predict_then_reveal(
        "q_reveal", side, [predict.Guess("area", guess, side * side)],
        lambda: st.latex(f"{side} \\times {side} = {side * side}"),
        hint="Type the area and press **Reveal**.")
    fails = st.toggle("fail", key="q_fails")
    kept = predict.reveal("q_other", "the same", lambda: None if fails else 42,
                          label="Reveal the other")
    st.markdown(f"other: {None if kept is None else kept.answer}")


def run() -> AppTest:
    return AppTest.from_function(question_script, default_timeout=30).run()


def test_hidden_then_graded_then_hidden_when_the_question_changes():
    at = run()
    assert [i.value for i in at.info] == ["Type the area and press **Reveal**."]
    assert not at.latex and not at.success
    at.number_input(key="q_guess").set_value(9)
    at.button(key="q_reveal").click().run()
    assert not at.exception and not at.info
    assert [s.value for s in at.success] == ["area = 9: right!"]  # the emoji is its icon
    assert at.session_state["q_revealed"].asked == 3
    at.number_input(key="q_guess").set_value(8).run()  # the verdict follows the guess
    assert "you said 8" in at.warning[0].value and at.latex
    at.number_input(key="q_side").set_value(4).run()  # another question: hidden again
    assert not at.latex and not at.warning and at.info


def test_an_answer_computed_at_the_press_is_kept_and_a_failed_one_keeps_nothing():
    at = run()
    at.toggle(key="q_fails").set_value(True).run()
    at.button(key="q_other").click().run()
    assert at.markdown[-1].value == "other: None" and "q_otherd" not in at.session_state
    at.toggle(key="q_fails").set_value(False).run()
    at.button(key="q_other").click().run()
    assert at.markdown[-1].value == "other: 42"
    at.toggle(key="q_fails").set_value(True).run()  # kept without computing again
    assert at.markdown[-1].value == "other: 42"

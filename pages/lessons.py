"""Lessons: guided paths through the app, for a student alone or a teacher in front of a class."""
import streamlit as st

from cnnviz import ui

st.title("📚 Lessons")
st.caption("Each lesson opens the pages in turn with the block, the input and the controls "
           "already set, asks you to predict a number before it reveals what cnnviz "
           "computes, and ends with a summary of your answers. Change anything on the way; "
           "*Reset step* puts the step back. *Present to a class* opens the same lesson in "
           "large type for a projector, with ← and → to move between steps.")

catalog = ui.lesson_player.catalog()
for lesson in catalog.lessons:
    with st.container(border=True):
        st.subheader(lesson.title)
        steps = len(lesson.steps)
        questions = sum(s.question is not None for s in lesson.steps)
        st.caption(f"⏱️ about {lesson.duration} min · {steps} steps, {questions} questions "
                   f"· for {lesson.audience}")
        st.markdown("**Concepts:** " + ", ".join(lesson.concepts))
        with st.container(horizontal=True):
            ui.lesson_player.start_link(lesson)
            ui.lesson_player.start_link(lesson, present=True)

for problem in catalog.problems:  # a bad file is reported; the other lessons still load
    st.error(ui.safe_text(problem, limit=600), icon="🚫")
if not catalog.lessons and not catalog.problems:
    st.info("No lessons yet: add a TOML file to assets/lessons/ (see the README).", icon="📝")

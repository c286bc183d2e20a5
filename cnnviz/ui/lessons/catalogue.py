"""The Lessons page: *Continue where you left off*, search and filters (concept, page,
level), and one card per lesson with its level, duration, pages and the learner's progress."""
from __future__ import annotations

import streamlit as st

from cnnviz.lessons import Lesson
from cnnviz.lessons.catalog import matching
from cnnviz.lessons.model import LEVELS
from cnnviz.pages import PAGES
from cnnviz.ui.frame.text import safe_text
from cnnviz.ui.lessons import memory, player

SEARCH, CONCEPTS, ON_PAGES, LEVEL = ("lessons_search", "lessons_concepts", "lessons_pages",
                                     "lessons_levels")


def _pages(lesson: Lesson) -> list[str]:
    """The pages the lesson opens, in its order, by title."""
    seen: list[str] = []
    for step in lesson.steps:
        if step.page not in seen:
            seen.append(step.page)
    return seen


def continue_box(lessons: tuple[Lesson, ...], key: str = "lessons_continue") -> None:
    """A link back to the last step the learner opened (kept by the browser), if any."""
    last = memory.last()
    lesson = next((x for x in lessons if last and x.name == last[0]), None)
    if lesson is None or last is None or not 1 <= last[1] <= len(lesson.steps):
        return
    with st.container(border=True, key=key):
        st.markdown(f"**Continue where you left off:** {lesson.title}, step {last[1]} of "
                    f"{len(lesson.steps)}")
        player.start_link(lesson, label="Continue", step=last[1])


def _filters(lessons: tuple[Lesson, ...]) -> tuple[Lesson, ...]:
    """The search box and the filters; the lessons they keep."""
    c = st.columns([3, 3, 3])
    text = c[0].text_input("Search", key=SEARCH, max_chars=100,
                           placeholder="a word: stride, ResNet, gradient…")
    concepts = sorted({x for lesson in lessons for x in lesson.concepts}, key=str.casefold)
    chosen = c[1].multiselect("Concepts", concepts, key=CONCEPTS,
                              placeholder="any concept")
    opened = [p for p in PAGES if any(p in _pages(lesson) for lesson in lessons)]
    on = c[2].multiselect("Pages it opens", opened, key=ON_PAGES, placeholder="any page",
                          format_func=lambda p: f"{PAGES[p].icon} {PAGES[p].title}")
    levels = st.pills("Level", LEVELS, selection_mode="multi", key=LEVEL) or []
    shown = matching(lessons, text, chosen, on, levels)
    st.caption(f"{len(shown)} of {len(lessons)} lessons" if len(shown) < len(lessons)
               else f"All {len(lessons)} lessons, in teaching order")
    return shown


def _progress(lesson: Lesson) -> str:
    kept = player.answers(lesson.name)
    if not kept:
        return ""
    right = sum(r.answer.grade.right for r in kept.values())
    done = " · ✓ finished" if lesson.name in player.finished() else ""
    return f" · your answers: {len(kept)} of {lesson.questions} revealed, {right} right{done}"


def card(lesson: Lesson) -> None:
    with st.container(border=True, key=f"lessons_card_{lesson.name}"):
        st.subheader(lesson.title)
        st.caption(f"🎚️ {lesson.level} · ⏱️ about {lesson.duration} min · "
                   f"{len(lesson.steps)} steps, {lesson.questions} questions · for "
                   f"{lesson.audience}" + _progress(lesson))
        st.markdown("**Concepts:** " + ", ".join(lesson.concepts) + "  \n**Opens:** "
                    + ", ".join(PAGES[p].title for p in _pages(lesson)))
        with st.container(horizontal=True):
            player.start_link(lesson)
            player.start_link(lesson, present=True)


def catalogue_page() -> None:
    st.title("📚 Lessons")
    st.caption("Each lesson opens the pages in turn with the block, the input and the "
               "controls already set, asks you to predict a number before it reveals what "
               "cnnviz computes, and ends with a review of your answers, which this browser "
               "keeps. Change anything on the way; *Reset step* puts the step back. *Present "
               "to a class* opens the same lesson in large type for a projector, with ← and "
               "→ to move between steps.")
    catalog = player.catalog()
    player.load_kept()
    continue_box(catalog.lessons)
    shown = _filters(catalog.lessons) if catalog.lessons else ()
    for lesson in shown:
        card(lesson)
    if catalog.lessons and not shown:
        st.info("No lesson matches: clear the search or a filter.", icon="🔎")
    for problem in catalog.problems:  # a bad file is reported; the other lessons load
        st.error(safe_text(problem, limit=600), icon="🚫")
    if not catalog.lessons and not catalog.problems:
        st.info("No lessons yet: add a TOML file to assets/lessons/ (see the README).",
                icon="📝")


__all__ = ["card", "catalogue_page", "continue_box"]

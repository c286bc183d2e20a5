"""The way in: the Start here page (three paths: learn alone, teach, explore) and the
Glossary page (every entry under a heading with its anchor, for the metrics' links)."""
from __future__ import annotations

import streamlit as st

from cnnviz.lessons.glossary import ENTRIES
from cnnviz.pages import EXPLORER, GLOSSARY, JOIN, LESSONS, NETWORK, PageSpec
from cnnviz.ui.frame import startup
from cnnviz.ui.lessons import catalogue, player


def _link(page: PageSpec, label: str, icon: str, **params: str) -> None:
    st.page_link(str(startup.page_path(page)), label=label, icon=icon,
                 query_params=params or None)


def start_page() -> None:
    """Three ways in, each a card with the links that start it."""
    st.title("👋 Start here")
    st.markdown("cnnviz builds real PyTorch convolutional blocks and networks and shows what "
                "they do to an image: sizes, receptive fields, parameters, cost and gradients, "
                "each computed by formula and checked by running torch. Pick a way in.")
    lessons = player.catalog().lessons
    first = next(iter(lessons), None)
    player.load_kept()  # a learner coming back: where they left off
    catalogue.continue_box(lessons, key="start_continue")
    learn, teach, explore = st.columns(3)  # side by side; one under the other on a phone
    with learn:
        with st.container(border=True, key="start_learn", height="stretch"):
            st.subheader("🧑‍🎓 Learn on your own")
            st.markdown("A lesson opens the pages for you, step by step, and asks you to "
                        "predict each number before cnnviz reveals it. Your answers stay in "
                        "this browser, so you can come back later.")
            if first is not None:
                player.start_link(first, label=f"First lesson: {first.title}")
            _link(LESSONS, "All lessons, by topic and level", "📚")
    with teach:
        with st.container(border=True, key="start_teach", height="stretch"):
            st.subheader("🧑‍🏫 Teach a class")
            st.markdown("*Present to a class* shows a lesson in large type for a projector, "
                        "with ← and → between steps. Under each question, *Ask the room* "
                        "gives a code and a QR code: students answer on their phones, vote "
                        "again after discussing, and the projector shows the class's answers.")
            if first is not None:
                player.start_link(first, present=True,
                                  label=f"Present the first lesson: {first.title}")
            _link(LESSONS, "Choose a lesson to present", "📽️")
            _link(JOIN, "Where students join a room", "🙋")
    with explore:
        with st.container(border=True, key="start_explore", height="stretch"):
            st.subheader("🔎 Explore freely")
            st.markdown("Pick any block in the sidebar (VGG, ResNet, ResNeXt, MobileNet, "
                        "ConvNeXt and more), change its depth, kernel, stride and channels, "
                        "and see every number change. Or open a whole network.")
            _link(EXPLORER, EXPLORER.title, EXPLORER.icon)
            _link(NETWORK, "Networks, from AlexNet to ConvNeXt", NETWORK.icon)
    st.markdown("New words (MAC, receptive field, jump, stride…)? Every number's tooltip links "
                "to the glossary:")
    _link(GLOSSARY, GLOSSARY.title, GLOSSARY.icon)


def glossary_page() -> None:
    """Every entry: its word as a heading (anchored), its sentence, formula and sources."""
    st.title("📖 Glossary")
    st.caption("The words the pages' numbers use, one sentence each. A source follows every "
               "claim that is more than a definition of how cnnviz counts.")
    st.markdown(" · ".join(f"[{e.term}](#{e.anchor})" for e in ENTRIES))
    for entry in ENTRIES:
        st.subheader(entry.term, anchor=entry.anchor)
        st.markdown(entry.text)
        if entry.formula:
            st.latex(entry.formula)
        if entry.sources:
            st.caption("📖 " + "; ".join(entry.sources))


__all__ = ["glossary_page", "start_page"]

"""A design challenge's leaderboard entry on Trained Networks: its trained weights, read from
the challenge's database (any process of a hall), opened like the page's own networks.

The projector's *Open on Trained Networks* names the entry (its challenge and design) in
this session; the page then offers it under *Networks* with the canvas and the test
images. The weights are kept for the challenge's lifetime, bounded
(cnnviz.store.challenge_weights): an entry whose weights were dropped, or a challenge that
expired, is a sentence, and the page shows its shipped pair instead.
"""
from __future__ import annotations

import streamlit as st

from cnnviz.core.errors import InputError
from cnnviz.pages import TRAINED
from cnnviz.store import CHALLENGE_NOUN, challenge_store, normal_code
from cnnviz.topics.challenge import design_of
from cnnviz.topics.challenge_entries import entry_run
from cnnviz.topics.training import TrainRun
from cnnviz.ui.frame import cache, startup

ENTRY = "trained__challenge"   # {"code", "id", "nickname"}: the entry this session opened
SHOW = "trained__show_entry"   # select it on the next run of the page
OPTION = CHALLENGE_NOUN        # its name among the page's networks

__all__ = ["ENTRY", "OPTION", "SHOW", "entry_label", "entry_run_of", "load_entry", "open_entry"]


def open_entry(code: str, id: int, nickname: str) -> None:
    """Show a leaderboard entry on Trained Networks (this session goes there)."""
    st.session_state[ENTRY] = {"code": code, "id": int(id), "nickname": str(nickname)}
    st.session_state[SHOW] = True
    st.switch_page(str(startup.page_path(TRAINED)))


def entry_label() -> str:
    entry = st.session_state.get(ENTRY) or {}
    return f"design challenge: {entry.get('nickname', '')}'s design"[:80]


def load_entry(code: str, id: int) -> tuple[TrainRun, str]:
    """A kept entry's trained run and its design in words, from the challenge's database
    (cached for every session by cnnviz.ui.frame.cache.challenge_entry: read-only)."""
    store = challenge_store()
    challenge = store.challenge(code)
    submission = store.submission(id)
    if submission.code != challenge.code:
        raise InputError("That design is not one of this challenge's.")
    design = design_of(submission.spec, challenge.size)
    weights, record = store.weights(code, id)
    return entry_run(design, challenge.size, weights, record), design.describe()


def entry_run_of() -> tuple[TrainRun, str, str]:
    """The opened entry's run, its design in words and its cache key; InputError (a
    sentence) when it cannot be opened (its weights dropped, the challenge expired)."""
    entry = st.session_state.get(ENTRY)
    if not isinstance(entry, dict):
        raise InputError("No challenge design was opened here.")
    code = normal_code(entry.get("code", ""), CHALLENGE_NOUN)
    id = entry.get("id")
    if not isinstance(id, int):
        raise InputError("No challenge design was opened here.")
    run, words = cache.challenge_entry(code, id, load_entry)
    return run, words, f"challenge/{code}/{id}"

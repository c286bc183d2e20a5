"""The room database seen from a page: one error boundary for every store call.

Any call to the room store can fail (the database unreachable, locked, its file removed or
replaced): the failure is a sentence on the page, and the rest of the page runs on.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from cnnviz.store import RoomError, RoomStore, store
from cnnviz.ui.frame.text import safe_text


@contextmanager
def room_errors() -> Iterator[None]:
    """Around store calls: a RoomError (StoreUnavailable among them) ends the block and is
    shown as one sentence (text, never Markdown), never as an exception box."""
    try:
        yield
    except RoomError as e:
        st.error(safe_text(e, limit=300), icon="🚫")


def open_store() -> RoomStore | None:
    """The room database, or None after saying (one sentence) why it is unavailable."""
    with room_errors():
        return store()
    return None

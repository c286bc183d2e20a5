"""A page's state in the URL: one way to write it, word a replaced value, and warn.

A shared link is read once into widget state; each value that cannot be used is replaced
by its default with a warning, shown above the page until the learner changes something.
"""
from __future__ import annotations

from collections.abc import Callable, Hashable

import streamlit as st

from cnnviz.ui.frame.text import clause, safe_text


def write(wanted: dict[str, str], ours: Callable[[str], bool]) -> None:
    """Make the query parameters `ours` recognises equal `wanted` (others stay: other pages
    keep their own values there); unchanged values are not written again."""
    q = st.query_params
    for name in [n for n in q if ours(n) and n not in wanted]:
        del q[name]
    for name, value in wanted.items():
        if q.get(name) != value:
            q[name] = value


def ignored(name: str, value: str, e: Exception, default: object) -> str:
    """The warning for a URL value replaced by its default."""
    return (f"URL value {safe_text(name)}={safe_text(value, quoted=True)} ignored "
            f"({clause(e)}); using {safe_text(default)}.")


def show_warnings(key: str, warnings: list[str], result: Hashable) -> None:
    """Keep the warnings of a URL just read, with the `result` they led to, and show them
    on every run while the page still shows that result."""
    state = st.session_state
    if warnings:
        state[key] = (warnings, result)
    shown, loaded = state.get(key, ([], None))
    if shown and loaded == result:
        for w in shown:
            st.warning(w, icon="⚠️")

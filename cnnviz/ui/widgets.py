"""Small widgets every page shares: URL-bound tabs, the verdict on a guess, errors."""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import streamlit as st

from cnnviz.core.arithmetic import relative_error
from cnnviz.deploy.warmup import ensure_imported
from cnnviz.ui.text import safe_text


def view_tabs(labels: list[str], key: str = "view") -> Sequence[Any]:
    """Tabs whose choice lives in the URL (?view=<label>); each reports `.open`, so a page
    can run and draw only the open one. A URL value naming no tab warns and opens the first.
    """
    asked = st.query_params.get(key)
    if asked not in (None, labels[0]):  # a tab beyond the first draws tables: import all
        ensure_imported()
    if asked is not None and asked not in labels:
        st.warning(f"URL value {key}={safe_text(asked, quoted=True)} names no tab of this page; "
                   f"showing {safe_text(labels[0], quoted=True)}.", icon="⚠️")
    return st.tabs(labels, key=key, bind="query-params")


def show_grade(what: str, guess: int, truth: int) -> None:
    """The verdict on a learner's prediction: right, or the answer and how far off."""
    off = relative_error(guess, truth)
    if guess == truth:
        st.success(f"✅ {what} = {truth:,}: right!")
    else:
        st.warning(f"❌ {what} = {truth:,}; you said {guess:,} ({off:.1f}% off).")


def show_error(exc: BaseException) -> None:
    """The message of an error, never a traceback."""
    if isinstance(exc, ValueError):
        st.error(safe_text(exc, limit=600), icon="🚫")
    else:
        st.error(safe_text(f"Something went wrong ({type(exc).__name__}): {exc}", limit=600),
                 icon="🚫")



def number_or_warn(text: str) -> float | None:
    """A typed guess as a number (commas, spaces and underscores allowed), or None; a
    warning when it is not one."""
    cleaned = text.replace(",", "").replace("_", "").replace(" ", "")
    if not cleaned:
        return None
    try:
        value = float(cleaned)
        if not math.isfinite(value):  # nan and inf parse, but no answer is either
            raise ValueError
        return value
    except ValueError:
        st.warning(f"{safe_text(text, quoted=True)} is not a number; type digits, e.g. 12 or "
                   f"0.25 or 6.4e8.", icon="⚠️")
        return None

"""A vs B: pin the design on screen as A, change the picker (B), see the two side by side.

A lives in the URL (`?a=<A's own query>`), so a shared link opens the same comparison;
a value there that names no design gets one warning and no comparison.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar
from urllib.parse import parse_qsl, urlencode

import streamlit as st

from cnnviz.core.errors import InputError
from cnnviz.core.network.report import StageRow
from cnnviz.core.walk import Prediction
from cnnviz.render import compare_rows
from cnnviz.ui.frame.text import safe_text
from cnnviz.ui.frame.widgets import table

PIN = "a"
T = TypeVar("T")


def query_fields(raw: str) -> dict[str, str]:
    """The name=value fields of a query text; InputError when a field has no '=' (what
    parse_qsl's strict parsing refuses, checked here so no ValueError of the library's is
    taken for a refusal)."""
    if raw and not all("=" in field for field in raw.split("&")):
        raise InputError("every part of it must be name=value, joined by &")
    return dict(parse_qsl(raw, keep_blank_values=True))


def pinned(read: Callable[[Mapping[str, str]], T]) -> T | None:
    """The design pinned as A (`read` makes it from its query), or None."""
    raw = st.query_params.get(PIN)
    if raw is None:
        return None
    try:
        return read(query_fields(raw))
    except InputError as e:
        st.warning(f"URL value {PIN}={safe_text(raw, quoted=True)} names no design to compare "
                   f"({safe_text(str(e).rstrip('.'), limit=200)}); showing no comparison.",
                   icon="⚠️")
        return None


def pin_buttons(query: Mapping[str, str], is_pinned: bool, key: str) -> None:
    """*Pin as A* (this design, as its link's query) and, with A pinned, *Unpin A*."""
    with st.container(horizontal=True):
        st.button("📌 Pin as A", key=f"{key}_pin", on_click=_pin, args=(urlencode(query),),
                  help="keep this design as A, then change the picker: A and B side by side "
                       "(the comparison is in the URL, so a link shares it)")
        if is_pinned:
            st.button("Unpin A", key=f"{key}_unpin", on_click=_unpin)


def _pin(text: str) -> None:
    st.query_params[PIN] = text


def _unpin() -> None:
    st.query_params.pop(PIN, None)


def headline(a: Prediction, b: Prediction, a_label: str, b_label: str) -> None:
    """The numbers of A and B, the change and the ratio."""
    st.subheader("A vs B")
    st.caption(f"**A**: {safe_text(a_label, limit=200)} · **B** (on screen now): "
               f"{safe_text(b_label, limit=200)}")
    table(compare_rows.headline_rows(a, b))


def layers(a: Prediction, b: Prediction) -> None:
    """A's and B's layers aligned, row by row."""
    with st.expander("Layer by layer, A and B"):
        table(compare_rows.layer_rows(a.layers, b.layers))


def stages(a: Sequence[StageRow], b: Sequence[StageRow]) -> None:
    """Two networks' stages aligned, stage by stage."""
    with st.expander("Stage by stage, A and B", expanded=True):
        table(compare_rows.stage_rows(a, b))

"""A page's controls drawn from its PageSpec (cnnviz.pages).

The widget key, the range or the choices and the starting value of each control are
written once, in the contract; the page draws its widgets from there, and the lesson
player, the warm-up, the tests and the load bench read the same description. The page
keeps what is presentation only: the label, the help, the kind of widget.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import streamlit as st

from cnnviz.core.spec import StackSpec
from cnnviz.pages import Control, PageSpec


def of(page: PageSpec, values: Mapping[str, Any] | None = None) -> dict[str, Control]:
    """The controls of `page` by name (those that depend on `values` included)."""
    return page.all_controls(values or {})


def start(page: PageSpec, spec: StackSpec | None, values: Mapping[str, Any] | None = None
          ) -> None:
    """Give each control of `page` its starting value, unless the session has one (a
    student's choice, or a lesson step's)."""
    controls = of(page, values)
    for name, value in page.starting_values(spec, values).items():
        if not controls[name].in_url:
            st.session_state.setdefault(controls[name].key, value)


def start_own(page: PageSpec) -> None:
    """Give each of `page`'s own controls (a learner's; no step sets them) its default,
    unless the session has a value."""
    for control in page.own_controls:
        if control.default is not None:
            st.session_state.setdefault(control.key, control.default)


def draw(control: Control, widget: Callable[..., Any], label: str = "", **kwargs: Any) -> Any:
    """Draw `control` with a Streamlit widget (st.slider, a column's selectbox, ...): its
    label (another only where the page words it with a number it knows), its key, and its
    choices or its range (`high` may narrow it, as a stack's depth does)."""
    label = label or control.label
    if control.choices == (False, True):  # a toggle or a checkbox
        return widget(label, key=control.key, **kwargs)
    if control.choices:
        return widget(label, control.choices, key=control.key, **kwargs)
    high = kwargs.pop("high", control.high)
    return widget(label, control.low, high, key=control.key, **kwargs)

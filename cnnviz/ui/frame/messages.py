"""What the browser sends is user input, checked where Streamlit first reads it.

A widget's or component's value can arrive as JSON text (a custom component's state, a
chart's selection). Streamlit parses it with `json.loads` before any page runs, and text
that is not JSON, or nested too deep to parse, raised there: an exception box on every
later run of the session, outside any page's reach. `install` makes such a value read as
a cleared one (the widget's default), and refuses JSON text longer than `MAX_JSON_CHARS`
before parsing it. What remains (fields missing, of the wrong type, too large) is the
page's to check, e.g. cnnviz.core.handwriting.canvas_pixels for the drawing canvas.

Any widget's value is read by its own deserializer in the same place, and a value no
browser sends (an unknown label for a selectbox, NaN or infinity for a whole-number input,
a file upload or a string for a number) made it raise there: the same exception box on
every later run. A value in another field than its widget's (an int for a tab bar) was
even kept, and raised when Streamlit wrote it back. A choice's value that is none of its
options (Streamlit passes such a label through, for a selectbox that accepts new options)
reached the on_change callbacks, which run before the widget checks it, and raised there.
`install` makes all three a cleared value: a value its widget cannot read, a value in a
field its widget does not read, and a choice that is not one of the options the widget
last showed. (No widget of cnnviz accepts new options; one that did would need its typed
values let through here.)
"""
from __future__ import annotations

import json
import logging
from typing import Any

from streamlit.runtime.state import common, session_state
from streamlit.runtime.state.session_state import Serialized, Value, WStates

# A canvas's drawing (its PNG as a data URL, at most the upload limit, plus its strokes)
# fits with room to spare; nothing the app reads as JSON is larger.
MAX_JSON_CHARS = 8 * 10**6

_LOG = logging.getLogger(__name__)
_original = common.unpack_widget_state_value
_original_getitem = WStates.__getitem__
# What a widget's deserializer raises on a value of the wrong type, shape or size (int() of
# NaN or infinity, an index of a label that is no option, a field of the wrong kind).
UNREADABLE = (ValueError, TypeError, OverflowError, LookupError, AttributeError,
              RecursionError)
NUMBER_FIELDS = {"int_value", "double_value"}


def read_widget_value(widget_state: Any) -> Any:
    """Streamlit's own reading of a widget's value, with JSON text checked: too long, not
    JSON or too deep reads as None (a cleared value)."""
    if widget_state.WhichOneof("value") != "json_value":
        return _original(widget_state)
    text = widget_state.json_value
    if len(text) > MAX_JSON_CHARS:
        _LOG.warning("Refused a widget value of %d characters (the limit is %d).",
                     len(text), MAX_JSON_CHARS)
        return None
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError) as e:
        _LOG.warning("Refused a widget value that is not JSON (%s).", type(e).__name__)
        return None


def read_widget_state(states: WStates, key: str) -> Any:
    """Streamlit's WStates lookup, where a browser's value meets its widget's deserializer:
    a value the deserializer cannot read, or a choice that is none of the widget's options,
    reads as a cleared one (the widget's default), kept so, instead of raising on this run
    and every later one."""
    wstate, metadata = states.states.get(key), states.widget_metadata.get(key)
    if not isinstance(wstate, Serialized) or metadata is None:
        return _original_getitem(states, key)  # not a browser's value, or not yet read
    why = _wrong_field(wstate.value, metadata.value_type) or \
        _not_an_option(metadata.deserializer, wstate.value)
    if why is None:
        try:
            return _original_getitem(states, key)
        except UNREADABLE as e:
            why = type(e).__name__
    _LOG.warning("Refused a widget value its widget cannot read (%s, sent in %s).",
                 why, wstate.value.WhichOneof("value"))
    value = metadata.deserializer(None)
    states.states[key] = Value(value)
    return value


def _wrong_field(widget_state: Any, value_type: str | None) -> str | None:
    """Why a value came in a field its widget does not read, or None (it did, or it was
    cleared). A whole-number input reads an int or a double alike."""
    field = widget_state.WhichOneof("value")
    if field is None or field == value_type or {field, value_type} <= NUMBER_FIELDS:
        return None
    return f"a value for {value_type}"


def _not_an_option(deserializer: Any, widget_state: Any) -> str | None:
    """Why a choice widget's value is none of its options, or None when it is one (or the
    widget is not a choice: its deserializer knows no options)."""
    options = getattr(getattr(deserializer, "__self__", None),
                      "formatted_option_to_option_index", None)
    if not isinstance(options, dict):
        return None
    field = widget_state.WhichOneof("value")
    if field == "string_value":
        sent = [widget_state.string_value]
    elif field == "string_array_value":
        sent = list(widget_state.string_array_value.data)
    else:
        return None if field is None else "a choice in a field no choice uses"
    return None if all(v in options for v in sent) else "a choice that is no option"


def install() -> None:
    """Route Streamlit's reading of widget values through `read_widget_value` and
    `read_widget_state` (once)."""
    session_state.unpack_widget_state_value = read_widget_value
    WStates.__getitem__ = read_widget_state  # type: ignore[method-assign]

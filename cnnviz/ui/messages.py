"""What the browser sends is user input, checked where Streamlit first reads it.

A widget's or component's value can arrive as JSON text (a custom component's state, a
chart's selection). Streamlit parses it with `json.loads` before any page runs, and text
that is not JSON, or nested too deep to parse, raised there: an exception box on every
later run of the session, outside any page's reach. `install` makes such a value read as
a cleared one (the widget's default), and refuses JSON text longer than `MAX_JSON_CHARS`
before parsing it. What remains (fields missing, of the wrong type, too large) is the
page's to check, e.g. cnnviz.core.handwriting.canvas_pixels for the drawing canvas.
"""
from __future__ import annotations

import json
import logging
from typing import Any

from streamlit.runtime.state import common, session_state

# A canvas's drawing (its PNG as a data URL, at most the upload limit, plus its strokes)
# fits with room to spare; nothing the app reads as JSON is larger.
MAX_JSON_CHARS = 8 * 10**6

_LOG = logging.getLogger(__name__)
_original = common.unpack_widget_state_value


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


def install() -> None:
    """Route Streamlit's reading of widget values through `read_widget_value` (once)."""
    session_state.unpack_widget_state_value = read_widget_value

"""Small widgets every page shares: URL-bound tabs, the verdict on a guess, errors."""
from __future__ import annotations

import base64
import io
import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from enum import Enum
from typing import Any

import numpy as np
import streamlit as st
from PIL import Image

from cnnviz.core.arithmetic import relative_error
from cnnviz.core.errors import AnswerError, InputError
from cnnviz.core.numbers import TooLarge, parse_number
from cnnviz.pages import PageSpec
from cnnviz.ui.frame import startup
from cnnviz.ui.frame.text import Code, cell_text, code_cell, safe_text


def view_tabs(page: PageSpec) -> dict[Enum, Any]:
    """The page's views as tabs, by name, whose choice lives in the URL (?view=<label>);
    each reports `.open`, so a page can run and draw only the open one. A URL value naming
    no tab warns and opens the first.
    """
    views, labels, key = _views(page)
    _check_view(labels, key)
    return dict(zip(views, st.tabs(labels, key=key, bind="query-params")))


def view_choice(page: PageSpec) -> Enum:
    """The open view as a row of buttons above it, its choice in the URL as view_tabs's;
    the page draws the chosen one below, in its own flow.

    For a page whose view redraws often (a canvas's strokes): the browser draws a tab's
    whole content again on every message of a run, and a view in the page's flow only
    the elements that changed (10-12 ms of a stroke's 300, measured)."""
    views, labels, key = _views(page)
    _check_view(labels, key)
    label = st.segmented_control("View", labels, key=key, default=labels[0], required=True,
                                 bind="query-params", label_visibility="collapsed")
    return next((v for v in views if v.value == label), views[0])


def _views(page: PageSpec) -> tuple[list[Enum], list[str], str]:
    assert page.views is not None, page.name
    views = list(page.views)
    return views, [v.value for v in views], page.view_key


def _check_view(labels: list[str], key: str) -> None:
    """A URL value naming no view warns (the first one opens)."""
    asked = st.query_params.get(key)
    if asked not in (None, labels[0]):  # a view beyond the first draws tables: import all
        startup.prepare()
    if asked is not None and asked not in labels:
        st.warning(f"URL value {key}={safe_text(asked, quoted=True)} names no view of this "
                   f"page; showing {safe_text(labels[0], quoted=True)}.", icon="⚠️")


def show_grade(what: str, guess: int, truth: int) -> None:
    """The verdict on a learner's prediction: right, or the answer and how far off."""
    off = relative_error(guess, truth)
    if guess == truth:
        st.success(f"✅ {what} = {truth:,}: right!")
    else:
        how_far = f" ({off:.1f}% off)" if math.isfinite(off) else ""  # no percent of 0
        st.warning(f"❌ {what} = {truth:,}; you said {guess:,}{how_far}.")


# The one boundary between cnnviz's refusals and the page: an InputError (cnnviz.core.errors,
# each carrying its sentence) is shown as that sentence; nothing else is caught here, so a
# ValueError from torch or a bug is Streamlit's own error (its details as
# .streamlit/config.toml's client.showErrorDetails allows, the trace in the server's log).
@contextmanager
def stop_on_error(context: str = "", errors: tuple[type[InputError], ...] = (InputError,)
                  ) -> Iterator[None]:
    """Run the block; if it raises one of `errors` (InputError or its kinds), show its
    sentence (after `context`, the sentence that says what could not be done) and stop the
    page's run there."""
    try:
        yield
    except errors as e:
        show_error(e, context)
        st.stop()


def show_error(exc: InputError, context: str = "") -> None:
    """The sentence of a refusal (after `context`, what could not be done), never a
    traceback."""
    sentence = f"{context}: {exc}" if context else str(exc)
    st.error(safe_text(sentence, limit=600), icon="🚫")


def number_or_warn(text: str) -> float | None:
    """A typed guess as a number (commas, spaces and underscores allowed), or None; a
    warning when it is not one the answer rule accepts (cnnviz.core.numbers)."""
    if not text.replace(",", "").replace("_", "").replace(" ", ""):
        return None
    try:
        return parse_number(text)
    except TooLarge:
        st.warning(f"{safe_text(text, quoted=True)} is too large: an answer is at most 1e15 "
                   f"(a million billion) either side of zero.", icon="⚠️")
    except AnswerError:
        st.warning(f"{safe_text(text, quoted=True)} is not a number; type digits, e.g. 12 or "
                   f"0.25 or 6.4e8.", icon="⚠️")
    return None


def picture(where: Any, pixels: np.ndarray | bytes | str, *, caption: str,
            width: Any = "content") -> None:
    """An image (RGB array, PNG bytes or their data URL) in `where` (st or a column) whose
    caption is also its alternative text, for a screen reader (WCAG 1.1.1). It travels
    inside the page's message as a data URL: no media file to store per session, and no
    request per image for the browser (a stroke's maps would otherwise arrive 40-90 ms
    after the answer)."""
    where.image(png_data_url(pixels), caption=caption, width=width, alt=caption)


def png_data_url(pixels: np.ndarray | bytes | str) -> str:
    """An RGB array or PNG bytes as a data URL (a data URL is returned as it is)."""
    if isinstance(pixels, str):
        return pixels
    if isinstance(pixels, np.ndarray):
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, format="PNG", compress_level=1)  # fast, small
        pixels = buffer.getvalue()
    return "data:image/png;base64," + base64.b64encode(pixels).decode("ascii")


# Streamlit highlights code in a fixed palette that no theme option reaches, some of it
# under WCAG AA's 4.5:1 on the code background (strings 3:1, keywords 3.8:1). These
# colours are 5.4:1 to 7:1 and keep the usual meaning: keywords blue, strings green.
_TOKENS = {"keyword": "#0b57d0", "string, char, triple-quoted-string, attr-value": "#137333",
           "number, boolean, constant, regex": "#8430ce",
           "function, class-name, decorator, builtin": "#a3331c",
           "comment, prolog": "#5f6368", "operator, punctuation, property, variable": "#111111"}
_CODE_STYLE = "<style>" + "".join(
    ", ".join(f".stCode .token.{name.strip()}" for name in names.split(","))
    + f" {{color: {colour} !important;}}" for names, colour in _TOKENS.items()) + "</style>"


def pixel_pictures() -> None:
    """The page's pictures are enlarged by the browser without smoothing: an array sent at
    a small size is drawn large as sharp squares, one per value, as if enlarged here (a
    picture of maps then encodes and travels several times smaller)."""
    st.html("<style>[data-testid='stImage'] img {image-rendering: pixelated;}</style>")


def python_code(code: str) -> None:
    """Highlighted Python whose every colour is readable (WCAG 2.1 AA contrast)."""
    st.html(_CODE_STYLE)
    st.code(code, language="python")


# Every page, every run: what a 390-px phone needs. Plotly's toolbar would lie over a chart's
# title at a tap; a table's cells wrap. A formula never scrolls (a box that scrolls must
# take the keyboard's focus, WCAG's scrollable-region rule; KaTeX's display box scrolled by
# a pixel or two of its own height).
SCREEN_STYLE = """<style>
@media (max-width: 640px) { .modebar-container { display: none !important; } }
.katex-display { overflow: visible !important; }
[data-testid="stTable"] :is(td, th) { overflow-wrap: anywhere; }
[data-testid="stPageLink"] :is(span, div, p) { white-space: normal; overflow: visible; }
</style>"""
LONG_TABLE_ROWS = 20  # longer tables scroll inside a box of TABLE_PX, their header kept
TABLE_PX = 620


def table(rows: Sequence[Mapping[str, Any]]) -> None:
    """Rows of plain values as a static table: every cell read whole on a phone (it wraps)
    and sized up with the text on a projector, where st.dataframe's canvas grid cuts long
    cells and keeps its own small type. st.table reads Markdown in cells, so every cell
    is escaped text, or a code span for a value marked Code (a name from a person's own
    model)."""
    cells = table_cells(rows)
    if len(cells) > LONG_TABLE_ROWS:
        st.table(cells, hide_index=True, height=TABLE_PX)
    else:
        st.table(cells, hide_index=True)


def table_cells(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """What table() shows for `rows`: every cell as escaped text (the headers are the code's
    own words, kept as written)."""
    return [{k: _cell(v) for k, v in row.items()} for row in rows]


def _cell(value: Any) -> str:
    if isinstance(value, Code):  # a name from a person's code, shown as code
        return code_cell(value)
    if isinstance(value, bool) or value is None:
        return "" if value is None else ("yes" if value else "no")
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:,}"  # callers round
    return cell_text(value)

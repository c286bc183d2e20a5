"""User text as text: the one helper every user-supplied string passes through.

Streamlit renders the body of st.markdown, st.warning, st.error, st.caption and widget
labels as Markdown with LaTeX, emoji shortcodes and colour directives. A value from a URL,
a file name or an upload shown there unescaped can become a link, an image fetched by
every visitor's browser, or a formula. `safe_text` makes any string inert.
"""
from __future__ import annotations

import string

MAX_SHOWN = 80  # longer user values are cut: a tampered URL should not fill the page
# CommonMark lets a backslash escape any ASCII punctuation: that stops links, images, HTML
# (\<b>), LaTeX (\$), emphasis, emoji shortcodes and colour directives (\:red[).
_ESCAPES = str.maketrans({c: "\\" + c for c in string.punctuation})
# GFM's autolinks are found in the text after escapes are resolved (a bare http://, www.
# or an e-mail address becomes a link), so an invisible word joiner splits their markers.
_JOINER = "\u2060"
_AUTOLINK_MARKERS = {"://": ":" + _JOINER + "//", "www.": "www" + _JOINER + ".",
                     "@": _JOINER + "@"}


def safe_text(value: object, quoted: bool = False, limit: int = MAX_SHOWN) -> str:
    """`value` as Markdown that renders exactly its characters.

    Line breaks and other control characters become spaces (so a value cannot start a
    heading or a list), values longer than `limit` are cut with an ellipsis, and
    `quoted=True` wraps the result in quotes, as repr() would for a string.
    """
    text = _inert_lines(value, limit).translate(_ESCAPES)
    return f"'{text}'" if quoted else text


def _inert_lines(value: object, limit: int) -> str:
    """One line (control characters as spaces), cut at `limit`, its autolinks split."""
    text = "".join(" " if not ch.isprintable() else ch for ch in str(value))
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    for marker, split in _AUTOLINK_MARKERS.items():
        text = text.replace(marker, split)
    return text


# Inside one table cell only inline Markdown can start (no heading, list or quote): these.
_INLINE = "\\`*_[]<>!|~$:@&"
_INLINE_ESCAPES = str.maketrans({c: "\\" + c for c in _INLINE})


def cell_text(value: object, limit: int = 400) -> str:
    """`value` as a table cell (st.table reads Markdown in cells) that shows exactly its
    characters: safe_text's rules for the inline marks only, so "1.79 G" stays as written."""
    return _inert_lines(value, limit).translate(_INLINE_ESCAPES)


def clause(e: Exception) -> str:
    """An error's message as a clause inside a longer sentence: escaped, no final stop."""
    return safe_text(str(e).rstrip("."), limit=300)


class Code(str):
    """A table cell shown as code (monospace, exactly its characters): a name from a
    person's own model, such as a module's path, which has no words of its own."""


def code_cell(value: object, limit: int = 200) -> str:
    """`value` as a Markdown code span: its characters shown literally (no link, emphasis,
    LaTeX or HTML starts inside one), fenced by one backtick more than its longest run."""
    text = "".join(" " if not ch.isprintable() else ch for ch in str(value))
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    if not text.strip():
        return ""
    run = longest = 0
    for ch in text:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    fence = "`" * (longest + 1)
    pad = " " if text[0] in "` " or text[-1] in "` " else ""  # CommonMark strips one each
    return f"{fence}{pad}{text}{pad}{fence}"

"""ui.safe_text: a user's string renders as exactly its characters, never as Markdown."""
from __future__ import annotations

import re
import string

import pytest

from cnnviz.ui.frame.text import MAX_SHOWN, cell_text, code_cell, safe_text

PAYLOADS = [
    "[X](http://127.0.0.1:9/evil)",          # a link inside a warning
    "![X](http://127.0.0.1:9/pixel.png)",    # an image every visitor would fetch
    "**bold** _it_ ~~gone~~ `code`",
    "<b>html</b><img src=x onerror=alert(1)>",
    "$x^2$ and $$\\int$$",                   # LaTeX
    ":red[colour] :material/home: :smile:",  # Streamlit's directives and shortcodes
    "http://127.0.0.1:9/bare-autolink www.example.org",
    "# heading\n- list\n> quote",
    "&lt;entity&gt; | table | \\ backslash",
]


def unescape(markdown: str) -> str:
    return re.sub(r"\\(.)", r"\1", markdown).replace("\u2060", "")


@pytest.mark.parametrize("payload", PAYLOADS)
def test_every_markdown_character_is_escaped(payload):
    text = safe_text(payload, limit=1000)
    unescaped = [c for i, c in enumerate(text) if c in string.punctuation and
                 (i == 0 or text[i - 1] != "\\") and c != "\\"]
    assert not unescaped, (payload, text)
    assert unescape(text) == payload.replace("\n", " ")  # the reader sees the same characters


def test_line_breaks_and_control_characters_become_spaces():
    assert safe_text("a\nb\r\tc\x00d") == "a b  c d"


def test_long_values_are_cut_and_quoted_on_request():
    long = "x" * 500
    assert safe_text(long) == "x" * (MAX_SHOWN - 1) + "…"
    assert safe_text("nope", quoted=True) == "'nope'"
    assert safe_text(3.5) == "3\\.5"


def test_autolink_markers_are_split_invisibly():
    text = safe_text("see http://x.org, www.y.org and me@z.org")
    plain = text.replace("\\", "")
    assert "://" not in plain and "www." not in plain and "e@" not in plain
    assert plain.replace("\u2060", "") == "see http://x.org, www.y.org and me@z.org"


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_table_cell_escapes_every_inline_mark_and_keeps_the_rest(payload):
    text = cell_text(payload, limit=1000)
    marks = "\\`*_[]<>!|~$:@&"
    unescaped = [c for i, c in enumerate(text) if c in marks and c != "\\" and
                 (i == 0 or text[i - 1] != "\\")]
    assert not unescaped, (payload, text)
    assert unescape(text) == payload.replace("\n", " ")
    assert cell_text("1.79 G · 64 × 56 × 56 (-3%)") == "1.79 G · 64 × 56 × 56 (-3%)"


def code_span_text(markdown: str) -> str:
    """What CommonMark shows for one code span (spec 6.1): the text between two equal
    backtick runs, no equal run inside, one space stripped from each end when both are
    spaces; no escape or other mark is read inside."""
    fence = re.match(r"`+", markdown).group(0)
    assert markdown.endswith(fence) and len(markdown) > 2 * len(fence), markdown
    inner = markdown[len(fence):-len(fence)]
    runs = re.findall(r"`+", inner)
    assert fence not in runs, markdown  # an equal run inside would close the span early
    if inner.startswith(" ") and inner.endswith(" ") and inner.strip():
        inner = inner[1:-1]
    return inner


@pytest.mark.parametrize("payload", [*PAYLOADS, "layer1.0.conv1", "`x", "a``b`", "` `",
                                     " spaced "])
def test_a_code_cell_shows_exactly_its_characters(payload):
    assert code_span_text(code_cell(payload, limit=1000)) == payload.replace("\n", " ")

"""A step's references to a section of its page, as links that scroll to it.

A step's text says "Section 4 of this page" (a page whose headings are numbered,
"4 · Dilated convolutions and gridding") or "the section *Checkerboard artifacts*" (a
heading's words in italics or bold). The page declares its headings with their anchors
(cnnviz.pages PageSpec.headings) and draws them with those anchors; the player shows the
step's text with each reference made a Markdown link to `#anchor`, which the browser
scrolls to. `lesson check` refuses a section number the page does not have.
"""
from __future__ import annotations

import re
from collections.abc import Callable

from cnnviz.pages import PageSpec

NUMBERED = re.compile(r"\b([Ss]ection)\s+([0-9]{1,2})\b(?!\])")
_NUMBER = re.compile(r"^([0-9]{1,2}) · ")


def _numbers(page: PageSpec) -> dict[int, str]:
    """{section number: anchor} for the page's numbered headings."""
    out = {}
    for anchor, text in page.headings:
        m = _NUMBER.match(text)
        if m:
            out[int(m.group(1))] = anchor
    return out


def missing(text: str, page: PageSpec) -> list[int]:
    """The section numbers `text` names that the page does not have."""
    have = _numbers(page)
    return sorted({int(m.group(2)) for m in NUMBERED.finditer(text)} - set(have))


def _to(anchor: str) -> Callable[[re.Match], str]:
    """The replacement of "section *Words*" by a link to `anchor`."""
    def link(m: re.Match) -> str:
        words = " ".join(m.group(3).split())
        return f"{m.group(1)} [{m.group(2)}{words}{m.group(2)}](#{anchor})"
    return link


def linked(text: str, page: PageSpec) -> str:
    """`text` with every reference to one of the page's sections made a link to it."""
    numbers = _numbers(page)

    def by_number(m: re.Match) -> str:
        anchor = numbers.get(int(m.group(2)))
        return f"[{m.group(1)} {m.group(2)}](#{anchor})" if anchor else m.group(0)

    text = NUMBERED.sub(by_number, text)
    for anchor, heading in page.headings:
        words = _NUMBER.sub("", heading).split()
        title = re.compile(r"\b([Ss]ection)\s+(\*{1,2})(" + r"\s+".join(map(re.escape, words))
                           + r")\2", re.IGNORECASE)
        text = title.sub(_to(anchor), text)
    return text


__all__ = ["linked", "missing"]

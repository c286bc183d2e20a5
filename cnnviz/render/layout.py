"""What every chart's layout shares: titles that fit a phone.

Plotly draws a title on one line and cuts it at the chart's edge: on a 390-px phone a chart
is about 360 px wide, room for about 40 characters of title type.
"""
from __future__ import annotations

import textwrap

TITLE_CHARS = 40
LINE_PX = 22  # one title line, with its spacing


def title(text: str, width: int = TITLE_CHARS) -> tuple[dict, int]:
    """Plotly's title for `text`, broken at spaces into lines of at most `width` characters,
    and the top margin those lines need."""
    lines = textwrap.wrap(text, width) or [""]
    return dict(text="<br>".join(lines)), 18 + LINE_PX * len(lines)

"""Page policy: what each page starts from and the presets it offers (no streamlit here)."""
from __future__ import annotations

from cnnviz.pages import ARITH_GEOMETRY

# Plain vs Residual's stories and its controls: cnnviz.pages (STORIES, PLAIN_VS_RESIDUAL).
# --- Convolution Arithmetic ----------------------------------------------------------
# its geometry's controls, ranges and defaults: cnnviz.pages.ARITH_GEOMETRY


def page_defaults(config: dict | None, height: int | None = None,
                  width: int | None = None) -> dict[str, int]:
    """The arithmetic page's numbers: the picked block's geometry where it fits the grid.

    `config` is a resolved block configuration (padding already a number); values
    outside what the page animates keep the page's own defaults.
    """
    values = {c.name: c.default for c in ARITH_GEOMETRY}
    given = dict(config or {})
    given.update({"height": height, "width": width})
    for c in ARITH_GEOMETRY:
        v = given.get(c.name)
        if isinstance(v, int) and not isinstance(v, bool) and c.low <= v <= c.high:
            values[c.name] = v
    return values

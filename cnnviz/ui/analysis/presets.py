"""Page policy: what each page starts from and the presets it offers (no streamlit here)."""
from __future__ import annotations

from cnnviz.pages import ARITH_GEOMETRY

# --- Plain vs Residual --------------------------------------------------------------
# The page's story presets: the overrides each one applies to the picker's spec. The first
# is where the page starts (its controls' defaults in cnnviz.pages, a test holds).
STORIES = {
    "Vanishing gradient: no norm, torch's default init": dict(norm="none", init="torch",
                                                              zero_init_last=False),
    "Exploding forward signal: no norm, Kaiming init": dict(norm="none", init="kaiming_out",
                                                            zero_init_last=False),
    "Batch normalization: the forward scale fixed, the plain gradient grows":
        dict(norm="batch", init="kaiming_out", zero_init_last=False),
    "Each residual branch started at zero": dict(norm="none", init="kaiming_out",
                                                  zero_init_last=True),
    "A smaller (Xavier) init: slower growth, not none": dict(norm="none", init="xavier",
                                                             zero_init_last=False),
}
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

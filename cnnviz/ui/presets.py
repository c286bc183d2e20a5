"""Page policy: what each page starts from and the presets it offers (no streamlit here)."""
from __future__ import annotations

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
PAGE_DEFAULTS = {"height": 5, "width": 7, "kernel_size": 3, "stride": 2, "padding": 1,
                 "dilation": 1, "output_padding": 0}
PAGE_LIMITS = {"height": (1, 12), "width": (1, 12), "kernel_size": (1, 7), "stride": (1, 4),
               "padding": (0, 4), "dilation": (1, 3), "output_padding": (0, 3)}


def page_defaults(config: dict | None, height: int | None = None,
                  width: int | None = None) -> dict[str, int]:
    """The arithmetic page's numbers: the picked block's geometry where it fits the grid.

    `config` is a resolved block configuration (padding already a number); values
    outside what the page animates keep the page's own defaults.
    """
    values = dict(PAGE_DEFAULTS)
    given = dict(config or {})
    given.update({"height": height, "width": width})
    for name, (low, high) in PAGE_LIMITS.items():
        v = given.get(name)
        if isinstance(v, int) and not isinstance(v, bool) and low <= v <= high:
            values[name] = v
    return values

"""Page policy: what each page starts from and the presets it offers (no streamlit here)."""
from __future__ import annotations

from cnnviz.core.layers import ACTS
from cnnviz.core.spec import StackSpec

# --- Plain vs Residual --------------------------------------------------------------
# The page's story presets: the overrides each one applies to the picker's spec.
STORIES = {
    "Vanishing gradient: no norm, torch's default init": dict(norm="none", init="torch",
                                                              zero_init_last=False),
    "Exploding forward signal: no norm, Kaiming init": dict(norm="none", init="kaiming_out",
                                                            zero_init_last=False),
    "Remedy: batch normalization": dict(norm="batch", init="kaiming_out", zero_init_last=False),
    "Remedy: zero-init the last layer of each branch": dict(norm="none", init="kaiming_out",
                                                           zero_init_last=True),
    "Remedy: a smaller (Xavier) init": dict(norm="none", init="xavier", zero_init_last=False),
}
# The page probes at most 32x32 at batch 4: quick on a CPU a class shares (the stories of
# vanishing and exploding gradients are about depth, not about the batch).
PROBE_BATCH, PROBE_SIZE = 4, 32
PROBE_DEPTH, PROBE_LOSS = 30, "ce"


def probe_spec(spec: StackSpec) -> StackSpec:
    """The picker's stack at the page's batch and (at most) its size."""
    return spec.replace(batch=PROBE_BATCH, height=min(spec.height, PROBE_SIZE),
                        width=min(spec.width, PROBE_SIZE))


def probe_controls(spec: StackSpec) -> dict[str, object]:
    """The page's controls before a student touches them: the first story's toggles."""
    return {"depth": PROBE_DEPTH, **next(iter(STORIES.values())),
            "act": spec.values.get("act", ACTS[0]), "preact": spec.block.startswith("preact_"),
            "loss": PROBE_LOSS}


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

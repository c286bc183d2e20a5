"""The numbers a learner sets for a stack (depth, input channels, input size, batch, seed),
each with its limits, default, label and help, written once.

StackSpec validates with these fields; the sidebar picker draws its widgets from them, the
CLI words its flags' help and checks its numbers with them, and a link's values are read
with them: a limit changed here changes everywhere. `parse_input` is the one reader of an
input written as C,H,W (the CLI's --input, the Networks page's URL and widgets).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from cnnviz.core.checks import FieldError, echo, whole_number

_NUMBER = re.compile(r"\s*[+-]?[0-9]+\s*")  # ASCII digits only, as whole_number reads them


@dataclass(frozen=True)
class Field:
    """One whole-number field: `name` is the spec's attribute, the URL's query name and the
    CLI's flag (--name); `label` is what the picker shows."""

    name: str
    label: str
    low: int
    high: int
    default: int
    help: str

    def parse(self, raw: Any, name: str | None = None) -> int:
        """`raw` (an int, or text of ASCII digits) checked against the limits; FieldError with
        a sentence (about `name`, e.g. a CLI flag, else the field) otherwise."""
        return whole_number(name or self.name, raw, self.low, self.high)

    @property
    def span(self) -> str:
        """The limits as help text writes them: "1-200"."""
        return f"{self.low}-{self.high}"


DEPTH = Field("depth", "Depth (blocks)", 1, 200, 1, "how many copies of the block are stacked")
HEIGHT = Field("height", "Input height H", 1, 1024, 32, "height of the input feature map")
WIDTH = Field("width", "Input width W", 1, 1024, 32, "width of the input feature map")
BATCH = Field("batch", "Batch", 1, 256, 1, "images per forward pass (N)")
SEED = Field("seed", "Seed", 0, 2**31 - 1, 0, "seed of the weight initialisation")
# a block's input channels (and any channel count of a block or a network's layer)
CHANNELS = Field("in_channels", "Input channels C", 1, 4096, 16,
                 "channels of the input feature map")

# the fields of a StackSpec besides its block's parameters, in the picker's order
STACK_FIELDS = (DEPTH, HEIGHT, WIDTH, BATCH, SEED)

# a whole network reads an image: a few channels, not a feature map's thousands
IMAGE_CHANNELS = Field("channels", "C", 1, 64, 3, "channels of the input image")
# training: images per step (a training's batch, not the picker's forward pass)
TRAIN_BATCH = Field("batch", "Batch", 1, BATCH.high, 64, "images per training step")


def parse_input(text: object, channels: Field = CHANNELS, what: str = "The input"
                ) -> tuple[int, int, int]:
    """'C,H,W' (or CxHxW) -> (C, H, W), C checked against `channels`, H and W against
    HEIGHT and WIDTH; FieldError with a sentence (about `what`: a flag, a URL value)
    otherwise."""
    items = str(text).replace("x", ",").split(",")
    if len(items) != 3 or not all(_NUMBER.fullmatch(item) for item in items):
        raise FieldError("input", f"{what} takes C,H,W as three whole numbers (e.g. "
                                  f"{channels.default},{HEIGHT.default},{WIDTH.default}), "
                                  f"not {echo(text)}.")
    c, h, w = (item.strip() for item in items)
    return channels.parse(c), HEIGHT.parse(h), WIDTH.parse(w)

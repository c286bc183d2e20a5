"""Readable names of a stack's or a network's layers: "block 1 · conv 2", not the module
path `0.0.body.1.conv`.

The walk names each layer by its module path (what torch calls it, kept for the code and
the CLI); what a learner reads is the block (or the network's stage and block) it sits
in, its kind in words and, when the block has several of that kind, which one in order.
"""
from __future__ import annotations

import re
from collections.abc import Sequence

from cnnviz.core.blocks.registry import BLOCK_TITLES

# a layer's kind (its module's class, or the walk's merge operation) in words
KIND_WORDS = {
    "Conv2d": "conv", "ConvTranspose2d": "transposed conv", "MaskedConv2d": "masked conv",
    "InvertibleConv1x1": "invertible 1×1 conv", "Linear": "linear",
    "BatchNorm2d": "BatchNorm", "GroupNorm": "GroupNorm", "LayerNorm2d": "LayerNorm",
    "LayerNorm": "LayerNorm", "ReLU": "ReLU", "ReLU6": "ReLU6", "LeakyReLU": "Leaky ReLU",
    "SiLU": "SiLU", "GELU": "GELU", "Sigmoid": "sigmoid", "MaxPool2d": "max pool",
    "AvgPool2d": "avg pool", "AdaptiveAvgPool2d": "global avg pool",
    "AttentionPool": "attention pool", "ChannelShuffle": "channel shuffle",
    "ChannelSlice": "channel split", "PixelShuffle": "pixel shuffle", "Flatten": "flatten",
    "Dropout": "dropout", "LayerScale": "layer scale", "Identity": "identity",
    "add": "add", "concat": "concat", "mul": "multiply",
}
# parts of a path that say which path of a block a layer is on
_ROLES = {"shortcut": "shortcut", "gate": "gate"}


# a network's plain layers (cnnviz.core.network.layers.LAYERS) in words
NETWORK_LAYER_WORDS = {
    "conv": "conv", "maxpool": "max pool", "avgpool": "avg pool",
    "adaptive_avgpool": "adaptive avg pool", "flatten": "flatten", "linear": "linear",
    "dropout": "dropout", "norm": "norm", "act": "activation",
}


def part_words(kind: str, depth: int = 1) -> str:
    """A part of a network's stage in words: a registry block's title ("basic block × 2")
    or a plain layer's ("max pool")."""
    words = BLOCK_TITLES.get(kind) or NETWORK_LAYER_WORDS.get(kind, kind.replace("_", " "))
    return words + (f" × {depth}" if depth > 1 else "")


def kind_words(kind: str) -> str:
    """A layer's kind in words: "conv", "BatchNorm", "upsample (nearest)"."""
    if kind in KIND_WORDS:
        return KIND_WORDS[kind]
    if kind.startswith("Upsample"):
        return "upsample" + (f" ({kind[9:-1]})" if kind.endswith(")") else "")
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", kind).lower()  # SomeKind -> some kind


def _group(path: str) -> tuple[str, ...]:
    """The block a layer belongs to, as the part of its path that names it: the block's
    index in a stack ("0"), or the stage and the block's index in a network ("stage1",
    "0")."""
    parts = path.split(".")
    if parts[0].isdigit():
        return tuple(parts[:1])
    return tuple(parts[:2]) if len(parts) > 1 else tuple(parts[:1])


def _group_name(group: tuple[str, ...]) -> str:
    words = []
    for part in group:
        if part.isdigit():
            words.append(f"block {int(part) + 1}")
        else:
            stage = re.fullmatch(r"stage(\d+)", part)
            words.append(f"stage {stage[1]}" if stage else part)
    return " · ".join(words)


def layer_names(layers: Sequence[tuple[str, str]]) -> list[str]:
    """Readable names of a stack's or a network's layers, given in walk order as
    (module path, kind): "block 1 · conv 2", "block 2 · shortcut conv", "stage 3 · block 1
    · add". A kind that occurs once in its block gets no number."""
    keys = []
    for path, kind in layers:
        role = next((_ROLES[p] for p in path.split(".") if p in _ROLES), "")
        keys.append((_group(path), f"{role} {kind_words(kind)}".strip()))
    totals: dict[tuple, int] = {}
    for key in keys:
        totals[key] = totals.get(key, 0) + 1
    seen: dict[tuple, int] = {}
    names = []
    for (group, what) in keys:
        seen[(group, what)] = seen.get((group, what), 0) + 1
        number = f" {seen[(group, what)]}" if totals[(group, what)] > 1 else ""
        names.append(f"{_group_name(group)} · {what}{number}")
    return names


def layer_name(path: str, layers: Sequence[tuple[str, str]]) -> str:
    """The readable name of the layer at `path` among `layers` (see layer_names)."""
    paths = [p for p, _ in layers]
    return layer_names(layers)[paths.index(path)]

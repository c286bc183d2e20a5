"""The layers a network puts between and around its blocks: stems, pools and the head.

One entry per layer, in the spirit of the block registry: a schema of `Param`s (the same
validation as block parameters) and a builder that receives the channels arriving at it.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch.nn as nn

from cnnviz.core.blocks import Param
from cnnviz.core.checks import require
from cnnviz.core.fields import CHANNELS
from cnnviz.core.layers import ACTS, NORMS, make_act, make_norm

MAX_CHANNELS = CHANNELS.high
MAX_FEATURES = 100_000


@dataclass(frozen=True)
class NetLayer:
    """A layer of a network: what it takes and how it is built.

    `build(args, channels, classes)` gets the validated arguments, the channels (or, after a
    flatten, the features) arriving, and the network's class count.
    """

    name: str
    summary: str
    params: tuple[Param, ...]
    build: Callable[[dict[str, Any], int, int], nn.Module]
    # how the channel count changes; None keeps it
    channels_out: Callable[[dict[str, Any], int, int], int] | None = None
    # what torch refuses among values each in range (SpecError with a sentence)
    check: Callable[[dict[str, Any]], None] | None = None

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}


def _window(kernel: int, stride: int) -> tuple[Param, ...]:
    return (Param("kernel_size", int, kernel, "window height = width", 1, 11),
            Param("stride", int, stride, "step of the window", 1, 8),
            Param("padding", int, 0, "ignored pixels on each side (at most half the window)",
                  0, 5, same=False),
            Param("ceil_mode", bool, False, "round the output size up, as GoogLeNet's pools "
                  "do"))


def _check_window(a: dict[str, Any]) -> None:
    k, pad = a["kernel_size"], a["padding"]
    require(pad <= k // 2, f"padding = {pad} is more than half the {k}x{k} window; a pool "
                           f"takes at most {k // 2}.")


def _linear_out(a: dict[str, Any], features: int, classes: int) -> int:
    return a["out_features"] or classes


LAYERS: dict[str, NetLayer] = {layer.name: layer for layer in [
    NetLayer("conv", "a convolution with no norm or activation (ConvNeXt's patchify stem "
             "and downsampling)",
             (Param("out_channels", int, 64, "channels it produces", 1, MAX_CHANNELS),
              Param("kernel_size", int, 3, "kernel height = width", 1, 11),
              Param("stride", int, 1, "step of the kernel", 1, 8),
              Param("padding", int, 0, "zeros added on each side", 0, 10, same=False),
              Param("bias", bool, True, "add a learned bias")),
             lambda a, c, k: nn.Conv2d(c, a["out_channels"], a["kernel_size"], a["stride"],
                                       a["padding"], bias=a["bias"]),
             lambda a, c, k: a["out_channels"]),
    NetLayer("maxpool", "the largest value of each window", _window(3, 2),
             lambda a, c, k: nn.MaxPool2d(a["kernel_size"], a["stride"], a["padding"],
                                          ceil_mode=a["ceil_mode"]), check=_check_window),
    NetLayer("avgpool", "the mean of each window", _window(2, 2),
             lambda a, c, k: nn.AvgPool2d(a["kernel_size"], a["stride"], a["padding"],
                                          ceil_mode=a["ceil_mode"]), check=_check_window),
    NetLayer("adaptive_avgpool", "average to a fixed size x size grid, whatever the input "
             "size (1 = global average pooling)",
             (Param("size", int, 1, "output height = width", 1, 32),),
             lambda a, c, k: nn.AdaptiveAvgPool2d(a["size"])),
    NetLayer("flatten", "the C x H x W map as one vector of features", (),
             lambda a, c, k: nn.Flatten()),
    NetLayer("linear", "a fully connected layer",
             (Param("out_features", int, 0, "features it produces (0 = the class count)", 0,
                    MAX_FEATURES),
              Param("bias", bool, True, "add a learned bias")),
             lambda a, c, k: nn.Linear(c, _linear_out(a, c, k), bias=a["bias"]), _linear_out),
    NetLayer("dropout", "zero random features while training (nothing at test time)",
             (Param("p", float, 0.5, "probability of dropping a feature", 0.0, 0.99),),
             lambda a, c, k: nn.Dropout(a["p"])),
    NetLayer("norm", "a normalization over channels",
             (Param("norm", str, "batch", "the normalization", choices=NORMS[:-1]),),
             lambda a, c, k: make_norm(a["norm"], c)),
    NetLayer("act", "an activation function",
             (Param("act", str, "relu", "the activation", choices=ACTS),),
             lambda a, c, k: make_act(a["act"])),
]}

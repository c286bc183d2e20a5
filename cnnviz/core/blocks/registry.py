"""One registry entry per block: its schema, its story and its builder.

The UI widgets, the CLI flags and the URL parameters are all generated from
`Param`; validation of ranges and types happens here, once.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import torch.nn as nn

from cnnviz.core.errors import SpecError

from ..checks import divides, echo, require  # noqa: F401  (re-exported for the blocks)
from ..fields import CHANNELS
from ..layers import ACT_LABELS, ACTS, NORM_LABELS, NORMS
from .config import FIELD_TYPES, BlockConfig


def value_text(value: Any) -> str:
    """A parameter value as a URL or a part text writes it (what Param.parse reads back):
    booleans lower case."""
    return str(value).lower() if isinstance(value, bool) else str(value)

@dataclass(frozen=True)
class Param:
    """One block parameter: type, default, allowed range and a line of help."""

    name: str
    type: type  # int, float, bool or str
    default: Any
    help: str
    low: float | None = None
    high: float | None = None
    choices: tuple = ()
    same: bool = True  # a padding may be "same" (the network's plain layers take numbers)

    @property
    def takes_same(self) -> bool:
        return self.name == "padding" and self.same

    def parse(self, raw: Any) -> Any:
        """Convert a value from the CLI, a URL or a widget; SpecError if it is not allowed."""
        value = raw
        if isinstance(raw, str) and self.type is not str:
            text = raw.strip().lower()
            try:
                if self.type is bool:
                    if text not in ("true", "false", "1", "0", "yes", "no", "on", "off"):
                        raise ValueError
                    value = text in ("true", "1", "yes", "on")
                elif self.takes_same and text == "same":
                    value = "same"
                elif not text.isascii() or len(text) > 40:  # digits 0-9 only, everywhere
                    raise ValueError
                else:
                    value = self.type(text)
            except ValueError:
                raise SpecError(f"{self.name} must be {self.describe()}, not "
                                f"{echo(raw)}.") from None
        if self.type is int and isinstance(value, float) and value.is_integer():
            value = int(value)
        if self.choices and value not in self.choices:
            raise SpecError(f"{self.name} must be one of {', '.join(map(str, self.choices))}, "
                            f"not {echo(value)}.")
        if value == "same" and self.takes_same:
            return value
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if self.type in (int, float) and not (number and math.isfinite(value)):
            raise SpecError(f"{self.name} must be {self.describe()}, not {echo(raw)}.")
        if self.type is bool and not isinstance(value, bool):
            raise SpecError(f"{self.name} must be true or false, not {echo(raw)}.")
        if self.low is not None and value < self.low or self.high is not None and value > self.high:
            raise SpecError(f"{self.name} = {value} is out of range: it must be "
                            f"{self.describe()}.")
        return value

    @property
    def label(self) -> str:
        """The parameter's name as the app shows it (PARAM_LABELS)."""
        return PARAM_LABELS.get(self.name, self.name.replace("_", " "))

    def option_label(self, value: Any) -> str:
        """A value of the parameter as the app shows it (OPTION_LABELS for a choice); the URL,
        the CLI and a lesson keep the value itself."""
        return option_label(value)

    def describe(self) -> str:
        if self.choices:
            return "one of " + ", ".join(map(str, self.choices))
        if self.type is bool:
            return "true or false"
        kind = {int: "an integer", float: "a number", str: "text"}[self.type]
        extra = ' or "same"' if self.takes_same else ""
        if self.low is not None and self.high is not None:
            return f"{kind} from {self.low:g} to {self.high:g}{extra}"
        return kind + extra

    def to_json(self) -> dict:
        return {"name": self.name, "type": self.type.__name__, "default": self.default,
                "help": self.help, "low": self.low, "high": self.high,
                "choices": list(self.choices)}


# Parameters shared by many blocks, declared once. Blocks pick them by name and
# may override the default (e.g. ConvNeXt's 7x7 kernel).
COMMON = {p.name: p for p in [
    Param(CHANNELS.name, int, CHANNELS.default, CHANNELS.help, CHANNELS.low, CHANNELS.high),
    Param("out_channels", int, 16, "channels the block produces", CHANNELS.low, CHANNELS.high),
    Param("kernel_size", int, 3, "height = width of the main spatial kernel", 1, 11),
    Param("stride", int, 1, "step of the kernel; 2 halves the resolution", 1, 4),
    Param("padding", int, "same", 'zeros added on each side; "same" keeps the size at stride 1',
          0, 10),
    Param("dilation", int, 1, "spacing between kernel taps (atrous convolution)", 1, 6),
    Param("groups", int, 1, "split channels into groups that do not mix (1 = dense, C = depthwise)",
          1, 1024),
    Param("bias", bool, False, "add a learned bias (pointless right before a BatchNorm)"),
    Param("norm", str, "batch", "normalization after each conv", choices=NORMS),
    Param("act", str, "relu", "activation function", choices=ACTS),
    Param("skip", bool, True, "the shortcut connection; off gives the plain block"),
    Param("shortcut", str, "conv", "projection when the shape changes: strided 1x1 conv, or "
          "avg-pool then 1x1 (keeps every pixel)", choices=("conv", "avgpool")),
    Param("zero_init_last", bool, False, "start each residual branch at zero "
          "(last norm's scale = 0), so the block begins as the identity"),
]}

INITS = ("torch", "kaiming_in", "kaiming_out", "xavier", "bad_small", "bad_large")
INIT_LABELS = {"torch": "PyTorch default", "kaiming_in": "Kaiming (fan-in)",
               "kaiming_out": "Kaiming (fan-out)", "xavier": "Xavier (Glorot)",
               "bad_small": "too small (std 0.01)", "bad_large": "too large (std 1)"}
INIT_PARAM = Param("init", str, "kaiming_out", "weight initialization: torch's default, "
                   "Kaiming (fan-in or fan-out), Xavier, or a deliberately bad scale",
                   choices=INITS)


# What the app shows for a parameter and for a value of one (the URL, the CLI and lesson
# files keep the names and values themselves). A parameter missing here shows its name
# with spaces; a value missing here shows itself.
PARAM_LABELS = {
    "in_channels": "input channels", "out_channels": "output channels",
    "kernel_size": "kernel size", "norm": "normalization", "act": "activation",
    "skip": "shortcut connection", "shortcut": "projection shortcut",
    "zero_init_last": "start each residual branch at zero", "init": "initialization",
    "layers": "layers L", "growth_rate": "growth rate k", "bottleneck": "1×1 bottleneck",
    "compression": "compression θ", "output_padding": "output padding",
    "scale": "scale factor", "mode": "resize", "levels": "levels", "mask_type": "mask type",
    "b1": "1×1 branch: width", "b2_reduce": "3×3 branch: 1×1 reduction",
    "b2": "3×3 branch: width", "b3_reduce": "5×5 branch: 1×1 reduction",
    "b3": "5×5 branch: width", "b4": "pool branch: 1×1 width",
    "b3_kernel": "wide branch's kernel", "expansion": "expansion t", "se_ratio": "SE ratio",
    "layer_scale": "layer scale (start value)", "reduction": "reduction r",
    "convs": "convolutions", "convs_per_block": "convolutions in the branch",
    "cardinality": "cardinality (groups)", "width_per_group": "width per group",
    "group_width": "group width", "bottleneck_ratio": "bottleneck ratio",
    "se": "squeeze-excitation (SE)",
}
OPTION_LABELS: dict[Any, str] = {
    **INIT_LABELS, **NORM_LABELS, **ACT_LABELS,
    "conv": "1×1 conv", "avgpool": "avg-pool, then 1×1 conv",
    "nearest": "nearest", "bilinear": "bilinear", "pixel_shuffle": "pixel shuffle",
    "A": "A (centre hidden)", "B": "B (centre kept)", "same": "same",
}


def option_label(value: Any) -> str:
    """A parameter's value as the app shows it: its label, or itself (a number)."""
    if isinstance(value, bool):
        return "on" if value else "off"
    return OPTION_LABELS.get(value, str(value)) if isinstance(value, str) else str(value)


# Each block's name as the app shows it, after its family ("ResNet · basic block").
BLOCK_TITLES = {
    "conv_bn_act": "conv, norm, activation", "nin": "NiN block (mlpconv)",
    "vgg": "VGG block", "residual": "residual block (1 to 3 convs)",
    "resnet_basic": "basic block", "resnet_bottleneck": "bottleneck block",
    "preact_basic": "pre-activation basic block",
    "preact_bottleneck": "pre-activation bottleneck", "resnext": "ResNeXt block",
    "regnet": "RegNet block", "inception": "Inception module (GoogLeNet)",
    "inception_bn": "Inception module with BN", "dense": "dense block",
    "dense_transition": "transition layer", "dw_separable": "depthwise separable conv",
    "inverted_residual": "inverted residual (MobileNetV2)", "mbconv": "MBConv",
    "fused_mbconv": "Fused-MBConv", "shufflenet": "ShuffleNet V2 unit",
    "convnext": "ConvNeXt block", "convmixer": "ConvMixer layer",
    "gc": "global context block", "se": "SE basic block", "transposed": "transposed conv",
    "upsample_conv": "upsample, then conv", "unet": "U-Net",
    "invertible_1x1": "invertible 1×1 conv (Glow)", "masked_conv": "masked conv (PixelCNN)",
}


@dataclass(frozen=True)
class BlockEntry:
    """A registered block: what it is, where it comes from and how to build it."""

    name: str
    family: str
    paper: str
    summary: str
    build: Callable[[BlockConfig], nn.Module]
    params: tuple[Param, ...]
    # parameters only the first block of a stack takes, with the value the others get
    first_only: tuple[tuple[str, Any], ...] = (("stride", 1),)
    out_channels_of: Callable[[BlockConfig], int] | None = None  # when not out_channels

    @property
    def title(self) -> str:
        """The block's name as the app shows it (BLOCK_TITLES), e.g. "basic block"."""
        return BLOCK_TITLES.get(self.name, self.name.replace("_", " "))

    @property
    def has_skip(self) -> bool:
        return any(p.name == "skip" for p in self.params)

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    def output_channels(self, cfg: BlockConfig) -> int:
        if self.out_channels_of is not None:
            return self.out_channels_of(cfg)
        return cfg.out_channels if any(p.name == "out_channels" for p in self.params) \
            else cfg.in_channels

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}

    def to_json(self) -> dict:
        return {"name": self.name, "family": self.family, "paper": self.paper,
                "summary": self.summary, "params": [p.to_json() for p in self.params]}


REGISTRY: dict[str, BlockEntry] = {}
Builder = Callable[[Callable[[BlockConfig], nn.Module]], Callable[[BlockConfig], nn.Module]]


def register(name: str, *, family: str, paper: str, summary: str,
             common: tuple[str, ...], own: tuple[Param, ...] = (),
             defaults: dict[str, Any] | None = None,
             first_only: dict[str, Any] | None = None,
             out_channels_of: Callable[[BlockConfig], int] | None = None) -> Builder:
    """Decorator adding a builder `fn(config) -> nn.Module` to the registry."""
    overrides = defaults or {}

    def wrap(fn: Callable[[BlockConfig], nn.Module]) -> Callable[[BlockConfig], nn.Module]:
        params = [replace(COMMON[n], default=overrides.get(n, COMMON[n].default))
                  for n in common]
        params += [replace(p, default=overrides.get(p.name, p.default)) for p in own]
        params.append(replace(INIT_PARAM, default=overrides.get("init", INIT_PARAM.default)))
        for p in params:  # every parameter reaches the builder as a typed field
            if FIELD_TYPES.get(p.name) is not p.type:
                raise TypeError(f"Block {name!r}: parameter {p.name!r} ({p.type.__name__}) "
                                f"needs a field of that type in BlockConfig.")
        if first_only is None:
            stays = {"stride": 1} if "stride" in common else {}
        else:
            stays = first_only
        REGISTRY[name] = BlockEntry(name, family, paper, summary, fn, tuple(params),
                                    tuple(stays.items()), out_channels_of)
        return fn

    return wrap


def get_block(name: str) -> BlockEntry:
    if name not in REGISTRY:
        raise SpecError(f"Unknown block {name!r}. Known blocks: {', '.join(sorted(REGISTRY))}.")
    return REGISTRY[name]

"""What the user chose, validated once: the block, its parameters, depth and input."""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn as nn

from cnnviz.core.arithmetic import same_padding
from cnnviz.core.blocks import REGISTRY, get_block
from cnnviz.core.blocks.config import BlockConfig
from cnnviz.core.blocks.registry import BlockEntry, require
from cnnviz.core.errors import SpecError
from cnnviz.core.fields import BATCH, DEPTH, HEIGHT, SEED, WIDTH
from cnnviz.core.layers import InvertibleConv1x1, Residual


@dataclass(frozen=True)
class StackSpec:
    """`depth` copies of one block; the first takes the stride and the channel change."""

    block: str
    params: tuple[tuple[str, Any], ...]  # every parameter of the block, validated
    depth: int = DEPTH.default
    height: int = HEIGHT.default
    width: int = WIDTH.default
    batch: int = BATCH.default
    seed: int = SEED.default

    @classmethod
    def create(cls, block: str, params: Mapping[str, Any] | None = None,
               depth: Any = DEPTH.default, height: Any = HEIGHT.default,
               width: Any = WIDTH.default, batch: Any = BATCH.default,
               seed: Any = SEED.default) -> StackSpec:
        """Validate user input (strings allowed, as from a CLI or URL); SpecError if bad
        (a FieldError naming the field for depth, height, width, batch and seed)."""
        entry = get_block(block)
        values = entry.defaults()
        for name, raw in (params or {}).items():
            try:
                param = entry.param(name)
            except KeyError:
                raise SpecError(f"{block} has no parameter {name!r}; it takes "
                                f"{', '.join(p.name for p in entry.params)}.") from None
            values[name] = param.parse(raw)
        if values.get("padding") == "same":
            span = (values.get("kernel_size", 1) - 1) * values.get("dilation", 1)
            require(span % 2 == 0, f"'same' padding keeps H×W only when it can be split equally "
                                   f"on both sides: the kernel's span (k-1)·d = {span} is odd. "
                                   f"Use an odd kernel_size, or a number for the padding.")
        return cls(block, tuple(values.items()), DEPTH.parse(depth), HEIGHT.parse(height),
                   WIDTH.parse(width), BATCH.parse(batch), SEED.parse(seed))

    @property
    def entry(self) -> BlockEntry:
        return REGISTRY[self.block]

    @property
    def values(self) -> dict[str, Any]:
        return dict(self.params)

    @property
    def in_channels(self) -> int:
        return self.values["in_channels"]

    @property
    def input_shape(self) -> tuple[int, int, int, int]:
        return (self.batch, self.in_channels, self.height, self.width)

    def replace(self, **changes: Any) -> StackSpec:
        """A copy with some fields or block parameters changed (validated again)."""
        fields = {"depth": self.depth, "height": self.height, "width": self.width,
                  "batch": self.batch, "seed": self.seed}
        params = self.values
        for key, value in changes.items():
            if key in fields:
                fields[key] = value
            else:
                params[key] = value
        return StackSpec.create(self.block, params, **fields)

    def block_params(self) -> list[dict[str, Any]]:
        """The resolved parameters of each block in the stack ("same" padding a number)."""
        entry, values = self.entry, self.values
        blocks: list[dict[str, Any]] = []
        for i in range(self.depth):
            c = dict(values)
            if i > 0:
                c.update(entry.first_only)
                c["in_channels"] = entry.output_channels(BlockConfig(**blocks[-1]))
                if "out_channels" in c:
                    c["out_channels"] = values["out_channels"]
            if c.get("padding") == "same":
                c["padding"] = same_padding(c.get("kernel_size", 1), c.get("dilation", 1))
            blocks.append(c)
        return blocks

    def block_configs(self) -> list[BlockConfig]:
        """The typed configuration each block builder reads."""
        return [BlockConfig(**c) for c in self.block_params()]

    def title(self) -> str:
        """The stack as the app shows it: "basic block ×2 on 16×32×32 (kernel size 5)",
        names and values in words (label() is the CLI's, with the registry's names)."""
        changed = [f"{p.label} {p.option_label(v)}" for p, v in
                   ((self.entry.param(k), v) for k, v in self.params) if p.default != v]
        return (f"{self.entry.title} ×{self.depth} on "
                f"{self.in_channels}×{self.height}×{self.width}"
                + (f" ({', '.join(changed)})" if changed else ""))

    def label(self) -> str:
        changed = [f"{k}={v}" for k, v in self.params if self.entry.param(k).default != v]
        return (f"{self.block} x{self.depth} on {self.in_channels}x{self.height}x{self.width}"
                + (f" ({', '.join(changed)})" if changed else ""))


# --- building -----------------------------------------------------------------

def build(spec: StackSpec, device: str | torch.device = "cpu") -> nn.Sequential:
    """The real torch stack for a spec, initialized from spec.seed alone.

    On the meta device it is the structure alone (no memory, no initialization): what
    the predicted walk and the budget need.
    """
    configs = spec.block_configs()
    if torch.device(device).type == "meta":
        with torch.device("meta"):
            return nn.Sequential(*[spec.entry.build(c) for c in configs])
    model = nn.Sequential(*[spec.entry.build(c) for c in configs])
    generator = torch.Generator().manual_seed(spec.seed)
    init_weights(model, spec.values["init"], generator)
    if spec.values.get("zero_init_last"):
        zero_init_residual_branches(model)
    return model.to(device)


CONVS = (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)
NORM_LAYERS = (nn.BatchNorm2d, nn.GroupNorm, nn.LayerNorm)


@torch.no_grad()
def init_weights(model: nn.Module, scheme: str, generator: torch.Generator) -> None:
    """Initialize every weight from `generator` (never the global RNG)."""
    for m in model.modules():
        if isinstance(m, CONVS):
            fan_in = nn.init._calculate_fan_in_and_fan_out(m.weight)[0]
            if scheme == "torch":  # what nn.Conv2d.reset_parameters does
                nn.init.kaiming_uniform_(m.weight, a=math.sqrt(5), generator=generator)
            elif scheme in ("kaiming_in", "kaiming_out"):
                nn.init.kaiming_normal_(m.weight, mode="fan_in" if scheme == "kaiming_in"
                                        else "fan_out", nonlinearity="relu", generator=generator)
            elif scheme == "xavier":
                nn.init.xavier_normal_(m.weight, generator=generator)
            else:  # a deliberately bad fixed scale, as before careful init was known
                nn.init.normal_(m.weight, 0.0, 0.01 if scheme == "bad_small" else 1.0,
                                generator=generator)
            if m.bias is not None:
                if scheme == "torch":
                    bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
                    nn.init.uniform_(m.bias, -bound, bound, generator=generator)
                else:
                    nn.init.zeros_(m.bias)
        elif isinstance(m, InvertibleConv1x1):
            m.reset_parameters(generator)


@torch.no_grad()
def zero_init_residual_branches(model: nn.Module) -> None:
    """Zero the last norm's scale in each residual branch, so each block starts as the identity
    (Goyal et al. 2017); without norms, zero the branch's last convolution instead."""
    for m in model.modules():
        if isinstance(m, Residual):
            layers: list[nn.Module] = [x for x in m.body.modules()
                                       if isinstance(x, NORM_LAYERS)]
            layers = layers or [x for x in m.body.modules() if isinstance(x, CONVS)]
            weight = getattr(layers[-1], "weight", None) if layers else None
            if isinstance(weight, torch.Tensor):  # None for a norm without affine
                weight.zero_()


def resolve_device(name: str | None) -> tuple[torch.device, str | None]:
    """The device to use, and a message when the one asked for is absent."""
    name = (name or "cpu").strip().lower()
    available = available_devices()
    if name in available:
        return torch.device(name), None
    if name not in ("cuda", "mps") and not name.startswith("cuda:"):
        return torch.device("cpu"), f"Unknown device {name!r}; using cpu."
    return torch.device("cpu"), f"{name} is not available on this machine; using cpu."


def available_devices() -> list[str]:
    devices = ["cpu"]
    if torch.cuda.is_available():
        devices.append("cuda")
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        devices.append("mps")
    return devices

"""Cost comparisons of convolution designs, counted on the real modules.

Every design is an nn.Module (plain nn.Conv2d layers, or a block from the
registry); its numbers come from cnnviz.core.walk.predict and are confirmed by
cnnviz.core.measure (params from numel(), FLOPs from torch's flop formulas). The only
formulas here are the LaTeX a student writes, shown next to the counts.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import torch
import torch.nn as nn

from cnnviz.core import arithmetic as ar
from cnnviz.core.budget import check, module_work
from cnnviz.core.checks import require
from cnnviz.core.errors import InputError
from cnnviz.core.field import ReceptiveField
from cnnviz.core.layers import LayerNorm2d, Residual
from cnnviz.core.measure import FlopCount, count_params
from cnnviz.core.spec import StackSpec, build
from cnnviz.core.walk import ACTIVATIONS, predict


@dataclass(frozen=True)
class Design:
    """One design of a comparison: predicted and measured cost of its module."""

    name: str
    params: int
    macs: int
    measured_params: int
    measured_flops: int
    output_shape: tuple[int, ...]
    rf: ReceptiveField = ReceptiveField((1, 1))
    nonlinearities: int = 0

    @property
    def confirmed(self) -> bool:
        """torch agrees: same parameter count and FLOPs = 2 x predicted MACs."""
        return self.params == self.measured_params and 2 * self.macs == self.measured_flops


@dataclass(frozen=True)
class Comparison:
    """Designs doing the same job, the first being the reference."""

    title: str
    designs: tuple[Design, ...]
    formulas: tuple[str, ...] = ()  # LaTeX with the user's numbers
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def reference(self) -> Design:
        return self.designs[0]

    def macs_ratio(self, i: int) -> Fraction:
        return Fraction(self.designs[i].macs, self.reference.macs)

    def params_ratio(self, i: int) -> Fraction:
        return Fraction(self.designs[i].params, self.reference.params)

    @property
    def confirmed(self) -> bool:
        return all(d.confirmed for d in self.designs)


@torch.no_grad()
def measured_cost(model: nn.Module, input_shape: tuple[int, int, int, int]
                  ) -> tuple[int, int, tuple[int, ...]]:
    """(params, FLOPs, output shape) as torch reports them: numel() and a counted forward.

    The forward-only part of cnnviz.core.measure (no receptive-field backward), so a
    page can afford it on every change. `model` is a fresh module of the caller's.
    """
    x = torch.ones(input_shape)
    with FlopCount() as counter:  # torch's FLOP formulas, without importing torch._dynamo
        y = model.eval()(x)
    return count_params(model), counter.total, tuple(y.shape)


def count(name: str, model: nn.Module, input_shape: tuple[int, int, int, int]) -> Design:
    """Predict the module's cost, then measure it with torch (on the meta device of a dry
    run: only check the budget, and echo the prediction)."""
    p = predict(model, input_shape)
    check(module_work(f"the {name} design", model, input_shape,
                      reduce="the channels, the kernel size or H = W",
                      reduce_params="the channels or the kernel size"))
    if _on_meta(model):
        params, flops = p.params, p.flops
    else:
        params, flops, _ = measured_cost(model, input_shape)
    acts = sum(isinstance(x, ACTIVATIONS) for x in model.modules())
    return Design(name, p.params, p.macs, params, flops, tuple(p.output_shape),
                  p.receptive_field, acts)


def _conv(cin: int, cout: int, k: int, groups: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, k, padding=k // 2, groups=groups, bias=False)


def _on_meta(model: nn.Module) -> bool:
    return any(p.is_meta for p in model.parameters())


# --- the comparisons ---------------------------------------------------------------------

def bottleneck(in_channels: int = 256, out_channels: int = 128, size: int = 28,
               kernel_size: int = 5, mid_channels: int = 32) -> Comparison:
    """k x k conv vs 1x1 reduction + k x k conv (a GoogLeNet-style 5x5 branch:
    256 -> 32 -> 128 at 28x28)."""
    require(kernel_size % 2 == 1, "Use an odd kernel so padding k//2 keeps the size.")
    shape = (1, in_channels, size, size)
    direct = count("direct k x k", _conv(in_channels, out_channels, kernel_size), shape)
    reduced = count("1x1 bottleneck + k x k", nn.Sequential(
        _conv(in_channels, mid_channels, 1),                  # (C_in, H, W) -> (C_mid, H, W)
        _conv(mid_channels, out_channels, kernel_size)), shape)
    c = Comparison("k x k conv vs 1x1 bottleneck + k x k", (direct, reduced), (
        f"\\text{{direct}} = "
        f"{ar.conv_macs_latex(size, size, in_channels, out_channels, kernel_size)}"
        f" = {direct.macs:,}".replace(",", "{,}"),
        f"\\text{{bottleneck}} = {ar.conv_macs_latex(size, size, in_channels, mid_channels, 1)}"
        f" + {ar.conv_macs_latex(size, size, mid_channels, out_channels, kernel_size)}"
        f" = {reduced.macs:,}".replace(",", "{,}"),
    ))
    saved = ar.bottleneck_savings(direct.macs, reduced.macs)
    return Comparison(c.title, c.designs, c.formulas + (
        f"\\text{{saved}} = 1 - \\frac{{{reduced.macs}}}{{{direct.macs}}} = {100 * saved:.1f}\\%",))


def savings(c: Comparison) -> float:
    """Share of the reference's MACs the second design saves (0..1)."""
    return ar.bottleneck_savings(c.designs[0].macs, c.designs[1].macs)


def five_vs_two_threes(channels: int = 64, size: int = 28) -> Comparison:
    """One 5x5 conv vs two stacked 3x3 convs: same receptive field 5, 18C^2 vs 25C^2 weights."""
    shape = (1, channels, size, size)
    one = count("one 5x5", nn.Sequential(_conv(channels, channels, 5), nn.ReLU()), shape)
    two = count("two 3x3", nn.Sequential(_conv(channels, channels, 3), nn.ReLU(),
                                         _conv(channels, channels, 3), nn.ReLU()), shape)
    return Comparison("one 5x5 vs two 3x3", (one, two), (
        f"5^2 C^2 = 25\\cdot{channels}^2 = {one.params:,}".replace(",", "{,}"),
        f"2\\cdot 3^2 C^2 = 18\\cdot{channels}^2 = {two.params:,}".replace(",", "{,}"),
        f"\\frac{{18}}{{25}} = {18 / 25:.2f}"),
        (f"Receptive field: {one.rf.size[0]} vs {two.rf.size[0]}; nonlinearities: "
         f"{one.nonlinearities} vs {two.nonlinearities}.",))


def depthwise_separable(in_channels: int = 32, out_channels: int = 64, kernel_size: int = 3,
                        size: int = 28) -> Comparison:
    """Standard k x k conv vs depthwise k x k + pointwise 1x1 (MobileNet)."""
    shape = (1, in_channels, size, size)
    std = count("standard", _conv(in_channels, out_channels, kernel_size), shape)
    sep = count("depthwise separable", nn.Sequential(
        _conv(in_channels, in_channels, kernel_size, groups=in_channels),  # one filter/channel
        _conv(in_channels, out_channels, 1)), shape)                       # mix channels
    r = ar.separable_ratio(out_channels, kernel_size)
    c = Comparison("standard vs depthwise separable", (std, sep))
    measured = c.macs_ratio(1)
    return Comparison(c.title, c.designs, (
        f"\\frac{{\\text{{separable}}}}{{\\text{{standard}}}} = \\frac{{1}}{{N}} + "
        f"\\frac{{1}}{{k^2}} = \\frac{{1}}{{{out_channels}}} + \\frac{{1}}{{{kernel_size}^2}}"
        f" = \\frac{{{r.numerator}}}{{{r.denominator}}} \\approx {float(r):.4f}",
        f"\\text{{measured: }} \\frac{{{sep.macs}}}{{{std.macs}}} = "
        f"\\frac{{{measured.numerator}}}{{{measured.denominator}}}",))


def grouped(channels: int = 64, groups: int = 4, kernel_size: int = 3,
            size: int = 28) -> Comparison:
    """Dense conv vs the same conv in `groups` groups: params and MACs divide by g."""
    require(channels % groups == 0, f"groups = {groups} does not divide {channels} channels; "
             f"pick one of {', '.join(map(str, ar.divisors(channels)))}.")
    shape = (1, channels, size, size)
    dense = count("dense (g = 1)", _conv(channels, channels, kernel_size), shape)
    split = count(f"grouped (g = {groups})", _conv(channels, channels, kernel_size, groups),
                  shape)
    return Comparison("dense vs grouped conv", (dense, split), (
        f"{ar.conv_macs_latex(size, size, channels, channels, kernel_size, groups)}"
        f" = \\frac{{{dense.macs}}}{{{groups}}} = {split.macs:,}".replace(",", "{,}"),))


def _block(block: str, size: int, **params: Any
           ) -> tuple[nn.Module, tuple[int, int, int, int]]:
    spec = StackSpec.create(block, params, height=size, width=size)
    return build(spec, torch.get_default_device()), spec.input_shape


def registry_pair(title: str, size: int, a: tuple[str, str, dict],
                  b: tuple[str, str, dict]) -> Comparison:
    """Two registry blocks (label, block name, parameters) on the same input."""
    designs = []
    for label, block, params in (a, b):
        model, shape = _block(block, size, **params)
        designs.append(count(label, model, shape))
    return Comparison(title, tuple(designs))


def resnext_vs_resnet(channels: int = 256, cardinality: int = 32, width_per_group: int = 4,
                      size: int = 14) -> Comparison:
    """ResNet bottleneck (width C/4) vs ResNeXt (cardinality x width) at equal in/out width."""
    return registry_pair(
        "ResNet bottleneck vs ResNeXt", size,
        ("ResNet bottleneck", "resnet_bottleneck",
         dict(in_channels=channels, out_channels=channels)),
        (f"ResNeXt {cardinality}×{width_per_group}d", "resnext",
         dict(in_channels=channels, out_channels=channels, cardinality=cardinality,
              width_per_group=width_per_group)))


def basic_vs_bottleneck(channels: int = 256, size: int = 14) -> Comparison:
    """resnet_basic vs resnet_bottleneck with the same output width."""
    return registry_pair(
        "basic vs bottleneck residual block", size,
        ("ResNet basic", "resnet_basic", dict(in_channels=channels, out_channels=channels)),
        ("ResNet bottleneck", "resnet_bottleneck",
         dict(in_channels=channels, out_channels=channels)))


def mbconv_se(channels: int = 32, expansion: int = 6, size: int = 28) -> Comparison:
    """MBConv without and with squeeze-excitation (se_ratio 0 vs 0.25)."""
    common = dict(in_channels=channels, out_channels=channels, expansion=expansion)
    return registry_pair(
        f"MBConv (t = {expansion}) without and with SE", size,
        ("MBConv, no SE", "mbconv", dict(common, se_ratio=0.0)),
        ("MBConv, SE 0.25", "mbconv", dict(common, se_ratio=0.25)))


def _convnext_step(c: int, *, inverted: bool, dw_first: bool, kernel: int, depthwise: bool,
                   act: str, acts: str, norms: str, norm: str) -> nn.Module:
    """One block on the way from the ResNet bottleneck to the ConvNeXt block (Liu et al.
    2022, §2.3-2.6, Fig. 3-4). `c` is the narrow width; the wide one is 4c. `acts` and
    `norms`: "all" (after every conv, the activation after the addition too) or "one"
    (ConvNeXt's: a single activation between the 1x1 layers, a single norm after the
    depthwise conv)."""
    wide = 4 * c
    ends, middle = (c, wide) if inverted else (wide, c)  # block in/out, hidden width
    make_act = {"relu": nn.ReLU, "gelu": nn.GELU}[act]
    make_norm = {"batch": nn.BatchNorm2d, "layer": LayerNorm2d}[norm]
    spatial_width = ends if dw_first else middle
    spatial = _conv(spatial_width, spatial_width, kernel,
                    groups=spatial_width if depthwise else 1)
    first = _conv(ends, middle, 1)
    last = _conv(middle, ends, 1)
    convs = [spatial, first, last] if dw_first else [first, spatial, last]
    layers: list[nn.Module] = []
    for i, conv in enumerate(convs):
        layers.append(conv)
        if norms == "all" or conv is spatial:
            layers.append(make_norm(conv.out_channels))
        if (acts == "all" and i < 2) or (acts == "one" and conv is first):
            layers.append(make_act())
    block: nn.Module = Residual(nn.Sequential(*layers))
    return nn.Sequential(block, make_act()) if acts == "all" else block


# The moves, in the paper's order: (name, changes to the step before).
CONVNEXT_MOVES: tuple[tuple[str, dict], ...] = (
    ("ResNet bottleneck", dict(inverted=False, dw_first=False, kernel=3, depthwise=False,
                               act="relu", acts="all", norms="all", norm="batch")),
    ("depthwise 3×3", dict(depthwise=True)),
    ("inverted bottleneck", dict(inverted=True)),
    ("depthwise conv first", dict(dw_first=True)),
    ("7×7 kernel", dict(kernel=7)),
    ("GELU", dict(act="gelu")),
    ("one activation", dict(acts="one")),
    ("one norm", dict(norms="one")),
    ("LayerNorm: ConvNeXt", dict(norm="layer")),
)


def convnext_moves(channels: int = 96, size: int = 56) -> Comparison:
    """ResNet's bottleneck becomes ConvNeXt's block, one move at a time (Liu et al. 2022).

    By default at ConvNeXt-T's first-stage width 96 and 56 × 56 (§2.3-2.6)."""
    designs: list[Design] = []
    settings: dict[str, Any] = {}
    for name, changes in CONVNEXT_MOVES:
        settings |= changes
        designs.append(count(name, _convnext_step(channels, **settings),
                             (1, 4 * channels if not settings["inverted"] else channels,
                              size, size)))
    return Comparison("ResNet bottleneck to ConvNeXt block, one move at a time",
                      tuple(designs), notes=(
        f"Each row applies one more move of Liu et al. (2022, §2.3-2.6) to the row above. "
        f"The first two rows are 4 × {channels} = {4 * channels} channels wide at their ends "
        f"and {channels} inside (ResNet's bottleneck, widened as ConvNeXt widened ResNet-50); "
        f"from the inverted bottleneck on, {channels} at the ends and {4 * channels} inside. "
        "Every convolution here is without a bias, and ConvNeXt's layer scale (one weight "
        "per channel) and its separate downsampling layers are left out: the Explorer's "
        "convnext block is the last row plus those biases and that scale.",))


# --- what the cost page offers: one entry per comparison, with its knobs ------------------

@dataclass(frozen=True)
class Knob:
    """One number a comparison takes; kind is number, slider or divisors (of `of`)."""

    name: str
    label: str
    default: int
    low: int = 1
    high: int = 1024
    kind: str = "number"
    of: str = ""


SIZE = Knob("size", "H = W", 28, 1, 112)
TOPICS: dict[str, tuple] = {
    "k×k vs 1×1 bottleneck": (bottleneck, (
        Knob("in_channels", "input channels", 256), Knob("out_channels", "output channels", 128),
        Knob("kernel_size", "kernel k (odd)", 5, 1, 11), Knob("mid_channels",
                                                              "bottleneck channels", 32), SIZE)),
    "one 5×5 vs two 3×3": (five_vs_two_threes, (Knob("channels", "channels C", 64), SIZE)),
    "depthwise separable": (depthwise_separable, (
        Knob("in_channels", "input channels M", 32), Knob("out_channels", "output channels N", 64),
        Knob("kernel_size", "kernel k", 3, 1, 11), SIZE)),
    "grouped conv": (grouped, (
        Knob("channels", "channels C", 64, 1, 512), Knob("groups", "groups g", 4, kind="divisors",
                                                         of="channels"),
        Knob("kernel_size", "kernel k", 3, 1, 11), SIZE)),
    "ResNet vs ResNeXt": (resnext_vs_resnet, (
        Knob("channels", "block width", 256, 4, 1024), Knob("cardinality", "cardinality", 32,
                                                            1, 64, "slider"),
        Knob("width_per_group", "width per group", 4, 1, 64), Knob("size", "H = W", 14, 1, 56))),
    "basic vs bottleneck block": (basic_vs_bottleneck, (
        Knob("channels", "block width", 256, 4, 1024), Knob("size", "H = W", 14, 1, 56))),
    "ResNet to ConvNeXt": (convnext_moves, (
        Knob("channels", "width C (ConvNeXt's, the narrow one)", 96, 1, 256),
        Knob("size", "H = W", 56, 1, 112))),
    "MBConv and SE": (mbconv_se, (
        Knob("channels", "channels", 32, 1, 512), Knob("expansion", "expansion t", 6, 1, 8,
                                                       "slider"), SIZE)),
}


# What the page says above each comparison (its functions' docstrings are for developers).
CAPTIONS: dict[str, str] = {
    "k×k vs 1×1 bottleneck": "A k×k convolution applied to all the input channels, against a "
    "1×1 convolution that first reduces them and the same k×k convolution after it; by "
    "default 256 → 32 → 128 channels at 28×28, in the style of GoogLeNet's 5×5 branches.",
    "one 5×5 vs two 3×3": "One 5×5 convolution against two stacked 3×3 convolutions: both see "
    "a 5×5 patch; with C channels in and out, the 5×5 holds 25·C² weights and the pair 18·C².",
    "depthwise separable": "A standard k×k convolution against a depthwise k×k convolution "
    "(one filter per channel) followed by a pointwise 1×1 convolution that mixes the "
    "channels, as in MobileNet.",
    "grouped conv": "A dense convolution against the same convolution split into g groups "
    "whose channels do not mix: its parameters and MACs divide by g.",
    "ResNet vs ResNeXt": "ResNet's bottleneck block (inner width a quarter of the block's) "
    "against a ResNeXt block of the same input and output width, whose 3×3 convolution is "
    "split into cardinality × width-per-group channels in groups.",
    "basic vs bottleneck block": "ResNet's basic block (two 3×3 convolutions) against its "
    "bottleneck block (1×1, 3×3, 1×1), both with the same input and output width.",
    "ResNet to ConvNeXt": "ResNet's bottleneck block becomes ConvNeXt's block, one design "
    "move at a time (Liu et al. 2022, §2.3–2.6).",
    "MBConv and SE": "An MBConv block without squeeze-excitation and with it (the SE's hidden "
    "width a quarter of the block's input channels).",
}


def compare(topic: str, **values: int) -> Comparison:
    """Run the comparison `topic` of TOPICS with the page's numbers."""
    if topic not in TOPICS:
        raise InputError(f"Unknown comparison {topic!r}; pick one of {', '.join(TOPICS)}.")
    run = TOPICS[topic][0]
    with torch.device("meta"):  # a dry run first: the budget sees every design, unbuilt
        run(**values)
    return run(**values)

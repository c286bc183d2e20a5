"""Predicted analysis: walk the built module and apply one formula per layer kind.

No forward pass and no tensor arithmetic: shapes, receptive fields, parameter
and MAC counts come from each module's hyperparameters. The walk records a
small tape of spatial maps so that the exact set of input pixels one output
pixel depends on can be propagated back (what torch's gradient measures).

Receptive fields follow Araujo et al., "Computing Receptive Fields of
Convolutional Neural Networks" (Distill 2019): per axis an offset interval
(lo, hi) and a jump (effective stride); at a merge the widest interval wins.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from math import floor

import torch.nn as nn

from cnnviz.core import arithmetic as ar
from cnnviz.core.layers import (
    AttentionPool,
    ChannelShuffle,
    ChannelSlice,
    Concat,
    Gate,
    InvertibleConv1x1,
    LayerNorm2d,
    LayerScale,
    MaskedConv2d,
    Residual,
)

ACTIVATIONS = (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.SiLU, nn.GELU, nn.Sigmoid)
BYTES_PER_ELEMENT = 4  # float32


# --- data -------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Axis:
    """Receptive field along one axis: output i sees input [i*jump+lo, i*jump+hi]."""

    lo: Fraction | int = 0
    hi: Fraction | int = 0
    jump: Fraction | int = 1

    @property
    def size(self) -> int:
        return ar.rf_size(self.lo, self.hi, self.jump)


@dataclass(slots=True)
class Signal:
    """A feature map flowing through the walk (batch excluded)."""

    channels: int
    height: int
    width: int
    rf_h: Axis
    rf_w: Axis
    is_global: bool = False
    node: int = 0  # id on the tape
    shape: tuple[int, int, int] = field(init=False)
    numel: int = field(init=False)

    def __post_init__(self) -> None:  # read many times per layer by the rules
        self.shape = (self.channels, self.height, self.width)
        self.numel = self.channels * self.height * self.width


@dataclass(slots=True)
class Layer:
    """One row of the per-layer report."""

    name: str
    kind: str
    in_shape: tuple[int, int, int]
    out_shape: tuple[int, int, int]
    params: int = 0
    macs: int = 0
    elementwise: int = 0
    op: str = ""  # what the elementwise work is: norm, activation, add, ...
    memory: int = 0  # bytes of the output this layer allocates
    formula: tuple[str, ...] | list[str] = ()  # LaTeX, when the size changes
    field_of_view: Signal | None = None  # the output signal, for its receptive field

    @property
    def rf(self) -> tuple:
        """(size_h, size_w, jump_h, jump_w) w.r.t. the stack input, or ("global",)."""
        s = self.field_of_view
        if s.is_global:
            return ("global",)
        return (s.rf_h.size, s.rf_w.size, s.rf_h.jump, s.rf_w.jump)


@dataclass
class Support:
    """Rows and columns of the input that one output pixel depends on (inclusive)."""

    pixel: tuple[int, int]
    rows: tuple[int, int]
    cols: tuple[int, int]

    @property
    def size(self) -> tuple[int, int]:
        return (self.rows[1] - self.rows[0] + 1, self.cols[1] - self.cols[0] + 1)


@dataclass
class Prediction:
    input_shape: tuple[int, int, int, int]
    output_shape: tuple[int, int, int, int]
    layers: list[Layer]
    params: int
    macs: int
    elementwise: dict[str, int]
    memory: int
    rf_size: tuple | str  # (h, w) or "global"
    rf_jump: tuple
    support: Support
    output: Signal  # the walk's last signal: its receptive field in full

    @property
    def flops(self) -> int:
        return 2 * self.macs


class Walk:
    """State of one predicted walk: the rows so far and the tape of spatial maps."""

    def __init__(self, batch: int):
        self.batch = batch
        self.layers: list[Layer] = []
        # tape[i] = (output node, [(input node, map_h, map_w), ...]); a map turns a set of
        # needed output positions (an int bitmask) into needed input positions.
        self.tape: list[tuple[int, list]] = []
        self.nodes = 1  # node 0 is the input

    def emit(self, inputs: list[tuple[Signal, Callable | None, Callable | None]],
             **shape) -> Signal:
        node = self.nodes
        self.nodes += 1
        self.tape.append((node, [(s.node, mh, mw) for s, mh, mw in inputs]))
        return Signal(node=node, **shape)

    def row(self, name: str, kind: str, x: Signal, y: Signal, **numbers) -> None:
        self.layers.append(Layer(name, kind, x.shape, y.shape, field_of_view=y, **numbers))


# --- spatial maps: which input positions an output position reads ------------------

def _shift_map(offsets: tuple[int, ...], size_in: int) -> Callable[[int], int]:
    """Stride-1 map: shift the bitmask by every tap offset, clip to the input."""
    full = (1 << size_in) - 1

    def back(mask: int) -> int:
        out = 0
        for off in offsets:
            out |= (mask << off) if off >= 0 else (mask >> -off)
        return out & full
    return back


def _reads_map(reads: Callable[[int], Iterable[int]], size_in: int) -> Callable[[int], int]:
    """General map from a per-position `reads(o)` list, clipped to the input."""
    def back(mask: int) -> int:
        out, o = 0, 0
        while mask:
            if mask & 1:
                for i in reads(o):
                    if 0 <= i < size_in:
                        out |= 1 << i
            mask >>= 1
            o += 1
        return out
    return back


def _global_map(size_in: int) -> Callable[[int], int]:
    full = (1 << size_in) - 1
    return lambda mask: full if mask else 0


def _broadcast_map(size_in: int, size_out: int) -> Callable[[int], int] | None:
    """A size-1 operand broadcast over the output is read by every position."""
    return (lambda mask: 1 if mask else 0) if size_in == 1 and size_out > 1 else None


def _axis_after(axis: Axis, reads: Callable[[int], Iterable[int]], ratio: Fraction | int
                ) -> Axis:
    """The receptive field after a layer whose output o reads input `reads(o)`.

    `ratio` is input positions per output position (the stride; 1/s when upsampling).
    Offsets are taken over one period of output positions, far from any border.
    """
    period = ratio.denominator if isinstance(ratio, Fraction) else 1
    base = 64 * period
    offsets = [i - o * ratio for o in range(base, base + period) for i in reads(o)]
    lo, hi = min(offsets), max(offsets)
    return Axis(axis.lo + axis.jump * lo, axis.hi + axis.jump * hi, axis.jump * ratio)


# --- rules ----------------------------------------------------------------------

class ConfigError(ValueError):
    """A configuration that cannot run, explained in a sentence."""


def _conv_geometry(m) -> tuple[int, int, int, int, int, int]:
    k = m.kernel_size if isinstance(m.kernel_size, tuple) else (m.kernel_size,) * 2
    s = m.stride if isinstance(m.stride, tuple) else (m.stride,) * 2
    p = m.padding if isinstance(m.padding, tuple) else (m.padding,) * 2
    d = getattr(m, "dilation", 1)
    d = d if isinstance(d, tuple) else (d,) * 2
    return k, s, p, d


def _window_axis(name: str, kind: str, axis: str, n: int, k: int, s: int, p: int, d: int,
                 taps: tuple[int, ...], rf: Axis, ceil_mode: bool):
    """One axis of a sliding window (conv or pool): size, formula, backward map, field."""
    span = d * (k - 1) + 1
    if n + 2 * p < span:
        raise ConfigError(
            f"At layer '{name}' ({kind}), the {k}x{k} kernel"
            + (f" with dilation {d}" if d > 1 else "") + f" spans {span} pixels"
            + f" but the padded input is only {n} + 2*{p} = {n + 2 * p} {axis}-pixels "
              f"wide. Use a larger input, more padding or a smaller kernel/dilation.")
    out = ar.conv_out(n, k, s, p, d)
    if ceil_mode:
        out = -(-(n + 2 * p - span) // s) + 1
        if (out - 1) * s >= n + p:  # PyTorch drops a window that starts in the padding
            out -= 1
    formula = ar.conv_out_latex(n, k, s, p, d, axis) if out != n else None
    offsets = tuple(-p + t * d for t in taps)  # input position - stride * output position
    if s == 1:
        back = _shift_map(offsets, n)
    else:
        back = _reads_map(lambda o: [o * s + off for off in offsets], n)
    field = Axis(rf.lo + rf.jump * offsets[0], rf.hi + rf.jump * offsets[-1], rf.jump * s)
    return out, formula, back, field


def _spatial(w: Walk, name: str, x: Signal, kind: str, channels: int,
             taps_h: tuple[int, ...], taps_w: tuple[int, ...], k, s, p, d,
             ceil_mode: bool = False) -> tuple[Signal, list[str]]:
    """Shared rule for convolution and pooling windows (taps are kernel indices)."""
    h, fh, map_h, rf_h = _window_axis(name, kind, "H", x.height, k[0], s[0], p[0], d[0],
                                      taps_h, x.rf_h, ceil_mode)
    wd, fw, map_w, rf_w = _window_axis(name, kind, "W", x.width, k[1], s[1], p[1], d[1],
                                       taps_w, x.rf_w, ceil_mode)
    y = w.emit([(x, map_h, map_w)], channels=channels, height=h, width=wd, rf_h=rf_h,
               rf_w=rf_w, is_global=x.is_global)
    return y, [f for f in (fh, fw) if f]


def _mask_taps(m: MaskedConv2d) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Kernel rows and columns a PixelCNN mask leaves open (their projections)."""
    k, c = m.kernel_size[0], m.kernel_size[0] // 2
    rows = tuple(range(c + 1)) if (m.mask_type == "B" or c > 0) else ()
    cols = tuple(range(k)) if c > 0 else ((c,) if m.mask_type == "B" else ())
    return rows, cols


def conv_rule(w: Walk, name: str, m: nn.Conv2d, x: Signal) -> Signal:
    _check_channels(name, m.in_channels, x)
    k, s, p, d = _conv_geometry(m)
    if isinstance(m, MaskedConv2d):
        taps_h, taps_w = _mask_taps(m)
    else:
        taps_h, taps_w = tuple(range(k[0])), tuple(range(k[1]))
    y, formulas = _spatial(w, name, x, type(m).__name__, m.out_channels, taps_h, taps_w,
                           k, s, p, d)
    per_output = m.in_channels // m.groups * k[0] * k[1]
    params = m.out_channels * per_output + (m.out_channels if m.bias is not None else 0)
    w.row(name, type(m).__name__, x, y, params=params, macs=w.batch * y.numel * per_output,
          memory=w.batch * y.numel * BYTES_PER_ELEMENT, formula=formulas)
    return y


def conv_transpose_rule(w: Walk, name: str, m: nn.ConvTranspose2d, x: Signal) -> Signal:
    _check_channels(name, m.in_channels, x)
    k, s, p, d = _conv_geometry(m)
    op = m.output_padding
    sizes, formulas, maps, axes = [], [], [], []
    for i, (axis, n, rf) in enumerate((("H", x.height, x.rf_h), ("W", x.width, x.rf_w))):
        out = ar.conv_transpose_out(n, k[i], s[i], p[i], d[i], op[i])
        if out < 1:
            raise ConfigError(f"At layer '{name}' (ConvTranspose2d), the output {axis} would be "
                              f"{out}: ({n}-1)*{s[i]} - 2*{p[i]} + {d[i]}*({k[i]}-1) + {op[i]} "
                              f"+ 1. Use less padding.")
        sizes.append(out)
        formulas.append(ar.conv_transpose_out_latex(n, k[i], s[i], p[i], d[i], op[i], axis))

        def reads(o, i=i):
            return [(o + p[i] - t * d[i]) // s[i] for t in range(k[i])
                    if (o + p[i] - t * d[i]) % s[i] == 0]
        maps.append(_reads_map(reads, n))
        axes.append(_axis_after(rf, reads, Fraction(1, s[i])))
    y = w.emit([(x, maps[0], maps[1])], channels=m.out_channels, height=sizes[0],
               width=sizes[1], rf_h=axes[0], rf_w=axes[1], is_global=x.is_global)
    per_input = m.out_channels // m.groups * k[0] * k[1]
    params = m.in_channels * per_input + (m.out_channels if m.bias is not None else 0)
    w.row(name, "ConvTranspose2d", x, y, params=params, macs=w.batch * x.numel * per_input,
          memory=w.batch * y.numel * BYTES_PER_ELEMENT, formula=formulas)
    return y


def pool_rule(w: Walk, name: str, m: nn.Module, x: Signal) -> Signal:
    k, s, p, d = _conv_geometry(m)
    y, formulas = _spatial(w, name, x, type(m).__name__, x.channels, tuple(range(k[0])),
                           tuple(range(k[1])), k, s, p, d, ceil_mode=m.ceil_mode)
    w.row(name, type(m).__name__, x, y, elementwise=w.batch * y.numel * k[0] * k[1], op="pool",
          memory=w.batch * y.numel * BYTES_PER_ELEMENT, formula=formulas)
    return y


def global_pool_rule(w: Walk, name: str, m: nn.Module, x: Signal) -> Signal:
    size = m.output_size if isinstance(m, nn.AdaptiveAvgPool2d) else 1
    if size not in (1, (1, 1)):
        raise ConfigError(f"Layer '{name}': only global (1x1) adaptive pooling is supported.")
    y = w.emit([(x, _global_map(x.height), _global_map(x.width))], channels=x.channels,
               height=1, width=1, rf_h=x.rf_h, rf_w=x.rf_w, is_global=True)
    numbers = dict(memory=w.batch * y.numel * BYTES_PER_ELEMENT)
    if isinstance(m, AttentionPool):  # 1x1 score conv (C->1) and the weighted sum (bmm)
        numbers.update(params=m.channels + 1, macs=2 * w.batch * x.numel,
                       elementwise=w.batch * x.height * x.width, op="softmax")
    else:
        numbers.update(elementwise=w.batch * x.numel, op="pool")
    w.row(name, type(m).__name__, x, y, formula=[f"{x.height}\\times{x.width} \\to 1\\times1"],
          **numbers)
    return y


def upsample_rule(w: Walk, name: str, m: nn.Upsample, x: Signal) -> Signal:
    scale = int(m.scale_factor)
    maps, axes = [], []
    for n, rf in ((x.height, x.rf_h), (x.width, x.rf_w)):
        if m.mode == "nearest":
            def reads(o):
                return [o // scale]
            clamped = reads
        else:  # bilinear, align_corners=False: two neighbours, weights that may be zero
            def reads(o, n=n, clamp=False):
                src = max((o + 0.5) / scale - 0.5, 0.0) if clamp else (o + 0.5) / scale - 0.5
                i0 = floor(src)
                i1 = min(i0 + 1, n - 1) if clamp else i0 + 1
                return [i0] + ([i1] if src > i0 and i1 != i0 else [])

            def clamped(o, reads=reads):
                return reads(o, clamp=True)
        maps.append(_reads_map(clamped, n))
        axes.append(_axis_after(rf, reads, Fraction(1, scale)))
    y = w.emit([(x, maps[0], maps[1])], channels=x.channels, height=x.height * scale,
               width=x.width * scale, rf_h=axes[0], rf_w=axes[1], is_global=x.is_global)
    w.row(name, f"Upsample({m.mode})", x, y, elementwise=w.batch * y.numel, op="upsample",
          memory=w.batch * y.numel * BYTES_PER_ELEMENT,
          formula=[ar.upsample_out_latex(x.height, scale, "H"),
                   ar.upsample_out_latex(x.width, scale, "W")])
    return y


def _per_pixel(w: Walk, name: str, m: nn.Module, x: Signal, op: str, params: int = 0
               ) -> Signal:
    """Layers that keep the shape and look at one pixel at a time. Their output sees
    exactly what their input saw, so the walk passes the input signal on (no tape node)."""
    n = w.batch * x.numel
    w.row(name, type(m).__name__, x, x, params=params, elementwise=n, op=op,
          memory=n * BYTES_PER_ELEMENT)
    return x


def activation_rule(w: Walk, name: str, m: nn.Module, x: Signal) -> Signal:
    return _per_pixel(w, name, m, x, "activation")


def batch_norm_rule(w: Walk, name: str, m: nn.BatchNorm2d, x: Signal) -> Signal:
    _check_channels(name, m.num_features, x)
    return _per_pixel(w, name, m, x, "norm", 2 * m.num_features if m.affine else 0)


def group_norm_rule(w: Walk, name: str, m: nn.GroupNorm, x: Signal) -> Signal:
    _check_channels(name, m.num_channels, x)
    return _per_pixel(w, name, m, x, "norm", 2 * m.num_channels if m.affine else 0)


def layer_norm_rule(w: Walk, name: str, m: LayerNorm2d, x: Signal) -> Signal:
    c = m.normalized_shape[0]
    _check_channels(name, c, x)
    return _per_pixel(w, name, m, x, "norm", 2 * c if m.elementwise_affine else 0)


def layer_scale_rule(w: Walk, name: str, m: LayerScale, x: Signal) -> Signal:
    return _per_pixel(w, name, m, x, "mul", m.gamma.numel())


def shuffle_rule(w: Walk, name: str, m: ChannelShuffle, x: Signal) -> Signal:
    return _per_pixel(w, name, m, x, "copy")


def invertible_rule(w: Walk, name: str, m: InvertibleConv1x1, x: Signal) -> Signal:
    c = m.channels
    _check_channels(name, c, x)
    y = x  # per pixel: same field of view
    # the 1x1 conv per pixel, plus two CxC matrix products that assemble W = P L U
    w.row(name, "InvertibleConv1x1", x, y, params=2 * c * c + c,
          macs=w.batch * y.numel * c + 2 * c ** 3, memory=w.batch * y.numel * BYTES_PER_ELEMENT)
    return y


def slice_rule(w: Walk, name: str, m: ChannelSlice, x: Signal) -> Signal:
    y = Signal(m.stop - m.start, x.height, x.width, x.rf_h, x.rf_w, x.is_global, x.node)
    w.row(name, "ChannelSlice", x, y)  # a view: no new memory
    return y


def identity_rule(w: Walk, name: str, m: nn.Module, x: Signal) -> Signal:
    return x


def _check_channels(name: str, expected: int, x: Signal) -> None:
    if expected != x.channels:
        raise ConfigError(f"Layer '{name}' expects {expected} channels but receives "
                          f"{x.channels}.")


# --- merges ---------------------------------------------------------------------

def _merge(w: Walk, name: str, kind: str, op: str, inputs: list[Signal], channels: int
           ) -> Signal:
    height = max(s.height for s in inputs)
    width = max(s.width for s in inputs)
    rf = [_widest([s.rf_h for s in inputs if not s.is_global]),
          _widest([s.rf_w for s in inputs if not s.is_global])]
    y = w.emit([(s, _broadcast_map(s.height, height), _broadcast_map(s.width, width))
                for s in inputs], channels=channels, height=height, width=width,
               rf_h=rf[0] or inputs[0].rf_h, rf_w=rf[1] or inputs[0].rf_w,
               is_global=any(s.is_global for s in inputs))
    w.row(name, kind, inputs[0], y, elementwise=w.batch * y.numel, op=op,
          memory=w.batch * y.numel * BYTES_PER_ELEMENT)
    return y


def _widest(axes: list[Axis]) -> Axis | None:
    if not axes:
        return None
    return Axis(min(a.lo for a in axes), max(a.hi for a in axes), max(a.jump for a in axes))


def _same_size(name: str, what: str, a: Signal, b: Signal, fix: str) -> None:
    for n, m in ((a.height, b.height), (a.width, b.width)):
        if n != m and 1 not in (n, m):
            raise ConfigError(f"At '{name}', the {what} do not line up: {a.shape} vs "
                              f"{b.shape} (channels, height, width). {fix}")


def residual_rule(w: Walk, name: str, m: Residual, x: Signal) -> Signal:
    body = walk(w, m.body, x, f"{name}.body")
    short = walk(w, m.shortcut, x, f"{name}.shortcut")
    fix = ("The branch must give the size the shortcut gives: use padding 'same', or "
           "turn skip off.")
    _same_size(name, "residual branch and the shortcut", body, short, fix)
    if body.channels != short.channels:
        raise ConfigError(f"At '{name}', the residual branch gives {body.channels} channels "
                          f"but the shortcut gives {short.channels}.")
    return _merge(w, row_name(name, m), "add", "add", [body, short], body.channels)


def concat_rule(w: Walk, name: str, m: Concat, x: Signal) -> Signal:
    outs = [walk(w, b, x, f"{name}.branches.{i}") for i, b in enumerate(m.branches)]
    for o in outs[1:]:
        _same_size(name, "concatenated branches", outs[0], o,
                   "Every branch must keep the same height and width: check the padding.")
    return _merge(w, row_name(name, m), "concat", "concat", outs, sum(o.channels for o in outs))


def gate_rule(w: Walk, name: str, m: Gate, x: Signal) -> Signal:
    g = walk(w, m.gate, x, f"{name}.gate")
    return _merge(w, row_name(name, m), "mul", "mul", [x, g], x.channels)


def sequential_rule(w: Walk, name: str, m: nn.Sequential, x: Signal) -> Signal:
    for child_name, child in m._modules.items():  # named_children() without its set
        x = walk(w, child, x, f"{name}.{child_name}" if name else child_name)
    return x


RULES: dict[type, Callable] = {
    nn.Sequential: sequential_rule, Residual: residual_rule, Concat: concat_rule,
    Gate: gate_rule, nn.Conv2d: conv_rule, MaskedConv2d: conv_rule,
    nn.ConvTranspose2d: conv_transpose_rule, nn.MaxPool2d: pool_rule, nn.AvgPool2d: pool_rule,
    nn.AdaptiveAvgPool2d: global_pool_rule, AttentionPool: global_pool_rule,
    nn.Upsample: upsample_rule, InvertibleConv1x1: invertible_rule, ChannelSlice: slice_rule,
    nn.Identity: identity_rule, LayerScale: layer_scale_rule, ChannelShuffle: shuffle_rule,
    nn.BatchNorm2d: batch_norm_rule, nn.GroupNorm: group_norm_rule, LayerNorm2d: layer_norm_rule,
    **{t: activation_rule for t in ACTIVATIONS},
}
# Sequential subclasses (ConvNormAct, NormActConv) walk like Sequential
MERGES = (Residual, Concat, Gate)


def walk(w: Walk, m: nn.Module, x: Signal, name: str) -> Signal:
    rule = RULES.get(type(m))
    if rule is None:
        if isinstance(m, nn.Sequential):
            rule = sequential_rule
        else:
            raise ConfigError(f"No analysis rule for layer '{name}' ({type(m).__name__}).")
    return rule(w, name, m, x)


MERGE_OPS = {Residual: "add", Concat: "cat", Gate: "mul"}


def row_name(name: str, m: nn.Module) -> str:
    """The report row of a module: merges are named by their operation."""
    op = MERGE_OPS.get(type(m))
    return f"{name}.{op}" if op else name


def node_modules(model: nn.Module, prefix: str = "") -> dict[str, nn.Module]:
    """The modules whose outputs are rows of the report (leaves and merges), in walk order."""
    nodes: dict[str, nn.Module] = {}
    for child_name, child in model.named_children():
        name = f"{prefix}.{child_name}" if prefix else child_name
        if isinstance(child, MERGES) or (type(child) in RULES and
                                         not isinstance(child, (nn.Sequential, nn.Identity))):
            nodes[name] = child
        if isinstance(child, (nn.Sequential, nn.ModuleList) + MERGES):
            nodes.update(node_modules(child, name))
    return nodes


# --- the whole prediction ----------------------------------------------------------

def predict(model: nn.Module, input_shape: tuple[int, int, int, int]) -> Prediction:
    """Predicted shapes, receptive field, params and MACs of `model` on `input_shape`."""
    n, c, h, wd = input_shape
    w = Walk(n)
    x = Signal(c, h, wd, Axis(), Axis())
    y = walk(w, model, x, "")
    for dim, size in zip("HW", (y.height, y.width)):
        if size < 1:
            raise ConfigError(f"The output {dim} would be {size}: the input is too small for "
                              f"this many downsampling layers.")
    totals: dict[str, int] = {}
    for layer in w.layers:
        if layer.op:
            totals[layer.op] = totals.get(layer.op, 0) + layer.elementwise
    return Prediction(
        input_shape=input_shape, output_shape=(n, *y.shape), layers=w.layers,
        params=sum(layer.params for layer in w.layers),
        macs=sum(layer.macs for layer in w.layers), elementwise=totals,
        memory=sum(layer.memory for layer in w.layers),
        rf_size="global" if y.is_global else (y.rf_h.size, y.rf_w.size),
        rf_jump=(y.rf_h.jump, y.rf_w.jump), support=_support(w, y, (h, wd)), output=y)


def centre_pixel(height: int, width: int) -> tuple[int, int]:
    return (height // 2, width // 2)


def _support(w: Walk, y: Signal, input_hw: tuple[int, int]) -> Support:
    """Propagate the centre output pixel back along the tape to the input."""
    pixel = centre_pixel(y.height, y.width)
    needed = {y.node: (1 << pixel[0], 1 << pixel[1])}
    for node, inputs in reversed(w.tape):
        if node not in needed:
            continue
        mh, mw = needed.pop(node)
        for src, map_h, map_w in inputs:
            bh = map_h(mh) if map_h else mh
            bw = map_w(mw) if map_w else mw
            if bh and bw:
                old = needed.get(src, (0, 0))
                needed[src] = (old[0] | bh, old[1] | bw)
    mh, mw = needed.get(0, (0, 0))
    if not mh:
        return Support(pixel, (0, -1), (0, -1))
    return Support(pixel, _bit_range(mh), _bit_range(mw))


def _bit_range(mask: int) -> tuple[int, int]:
    return ((mask & -mask).bit_length() - 1, mask.bit_length() - 1)


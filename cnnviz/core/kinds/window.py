"""Sliding windows: convolution (plain and PixelCNN-masked) and max / average pooling."""
from __future__ import annotations

import functools
from typing import Any

import torch.nn as nn
import torch.nn.functional as F

from cnnviz.core import arithmetic as ar
from cnnviz.core.kinds.registry import LayerKind, args_text, register, square
from cnnviz.core.layers import MaskedConv2d
from cnnviz.core.tape import (
    Axis,
    ConfigError,
    Map,
    Signal,
    Walk,
    check_channels,
    check_map,
    reads_map,
    shift_map,
)


def _window_axis(name: str, kind: str, axis: str, n: int, k: int, s: int, p: int, d: int,
                 taps: tuple[int, ...], rf: Axis, ceil_mode: bool
                 ) -> tuple[int, str | None, Map, Axis]:
    """One axis of a sliding window: size, formula, backward map, receptive field."""
    span = d * (k - 1) + 1
    if n + 2 * p < span:
        raise ConfigError(
            f"At layer '{name}' ({kind}), the {k}x{k} kernel"
            + (f" with dilation {d}" if d > 1 else "") + f" spans {span} pixels"
            + f" but the padded input is only {n} + 2*{p} = {n + 2 * p} {axis}-pixels "
              f"wide. Use a larger input, more padding or a smaller kernel/dilation.")
    out, offsets, back = _axis_geometry(n, k, s, p, d, taps, ceil_mode)
    formula = ar.conv_out_latex(n, k, s, p, d, axis) if out != n else None
    field = Axis(rf.lo + rf.jump * offsets[0], rf.hi + rf.jump * offsets[-1], rf.jump * s)
    return out, formula, back, field


@functools.lru_cache(maxsize=4096)
def _axis_geometry(n: int, k: int, s: int, p: int, d: int, taps: tuple[int, ...],
                   ceil_mode: bool) -> tuple[int, tuple[int, ...], Map]:
    """Output size, tap offsets and backward map of one window axis. Pure, and the same
    for every block of a deep stack, so computed once (the maps are pure functions)."""
    out = ar.conv_out(n, k, s, p, d)
    if ceil_mode:
        out = -(-(n + 2 * p - d * (k - 1) - 1) // s) + 1
        if (out - 1) * s >= n + p:  # PyTorch drops a window that starts in the padding
            out -= 1
    offsets = tuple(-p + t * d for t in taps)  # input position - stride * output position
    if s == 1:
        back = shift_map(offsets, n)
    else:
        back = reads_map(lambda o: [o * s + off for off in offsets], n)
    return out, offsets, back


Taps = tuple[tuple[int, ...], tuple[int, ...]]  # kernel rows and columns a window reads


def _spatial(w: Walk, name: str, x: Signal, kind: str, channels: int, pieces: list[Taps],
             g: ar.Geometry, ceil_mode: bool = False) -> tuple[Signal, list[str]]:
    """Shared rule for convolution and pooling windows. The taps a window reads are the
    union of rectangles `pieces` (one for a full kernel, two for a PixelCNN mask)."""
    check_map(name, x)
    (k, s, p, d) = g
    inputs: list = []
    fields_h, fields_w = [], []
    for rows, cols in pieces:
        h, fh, map_h, rf_h = _window_axis(name, kind, "H", x.height, k[0], s[0], p[0], d[0],
                                          rows, x.rf_h, ceil_mode)
        wd, fw, map_w, rf_w = _window_axis(name, kind, "W", x.width, k[1], s[1], p[1], d[1],
                                           cols, x.rf_w, ceil_mode)
        inputs.append((x, map_h, map_w))
        fields_h.append(rf_h)
        fields_w.append(rf_w)
    y = w.emit(inputs, channels, h, wd, _hull(fields_h), _hull(fields_w), x.is_global)
    return y, [f for f in (fh, fw) if f]


def _hull(axes: list[Axis]) -> Axis:
    if len(axes) == 1:  # a full kernel: one rectangle of taps
        return axes[0]
    return Axis(min(a.lo for a in axes), max(a.hi for a in axes), axes[0].jump)


def _all_taps(g: ar.Geometry) -> list[Taps]:
    return [(tuple(range(g.kernel[0])), tuple(range(g.kernel[1])))]


def _mask_taps(m: MaskedConv2d) -> list[Taps]:
    """The taps a PixelCNN mask leaves open: every row above the centre, and the centre
    row left of the centre (and the centre itself for mask B)."""
    k, c = m.kernel_size[0], m.kernel_size[0] // 2
    centre_row = tuple(range(c + (m.mask_type == "B")))
    pieces = [(tuple(range(c)), tuple(range(k))), ((c,), centre_row)]
    return [(rows, cols) for rows, cols in pieces if rows and cols]


def conv_rule(w: Walk, name: str, m: nn.Conv2d, x: Signal) -> Signal:
    check_channels(name, m.in_channels, x)
    g = ar.conv_geometry(m)
    taps = _mask_taps(m) if isinstance(m, MaskedConv2d) else _all_taps(g)
    y, formulas = _spatial(w, name, x, type(m).__name__, m.out_channels, taps, g)
    per_output = m.in_channels // m.groups * g.kernel[0] * g.kernel[1]
    params = m.out_channels * per_output + (m.out_channels if m.bias is not None else 0)
    depthwise = m.groups > 1 and m.groups == m.in_channels  # runs far slower per MAC
    w.row(name, type(m).__name__, x, y, params=params, macs=w.batch * y.numel * per_output,
          memory=w.output_bytes(y), formula=formulas, op="depthwise" if depthwise else "")
    return y


def pool_rule(w: Walk, name: str, m: nn.MaxPool2d | nn.AvgPool2d, x: Signal) -> Signal:
    g = ar.conv_geometry(m)
    y, formulas = _spatial(w, name, x, type(m).__name__, x.channels, _all_taps(g), g,
                           ceil_mode=m.ceil_mode)
    w.row(name, type(m).__name__, x, y, elementwise=w.batch * y.numel * g.kernel[0] * g.kernel[1],
          op="pool", memory=w.output_bytes(y), formula=formulas)
    return y


def conv_label(m: nn.Conv2d | nn.ConvTranspose2d) -> str:
    """'Conv2d 3×3\\n16→32, s2, g4' (the transposed conv too)."""
    k, s = m.kernel_size, m.stride
    text = f"{type(m).__name__} {k[0]}×{k[1]}\n{m.in_channels}→{m.out_channels}"
    extras = [f"s{s[0]}" if s[0] == s[1] else f"s{s}"] if s != (1, 1) else []
    if m.dilation != (1, 1):
        extras.append(f"d{m.dilation[0]}")
    if m.groups != 1:
        extras.append("depthwise" if m.groups == m.in_channels == m.out_channels
                      else f"g{m.groups}")
    if isinstance(m, MaskedConv2d):
        extras.append(f"mask {m.mask_type}")
    return text + (", " + ", ".join(extras) if extras else "")


def _pool_label(m: nn.MaxPool2d | nn.AvgPool2d) -> str:
    return f"{type(m).__name__} {m.kernel_size}, s{m.stride}"


def _conv_code(m: nn.Conv2d) -> str:
    return "nn.Conv2d(" + args_text(
        m.in_channels, m.out_channels, square(m.kernel_size),
        stride=(square(m.stride), 1), padding=(square(m.padding), 0),
        dilation=(square(m.dilation), 1), groups=(m.groups, 1),
        bias=(m.bias is not None, True), padding_mode=(m.padding_mode, "zeros")) + ")"


def _masked_code(m: MaskedConv2d) -> str:
    return "MaskedConv2d(" + args_text(
        m.in_channels, m.out_channels, square(m.kernel_size), mask_type=(m.mask_type, "B"),
        padding=(square(m.padding), 0), dilation=(square(m.dilation), 1),
        bias=(m.bias is not None, True)) + ")"


def _maxpool_code(m: nn.MaxPool2d) -> str:
    return "nn.MaxPool2d(" + args_text(m.kernel_size, stride=(m.stride, m.kernel_size),
                                       padding=(m.padding, 0), dilation=(m.dilation, 1),
                                       ceil_mode=(m.ceil_mode, False)) + ")"


def _avgpool_code(m: nn.AvgPool2d) -> str:
    return "nn.AvgPool2d(" + args_text(m.kernel_size, stride=(m.stride, m.kernel_size),
                                       padding=(m.padding, 0), ceil_mode=(m.ceil_mode, False),
                                       count_include_pad=(m.count_include_pad, True),
                                       divisor_override=(m.divisor_override, None)) + ")"


def _max_as_average(m: nn.MaxPool2d, args: tuple[Any, ...], out: Any) -> Any:
    """The probe's max-pool: a max passes gradient to one pixel only, an average of the
    same window to all of them."""
    return F.avg_pool2d(args[0], m.kernel_size, m.stride, m.padding, m.ceil_mode, False)


register(LayerKind((nn.Conv2d,), conv_rule, _conv_code, label=conv_label))
register(LayerKind((MaskedConv2d,), conv_rule, _masked_code, label=conv_label))
register(LayerKind((nn.MaxPool2d,), pool_rule, _maxpool_code, label=_pool_label,
                   probe_hook=_max_as_average))
register(LayerKind((nn.AvgPool2d,), pool_rule, _avgpool_code, label=_pool_label))

"""Layers that make the map larger: transposed convolution, resizing, pixel shuffle."""
from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from math import floor

import torch.nn as nn

from cnnviz.core import arithmetic as ar
from cnnviz.core.kinds.registry import LayerKind, args_text, register, square
from cnnviz.core.kinds.window import conv_label
from cnnviz.core.tape import (
    Axis,
    ConfigError,
    Map,
    Signal,
    Walk,
    axis_after,
    check_channels,
    reads_map,
)


def conv_transpose_rule(w: Walk, name: str, m: nn.ConvTranspose2d, x: Signal) -> Signal:
    check_channels(name, m.in_channels, x)
    k, s, p, d = ar.conv_geometry(m)
    op = ar.pair(m.output_padding)
    sizes, formulas, maps, axes = [], [], [], []
    for i, (axis, n, rf) in enumerate((("H", x.height, x.rf_h), ("W", x.width, x.rf_w))):
        out = ar.conv_transpose_out(n, k[i], s[i], p[i], d[i], op[i])
        if out < 1:
            raise ConfigError(f"At layer '{name}' (ConvTranspose2d), the output {axis} would be "
                              f"{out}: ({n}-1)*{s[i]} - 2*{p[i]} + {d[i]}*({k[i]}-1) + {op[i]} "
                              f"+ 1. Use less padding.")
        sizes.append(out)
        formulas.append(ar.conv_transpose_out_latex(n, k[i], s[i], p[i], d[i], op[i], axis))

        def reads(o: int, i: int = i) -> list[int]:
            return [(o + p[i] - t * d[i]) // s[i] for t in range(k[i])
                    if (o + p[i] - t * d[i]) % s[i] == 0]
        maps.append(reads_map(reads, n))
        axes.append(axis_after(rf, reads, Fraction(1, s[i])))
    y = w.emit([(x, maps[0], maps[1])], m.out_channels, sizes[0], sizes[1], axes[0], axes[1],
               x.is_global)
    per_input = m.out_channels // m.groups * k[0] * k[1]
    params = m.in_channels * per_input + (m.out_channels if m.bias is not None else 0)
    w.row(name, "ConvTranspose2d", x, y, params=params, macs=w.batch * x.numel * per_input,
          memory=w.output_bytes(y), formula=formulas)
    return y


def _nearest(scale: int) -> Callable[[int], list[int]]:
    return lambda o: [o // scale]


def _bilinear(scale: int, n: int, clamp: bool) -> Callable[[int], list[int]]:
    """align_corners=False: two neighbours; at the border (clamp) weights that may be zero."""
    def reads(o: int) -> list[int]:
        src = (o + 0.5) / scale - 0.5
        if clamp:
            src = max(src, 0.0)
        i0 = floor(src)
        i1 = min(i0 + 1, n - 1) if clamp else i0 + 1
        return [i0] + ([i1] if src > i0 and i1 != i0 else [])
    return reads


def upsample_rule(w: Walk, name: str, m: nn.Upsample, x: Signal) -> Signal:
    if not isinstance(m.scale_factor, (int, float)) or not float(m.scale_factor).is_integer():
        raise ConfigError(f"Layer '{name}': only one whole upsampling factor is supported.")
    scale = int(m.scale_factor)
    maps: list[Map] = []
    axes: list[Axis] = []
    for n, rf in ((x.height, x.rf_h), (x.width, x.rf_w)):
        if m.mode == "nearest":
            reads = clamped = _nearest(scale)
        else:
            reads, clamped = _bilinear(scale, n, False), _bilinear(scale, n, True)
        maps.append(reads_map(clamped, n))
        axes.append(axis_after(rf, reads, Fraction(1, scale)))
    y = w.emit([(x, maps[0], maps[1])], x.channels, x.height * scale, x.width * scale,
               axes[0], axes[1], x.is_global)
    w.row(name, f"Upsample({m.mode})", x, y, elementwise=w.batch * y.numel, op="upsample",
          memory=w.output_bytes(y),
          formula=[ar.upsample_out_latex(x.height, scale, "H"),
                   ar.upsample_out_latex(x.width, scale, "W")])
    return y


def pixel_shuffle_rule(w: Walk, name: str, m: nn.PixelShuffle, x: Signal) -> Signal:
    """(C·r², H, W) -> (C, rH, rW): output (o_h, o_w) reads input (o_h // r, o_w // r), the
    channel given by its phase (Shi et al. 2016, sub-pixel convolution). No arithmetic."""
    r = m.upscale_factor
    if x.channels % (r * r):
        raise ConfigError(f"Layer '{name}' (PixelShuffle({r})) turns each r² = {r * r} "
                          f"channels into an {r}x{r} block of pixels, but receives "
                          f"{x.channels} channels, not a multiple of {r * r}.")
    reads, ratio = _nearest(r), Fraction(1, r)
    y = w.emit([(x, reads_map(reads, x.height), reads_map(reads, x.width))],
               x.channels // (r * r), x.height * r, x.width * r,
               axis_after(x.rf_h, reads, ratio), axis_after(x.rf_w, reads, ratio), x.is_global)
    w.row(name, "PixelShuffle", x, y, elementwise=w.batch * y.numel, op="copy",
          memory=w.output_bytes(y),
          formula=[f"C_{{out}} = {x.channels} / {r}^2 = {y.channels}",
                   ar.upsample_out_latex(x.height, r, "H"),
                   ar.upsample_out_latex(x.width, r, "W")])
    return y


def _conv_transpose_code(m: nn.ConvTranspose2d) -> str:
    return "nn.ConvTranspose2d(" + args_text(
        m.in_channels, m.out_channels, square(m.kernel_size),
        stride=(square(m.stride), 1), padding=(square(m.padding), 0),
        output_padding=(square(m.output_padding), 0), groups=(m.groups, 1),
        bias=(m.bias is not None, True), dilation=(square(m.dilation), 1)) + ")"


def _upsample_code(m: nn.Upsample) -> str:
    scale = m.scale_factor
    scale = int(scale) if isinstance(scale, float) and scale.is_integer() else scale
    return "nn.Upsample(" + args_text(scale_factor=(scale, None), mode=(m.mode, "nearest"),
                                      align_corners=(m.align_corners, None)) + ")"


def _upsample_label(m: nn.Upsample) -> str:
    return f"Upsample ×{m.scale_factor:g} ({m.mode})"


register(LayerKind((nn.ConvTranspose2d,), conv_transpose_rule, _conv_transpose_code,
                   label=conv_label))
register(LayerKind((nn.Upsample,), upsample_rule, _upsample_code, label=_upsample_label))
register(LayerKind((nn.PixelShuffle,), pixel_shuffle_rule,
                   lambda m: f"nn.PixelShuffle({m.upscale_factor})",
                   label=lambda m: f"PixelShuffle ×{m.upscale_factor}"))

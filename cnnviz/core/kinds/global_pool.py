"""Pooling to a fixed output size: global pooling (every output sees every input pixel) and
adaptive average pooling to a small grid (AlexNet's and VGG's 6x6 and 7x7)."""
from __future__ import annotations

from fractions import Fraction

import torch.nn as nn

from cnnviz.core.kinds.registry import LayerKind, register, square
from cnnviz.core.layers import AttentionPool
from cnnviz.core.tape import (
    Axis,
    ConfigError,
    Map,
    Signal,
    Walk,
    axis_after,
    check_map,
    global_map,
    reads_map,
)


def global_pool_rule(w: Walk, name: str, m: nn.AdaptiveAvgPool2d | AttentionPool,
                     x: Signal) -> Signal:
    check_map(name, x)
    if isinstance(m, nn.AdaptiveAvgPool2d) and m.output_size not in (1, (1, 1)):
        return adaptive_pool_rule(w, name, m, x)
    y = w.emit([(x, global_map(x.height), global_map(x.width))], x.channels, 1, 1, x.rf_h,
               x.rf_w, is_global=True)
    formula = [f"{x.height}\\times{x.width} \\to 1\\times1"]
    if isinstance(m, AttentionPool):  # 1x1 score conv (C->1) and the weighted sum (bmm)
        w.row(name, type(m).__name__, x, y, params=m.channels + 1, macs=2 * w.batch * x.numel,
              elementwise=w.batch * x.height * x.width, op="softmax",
              memory=w.output_bytes(y), formula=formula)
    else:
        w.row(name, type(m).__name__, x, y, elementwise=w.batch * x.numel, op="pool",
              memory=w.output_bytes(y), formula=formula)
    return y


def _adaptive_axis(name: str, n: int, out: int | None, rf: Axis) -> tuple[int, Map, Axis, int]:
    """One axis of torch's adaptive pooling: output o averages inputs
    [floor(o*n/out), ceil((o+1)*n/out)). Size, backward map, field, summed window lengths."""
    out = n if out is None else out
    if out < 1:
        raise ConfigError(f"Layer '{name}': the adaptive pool's output size must be at least 1.")

    def reads(o: int) -> range:
        return range(o * n // out, -(-(o + 1) * n // out))
    ratio = n // out if n % out == 0 else Fraction(n, out)
    return out, reads_map(reads, n), axis_after(rf, reads, ratio), \
        sum(len(reads(o)) for o in range(out))


def adaptive_pool_rule(w: Walk, name: str, m: nn.AdaptiveAvgPool2d, x: Signal) -> Signal:
    size = m.output_size if isinstance(m.output_size, tuple) else (m.output_size,) * 2
    h, map_h, rf_h, reads_h = _adaptive_axis(name, x.height, size[0], x.rf_h)
    wd, map_w, rf_w, reads_w = _adaptive_axis(name, x.width, size[1], x.rf_w)
    y = w.emit([(x, map_h, map_w)], x.channels, h, wd, rf_h, rf_w, x.is_global)
    w.row(name, "AdaptiveAvgPool2d", x, y, elementwise=w.batch * x.channels * reads_h * reads_w,
          op="pool", memory=w.output_bytes(y),
          formula=[f"{x.height}\\times{x.width} \\to {h}\\times{wd}"])
    return y


register(LayerKind((nn.AdaptiveAvgPool2d,), global_pool_rule,
                   lambda m: f"nn.AdaptiveAvgPool2d({square(m.output_size)!r})"))
register(LayerKind((AttentionPool,), global_pool_rule, lambda m: f"AttentionPool({m.channels})"))

"""Layers after which one output pixel sees every input pixel: global pooling."""
from __future__ import annotations

import torch.nn as nn

from cnnviz.core.kinds.registry import LayerKind, register, square
from cnnviz.core.layers import AttentionPool
from cnnviz.core.tape import ConfigError, Signal, Walk, global_map


def global_pool_rule(w: Walk, name: str, m: nn.AdaptiveAvgPool2d | AttentionPool,
                     x: Signal) -> Signal:
    if isinstance(m, nn.AdaptiveAvgPool2d) and m.output_size not in (1, (1, 1)):
        raise ConfigError(f"Layer '{name}': only global (1x1) adaptive pooling is supported.")
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


register(LayerKind((nn.AdaptiveAvgPool2d,), global_pool_rule,
                   lambda m: f"nn.AdaptiveAvgPool2d({square(m.output_size)!r})"))
register(LayerKind((AttentionPool,), global_pool_rule, lambda m: f"AttentionPool({m.channels})"))

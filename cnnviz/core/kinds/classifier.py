"""The classifier's layers: flatten a map to a vector, fully connected layers, dropout."""
from __future__ import annotations

import torch.nn as nn

from cnnviz.core.kinds.registry import LayerKind, args_text, register
from cnnviz.core.tape import ConfigError, Signal, Walk, check_map, global_map


def flatten_rule(w: Walk, name: str, m: nn.Flatten, x: Signal) -> Signal:
    check_map(name, x)
    if (m.start_dim, m.end_dim) != (1, -1):
        raise ConfigError(f"Layer '{name}': only nn.Flatten() over (C, H, W) is supported.")
    # One vector holds every position, so the classifier after it sees the whole input.
    y = w.emit([(x, global_map(x.height), global_map(x.width))], x.numel, 1, 1, x.rf_h, x.rf_w,
               is_global=True, flat=True)
    w.row(name, "Flatten", x, y)  # a view: no new memory
    return y


def linear_rule(w: Walk, name: str, m: nn.Linear, x: Signal) -> Signal:
    if not x.flat:
        raise ConfigError(f"Layer '{name}' (Linear) needs a flat vector but receives a "
                          f"{x.channels}x{x.height}x{x.width} map: put a flatten before it.")
    if m.in_features != x.channels:
        raise ConfigError(f"Layer '{name}' expects {m.in_features} features but receives "
                          f"{x.channels}.")
    y = w.emit([(x, None, None)], m.out_features, 1, 1, x.rf_h, x.rf_w, x.is_global, flat=True)
    params = m.in_features * m.out_features + (m.out_features if m.bias is not None else 0)
    w.row(name, "Linear", x, y, params=params, macs=w.batch * m.in_features * m.out_features,
          memory=w.output_bytes(y))
    return y


def dropout_rule(w: Walk, name: str, m: nn.Dropout, x: Signal) -> Signal:
    # In eval, where every number is counted, dropout hands its input on untouched.
    w.row(name, "Dropout", x, x)
    return x


register(LayerKind((nn.Flatten,), flatten_rule, lambda m: "nn.Flatten()"))
register(LayerKind((nn.Linear,), linear_rule, lambda m: "nn.Linear(" + args_text(
    m.in_features, m.out_features, bias=(m.bias is not None, True)) + ")",
    label=lambda m: f"Linear\n{m.in_features}→{m.out_features}"))
register(LayerKind((nn.Dropout,), dropout_rule, lambda m: f"nn.Dropout({m.p!r})",
                   label=lambda m: f"Dropout p={m.p:g}"))

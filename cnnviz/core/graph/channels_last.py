"""Channels last: a map permuted to (N, H, W, C), as a ConvNeXt block writes it
(x.permute(0, 2, 3, 1), nn.LayerNorm(C), nn.Linear(C, 4C), GELU, nn.Linear(4C, C), a scale,
x.permute(0, 3, 1, 2)). A LayerNorm over C and a Linear on C then work one pixel at a
time: the norm as LayerNorm2d does, the Linear as a 1x1 convolution (Liu et al. 2022, §2.5
of ConvNeXt, note that the two are equivalent). Other calls on such a tensor have no formula.
"""
from __future__ import annotations

import torch.nn as nn
import torch.nn.functional as F

from cnnviz.core.graph.values import T, add_row, nbytes
from cnnviz.core.tape import Walk


def last_module(w: Walk, name: str, m: nn.Module, x: T) -> T | None:
    """nn.LayerNorm over the channels, nn.Linear on them, or a per-pixel registry module."""
    c = x.shape[-1]
    if isinstance(m, nn.LayerNorm) and tuple(m.normalized_shape) == (c,):
        params = sum(p.numel() for p in m.parameters())
        add_row(w, name, "LayerNorm", x, x, params=params, op="norm",
                elementwise=w.batch * x.sig.numel, memory=nbytes(x))
        return T(x.sig, x.shape, True, last=True)
    if isinstance(m, nn.Linear) and m.in_features == c:
        s = x.sig
        y = w.emit([(s, None, None)], m.out_features, s.height, s.width, s.rf_h, s.rf_w,
                   s.is_global)
        out = T(y, (*x.shape[:-1], m.out_features), True, last=True)
        pixels = w.batch * s.height * s.width
        params = m.in_features * m.out_features + (m.out_features if m.bias is not None else 0)
        add_row(w, name, "Linear", x, out, params=params,
                macs=pixels * m.in_features * m.out_features, memory=nbytes(out))
        return out
    return None


def layer_norm_call(w: Walk, name: str, args: list, kwargs: dict) -> T | None:
    """F.layer_norm(x, (C,), weight, bias, eps) on a channels-last map (its weights are
    counted where they are read)."""
    x = args[0]
    shape = args[1] if len(args) > 1 else kwargs.get("normalized_shape")
    if not isinstance(x, T) or not x.last or shape is None or tuple(shape) != (x.shape[-1],):
        return None
    add_row(w, name, "layer_norm", x, x, op="norm", elementwise=w.batch * x.sig.numel,
            memory=nbytes(x))
    return T(x.sig, x.shape, True, last=True)


LAST_FUNCTIONS = {F.layer_norm: layer_norm_call}

"""Channels last and torch.nn's own activations.

A map permuted to (N, H, W, C), as ConvNeXt's reference block writes it (x.permute(0, 2, 3,
1), nn.LayerNorm(C), nn.Linear(C, 4C), GELU, nn.Linear(4C, C), a scale, x.permute(0, 3, 1,
2)): a LayerNorm over C and a Linear on C work one pixel at a time, the norm as LayerNorm2d
does and the Linear with a 1x1 convolution's arithmetic. Other calls on such a tensor have
no formula. torch.nn activations the registry has no entry for (Hardswish, PReLU, ...) stay
leaves to fx and work one pixel at a time in either layout.
"""
from __future__ import annotations

import torch.nn as nn
import torch.nn.functional as F

from cnnviz.core.graph.values import T, add_row, nbytes
from cnnviz.core.tape import Walk

# torch.nn activations the registry has no entry for (fx keeps them as leaves)
TORCH_ACTIVATIONS = (nn.Hardswish, nn.Hardsigmoid, nn.Tanh, nn.ELU, nn.Mish, nn.PReLU,
                     nn.Softplus)


def torch_activation(w: Walk, name: str, m: nn.Module, x: T, seen: bool) -> T:
    """One pixel at a time, in either layout (a PReLU's slopes are its parameters)."""
    params = 0 if seen else sum(p.numel() for p in m.parameters())
    add_row(w, name, type(m).__name__, x, x, params=params, op="activation",
            elementwise=w.batch * x.sig.numel,
            memory=0 if getattr(m, "inplace", False) else nbytes(x))
    return x.same_pixels()


def last_module(w: Walk, name: str, m: nn.Module, x: T) -> T | None:
    """nn.LayerNorm over the channels, nn.Linear on them, or a per-pixel registry module."""
    c = x.shape[-1]
    if isinstance(m, TORCH_ACTIVATIONS):
        return torch_activation(w, name, m, x, False)
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

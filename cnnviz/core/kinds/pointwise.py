"""Layers that look at one pixel at a time: activations, norms, scales, channel moves."""
from __future__ import annotations

from typing import Any

import torch
import torch.nn as nn

from cnnviz.core.kinds.registry import LayerKind, args_text, register
from cnnviz.core.layers import (
    ChannelShuffle,
    ChannelSlice,
    InvertibleConv1x1,
    LayerNorm2d,
    LayerScale,
)
from cnnviz.core.tape import Signal, Walk, check_channels

ACTIVATIONS = (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.SiLU, nn.GELU, nn.Sigmoid)


def _per_pixel(w: Walk, name: str, m: nn.Module, x: Signal, op: str, params: int = 0
               ) -> Signal:
    """Layers that keep the shape and look at one pixel at a time. Their output sees
    exactly what their input saw, so the walk passes the input signal on (no tape node)."""
    n = w.batch * x.numel
    w.row(name, type(m).__name__, x, x, params=params, elementwise=n, op=op,
          memory=w.output_bytes(x))
    return x


def activation_rule(w: Walk, name: str, m: nn.Module, x: Signal) -> Signal:
    return _per_pixel(w, name, m, x, "activation")


def batch_norm_rule(w: Walk, name: str, m: nn.BatchNorm2d, x: Signal) -> Signal:
    check_channels(name, m.num_features, x)
    return _per_pixel(w, name, m, x, "norm", 2 * m.num_features if m.affine else 0)


def group_norm_rule(w: Walk, name: str, m: nn.GroupNorm, x: Signal) -> Signal:
    check_channels(name, m.num_channels, x)
    return _per_pixel(w, name, m, x, "norm", 2 * m.num_channels if m.affine else 0)


def layer_norm_rule(w: Walk, name: str, m: LayerNorm2d, x: Signal) -> Signal:
    c = m.normalized_shape[0]
    check_channels(name, c, x)
    return _per_pixel(w, name, m, x, "norm", 2 * c if m.elementwise_affine else 0)


def layer_scale_rule(w: Walk, name: str, m: LayerScale, x: Signal) -> Signal:
    return _per_pixel(w, name, m, x, "mul", m.gamma.numel())


def shuffle_rule(w: Walk, name: str, m: ChannelShuffle, x: Signal) -> Signal:
    return _per_pixel(w, name, m, x, "copy")


def invertible_rule(w: Walk, name: str, m: InvertibleConv1x1, x: Signal) -> Signal:
    c = m.channels
    check_channels(name, c, x)
    y = x  # per pixel: same field of view
    # the 1x1 conv per pixel, plus two CxC matrix products that assemble W = P L U
    w.row(name, "InvertibleConv1x1", x, y, params=2 * c * c + c,
          macs=w.batch * y.numel * c + 2 * c ** 3, memory=w.output_bytes(y))
    return y


def slice_rule(w: Walk, name: str, m: ChannelSlice, x: Signal) -> Signal:
    y = Signal(m.stop - m.start, x.height, x.width, x.rf_h, x.rf_w, x.is_global, x.node)
    w.row(name, "ChannelSlice", x, y)  # a view: no new memory
    return y


def identity_rule(w: Walk, name: str, m: nn.Identity, x: Signal) -> Signal:
    return x


def _pass_on(m: nn.Module, args: tuple[Any, ...], out: Any) -> Any:
    """The probe's group and layer norms: their statistics mix pixels, so they pass
    their input on (statistics count as constants, as receptive fields assume)."""
    return args[0].clone()


def _torch_call(m: nn.Module) -> str:
    """A torch.nn layer without arguments: 'nn.ReLU()'."""
    return f"nn.{type(m).__name__}()"


def _uncapped(m: nn.Module, args: tuple[Any, ...], out: Any) -> Any:
    """The probe's ReLU6 is a ReLU: with every path open the activations grow past 6, where
    a capped unit passes no gradient and would hide pixels its field does contain."""
    return torch.relu(args[0])


register(LayerKind((nn.ReLU, nn.SiLU, nn.Sigmoid), activation_rule, _torch_call))
register(LayerKind((nn.ReLU6,), activation_rule, _torch_call, probe_hook=_uncapped))
register(LayerKind((nn.GELU,), activation_rule,
                   lambda m: "nn.GELU(" + args_text(approximate=(m.approximate, "none")) + ")"))
register(LayerKind((nn.LeakyReLU,), activation_rule,
                   lambda m: "nn.LeakyReLU(" + args_text(m.negative_slope) + ")"))
# BatchNorm needs no probe hook: in eval with fresh statistics it is a positive scale.
register(LayerKind((nn.BatchNorm2d,), batch_norm_rule, lambda m: "nn.BatchNorm2d(" + args_text(
    m.num_features, eps=(m.eps, 1e-5), momentum=(m.momentum, 0.1),
    affine=(m.affine, True)) + ")"))
register(LayerKind((nn.GroupNorm,), group_norm_rule, lambda m: "nn.GroupNorm(" + args_text(
    m.num_groups, m.num_channels, eps=(m.eps, 1e-5), affine=(m.affine, True)) + ")",
    probe_hook=_pass_on))
register(LayerKind((LayerNorm2d,), layer_norm_rule, lambda m: "LayerNorm2d(" + args_text(
    m.normalized_shape[0], eps=(m.eps, 1e-6)) + ")", probe_hook=_pass_on))
register(LayerKind((LayerScale,), layer_scale_rule,
                   lambda m: f"LayerScale({m.gamma.numel()}, {m.init_value:.6g})"))
register(LayerKind((ChannelShuffle,), shuffle_rule, lambda m: f"ChannelShuffle({m.groups})"))
register(LayerKind((ChannelSlice,), slice_rule, lambda m: f"ChannelSlice({m.start}, {m.stop})"))
register(LayerKind((InvertibleConv1x1,), invertible_rule,
                   lambda m: f"InvertibleConv1x1({m.channels})",
                   label=lambda m: f"InvertibleConv1x1\n{m.channels}→{m.channels}"))
register(LayerKind((nn.Identity,), identity_rule, _torch_call, row=False))

"""Pieces that several block families share: shortcuts and squeeze-excitation."""
from __future__ import annotations

from typing import TypedDict

import torch.nn as nn

from ..layers import ConvNormAct, Gate, Residual, make_act
from .config import BlockConfig
from .registry import require


def projection(c: BlockConfig, in_channels: int, out_channels: int, stride: int,
               norm: str | None = None) -> nn.Module | None:
    """The shortcut for a shape change, or None when the identity fits.

    'conv' is ResNet's strided 1x1 conv: at stride 2 it reads one pixel in four.
    'avgpool' averages each stride x stride window first, so every pixel
    reaches the sum (the ResNet-D shortcut, He et al. 2019).
    """
    if stride == 1 and in_channels == out_channels:
        return None
    norm = c.norm if norm is None else norm
    if c.shortcut == "avgpool" and stride > 1:
        return nn.Sequential(
            nn.AvgPool2d(stride, stride, ceil_mode=True, count_include_pad=False),
            ConvNormAct(in_channels, out_channels, 1, norm=norm, act=None))
    return ConvNormAct(in_channels, out_channels, 1, stride, norm=norm, act=None)


def residual(c: BlockConfig, body: nn.Module, in_channels: int, out_channels: int, stride: int,
             norm: str | None = None) -> nn.Module:
    """body + shortcut when skip is on; the plain body when it is off."""
    if not c.skip:
        return body
    return Residual(body, projection(c, in_channels, out_channels, stride, norm))


def squeeze_excite(channels: int, hidden: int, act: str = "relu") -> Gate:
    """Squeeze-and-excitation: global pool, bottleneck MLP, sigmoid gate (Hu et al. 2018)."""
    require(hidden >= 1, f"The squeeze-excitation bottleneck has {hidden} channels; "
                         f"use a smaller reduction so at least one remains.")
    return Gate(nn.Sequential(
        nn.AdaptiveAvgPool2d(1),                      # (N, C, H, W) -> (N, C, 1, 1)
        nn.Conv2d(channels, hidden, 1), make_act(act),
        nn.Conv2d(hidden, channels, 1), nn.Sigmoid()))


class ConvArgs(TypedDict):
    kernel_size: int
    padding: int
    dilation: int


def conv_args(c: BlockConfig) -> ConvArgs:
    """The nn.Conv2d-shaped arguments of the main spatial conv of a block."""
    return dict(kernel_size=c.kernel_size, padding=c.padding, dilation=c.dilation)

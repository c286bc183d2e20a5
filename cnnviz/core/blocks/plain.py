"""Blocks without shortcuts: conv-norm-act, VGG and Network-in-Network."""
from __future__ import annotations

import torch.nn as nn

from ..layers import ConvNormAct
from .config import BlockConfig
from .parts import conv_args
from .registry import Param, register

CONV = ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation",
        "groups", "bias", "norm", "act")


@register("conv_bn_act", family="Plain", paper="Ioffe & Szegedy 2015 (Batch Normalization)",
          summary="The basic unit of most CNNs: a convolution, a normalization that keeps "
                  "activations well scaled, then a nonlinearity.",
          common=CONV)
def conv_bn_act(c: BlockConfig) -> nn.Module:
    return ConvNormAct(c.in_channels, c.out_channels, c.kernel_size, c.stride, c.padding,
                       c.dilation, c.groups, c.bias, c.norm, c.act)


@register("vgg", family="Plain", paper="Simonyan & Zisserman 2015 (VGG)",
          summary="A few 3x3 convolutions with ReLU, then a 2x2 max-pool that halves the "
                  "resolution. Two stacked 3x3 convs see as far as one 5x5 with fewer weights "
                  "(18 against 25 per channel pair) and one more nonlinearity (Simonyan & "
                  "Zisserman 2015, §2.3).",
          common=("in_channels", "out_channels", "kernel_size", "padding", "dilation", "bias",
                  "norm", "act"),
          own=(Param("convs", int, 2, "number of convolutions before the pool", 1, 4),),
          defaults={"norm": "none", "bias": True}, first_only={})
def vgg(c: BlockConfig) -> nn.Module:
    layers = [ConvNormAct(c.in_channels if i == 0 else c.out_channels, c.out_channels,
                          bias=c.bias, norm=c.norm, act=c.act, **conv_args(c))
              for i in range(c.convs)]
    return nn.Sequential(*layers, nn.MaxPool2d(2, 2))


@register("nin", family="Plain", paper="Lin, Chen & Yan 2014 (Network in Network)",
          summary="A k x k convolution followed by two 1x1 convolutions: a tiny per-pixel MLP "
                  "across channels that adds nonlinearity without growing the receptive field.",
          common=CONV, defaults={"norm": "none", "bias": True})
def nin(c: BlockConfig) -> nn.Module:
    def unit(cin: int, k: int, stride: int, padding: int, dilation: int,
             groups: int) -> nn.Module:
        return ConvNormAct(cin, c.out_channels, k, stride, padding, dilation, groups,
                           c.bias, c.norm, c.act)
    return nn.Sequential(unit(c.in_channels, c.kernel_size, c.stride, c.padding, c.dilation,
                              c.groups),
                         unit(c.out_channels, 1, 1, 0, 1, 1),
                         unit(c.out_channels, 1, 1, 0, 1, 1))

"""Mobile blocks: depthwise separable, inverted residual, MBConv, Fused-MBConv, ShuffleNet."""
from __future__ import annotations

import torch.nn as nn

from ..layers import ChannelShuffle, ChannelSlice, Concat, ConvNormAct
from .config import BlockConfig
from .parts import conv_args, residual, squeeze_excite
from .registry import Param, register, require

CONV = ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation")
EXPAND = Param("expansion", int, 6, "expansion factor t of the hidden width", 1, 8)
SE_RATIO = Param("se_ratio", float, 0.0, "squeeze-excitation width as a share of the input "
                 "channels (0 = none)", 0.0, 1.0)


@register("dw_separable", family="MobileNet", paper="Howard et al. 2017 (MobileNets)",
          summary="A k x k depthwise conv (one filter per channel) followed by a 1x1 pointwise "
                  "conv that mixes channels. Cost relative to a full conv: 1/N + 1/k^2, N the "
                  "output channels (Howard et al. 2017, §3.1).",
          common=CONV + ("norm", "act"))
def dw_separable(c: BlockConfig) -> nn.Module:
    return nn.Sequential(
        ConvNormAct(c.in_channels, c.in_channels, stride=c.stride, groups=c.in_channels,
                    norm=c.norm, act=c.act, **conv_args(c)),
        ConvNormAct(c.in_channels, c.out_channels, 1, norm=c.norm, act=c.act))


def _se(c: BlockConfig, channels: int) -> nn.Module:
    if c.se_ratio <= 0:
        return nn.Identity()  # an absent part keeps its place (timm's rule)
    return squeeze_excite(channels, max(1, int(c.in_channels * c.se_ratio)), c.act)


def _identity_fits(c: BlockConfig) -> bool:
    """MobileNetV2 adds the input back only when the shape does not change."""
    return c.stride == 1 and c.in_channels == c.out_channels


def _with_skip(c: BlockConfig, body: nn.Module) -> nn.Module:
    if not _identity_fits(c):
        return body
    return residual(c, body, c.in_channels, c.out_channels, 1)


@register("inverted_residual", family="MobileNet",
          paper="Sandler et al. 2018 (MobileNetV2)",
          summary="Expand with a 1x1 conv (t times wider), filter with a depthwise k x k, "
                  "project back with a linear 1x1 (no activation: a ReLU on the narrow output "
                  "would destroy information; Sandler et al. 2018, §3.2). The skip joins the "
                  "narrow ends, only when shapes match (§3.3). The stride sits on the "
                  "depthwise conv (Sandler et al. 2018, Table 1).",
          common=CONV + ("norm", "act", "skip"), own=(EXPAND, SE_RATIO),
          defaults={"act": "relu6"})
def inverted_residual(c: BlockConfig) -> nn.Module:
    hidden = c.in_channels * c.expansion
    expand = ConvNormAct(c.in_channels, hidden, 1, norm=c.norm, act=c.act) \
        if c.expansion != 1 else nn.Identity()
    return _with_skip(c, nn.Sequential(
        expand,
        ConvNormAct(hidden, hidden, stride=c.stride, groups=hidden, norm=c.norm, act=c.act,
                    **conv_args(c)),
        _se(c, hidden),
        ConvNormAct(hidden, c.out_channels, 1, norm=c.norm, act=None)))


register("mbconv", family="EfficientNet", paper="Tan & Le 2019 (EfficientNet)",
         summary="The inverted residual with squeeze-excitation after the depthwise conv and "
                 "SiLU (swish) activations: EfficientNet's building block.",
         common=CONV + ("norm", "act", "skip"), own=(EXPAND, SE_RATIO),
         defaults={"act": "silu", "se_ratio": 0.25})(inverted_residual)


@register("fused_mbconv", family="EfficientNet", paper="Tan & Le 2021 (EfficientNetV2)",
          summary="MBConv with the expansion 1x1 and the depthwise k x k fused into one full "
                  "k x k conv: more MACs, but faster on accelerators in early stages.",
          common=CONV + ("norm", "act", "skip"), own=(EXPAND, SE_RATIO),
          defaults={"act": "silu", "expansion": 4})
def fused_mbconv(c: BlockConfig) -> nn.Module:
    if c.expansion == 1:
        return _with_skip(c, nn.Sequential(
            ConvNormAct(c.in_channels, c.out_channels, stride=c.stride, norm=c.norm,
                        act=c.act, **conv_args(c)), _se(c, c.out_channels)))
    hidden = c.in_channels * c.expansion
    return _with_skip(c, nn.Sequential(
        ConvNormAct(c.in_channels, hidden, stride=c.stride, norm=c.norm, act=c.act,
                    **conv_args(c)),
        _se(c, hidden),
        ConvNormAct(hidden, c.out_channels, 1, norm=c.norm, act=None)))


@register("shufflenet", family="ShuffleNet", paper="Ma et al. 2018 (ShuffleNet V2)",
          summary="Split the channels in two: one half passes untouched, the other goes "
                  "through 1x1, depthwise 3x3, 1x1; concatenate and shuffle the channels so "
                  "the halves mix in the next unit. Downsampling units process both halves.",
          common=CONV + ("norm", "act"))
def shufflenet(c: BlockConfig) -> nn.Module:
    require(c.out_channels % 2 == 0, f"ShuffleNet concatenates two equal halves, so "
                                     f"out_channels must be even (got {c.out_channels}).")
    half = c.out_channels // 2

    def branch(cin: int) -> nn.Sequential:
        return nn.Sequential(
            ConvNormAct(cin, half, 1, norm=c.norm, act=c.act),
            ConvNormAct(half, half, stride=c.stride, groups=half, norm=c.norm, act=None,
                        **conv_args(c)),
            ConvNormAct(half, half, 1, norm=c.norm, act=c.act))

    if _identity_fits(c):
        merge = Concat(ChannelSlice(0, half), nn.Sequential(ChannelSlice(half, 2 * half),
                                                            branch(half)))
    else:
        merge = Concat(
            nn.Sequential(
                ConvNormAct(c.in_channels, c.in_channels, stride=c.stride,
                            groups=c.in_channels, norm=c.norm, act=None, **conv_args(c)),
                ConvNormAct(c.in_channels, half, 1, norm=c.norm, act=c.act)),
            branch(c.in_channels))
    return nn.Sequential(merge, ChannelShuffle(2))

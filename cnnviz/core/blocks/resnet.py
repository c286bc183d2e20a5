"""Residual blocks: basic, bottleneck, pre-activation, ResNeXt, RegNet and SE.

Post-activation blocks follow torchvision's resnet.py (stride on the 3x3);
pre-activation blocks follow He et al. 2016, "Identity Mappings in Deep
Residual Networks".
"""
from __future__ import annotations

import torch.nn as nn

from ..layers import ConvNormAct, NormActConv, make_act
from .config import BlockConfig
from .parts import conv_args, residual, squeeze_excite
from .registry import Param, divides, register, require

SHORTCUT = ("skip", "shortcut", "zero_init_last")
CONV = ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation")
RESNET = "He et al. 2016 (Deep Residual Learning)"
PREACT = "He et al. 2016 (Identity Mappings in Deep Residual Networks)"


def _chain(c: BlockConfig, convs: int, groups: int = 1, se: bool = False) -> nn.Sequential:
    """convs x (conv-norm-act); the first changes stride and width, the last has no act."""
    layers: list[nn.Module] = [
        ConvNormAct(c.in_channels if i == 0 else c.out_channels, c.out_channels,
                    stride=c.stride if i == 0 else 1, groups=groups, norm=c.norm,
                    act=c.act if i < convs - 1 else None, **conv_args(c))
        for i in range(convs)]
    if se:
        layers.append(squeeze_excite(c.out_channels, c.out_channels // c.reduction))
    return nn.Sequential(*layers)


def _post_act(c: BlockConfig, body: nn.Module) -> nn.Module:
    """ResNet v1: activation after the addition."""
    return nn.Sequential(residual(c, body, c.in_channels, c.out_channels, c.stride),
                         make_act(c.act))


@register("residual", family="ResNet", paper=RESNET,
          summary="A stack of 1 to 3 conv-norm-act layers with a shortcut around it. With one "
                  "conv the block is y = relu(conv(x) + x): a single linear map plus the "
                  "identity, which is why ResNet uses at least two (He et al. 2016, §3.2).",
          common=CONV + ("groups", "norm", "act") + SHORTCUT,
          own=(Param("convs_per_block", int, 2, "convolutions inside the shortcut", 1, 3),))
def residual_block(c: BlockConfig) -> nn.Module:
    return _post_act(c, _chain(c, c.convs_per_block, c.groups))


@register("resnet_basic", family="ResNet", paper=RESNET,
          summary="Two 3x3 conv-BN layers with a shortcut, ReLU after the sum: the block of "
                  "ResNet-18/34. A 1x1 projection shortcut appears when the shape changes. At "
                  "stride 2 the first 3x3 and the projection stride (He et al. 2016, Table 1 "
                  "and §3.3).",
          common=CONV + ("norm", "act") + SHORTCUT)
def resnet_basic(c: BlockConfig) -> nn.Module:
    return _post_act(c, _chain(c, 2))


@register("se", family="Attention", paper="Hu, Shen & Sun 2018 (Squeeze-and-Excitation)",
          summary="A ResNet basic block whose residual branch is rescaled channel by channel: "
                  "a global average pool 'squeezes' each channel to one number, a small MLP "
                  "and a sigmoid 'excite' a gate per channel.",
          common=CONV + ("norm", "act") + SHORTCUT,
          own=(Param("reduction", int, 16, "channel reduction r of the SE MLP", 1, 64),))
def se_block(c: BlockConfig) -> nn.Module:
    return _post_act(c, _chain(c, 2, se=True))


def _bottleneck(c: BlockConfig, width: int, groups: int, se_channels: int = 0) -> nn.Module:
    """1x1 reduce -> k x k (grouped) with the stride -> [SE] -> 1x1 expand."""
    divides(width, groups, "bottleneck channels")
    layers: list[nn.Module] = [
        ConvNormAct(c.in_channels, width, 1, norm=c.norm, act=c.act),
        ConvNormAct(width, width, stride=c.stride, groups=groups, norm=c.norm, act=c.act,
                    **conv_args(c))]
    if se_channels:
        layers.append(squeeze_excite(width, se_channels))
    layers.append(ConvNormAct(width, c.out_channels, 1, norm=c.norm, act=None))
    return _post_act(c, nn.Sequential(*layers))


def _bottleneck_width(c: BlockConfig) -> int:
    width = c.out_channels // c.expansion
    require(width >= 1, f"out_channels = {c.out_channels} / expansion {c.expansion} leaves no "
                        f"bottleneck channels; raise out_channels or lower the expansion.")
    return width


EXPANSION = Param("expansion", int, 4, "output channels / bottleneck width (4 in ResNet)", 1, 16)


@register("resnet_bottleneck", family="ResNet", paper=RESNET,
          summary="1x1 conv to a narrow width, 3x3 conv there, 1x1 conv back to the full "
                  "width, with a shortcut: the block of ResNet-50/101/152. The 3x3 runs on a "
                  "quarter of the channels, so the block is cheap for its width. The stride sits "
                  "on the 3x3, as in torchvision (ResNet v1.5). The original ResNet strides "
                  "the first 1x1 instead (torchvision's ResNet documentation, note on v1.5).",
          common=CONV + ("groups", "norm", "act") + SHORTCUT, own=(EXPANSION,),
          defaults={"in_channels": 64, "out_channels": 64})
def resnet_bottleneck(c: BlockConfig) -> nn.Module:
    return _bottleneck(c, _bottleneck_width(c), c.groups)


@register("resnext", family="ResNet", paper="Xie et al. 2017 (ResNeXt)",
          summary="A bottleneck whose 3x3 conv is split into many parallel groups "
                  "(cardinality) and made wider: 32x4d means 32 groups of 4 channels, 128 "
                  "in all, where ResNet-50's first-stage bottleneck has 64. The grouping "
                  "pays for the width, so the cost stays about the same (Xie et al. 2017, "
                  "Table 1). The stride sits on the grouped 3x3 (Xie et al. 2017, §4).",
          common=CONV + ("norm", "act") + SHORTCUT,
          own=(Param("cardinality", int, 32, "number of groups in the 3x3 conv", 1, 64),
               Param("width_per_group", int, 4, "channels per group", 1, 64)),
          defaults={"in_channels": 256, "out_channels": 256})
def resnext(c: BlockConfig) -> nn.Module:
    return _bottleneck(c, c.cardinality * c.width_per_group, c.cardinality)


@register("regnet", family="RegNet", paper="Radosavovic et al. 2020 (Designing Network "
                                           "Design Spaces)",
          summary="RegNet's X block: a bottleneck with grouped 3x3 convs of a fixed group width "
                  "and bottleneck ratio 1. The Y variant adds squeeze-excitation.",
          common=CONV + ("norm", "act") + SHORTCUT,
          own=(Param("group_width", int, 8, "channels per group of the 3x3 conv", 1, 256),
               Param("bottleneck_ratio", int, 1, "output channels / inner width", 1, 4),
               Param("se", bool, False, "add squeeze-excitation (RegNetY)")),
          defaults={"out_channels": 32, "in_channels": 32})
def regnet(c: BlockConfig) -> nn.Module:
    width = c.out_channels // c.bottleneck_ratio
    divides(width, c.group_width, "bottleneck channels (group_width must divide them)")
    return _bottleneck(c, width, width // c.group_width,
                       se_channels=max(1, c.in_channels // 4) if c.se else 0)


def _pre_act(c: BlockConfig, layers: list[nn.Module]) -> nn.Module:
    """Pre-activation: norm-act-conv everywhere, nothing after the addition."""
    return residual(c, nn.Sequential(*layers), c.in_channels, c.out_channels, c.stride,
                    norm="none")


@register("preact_basic", family="ResNet", paper=PREACT,
          summary="The basic block with BN and ReLU moved before each conv, so nothing "
                  "follows the addition. Where the shortcut is the identity, the block "
                  "passes its input on unchanged, and the gradient at its input is the "
                  "gradient at its output plus what flows back through the branch (He et "
                  "al. 2016b, Eqs. 4-5). A block that changes the stride or the width "
                  "still has a projection shortcut.",
          common=CONV + ("norm", "act") + SHORTCUT)
def preact_basic(c: BlockConfig) -> nn.Module:
    return _pre_act(c, [
        NormActConv(c.in_channels, c.out_channels, stride=c.stride, norm=c.norm, act=c.act,
                    **conv_args(c)),
        NormActConv(c.out_channels, c.out_channels, norm=c.norm, act=c.act, **conv_args(c))])


@register("preact_bottleneck", family="ResNet", paper=PREACT,
          summary="The bottleneck block in full pre-activation order (BN-ReLU-conv three "
                  "times), nothing after the addition: an identity shortcut carries the "
                  "input on unchanged (He et al. 2016b, Fig. 4e, Eqs. 4-5).",
          common=CONV + ("groups", "norm", "act") + SHORTCUT, own=(EXPANSION,),
          defaults={"in_channels": 64, "out_channels": 64})
def preact_bottleneck(c: BlockConfig) -> nn.Module:
    width = _bottleneck_width(c)
    divides(width, c.groups, "bottleneck channels")
    return _pre_act(c, [
        NormActConv(c.in_channels, width, 1, norm=c.norm, act=c.act),
        NormActConv(width, width, stride=c.stride, groups=c.groups, norm=c.norm, act=c.act,
                    **conv_args(c)),
        NormActConv(width, c.out_channels, 1, norm=c.norm, act=c.act)])

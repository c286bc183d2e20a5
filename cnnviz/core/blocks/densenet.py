"""DenseNet: every layer reads the concatenation of all earlier maps (Huang et al. 2017)."""
from __future__ import annotations

import torch.nn as nn

from ..layers import Concat, NormActConv
from .config import BlockConfig
from .parts import conv_args
from .registry import Param, register, require

PAPER = "Huang et al. 2017 (Densely Connected Convolutional Networks)"


def dense_channels(c: BlockConfig) -> int:
    return c.in_channels + c.layers * c.growth_rate if c.skip else c.growth_rate


@register("dense", family="DenseNet", paper=PAPER,
          summary="L layers; each adds k new channels (the growth rate) and passes everything it "
                  "received along by concatenation, so features are reused and every layer "
                  "has a short path to the loss. With skip off the layers form a plain chain.",
          common=("in_channels", "kernel_size", "padding", "dilation", "norm", "act", "skip"),
          own=(Param("layers", int, 4, "layers L in the dense block", 1, 24),
               Param("growth_rate", int, 12, "channels k each layer adds", 1, 128),
               Param("bottleneck", bool, True, "1x1 conv to 4k channels before each 3x3 "
                     "(DenseNet-B)")),
          first_only={}, out_channels_of=dense_channels)
def dense(c: BlockConfig) -> nn.Module:
    def layer(cin: int) -> nn.Module:
        inner = 4 * c.growth_rate if c.bottleneck else cin
        squeeze = NormActConv(cin, inner, 1, norm=c.norm, act=c.act) if c.bottleneck \
            else nn.Identity()
        return nn.Sequential(squeeze, NormActConv(inner, c.growth_rate, norm=c.norm, act=c.act,
                                                  **conv_args(c)))

    if not c.skip:
        return nn.Sequential(*[layer(c.in_channels if i == 0 else c.growth_rate)
                               for i in range(c.layers)])
    return nn.Sequential(*[Concat(nn.Identity(), layer(c.in_channels + i * c.growth_rate))
                           for i in range(c.layers)])


def transition_channels(c: BlockConfig) -> int:
    return int(c.in_channels * c.compression)


@register("dense_transition", family="DenseNet", paper=PAPER,
          summary="Between dense blocks: BN-ReLU, a 1x1 conv that compresses the channels by "
                  "a factor theta, then 2x2 average pooling to halve the resolution.",
          common=("in_channels", "norm", "act"),
          own=(Param("compression", float, 0.5, "theta: share of channels kept", 0.1, 1.0),),
          defaults={"in_channels": 64}, first_only={}, out_channels_of=transition_channels)
def dense_transition(c: BlockConfig) -> nn.Module:
    out = transition_channels(c)
    require(out >= 1, f"compression {c.compression} of {c.in_channels} channels keeps none; "
                      f"raise the compression or the channels.")
    return nn.Sequential(NormActConv(c.in_channels, out, 1, norm=c.norm, act=c.act),
                         nn.AvgPool2d(2, 2))

"""GoogLeNet's Inception module and its batch-normalized version."""
from __future__ import annotations

import torch.nn as nn

from ..layers import Concat, ConvNormAct
from .config import BlockConfig
from .registry import Param, register

BRANCHES = (
    Param("b1", int, 64, "width of the 1x1 branch", 1, 512),
    Param("b2_reduce", int, 96, "1x1 reduction before the 3x3 branch", 1, 512),
    Param("b2", int, 128, "width of the 3x3 branch", 1, 512),
    Param("b3_reduce", int, 16, "1x1 reduction before the 5x5 branch", 1, 512),
    Param("b3", int, 32, "width of the 5x5 branch (two 3x3 in Inception-BN)", 1, 512),
    Param("b4", int, 32, "1x1 after the 3x3 max-pool branch", 1, 512),
)
B3_KERNEL = Param("b3_kernel", int, 5, "kernel of the wide branch: 5 in the paper, 3 in "
                  "torchvision's GoogLeNet (a slip it keeps for its trained weights)",
                  choices=(3, 5))
PAPER = "Szegedy et al. 2015 (GoogLeNet)"


def inception_channels(c: BlockConfig) -> int:
    return c.b1 + c.b2 + c.b3 + c.b4


def _inception(c: BlockConfig, factorized: bool) -> nn.Module:
    def cna(cin: int, cout: int, k: int) -> nn.Module:
        return ConvNormAct(cin, cout, k, norm=c.norm, act=c.act)
    wide = (nn.Sequential(cna(c.b3_reduce, c.b3, 3), cna(c.b3, c.b3, 3)) if factorized
            else cna(c.b3_reduce, c.b3, c.b3_kernel))
    return Concat(
        cna(c.in_channels, c.b1, 1),
        nn.Sequential(cna(c.in_channels, c.b2_reduce, 1), cna(c.b2_reduce, c.b2, 3)),
        nn.Sequential(cna(c.in_channels, c.b3_reduce, 1), wide),
        nn.Sequential(nn.MaxPool2d(3, 1, 1), cna(c.in_channels, c.b4, 1)),
    )


@register("inception", family="Inception", paper=PAPER,
          summary="Four branches read the same input (1x1, 1x1 then 3x3, 1x1 then 5x5, pool "
                  "then 1x1) and are concatenated. The 1x1 reductions are bottlenecks that cut "
                  "the cost of the wide kernels.",
          common=("in_channels", "norm", "act"), own=(*BRANCHES, B3_KERNEL),
          defaults={"in_channels": 192, "norm": "none"}, first_only={},
          out_channels_of=inception_channels)
def inception(c: BlockConfig) -> nn.Module:
    return _inception(c, factorized=False)


@register("inception_bn", family="Inception", paper="Ioffe & Szegedy 2015 (BN-Inception)",
          summary="Inception with batch normalization after every convolution and the 5x5 "
                  "replaced by two 3x3 convolutions: same receptive field, 18 instead of 25 "
                  "weights per channel pair.",
          common=("in_channels", "norm", "act"), own=BRANCHES,
          defaults={"in_channels": 192}, first_only={}, out_channels_of=inception_channels)
def inception_bn(c: BlockConfig) -> nn.Module:
    return _inception(c, factorized=True)

"""ConvNeXt, ConvMixer and the global-context block."""
from __future__ import annotations

import torch.nn as nn

from ..layers import AttentionPool, LayerScale, Residual, make_act, make_norm
from .config import BlockConfig
from .parts import residual
from .registry import Param, register, require

KEEP = ("in_channels", "kernel_size", "padding", "dilation")


@register("convnext", family="ConvNeXt", paper="Liu et al. 2022 (A ConvNet for the 2020s)",
          summary="A 7x7 depthwise conv, LayerNorm over channels, a 4x wider 1x1 MLP with "
                  "GELU, a small learned per-channel scale (layer scale), and the identity "
                  "added back: a ResNet block redesigned after vision transformers.",
          common=KEEP + ("norm", "act", "skip"),
          own=(Param("expansion", int, 4, "MLP width / channels", 1, 8),
               Param("layer_scale", float, 1e-6, "initial layer-scale value (0 = off)",
                     0.0, 1.0)),
          defaults={"kernel_size": 7, "norm": "layer", "act": "gelu", "init": "torch"},
          first_only={})
def convnext(c: BlockConfig) -> nn.Module:
    ch, hidden = c.in_channels, c.in_channels * c.expansion
    body = nn.Sequential(
        nn.Conv2d(ch, ch, c.kernel_size, 1, c.padding, c.dilation, groups=ch),  # depthwise
        make_norm(c.norm, ch),
        nn.Conv2d(ch, hidden, 1), make_act(c.act),                              # MLP, per pixel
        nn.Conv2d(hidden, ch, 1),
        LayerScale(ch, c.layer_scale) if c.layer_scale > 0 else nn.Identity())
    return residual(c, body, ch, ch, 1)


@register("convmixer", family="ConvMixer", paper="Trockman & Kolter 2022 (Patches Are All "
                                                 "You Need?)",
          summary="Mix space with a large depthwise conv (with a residual), then mix channels "
                  "with a 1x1 conv; each followed by GELU and BatchNorm.",
          common=KEEP + ("norm", "act", "skip"), defaults={"kernel_size": 9, "act": "gelu"},
          first_only={})
def convmixer(c: BlockConfig) -> nn.Module:
    ch = c.in_channels
    spatial = nn.Sequential(nn.Conv2d(ch, ch, c.kernel_size, 1, c.padding, c.dilation,
                                      groups=ch),
                            make_act(c.act), make_norm(c.norm, ch))
    return nn.Sequential(residual(c, spatial, ch, ch, 1),
                         nn.Conv2d(ch, ch, 1), make_act(c.act), make_norm(c.norm, ch))


@register("gc", family="Attention", paper="Cao et al. 2019 (GCNet)",
          summary="One attention map shared by all pixels pools the whole image into a "
                  "context vector; a bottleneck transform (1x1, LayerNorm, ReLU, 1x1) turns it "
                  "into a per-channel offset added to every pixel.",
          common=("in_channels", "norm", "act"),
          own=(Param("reduction", int, 16, "channel reduction r of the transform", 1, 64),),
          defaults={"norm": "layer"}, first_only={})
def gc(c: BlockConfig) -> nn.Module:
    ch, hidden = c.in_channels, c.in_channels // c.reduction
    require(hidden >= 1, f"{ch} channels / reduction {c.reduction} leaves no channels in the "
                         f"transform; lower the reduction to at most {ch}.")
    return Residual(nn.Sequential(
        AttentionPool(ch),                                   # (N, C, H, W) -> (N, C, 1, 1)
        nn.Conv2d(ch, hidden, 1), make_norm(c.norm, hidden), make_act(c.act),
        nn.Conv2d(hidden, ch, 1)))                           # added to every pixel

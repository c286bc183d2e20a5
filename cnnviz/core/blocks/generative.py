"""Upsampling and generative-model convolutions: transposed, upsample+conv, the U-Net
encoder-decoder, masked, invertible."""
from __future__ import annotations

import torch.nn as nn

from ..checks import grouped_conv
from ..fields import CHANNELS
from ..layers import (
    Concat,
    ConvNormAct,
    InvertibleConv1x1,
    MaskedConv2d,
    make_act,
    make_norm,
)
from .config import BlockConfig
from .parts import conv_args
from .registry import Param, register, require


@register("transposed", family="Upsampling", paper="Dumoulin & Visin 2016 (A guide to "
                                                    "convolution arithmetic)",
          summary="A transposed convolution: conceptually inserts s-1 zeros between input "
                  "pixels (s the stride), pads by d(k-1)-p and runs a normal convolution, so "
                  "the output grows (Dumoulin & Visin 2016, §4). When the kernel size is not a "
                  "multiple of the stride, neighbouring outputs get different numbers of "
                  "taps: a checkerboard pattern (Odena et al. 2016).",
          common=("in_channels", "out_channels", "kernel_size", "stride", "padding",
                  "dilation", "groups", "bias", "norm", "act"),
          own=(Param("output_padding", int, 0, "extra rows/columns added on one side to "
                     "pick among the sizes a stride allows", 0, 3),),
          defaults={"kernel_size": 4, "stride": 2, "padding": 1})
def transposed(c: BlockConfig) -> nn.Module:
    grouped_conv(c.in_channels, c.out_channels, c.groups)
    require(c.output_padding < max(c.stride, c.dilation),
            f"output_padding = {c.output_padding} must be smaller than the stride "
            f"({c.stride}) or the dilation ({c.dilation}); use 0"
            + (f" to {max(c.stride, c.dilation) - 1}." if max(c.stride, c.dilation) > 1
               else "."))
    return nn.Sequential(
        nn.ConvTranspose2d(c.in_channels, c.out_channels, c.kernel_size, c.stride, c.padding,
                           c.output_padding, c.groups, c.bias, c.dilation),
        make_norm(c.norm, c.out_channels), make_act(c.act))


@register("upsample_conv", family="Upsampling", paper="Odena et al. 2016 (Deconvolution and "
                                                      "Checkerboard Artifacts); Shi et al. 2016 "
                                                      "(sub-pixel convolution)",
          summary="Resize first (nearest or bilinear), then a normal convolution: every output "
                  "pixel gets the same number of kernel taps, so the overlap leaves no "
                  "checkerboard (Odena et al. 2016). The sub-pixel mode (Shi et al. 2016) "
                  "convolves at the low resolution to r² times the channels and rearranges "
                  "each r² channels into an r x r block of pixels (pixel shuffle). Its r² "
                  "sub-kernels are separate weights, so its output is free of the pattern "
                  "only while they are equal, as ICNR initialises them (Aitken et al. 2017).",
          common=("in_channels", "out_channels", "kernel_size", "padding", "dilation", "norm",
                  "act"),
          own=(Param("scale", int, 2, "upsampling factor", 1, 4),
               Param("mode", str, "nearest", "resize method, or pixel shuffle: a conv to r²·C "
                     "channels, then PixelShuffle(r)",
                     choices=("nearest", "bilinear", "pixel_shuffle"))),
          first_only={"scale": 1})
def upsample_conv(c: BlockConfig) -> nn.Module:
    if c.scale > 1 and c.mode == "pixel_shuffle":
        r = c.scale
        return nn.Sequential(
            nn.Conv2d(c.in_channels, c.out_channels * r * r, bias=c.norm == "none",
                      **conv_args(c)),          # (N, C_in, H, W) -> (N, r²·C, H, W)
            nn.PixelShuffle(r),                 # -> (N, C, rH, rW)
            make_norm(c.norm, c.out_channels), make_act(c.act))
    up = nn.Upsample(scale_factor=c.scale, mode=c.mode) if c.scale > 1 else nn.Identity()
    return nn.Sequential(up, ConvNormAct(c.in_channels, c.out_channels, norm=c.norm, act=c.act,
                                         **conv_args(c)))


@register("unet", family="Encoder-decoder", paper="Ronneberger et al. 2015 (U-Net)",
          summary="An encoder that halves the resolution and doubles the channels at each "
                  "level (two 3x3 convs, then a 2x2 max-pool), a decoder that doubles it back "
                  "with 2x2 transposed convolutions, and at every level a skip that "
                  "concatenates the encoder's map with the upsampled one, so the output has "
                  "both the fine detail and the wide context.",
          common=("in_channels", "out_channels", "kernel_size", "padding", "dilation", "norm",
                  "act"),
          own=(Param("levels", int, 2, "times the encoder halves the resolution", 1, 4),),
          first_only={})
def unet(c: BlockConfig) -> nn.Module:
    def level(c_in: int, width: int, below: int) -> nn.Module:
        def two_convs(cin: int) -> nn.Sequential:
            return nn.Sequential(
                ConvNormAct(cin, width, norm=c.norm, act=c.act, **conv_args(c)),
                ConvNormAct(width, width, norm=c.norm, act=c.act, **conv_args(c)))
        if below == 0:  # the bottom of the U
            return two_convs(c_in)
        deeper = nn.Sequential(
            nn.MaxPool2d(2),                                    # (C, H, W) -> (C, H/2, W/2)
            level(width, 2 * width, below - 1),                 # -> (2C, H/2, W/2)
            nn.ConvTranspose2d(2 * width, width, 2, stride=2))  # -> (C, H, W)
        return nn.Sequential(two_convs(c_in),
                             Concat(nn.Identity(), deeper),     # the skip: -> (2C, H, W)
                             two_convs(2 * width))

    require(c.out_channels * 2 ** c.levels <= CHANNELS.high,
            f"{c.levels} levels from {c.out_channels} channels would reach "
            f"{c.out_channels * 2 ** c.levels} at the bottom; use fewer levels or channels.")
    return level(c.in_channels, c.out_channels, c.levels)


@register("masked_conv", family="Generative",
          paper="van den Oord et al. 2016a (PixelCNN), 2016b (Gated PixelCNN)",
          summary="A convolution whose kernel is zeroed on the rows below the centre and to "
                  "the right of the centre on its row, so each pixel depends only on pixels "
                  "before it in raster order: the rows above (left, centre and right) and "
                  "the pixels to its left (van den Oord et al. 2016a, §3.4). Mask A (first "
                  "layer) also hides the pixel itself; mask B keeps it. Stacks of them never "
                  "reach a wedge above and to the right, the blind spot that the Gated "
                  "PixelCNN's vertical and horizontal stacks remove (van den Oord et al. "
                  "2016b, §2.2).",
          common=("in_channels", "out_channels", "kernel_size", "padding", "dilation", "bias",
                  "norm", "act"),
          own=(Param("mask_type", str, "A", "A hides the centre pixel (first layer), B keeps "
                     "it (later layers)", choices=("A", "B")),),
          defaults={"norm": "none", "bias": True}, first_only={"mask_type": "B"})
def masked_conv(c: BlockConfig) -> nn.Module:
    require(c.kernel_size >= 2 or c.mask_type == "B",
            "A 1x1 kernel with mask A hides its only tap; use kernel_size >= 3 or mask B.")
    return nn.Sequential(
        MaskedConv2d(c.in_channels, c.out_channels, c.kernel_size, c.mask_type,
                     c.padding, c.dilation, c.bias),
        make_norm(c.norm, c.out_channels), make_act(c.act))


@register("invertible_1x1", family="Generative", paper="Kingma & Dhariwal 2018 (Glow)",
          summary="A learned 1x1 convolution that is always invertible; its weight is stored "
                  "as P·L·U so the log-determinant a normalizing flow needs costs O(C).",
          common=("in_channels",), first_only={})
def invertible_1x1(c: BlockConfig) -> nn.Module:
    return InvertibleConv1x1(c.in_channels)

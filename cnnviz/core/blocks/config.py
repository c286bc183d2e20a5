"""The typed configuration one block builder reads."""
from __future__ import annotations

from dataclasses import dataclass
from typing import get_type_hints


@dataclass(frozen=True)
class BlockConfig:
    """The resolved parameters of one block of a stack ("same" padding is a number here).

    One class for every block, so builders stay one registry entry each and mypy checks
    every name and type they read: a field per parameter any block declares (register()
    refuses a Param without its field of the same type). A builder reads only what its
    schema declares; the other fields keep these defaults, which are the common ones.
    """

    # the main convolution, in nn.Conv2d's order
    in_channels: int = 16
    out_channels: int = 16
    kernel_size: int = 3
    stride: int = 1
    padding: int = 1
    dilation: int = 1
    groups: int = 1
    bias: bool = False
    output_padding: int = 0
    norm: str = "batch"
    act: str = "relu"
    init: str = "kaiming_out"
    # shortcuts
    skip: bool = True
    shortcut: str = "conv"  # projection when the shape changes: "conv" or "avgpool"
    zero_init_last: bool = False
    # widths and ratios of the block families
    convs: int = 2  # VGG
    convs_per_block: int = 2  # the residual block
    expansion: int = 4  # bottleneck, MBConv, ConvNeXt
    cardinality: int = 32  # ResNeXt
    width_per_group: int = 4
    group_width: int = 8  # RegNet
    bottleneck_ratio: int = 1
    se: bool = False
    se_ratio: float = 0.0  # squeeze-excitation width / input channels (0 = none)
    reduction: int = 16  # SE and global context
    layer_scale: float = 1e-6  # ConvNeXt
    b1: int = 64  # Inception's branch widths
    b2_reduce: int = 96
    b2: int = 128
    b3_reduce: int = 16
    b3: int = 32
    b3_kernel: int = 5
    b4: int = 32
    layers: int = 4  # DenseNet
    growth_rate: int = 12
    bottleneck: bool = True
    compression: float = 0.5
    scale: int = 2  # upsampling
    mode: str = "nearest"
    mask_type: str = "A"  # PixelCNN
    levels: int = 2  # U-Net: times the encoder halves the resolution


FIELD_TYPES: dict[str, type] = get_type_hints(BlockConfig)

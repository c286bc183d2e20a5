"""The numbers the lessons' texts state, or let a learner estimate, recomputed with cnnviz
and held against torch where torch can say: a text that drifts from them fails here."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from cnnviz.core.network import PRESETS, NetworkSpec
from cnnviz.core.network.report import make_network_report
from cnnviz.core.report import make_report
from cnnviz.core.spec import StackSpec
from cnnviz.topics import costs


def reads_per_pixel(size: int, stride: int) -> list[int]:
    """How many 3×3 windows (padding 1) read each pixel of one axis: torch's gradient of
    the output's sum with all-ones weights."""
    x = torch.ones(1, 1, 1, size, requires_grad=True)
    F.conv2d(x, torch.ones(1, 1, 1, 3), stride=(1, stride), padding=(0, 1)).sum().backward()
    return x.grad.flatten().int().tolist()


def test_output_size_the_border_is_read_less_only_at_stride_1():
    # output_size.toml: under-coverage of the border is a stride-1 effect
    assert reads_per_pixel(8, 1) == [2, 3, 3, 3, 3, 3, 3, 2]
    assert reads_per_pixel(8, 2) == [1, 2, 1, 2, 1, 2, 1, 1]


def test_bottleneck_against_the_64_wide_basic_block():
    # bottleneck.toml: He et al. 2016 Fig. 5 compare a 256-d bottleneck with a 64-d basic
    # block of about the same cost
    basic = make_report(StackSpec.create("resnet_basic", {"out_channels": 64}, 1, 56, 56,
                                         ).replace(in_channels=64))
    bottleneck = make_report(StackSpec.create("resnet_bottleneck", {"out_channels": 256}, 1,
                                              56, 56).replace(in_channels=256))
    assert basic.measured.params == 73_984 and bottleneck.measured.params == 70_400


def test_mbconvs_se_ratio_follows_from_the_widths_the_text_gives():
    # mobile_blocks.toml step 2: 32 channels, t = 6, SE to a quarter of the input (8)
    c, hidden, se = 32, 32 * 6, 32 // 4
    without = c * hidden + 9 * hidden + hidden * c + 2 * (2 * hidden) + 2 * c
    with_se = without + hidden * se + se + se * hidden + hidden
    comparison = costs.compare("MBConv and SE", channels=32, expansion=6)
    assert (comparison.designs[0].params, comparison.designs[1].params) == (without, with_se)
    assert math.isclose(float(comparison.params_ratio(1)), 1.2204, abs_tol=1e-4)


def network(name: str):
    return make_network_report(NetworkSpec.create(PRESETS[name].text), measured=False).predicted


def test_the_networks_tours_estimates_land_inside_their_bands():
    # AlexNet: the three fully connected layers alone, within the 10% band
    fc = 256 * 6 * 6 * 4096 + 4096 * 4096 + 4096 * 1000
    assert abs(fc / network("alexnet").params - 1) < 0.10
    # ResNet-50: ResNet-34's 3.6e9 multiply-adds (He et al. 2016, Table 1), within 20%
    assert abs(3.6e9 / network("resnet50").macs - 1) < 0.20
    assert abs(network("resnet34").macs / 3.6e9 - 1) < 0.05
    # ConvNeXt-T: 8C² + 49C per block over stages of 3, 3, 9, 3 blocks, within 10%
    blocks = sum(n * (8 * c * c + 49 * c) for n, c in zip((3, 3, 9, 3), (96, 192, 384, 768)))
    assert abs(blocks / network("convnext_tiny").params - 1) < 0.10

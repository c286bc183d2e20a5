"""The numbers the lessons state in their own words (receptive fields, gridding, VGG's cost
per block, the mobile blocks, U-Net's exact field), recomputed with cnnviz's functions so
that a sentence cannot drift from what cnnviz computes."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from cnnviz.core.network.presets import network_spec
from cnnviz.core.network.report import make_network_report
from cnnviz.core.spec import StackSpec, build
from cnnviz.core.walk import predict
from cnnviz.topics import receptive_field as rf


def _hdc_m2(dilations: tuple[int, ...]) -> int:
    """Wang et al. 2018, §3.2: M_n = r_n, M_i = max[M_{i+1} - 2 r_i, M_{i+1} - 2 (M_{i+1} -
    r_i), r_i]; returns M_2."""
    m = dilations[-1]
    for r in reversed(dilations[1:-1]):
        m = max(m - 2 * r, m - 2 * (m - r), r)
    return m


@pytest.mark.parametrize("dilations, holes", [((2, 2, 2), 120), ((1, 2, 3), 0), ((1, 2, 5), 0),
                                              ((2, 3, 4), 72), ((1, 2, 8), 88)])
def test_gridding_holes_the_lesson_quotes(dilations, holes):
    assert rf.gridding(dilations).holes == holes


def test_no_common_factor_is_not_enough_and_the_hdc_rule_is():
    """(2, 3, 4) has no common factor and still leaves holes; for increasing dilations that
    start at 1, M_2 <= 3 is exactly when the stack reads its whole field."""
    assert rf.gridding((2, 3, 4)).holes > 0
    for d in itertools.combinations_with_replacement(range(1, 9), 3):
        if d[0] == 1:
            assert (rf.gridding(d).holes == 0) == (_hdc_m2(d) <= 3), d
    assert (_hdc_m2((1, 2, 3)), _hdc_m2((1, 2, 5)), _hdc_m2((1, 2, 9))) == (2, 2, 5)


def test_one_two_nine_leaves_holes():
    """The paper's failing example, past the page's slider (dilations up to 8)."""
    d = (1, 2, 9)
    size = 2 * sum(d) + 5
    seen = rf.open_gradient(rf.dilated_stack(d), (1, 1, size, size),
                            rf.centre_pixel(size, size)) > 0
    assert (1 + 2 * sum(d)) ** 2 - int(seen.sum()) > 0


def test_vgg16_work_per_block():
    report = make_network_report(network_spec("vgg16"), measured=False)
    giga = [round(s.macs / 1e9, 2) for s in report.stages]
    assert giga == [1.94, 2.77, 4.62, 4.62, 1.39, 0.12]
    share = (report.stages[2].macs + report.stages[3].macs) / report.predicted.macs
    assert round(100 * share) == 60
    assert 9 * 224 ** 2 * 64 ** 2 == 9 * 28 ** 2 * 512 ** 2  # H*W*C^2 kept constant


def test_network_totals_the_tour_quotes():
    net = {n: make_network_report(network_spec(n), measured=False).predicted
           for n in ("alexnet", "vgg16", "googlenet", "resnet50")}
    assert round(net["alexnet"].params / 1e6) == 61
    assert 20 < net["vgg16"].macs / net["alexnet"].macs < 25
    assert 20 < net["vgg16"].params / net["googlenet"].params < 22
    assert 0.25 < net["resnet50"].macs / net["vgg16"].macs < 0.28


def test_mobile_block_counts():
    spec = StackSpec.create("inverted_residual", {"in_channels": 16}, 1, 32, 32)
    assert predict(build(spec), (1, 16, 32, 32)).params == (16 * 96 + 9 * 96 + 96 * 16
                                                            + 2 * 96 + 2 * 96 + 2 * 16)


def test_overlapping_pool_keeps_the_size_of_a_2x2_pool():
    for k in (2, 3):
        spec = StackSpec.create("conv_bn_act", {"in_channels": 1, "kernel_size": k,
                                                "stride": 2, "padding": 0}, 1, 11, 11)
        assert predict(build(spec), (1, 1, 11, 11)).output_shape[2] == 5


def _support_sides(levels: int, size: int, pixels) -> set[tuple[int, int]]:
    spec = StackSpec.create("unet", {"in_channels": 1, "out_channels": 2, "levels": levels,
                                     "norm": "none"}, 1, size, size)
    model, sides = build(spec), set()
    for pixel in pixels:
        seen = rf.open_gradient(model, (1, 1, size, size), pixel) > 0
        rows, cols = np.flatnonzero(seen.any(1)), np.flatnonzero(seen.any(0))
        sides.add((int(rows[-1] - rows[0] + 1), int(cols[-1] - cols[0] + 1)))
    return sides


def test_unet_exact_field_is_below_the_recurrence():
    """The U-Net lesson's last step: one level reads 18 pixels a side from every output
    position (the recurrence says 19); two levels 44 (47)."""
    c = 24
    assert _support_sides(1, 48, [(c + i, c + j) for i in range(2) for j in range(2)]) \
        == {(18, 18)}
    assert _support_sides(2, 64, [(32, 32), (33, 34), (35, 35)]) == {(44, 44)}

"""Cost comparisons: the seed's numbers exactly, the textbook ratios, torch agreeing."""
from __future__ import annotations

from fractions import Fraction

import pytest

from cnnviz.core import arithmetic as ar
from cnnviz.core.spec import StackSpec, build
from cnnviz.core.walk import predict
from cnnviz.topics import costs


def test_seed_001_bottleneck_exact():
    c = costs.bottleneck(256, 128, 28, 5, 32)  # (256,28,28) -> (128,28,28), 5x5
    direct, reduced = c.designs
    assert direct.macs == 28 * 28 * 256 * 128 * 25 == 642_252_800
    assert reduced.macs == 6_422_528 + 80_281_600 == 86_704_128
    assert round(100 * costs.savings(c), 1) == 86.5
    assert direct.params == 256 * 128 * 25 and reduced.params == 256 * 32 + 32 * 128 * 25
    assert c.confirmed  # numel() and FlopCounterMode agree
    assert direct.measured_flops == 2 * 642_252_800
    assert "642{,}252{,}800" in c.formulas[0] and "86.5\\%" in c.formulas[-1]


@pytest.mark.parametrize("channels", [8, 24])
def test_two_threes_vs_one_five(channels):
    c = costs.five_vs_two_threes(channels, size=10)
    one, two = c.designs
    assert one.params == 25 * channels ** 2 and two.params == 18 * channels ** 2
    assert c.params_ratio(1) == Fraction(18, 25) == c.macs_ratio(1)
    assert one.rf.size == two.rf.size == (5, 5)
    assert (one.nonlinearities, two.nonlinearities) == (1, 2)
    assert c.confirmed


@pytest.mark.parametrize("m,n,k", [(32, 64, 3), (16, 10, 5), (3, 7, 1)])
def test_depthwise_ratio_is_exact(m, n, k):
    c = costs.depthwise_separable(m, n, k, size=9)
    assert c.macs_ratio(1) == ar.separable_ratio(n, k) == Fraction(1, n) + Fraction(1, k * k)
    assert c.confirmed


def test_grouped_cost_divides_by_groups():
    for g in ar.divisors(12):
        c = costs.grouped(12, g, 3, size=8)
        dense, split = c.designs
        assert split.macs * g == dense.macs and split.params * g == dense.params
        assert c.confirmed
    with pytest.raises(ValueError, match="does not divide"):
        costs.grouped(12, 5)


def test_registry_blocks_confirmed():
    resnext = costs.resnext_vs_resnet(64, 8, 4, size=6)
    basic = costs.basic_vs_bottleneck(64, size=6)
    assert resnext.confirmed and basic.confirmed
    assert basic.designs[1].params < basic.designs[0].params  # the bottleneck is cheaper
    no_se, se = costs.mbconv_se(16, 4, size=8).designs
    hidden, squeeze = 16 * 4, int(16 * 0.25)
    # SE adds two 1x1 convs with biases on the 1x1 squeezed map
    assert se.params - no_se.params == 2 * hidden * squeeze + hidden + squeeze
    assert se.confirmed and no_se.confirmed


def test_every_topic_runs_and_budget_refuses_huge():
    for topic, (_, knobs) in costs.TOPICS.items():
        values = {k.name: k.default for k in knobs}
        values.update({k.name: 6 for k in knobs if k.name == "size"})
        assert costs.compare(topic, **values).confirmed, topic
    with pytest.raises(ValueError, match="GMACs"):
        costs.bottleneck(512, 512, 112, 5, 32)
    with pytest.raises(ValueError, match="1,591.6 GMACs"):  # refused in the dry run
        costs.compare("k×k vs 1×1 bottleneck", in_channels=1024, out_channels=1024, size=112,
                      kernel_size=11, mid_channels=32)
    with pytest.raises(ValueError, match="Unknown comparison"):
        costs.compare("nope")


def test_grade_and_relative_error():
    assert ar.relative_error(90, 100) == pytest.approx(10.0)
    assert ar.relative_error(0, 0) == 0.0
    assert ar.divisors(12) == [1, 2, 3, 4, 6, 12]


def test_resnet_to_convnext_one_move_at_a_time():
    c = costs.compare("ResNet to ConvNeXt", channels=96, size=56)
    names = [d.name for d in c.designs]
    assert names == [name for name, _ in costs.CONVNEXT_MOVES] and c.confirmed
    by = dict(zip(names, c.designs))
    assert by["depthwise 3×3"].macs < by["ResNet bottleneck"].macs / 2  # one filter per channel
    assert by["ResNet bottleneck"].output_shape[1] == 384
    assert by["inverted bottleneck"].output_shape[1] == 96
    assert by["depthwise conv first"].macs < by["inverted bottleneck"].macs  # dw on 96, not 384
    assert by["7×7 kernel"].rf.size == (7, 7) and by["depthwise conv first"].rf.size == (3, 3)
    assert [by[n].nonlinearities for n in ("GELU", "one activation")] == [3, 1]
    assert by["one norm"].params < by["one activation"].params  # two norms fewer
    # the last row is the registry's ConvNeXt block without its biases and layer scale
    spec = StackSpec.create("convnext", {"in_channels": 96}, height=56, width=56)
    block = predict(build(spec), spec.input_shape)
    last = c.designs[-1]
    assert last.macs == block.macs and block.params - last.params == (96 + 384 + 96) + 96

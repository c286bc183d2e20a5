"""The core: every block's predicted numbers equal what torch measures."""
from __future__ import annotations

import math
from fractions import Fraction

import pytest
import torch
import torch.nn as nn
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from torch.utils.flop_counter import FlopCounterMode

from cnnviz.core import arithmetic as ar
from cnnviz.core.blocks import REGISTRY, Param
from cnnviz.core.blocks.config import FIELD_TYPES
from cnnviz.core.blocks.registry import register
from cnnviz.core.field import ReceptiveField
from cnnviz.core.measure import FlopCount, measure
from cnnviz.core.report import make_report
from cnnviz.core.spec import StackSpec, build
from cnnviz.core.walk import predict

BLOCKS = sorted(REGISTRY)
SMALL = {"in_channels": 8, "out_channels": 8}


def small(block: str, **params) -> dict:
    """Small channel counts that every block accepts, plus overrides."""
    entry = REGISTRY[block]
    names = {p.name for p in entry.params}
    base = {k: v for k, v in SMALL.items() if k in names}
    if block in ("inception", "inception_bn"):
        base.update(b1=4, b2_reduce=4, b2=8, b3_reduce=2, b3=4, b4=4)
    if block == "resnext":
        base.update(cardinality=4, width_per_group=2)
    if block in ("resnet_bottleneck", "preact_bottleneck"):
        base.update(in_channels=16, out_channels=16)
    if block in ("se", "gc"):
        base.update(reduction=4)
    if block == "regnet":
        base.update(group_width=4)
    if block == "dense":
        base.update(growth_rate=4, layers=2)
    base.update(params)
    return {k: v for k, v in base.items() if k in names}


def size_for(block: str, h: int, w: int) -> tuple[int, int]:
    """A U-Net's skips need sizes its pools halve exactly: rounded up to a multiple of 4."""
    return (4 * -(-h // 4), 4 * -(-w // 4)) if block == "unet" else (h, w)


def assert_agree(spec: StackSpec) -> None:
    report = make_report(spec)
    bad = {k: (p, m) for k, (p, m, ok) in report.checks().items() if not ok}
    assert not bad, f"{spec.label()}: predicted != measured: {bad}"


def configs(block: str) -> list[dict]:
    """Geometry variations that apply to the block, as (params, depth, size)."""
    names = {p.name for p in REGISTRY[block].params}
    out = [dict(params=small(block), depth=1, size=(16, 16)),
           dict(params=small(block), depth=3, size=(13, 11))]
    if "stride" in names:
        out.append(dict(params=small(block, stride=2), depth=2, size=(15, 16)))
    if "dilation" in names:
        out.append(dict(params=small(block, dilation=2), depth=2, size=(16, 16)))
    if "kernel_size" in names:
        # a merge (shortcut, concatenation) needs the size kept
        padding = 1 if block in ("conv_bn_act", "nin", "dw_separable", "masked_conv") else "same"
        out.append(dict(params=small(block, kernel_size=5, padding=padding), depth=1,
                        size=(12, 14)))
    if "groups" in names and block != "transposed":
        out.append(dict(params=small(block, groups=4 if "bottleneck" in block else 8),
                        depth=2, size=(9, 9)))
    if "skip" in names:
        out.append(dict(params=small(block, skip=False), depth=2, size=(10, 10)))
    if "shortcut" in names and "stride" in names:
        out.append(dict(params=small(block, stride=2, shortcut="avgpool", out_channels=16),
                        depth=2, size=(11, 11)))
    if block == "unet":
        out = [c | {"size": size_for(block, *c["size"])} for c in out]
        out.append(dict(params=small(block, levels=3), depth=1, size=(24, 16)))
    return out


@pytest.mark.parametrize("block", BLOCKS)
def test_predicted_equals_measured(block):
    for cfg in configs(block):
        h, w = cfg["size"]
        assert_agree(StackSpec.create(block, cfg["params"], depth=cfg["depth"], height=h,
                                      width=w, batch=2))


def choices() -> list[tuple[str, dict]]:
    """Every choice of every block parameter that has choices (upsampling modes, norms,
    activations, shortcuts, masks); init changes values only."""
    return [(block, {p.name: c}) for block in BLOCKS for p in REGISTRY[block].params
            if p.choices and p.name != "init" for c in p.choices]


@pytest.mark.parametrize("block,choice", choices(),
                         ids=[f"{b}-{k}={v}" for b, c in choices() for k, v in c.items()])
def test_every_choice_agrees(block, choice):
    h, w = size_for(block, 9, 10)
    assert_agree(StackSpec.create(block, small(block, **choice), depth=2, height=h, width=w,
                                  batch=2))


def test_a_unet_on_a_size_its_pools_cannot_halve_says_what_to_give():
    spec = StackSpec.create("unet", small("unet"), height=10, width=10)
    with pytest.raises(ValueError, match="a U-Net of L levels needs a multiple of 2\\^L"):
        predict(build(spec), spec.input_shape)


@pytest.mark.parametrize("mode", REGISTRY["upsample_conv"].param("mode").choices)
def test_every_upsampling_mode_agrees_on_every_geometry(mode):
    """Sub-pixel convolution (PixelShuffle) included: shape, params, FLOPs, memory and the
    input support are torch's, for every geometry the block's own test covers."""
    for cfg in configs("upsample_conv"):
        for scale in (2, 3):
            h, w = cfg["size"]
            assert_agree(StackSpec.create("upsample_conv", {**cfg["params"], "mode": mode,
                                                            "scale": scale},
                                          depth=cfg["depth"], height=h, width=w, batch=2))


def test_pixel_shuffle_rule_is_exact():
    """nn.PixelShuffle alone and inside a stack: (C·r², H, W) -> (C, rH, rW), no params or
    FLOPs, jump 1/r; and a channel count that r² does not divide explains itself."""
    for r in (1, 2, 3):
        model = nn.Sequential(nn.Conv2d(3, 2 * r * r, 3, padding=1), nn.PixelShuffle(r),
                              nn.Conv2d(2, 4, 3, padding=1))
        p = predict(model, (2, 3, 7, 6))
        m = measure(model, (2, 3, 7, 6), prediction=p)
        assert p.output_shape == m.output_shape == (2, 4, 7 * r, 6 * r)
        assert (p.params, p.flops, p.memory) == (m.params, m.flops, m.memory)
        assert p.support == m.support and not m.notes
        assert p.layers[1].params == p.layers[1].macs == 0
        assert p.receptive_field.jump == (Fraction(1, r), Fraction(1, r))
    with pytest.raises(ValueError, match="multiple of 4"):
        predict(nn.Sequential(nn.PixelShuffle(2)), (1, 6, 4, 4))


def test_every_block_parameter_is_a_typed_config_field():
    for entry in REGISTRY.values():
        for p in entry.params:
            assert FIELD_TYPES[p.name] is p.type, (entry.name, p.name)
    with pytest.raises(TypeError, match="BlockConfig"):
        register("nope", family="-", paper="-", summary="-", common=(),
                 own=(Param("unknown", int, 1, "no field"),))(lambda c: nn.Identity())
    assert "nope" not in REGISTRY


@pytest.mark.parametrize("block", BLOCKS)
def test_every_parameter_gets_a_finite_gradient(block):
    spec = StackSpec.create(block, small(block), depth=2, height=12, width=12, batch=2)
    model = build(spec).train()
    x = torch.randn(spec.input_shape, generator=torch.Generator().manual_seed(1))
    model(x).square().mean().backward()
    for name, p in model.named_parameters():
        assert p.grad is not None, f"{name} got no gradient"
        assert torch.isfinite(p.grad).all(), f"{name} has a non-finite gradient"


# Kernel, stride, padding, dilation, groups, channels, depth and input size drawn at random
# for the blocks that take them; configurations the core rejects must say why.
GEOMETRY_BLOCKS = ["conv_bn_act", "residual", "resnet_basic", "nin", "dw_separable",
                   "preact_basic", "transposed", "masked_conv", "inverted_residual",
                   "upsample_conv", "resnext", "se", "shufflenet"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(block=st.sampled_from(GEOMETRY_BLOCKS), k=st.integers(1, 5), s=st.integers(1, 3),
       p=st.integers(0, 3), d=st.integers(1, 3), g=st.sampled_from([1, 2, 4]),
       c=st.sampled_from([4, 8]), depth=st.integers(1, 3), h=st.integers(3, 14),
       w=st.integers(3, 14))
# a residual stack whose branch and shortcut line up at 3x3 only: the exact field has no
# larger input to grow into (it once raised RuntimeError instead of saying so)
@example(block="residual", k=1, s=3, p=1, d=1, g=1, c=4, depth=1, h=3, w=3)
def test_hypothesis_geometry(block, k, s, p, d, g, c, depth, h, w):
    names = {x.name for x in REGISTRY[block].params}
    wanted = dict(kernel_size=k, stride=s, padding=p, dilation=d, groups=g, in_channels=c,
                  out_channels=2 * c)
    params = small(block, **{n: v for n, v in wanted.items() if n in names})
    try:
        spec = StackSpec.create(block, params, depth=depth, height=h, width=w)
        report = make_report(spec)
    except ValueError as exc:  # a rejected configuration explains itself in a sentence
        assert len(str(exc)) > 30 and "\n" not in str(exc)
        return
    bad = {n: v for n, v in report.checks().items() if not v[2]}
    assert not bad, (spec.label(), bad)


@pytest.mark.parametrize("block,params", [
    ("conv_bn_act", dict(kernel_size=5, dilation=2)), ("vgg", {}), ("resnet_basic", dict(stride=2)),
    ("resnet_bottleneck", dict(stride=2, in_channels=16, out_channels=16)),
    ("inception_bn", {}), ("dense", {}), ("convnext", {}), ("shufflenet", dict(stride=2)),
    ("masked_conv", {}), ("dw_separable", dict(dilation=3)), ("nin", dict(stride=3)),
])
def test_theoretical_rf_equals_measured_support_when_unclipped(block, params):
    """On an input larger than the field, the centre pixel's support is the theoretical RF."""
    spec = StackSpec.create(block, small(block, **params), depth=2, height=48, width=48)
    report = make_report(spec)
    p, m = report.predicted, report.measured
    assert m.support.size == p.receptive_field.size
    assert p.support == m.support


def test_receptive_field_has_one_formatter():
    rf = ReceptiveField((7, 5), (2, Fraction(1, 2)))
    assert str(rf) == "7×5" and rf.text(" × ") == "7 × 5" and rf.text("x") == "7x5"
    assert rf.to_json() == {"size": [7, 5], "jump": [2, 0.5]}
    whole = ReceptiveField((3, 3), is_global=True)
    assert str(whole) == whole.text("x") == "global" and whole.to_json()["size"] == "global"


def test_global_pooling_makes_the_field_global():
    for block in ("se", "gc", "mbconv"):
        report = make_report(StackSpec.create(block, small(block), height=9, width=9))
        assert report.predicted.receptive_field.is_global
        assert report.measured.support.size == (9, 9)


def test_masked_conv_sees_only_above_and_left():
    spec = StackSpec.create("masked_conv", dict(in_channels=1, out_channels=4, kernel_size=3),
                            depth=3, height=20, width=20)
    report = make_report(spec)
    support = report.measured.support
    (r, c) = support.pixel
    assert support.rows == (r - 3, r)  # three mask layers reach 3 rows up, none down
    assert support.cols == (c - 3, c + 3)
    assert report.predicted.support == support


def test_transposed_conv_output_padding_and_dilation():
    spec = StackSpec.create("transposed", dict(in_channels=4, out_channels=4, kernel_size=3,
                                               stride=3, padding=1, dilation=2,
                                               output_padding=2), height=7, width=5)
    report = make_report(spec)
    expected = [ar.conv_transpose_out(n, 3, 3, 1, 2, 2) for n in (7, 5)]
    assert list(report.measured.output_shape[2:]) == expected
    assert report.agrees


@pytest.mark.parametrize("block", BLOCKS)
def test_flop_count_equals_flop_counter_mode(block):
    """Our total of torch's FLOP formulas is what FlopCounterMode reports."""
    h, w = size_for(block, 10, 9)
    spec = StackSpec.create(block, small(block), depth=2, height=h, width=w, batch=2)
    model = build(spec)
    x = torch.randn(spec.input_shape)
    with torch.no_grad(), FlopCounterMode(display=False) as reference:
        model(x)
    with torch.no_grad(), FlopCount() as ours:
        model(x)
    assert ours.total == reference.get_total_flops() > 0


def test_measuring_leaves_the_module_as_it_was():
    model = build(StackSpec.create("resnet_basic", dict(stride=2, out_channels=16), depth=2))
    model[0][0].body[0].train()
    model[1].eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    flags = [m.training for m in model.modules()]
    measure(model, (2, 16, 12, 12))
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert [m.training for m in model.modules()] == flags
    assert not any(m._forward_hooks for m in model.modules())
    assert all(p.requires_grad and p.grad is None for p in model.parameters())


# --- the articles' worked examples -------------------------------------------------------

def macs_of(model: nn.Module, shape) -> int:
    return predict(model, shape).macs


def test_seed_001_bottleneck_example():
    """(256, 28, 28) -> (128, 28, 28): a 5x5 conv vs 1x1 to 32 channels then 5x5."""
    shape = (1, 256, 28, 28)
    direct = nn.Sequential(nn.Conv2d(256, 128, 5, padding=2, bias=False))
    bottleneck = nn.Sequential(nn.Conv2d(256, 32, 1, bias=False),
                               nn.Conv2d(32, 128, 5, padding=2, bias=False))
    assert macs_of(direct, shape) == 28 * 28 * 256 * 128 * 5 * 5 == 642_252_800
    assert macs_of(bottleneck, shape) == 6_422_528 + 80_281_600 == 86_704_128
    saved = ar.bottleneck_savings(macs_of(direct, shape), macs_of(bottleneck, shape))
    assert round(100 * saved, 1) == 86.5
    for model in (direct, bottleneck):  # torch agrees
        assert measure(model, shape).flops == 2 * macs_of(model, shape)


@pytest.mark.parametrize("channels", [1, 16, 64])
def test_two_3x3_vs_one_5x5(channels):
    c = channels
    one = nn.Sequential(nn.Conv2d(c, c, 5, padding=2, bias=False))
    two = nn.Sequential(nn.Conv2d(c, c, 3, padding=1, bias=False),
                        nn.Conv2d(c, c, 3, padding=1, bias=False))
    p1, p2 = predict(one, (1, c, 16, 16)), predict(two, (1, c, 16, 16))
    assert p1.params == 25 * c * c and p2.params == 18 * c * c
    # same field of view, fewer weights
    assert p1.receptive_field.size == p2.receptive_field.size == (5, 5)


@pytest.mark.parametrize("n,k,p,s,d", [(32, 3, 1, 1, 1), (32, 3, 1, 2, 1), (28, 5, 2, 1, 1),
                                       (7, 3, 0, 2, 1), (224, 7, 3, 2, 1), (10, 3, 2, 3, 2)])
def test_seed_002_output_size_formula(n, k, p, s, d):
    expected = math.floor((n + 2 * p - d * (k - 1) - 1) / s) + 1
    assert ar.conv_out(n, k, s, p, d) == expected
    y = nn.Conv2d(1, 1, k, s, p, d)(torch.zeros(1, 1, n, n))
    assert y.shape[-1] == expected
    assert ar.conv_out_latex(n, k, s, p, d).endswith(f"= {expected}")


# --- validation ---------------------------------------------------------------------------

@pytest.mark.parametrize("block,params,kwargs,words", [
    ("conv_bn_act", dict(kernel_size=11, padding=0), dict(height=4, width=4), "padded input"),
    ("conv_bn_act", dict(groups=5), {}, "does not divide"),
    ("resnet_basic", {}, dict(depth=0), "depth"),
    ("vgg", {}, dict(depth=6, height=32, width=32), "padded input"),
    ("shufflenet", dict(out_channels=15), {}, "even"),
    ("resnet_bottleneck", dict(out_channels=2, expansion=4), {}, "bottleneck"),
    ("transposed", dict(output_padding=2, stride=2), {}, "output_padding"),
    ("resnet_basic", dict(padding=0), {}, "shortcut"),
    ("nope", {}, {}, "Unknown block"),
    ("conv_bn_act", dict(kernel_size="big"), {}, "kernel_size"),
    ("conv_bn_act", dict(unknown=1), {}, "no parameter"),
    ("conv_bn_act", dict(norm="weird"), {}, "one of"),
    ("conv_bn_act", dict(stride=99), {}, "out of range"),
    ("masked_conv", dict(kernel_size=1), {}, "mask"),
])
def test_invalid_configurations_explain_themselves(block, params, kwargs, words):
    with pytest.raises(ValueError) as info:
        make_report(StackSpec.create(block, params, **kwargs), measured=False)
    message = str(info.value)
    assert words.lower() in message.lower()
    assert "\n" not in message and len(message) > 25


def test_too_big_is_refused_before_it_runs():
    spec = StackSpec.create("conv_bn_act", dict(in_channels=512, out_channels=512),
                            height=512, width=512, batch=64)
    with pytest.raises(ValueError, match="Reduce"):
        make_report(spec)
    huge = StackSpec.create("conv_bn_act", dict(in_channels=1024, out_channels=1024,
                                                kernel_size=11), depth=200)
    with pytest.raises(ValueError, match="parameters"):
        make_report(huge)


# --- determinism and devices -------------------------------------------------------------------

def test_weights_depend_only_on_the_seed():
    spec = StackSpec.create("resnet_basic", depth=2)
    torch.manual_seed(123)
    a = build(spec).state_dict()
    torch.manual_seed(456)  # the global RNG must not matter
    b = build(spec).state_dict()
    c = build(spec.replace(seed=1)).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert any(not torch.equal(a[k], c[k]) for k in a if a[k].is_floating_point())


def test_absent_device_falls_back_to_cpu_with_a_message():
    report = make_report(StackSpec.create("conv_bn_act"), device="cuda:7")
    assert report.device == "cpu"
    assert "not available" in report.device_note or "Unknown" in report.device_note


def test_init_schemes_and_zero_init_last():
    for init in REGISTRY["resnet_basic"].param("init").choices:
        model = build(StackSpec.create("resnet_basic", dict(init=init)))
        assert torch.isfinite(model[0][0].body[0].conv.weight).all()
    model = build(StackSpec.create("resnet_basic", dict(zero_init_last=True)))
    assert torch.count_nonzero(model[0][0].body[1].norm.weight) == 0


@pytest.mark.parametrize("block", sorted(b for b, e in REGISTRY.items()
                                         if any(p.name == "act" for p in e.params)))
def test_capped_activations_do_not_hide_the_field_in_deep_stacks(block):
    """ReLU6 passes no gradient above 6: with every path open, inverted_residual at depth
    >= 4 measured a smaller field than it has (found by the classroom load bench)."""
    try:
        spec = StackSpec.create(block, {"act": "relu6"}, depth=8)
        report = make_report(spec)
    except ValueError:
        pytest.skip(f"{block} at depth 8 does not fit this input")
    assert report.agrees, {k: v for k, v in report.checks().items() if not v[2]}

"""Whole networks: every preset equals torchvision's parameter count, and every predicted
number of a network (params, FLOPs, shapes per layer and per stage, memory, the centre
pixel's field) equals what torch measures on the built network."""
from __future__ import annotations

import json
import math

import pytest
import torch
from test_cli import cli

from cnnviz.core.network import PRESETS, NetworkSpec, build_network, network_spec
from cnnviz.core.network.report import make_network_report
from cnnviz.topics import networks as tn

# torchvision's models at 3x224x224 with 1000 classes (GoogLeNet without auxiliary heads)
TORCHVISION_PARAMS = {
    "alexnet": 61_100_840, "vgg11": 132_863_336, "vgg16": 138_357_544,
    "googlenet": 6_624_904, "resnet18": 11_689_512, "resnet34": 21_797_672,
    "resnet50": 25_557_032, "resnext50_32x4d": 25_028_904, "densenet121": 7_978_856,
    "mobilenet_v2": 3_504_872, "shufflenet_v2_x1_0": 2_278_604,
    "efficientnet_b0": 5_288_548, "regnet_y_400mf": 4_344_144, "convnext_tiny": 28_589_128,
}


def report_of(name: str, **fields):
    return make_network_report(network_spec(name, **fields))


def assert_agrees(report) -> None:
    bad = {k: (a, b) for k, (a, b, ok) in report.checks().items() if not ok}
    assert not bad, (report.spec.label(), bad)


@pytest.mark.parametrize("name", list(PRESETS))
def test_preset_predicted_equals_measured_at_224(name):
    report = report_of(name)
    assert report.predicted.input_shape == (1, 3, 224, 224)
    assert report.predicted.output_shape == report.measured.output_shape == (1, 1000)
    assert_agrees(report)
    if name in TORCHVISION_PARAMS:
        assert report.predicted.params == TORCHVISION_PARAMS[name]
    assert sum(s.params for s in report.stages) == report.predicted.params
    assert sum(s.macs for s in report.stages) == report.predicted.macs


def test_every_torchvision_preset_is_covered():
    assert set(TORCHVISION_PARAMS) <= set(PRESETS)
    assert {"plain34", "preact_resnet50"} <= set(PRESETS)


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_parameter_gets_a_finite_gradient(name):
    spec = network_spec(name, height=64, width=64, batch=2, classes=10)
    model = build_network(spec).train()
    x = torch.randn(spec.input_shape, generator=torch.Generator().manual_seed(0))
    y = model(x)
    assert y.shape == (2, 10)
    y.square().mean().backward()
    for pname, p in model.named_parameters():
        assert p.grad is not None, pname
        assert torch.isfinite(p.grad).all(), pname


@pytest.mark.parametrize("name,shape,classes", [
    ("resnet18", (3, 96, 128), 10), ("mobilenet_v2", (1, 32, 32), 7),
    ("densenet121", (3, 112, 112), 100), ("vgg11", (3, 32, 32), 10),
    ("googlenet", (3, 100, 100), 5), ("convnext_tiny", (3, 64, 64), 2)])
def test_presets_run_at_other_sizes_and_class_counts(name, shape, classes):
    report = report_of(name, channels=shape[0], height=shape[1], width=shape[2],
                       classes=classes, batch=2)
    assert report.predicted.output_shape == (2, classes)
    assert_agrees(report)


def test_resnet50_stage_shapes_by_hand():
    stages = {s.name: s.output_shape for s in report_of("resnet50").stages}
    assert [stages[f"stage{i}"] for i in (1, 2, 3, 4)] == [
        (256, 56, 56), (512, 28, 28), (1024, 14, 14), (2048, 7, 7)]


def test_resnet18_field_after_the_stem_by_hand():
    # conv 7x7/2 then max-pool 3x3/2: 7 + (3 - 1) * 2 = 11 pixels, jump 2 * 2 = 4
    stem = report_of("resnet18").stages[0]
    assert stem.name == "stem"
    assert stem.receptive_field.size == (11, 11) and stem.receptive_field.jump == (4, 4)


def test_the_text_form_round_trips():
    for preset in PRESETS.values():
        spec = NetworkSpec.create(preset.text)
        assert NetworkSpec.create(spec.text()).stages == spec.stages
        assert spec.text() == preset.text


def test_a_custom_network_with_a_masked_block_is_measured_on_real_buffers():
    report = make_network_report(network_spec(
        "stem=masked_conv:out_channels=8,kernel_size=5|body=resnet_basic*2:out_channels=16,"
        "stride=2|head=adaptive_avgpool:size=2;flatten;dropout;linear:out_features=32;act;linear",
        channels=1, height=28, width=28, classes=10))
    assert report.predicted.output_shape == (1, 10)
    assert_agrees(report)


@pytest.mark.parametrize("text,message", [
    ("stem=nope", "Unknown part 'nope'"),
    ("Stem=conv", "Stage name 'Stem' must be"),
    ("a=conv|a=conv", "a appears twice"),
    ("a=conv:in_channels=3", "in_channels comes from the part before it"),
    ("a=conv:widht=3", "conv has no parameter 'widht'"),
    ("a=maxpool*3", "maxpool is a layer"),
    ("a=conv:kernel_size=99", "kernel_size = 99 is out of range"),
    ("a=resnet_basic:out_channels=nan", "out_channels must be"),
    ("a=conv;linear", "put a flatten before it"),
    ("a=conv|b", "must be written name=parts"),
    ("a=conv:out_channels", "is not name=value"),
    ("a=" + ";".join(["act"] * 17), "give it 1 to 16"),
    ("a=" + "act;" * 2000, "limit is 4,000"),
    ("a=adaptive_avgpool;flatten;flatten", "only once"),
    ("a=resnet_basic*300", "depth = 300 is out of range"),
    # found by a hostile-input sweep: each was a traceback, torch's raw words, or a wrong count
    ("a=maxpool:padding=5,kernel_size=3", "a pool takes at most 1"),
    ("a=avgpool:padding=2,kernel_size=3", "a pool takes at most 1"),
    ("a=conv:padding=same", "padding must be an integer"),
    ("a=adaptive_avgpool;flatten;norm:norm=layer", "norm needs a C x H x W map"),
    ("a=adaptive_avgpool;flatten;norm", "move it before the flatten"),
    ("a=adaptive_avgpool;flatten;conv", "conv needs a C x H x W map"),
    ("forward=conv", "Stage name 'forward' is taken"),
    ("training=conv;adaptive_avgpool;flatten;linear", "Stage name 'training' is taken"),
    ("a=linear;flatten", "Layer 'a.0' (Linear) needs a flat vector"),
    ("a=adaptive_avgpool", "of activations, input and weights"),  # at 64x1024x1024, below
    ("a=conv:out_channels=8,out_channels=9", "out_channels is given twice"),
    ("a=resnet_basic*", "give the depth after '*'"),
])
def test_bad_networks_are_refused_in_a_sentence(text, message):
    if "input and weights" in message:  # the input batch alone is 8 GiB with its gradient
        text = network_spec(text, channels=64, height=1024, width=1024, batch=16)
    with pytest.raises(ValueError) as err:
        make_network_report(text if isinstance(text, NetworkSpec) else network_spec(text))
    assert message in str(err.value) and "\n" not in str(err.value)


def test_a_stage_named_current_flattens_its_own_map():
    """The flatten's length came from a walk whose own stage was named 'current'."""
    text = "{}=conv:out_channels=8,stride=2|b=flatten;linear"
    reports = [make_network_report(network_spec(text.format(name), height=64, width=64))
               for name in ("current", "cur")]
    assert reports[0].predicted.params == reports[1].predicted.params == 8 * 31 * 31 * 1000 \
        + 1000 + 8 * 3 * 9 + 8
    assert reports[0].agrees


def test_bad_fields_and_names_are_refused():
    for fields, message in [({"classes": 0}, "classes = 0"), ({"height": 5000}, "height"),
                            ({"batch": "two"}, "batch must be a whole number")]:
        with pytest.raises(ValueError, match=message):
            network_spec("resnet18", **fields)
    with pytest.raises(ValueError, match="Unknown network 'resnet19'"):
        network_spec("resnet19")


def test_an_oversized_classifier_is_refused_by_the_budget_before_any_walk():
    with pytest.raises(ValueError, match="parameters; the live limit"):
        make_network_report(network_spec(
            "a=conv:out_channels=512|h=flatten;linear:out_features=100000", height=64, width=64))


def test_facts_are_computed_from_the_numbers():
    vgg = tn.facts(report_of("vgg16"))
    assert "3 fully connected layers hold 89%" in vgg[0]
    mobile = tn.breakdown(report_of("mobilenet_v2"))["macs"]
    assert mobile["pointwise 1×1 conv"] > 10 * mobile["depthwise conv"]
    assert any("Pointwise 1×1 convolutions do 89%" in f
               for f in tn.facts(report_of("mobilenet_v2")))
    assert any("After stage4" in f and "435×435" in f for f in tn.facts(report_of("resnet18")))
    dense = tn.facts(report_of("densenet121"))[-1]
    assert "stage1 64 + 6 × 32 = 256" in dense and "stage4 512 + 16 × 32 = 1024" in dense
    assert any("only a global pooling" in f for f in tn.facts(report_of("alexnet")))


def test_preset_points_carry_labelled_top1():
    points = {p.name: p for p in tn.preset_points()}
    assert points["resnet50"].params == TORCHVISION_PARAMS["resnet50"]
    assert points["vgg16"].macs > points["resnet50"].macs > points["mobilenet_v2"].macs
    assert all(p.top1 is None or (40 < p.top1 < 90 and p.top1_source) for p in points.values())


def test_plain34_vs_resnet34_probe_lines_up_the_main_path():
    plain, residual = tn.compare_networks(*tn.probe_specs(height=32, batch=2))
    assert len(plain.layers) == len(residual.layers) == 33  # the convolutions of a 34-layer net
    assert all(math.isfinite(g) and g > 0 for g in plain.grad_norms + residual.grad_norms)
    assert len(tn.probe_story(plain, residual)) >= 2


def test_cli_networks_lists_every_preset_with_its_url():
    result = cli("networks", "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [r["name"] for r in rows] == list(PRESETS)
    assert all(r["url"] == f"/network?net={r['name']}" for r in rows)
    assert {r["name"]: r["params"] for r in rows if r["name"] in TORCHVISION_PARAMS} \
        == TORCHVISION_PARAMS


def test_cli_network_json_has_the_issue_fields():
    result = cli("network", "resnet18", "--input", "3,64,64", "--classes", "10", "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert {"params", "macs", "flops", "output_shape", "stages", "measured"} <= set(out)
    assert out["output_shape"] == out["measured"]["output_shape"] == [1, 10]
    assert out["measured"]["params"] == out["params"] and out["measured"]["flops"] == out["flops"]
    stem = out["stages"][0]
    assert {"name", "output_shape", "params", "macs", "receptive_field"} <= set(stem)
    assert stem["receptive_field"] == {"size": [11, 11], "jump": [4, 4]}
    assert all(out["agree"].values())


@pytest.mark.parametrize("args,message", [
    (["network", "resnet19"], "Unknown network"),
    (["network", "resnet18", "--input", "3,224"], "C,H,W"),
    (["network", "resnet18", "--classes", "-1"], "classes = -1"),
    (["network", "a=conv;linear"], "flatten"),
])
def test_cli_network_bad_input_exits_2_with_one_line(args, message):
    result = cli(*args)
    assert result.returncode == 2
    assert result.stdout == "" and len(result.stderr.strip().splitlines()) == 1
    assert message in result.stderr


# --- compound scaling ---------------------------------------------------------------------

def test_scaling_multiplies_depth_width_and_resolution_by_the_rule():
    base = network_spec("efficientnet_b0")
    variants = {v.name: v for v in tn.scaling_variants(base, 1)}
    assert set(variants) == {"as it is", "depth only", "width only", "resolution only",
                             "compound"}
    assert variants["as it is"].spec == base
    for s0, s1 in zip(base.stages, variants["depth only"].spec.stages):
        deepens = s0.name not in ("stem", "head")  # the stem and the head never repeat
        for p0, p1 in zip(s0.parts, s1.parts):
            assert p1.depth == (math.ceil(1.2 * p0.depth) if p0.is_block and deepens
                                else p0.depth)
            assert p1.args == p0.args
    for s0, s1 in zip(base.stages, variants["width only"].spec.stages):
        for p0, p1 in zip(s0.parts, s1.parts):
            if "out_channels" in p0.values:
                wide = p1.values["out_channels"]
                assert wide % 8 == 0 and 0.9 * 1.1 * p0.values["out_channels"] <= wide
    assert variants["resolution only"].spec.height == 258  # round(224 * 1.15)
    compound = variants["compound"].spec
    assert compound.height == 258 and compound.stages != base.stages


def test_what_each_way_of_scaling_costs():
    base = network_spec("resnet18")
    reports = {v.name: make_network_report(v.spec, "cpu", measured=False).predicted
               for v in tn.scaling_variants(base, 2)}
    b = reports["as it is"]
    assert reports["resolution only"].params == b.params  # weights do not see the input
    assert reports["resolution only"].macs / b.macs == pytest.approx(1.15 ** 4, rel=0.08)
    assert reports["width only"].params / b.params == pytest.approx(1.1 ** 4, rel=0.08)
    assert reports["depth only"].macs > b.macs and reports["compound"].macs > max(
        r.macs for name, r in reports.items() if name != "compound")


def test_a_scaled_network_is_predicted_as_torch_measures_it():
    small = network_spec("resnet18").replace(height=64, width=64)
    (compound,) = [v for v in tn.scaling_variants(small, 1) if v.name == "compound"]
    assert_agrees(make_network_report(compound.spec, "cpu", measured=True))


def test_channel_rounding_stays_within_ten_percent():
    for channels in (8, 10, 35.2, 99.9, 161.3, 1000):
        rounded = tn.divisible(channels)
        assert rounded % 8 == 0 and rounded >= 0.9 * channels and rounded >= 8
    assert tn.divisible(10) == 16 and tn.divisible(35.2) == 32

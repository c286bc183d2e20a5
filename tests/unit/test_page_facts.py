"""The numbers the pages' teaching text states, recomputed from cnnviz's own functions
(issue 28): gridding holes and the hybrid-dilation rule, the receptive field of networks
with squeeze-excitation, ResNeXt's width, AlexNet's variant, the Plain vs Residual stories."""
from __future__ import annotations

import itertools

import pytest
import torch.nn as nn

from cnnviz.core.network import network_spec
from cnnviz.core.network.report import make_network_report
from cnnviz.core.spec import StackSpec
from cnnviz.topics import gradflow as gf
from cnnviz.topics import networks
from cnnviz.topics import receptive_field as rf
from cnnviz.ui.analysis.presets import STORIES

# --- dilation and gridding (Wang et al. 2018, §3.2) ---------------------------------------


@pytest.mark.parametrize("dilations, holes", [((2, 3, 4), 72), ((1, 2, 8), 88),
                                              ((1, 2, 3), 0), ((1, 2, 5), 0)])
def test_gridding_holes_the_page_states(dilations, holes):
    """No common factor is needed but not enough: 2, 3, 4 and 1, 2, 8 leave holes."""
    assert rf.gridding(dilations).holes == holes


@pytest.mark.parametrize("dilations, gap, holds", [((1, 2, 3), 2, True), ((1, 2, 5), 2, True),
                                                   ((1, 2, 9), 5, False),
                                                   ((2, 3, 4), 3, False),
                                                   ((1, 2, 8), 4, False)])
def test_hybrid_dilation_rule(dilations, gap, holds):
    assert rf.hdc_gap(dilations) == gap
    assert rf.hdc_holds(dilations) is holds


def test_the_rule_is_enough_for_every_stack_the_page_can_build():
    """Every 3-layer stack starting at dilation 1 that meets M2 <= 3 reads its whole field,
    and every such non-decreasing stack that misses it leaves holes."""
    for rest in itertools.product(range(1, 9), repeat=2):
        dilations = (1, *rest)
        holes = rf.gridding(dilations).holes
        if rf.hdc_holds(dilations):
            assert holes == 0, dilations
        elif list(dilations) == sorted(dilations):
            assert holes > 0, dilations


def test_the_examples_table_is_what_the_text_says():
    assert {d: rf.hdc_holds(d) for d in rf.GRIDDING_EXAMPLES} == {
        (1, 2, 3): True, (1, 2, 5): True, (2, 3, 4): False, (1, 2, 8): False}


# --- networks ---------------------------------------------------------------------------


def _report(name: str):
    return make_network_report(network_spec(name), measured=False)


@pytest.mark.parametrize("name", ["efficientnet_b0", "regnet_y_400mf"])
def test_squeeze_excitation_makes_the_field_the_whole_image(name):
    report = _report(name)
    label, value, help_text = networks.field_headline(report)
    assert (label, value) == ("Receptive field after stage1", "whole image")
    assert "squeeze-and-excitation" in help_text
    said = " ".join(networks.facts(report))
    assert "whole 224×224 image" in said and "Hu et al. 2018" in said
    assert "stops at" not in said


def test_a_network_without_a_global_pool_inside_keeps_its_window():
    label, value, _ = networks.field_headline(_report("vgg16"))
    assert label == "Receptive field after stage5" and value != "whole image"


def _convs(model: nn.Module) -> list[nn.Conv2d]:
    return [m for m in model.modules() if isinstance(m, nn.Conv2d)]


def test_resnext_grouped_3x3_is_twice_as_wide_at_about_the_same_cost():
    """Xie et al. 2017, Table 1: 128 channels in 32 groups where ResNet-50 has 64."""
    resnext, resnet = _report("resnext50_32x4d"), _report("resnet50")
    grouped = next(c for c in _convs(resnext.model) if c.groups > 1)
    plain3 = next(c for c in _convs(resnet.model) if c.kernel_size == (3, 3)
                  and c.in_channels == 64 and c.out_channels == 64)
    assert (grouped.in_channels, grouped.groups, plain3.in_channels) == (128, 32, 64)
    assert resnext.predicted.params / resnet.predicted.params == pytest.approx(1, abs=0.03)
    assert resnext.predicted.macs / resnet.predicted.macs == pytest.approx(1, abs=0.05)


def test_alexnet_is_torchvisions_variant():
    """64, 192, 384, 256, 256 filters, no groups (the 2012 paper: 96, 256, 384, 384, 256)."""
    convs = _convs(_report("alexnet").model)
    assert [c.out_channels for c in convs] == [64, 192, 384, 256, 256]
    assert all(c.groups == 1 for c in convs)
    assert not any(isinstance(m, nn.LocalResponseNorm) for m in _report("alexnet").model.modules())


# --- Plain vs Residual stories -----------------------------------------------------------


def _story(name: str, depth: int = 20) -> gf.Comparison:
    spec = StackSpec.create("resnet_basic", {})
    return gf.compare(gf.probe_for(spec, dict(depth=depth, act="relu", preact=False,
                                              **STORIES[name])), "ce")


def test_batch_norm_story_shows_the_plain_gradient_growing_backwards():
    """Yang et al. 2019: at init a deep plain BN stack's gradient grows backwards."""
    name = next(n for n in STORIES if n.startswith("Batch normalization"))
    result = _story(name)
    assert result.plain.first_over_last > 1e3  # 1.31e3 at 20 blocks
    assert any("Yang et al. 2019" in line for line in gf.story(result))


def test_a_smaller_init_only_slows_the_residual_growth():
    kaiming = _story("Exploding forward signal: no norm, Kaiming init")
    xavier = _story(next(n for n in STORIES if "Xavier" in n))
    assert 1.5 < xavier.residual.std_growth < kaiming.residual.std_growth / 10  # 6.84 vs 730
    assert xavier.plain.std_growth < 1e-3  # the plain stack's signal fades
    assert any("Fixup" in line for line in gf.story(xavier))


def test_training_moved_the_residual_filters_by_about_a_third():
    # trained_network.toml step 3 says so in words ("about a third of their starting size")
    import numpy as np

    from cnnviz.topics import learned
    run = learned.shipped_run("residual-4")
    end, start = learned.first_filters(run, run.model())
    moved = float(np.linalg.norm(end - start) / np.linalg.norm(start))
    assert 0.27 <= moved <= 0.40, moved


def test_depth_scaling_repeats_the_stages_blocks_not_the_stem_or_head():
    # ResNet-18 at φ = 1: 2 blocks per stage become 3; the 7×7 stem stays one convolution
    from cnnviz.core.network import PRESETS, NetworkSpec
    from cnnviz.core.network.report import make_network_report
    from cnnviz.topics.networks import scaling_variants
    variants = {v.name: v for v in scaling_variants(NetworkSpec.create(PRESETS["resnet18"].text),
                                                    1)}
    deeper = variants["depth only"].spec
    assert [p.depth for p in deeper.stages[0].parts] == [1, 1]  # stem: conv, max-pool
    assert all(p.depth == 3 for s in deeper.stages[1:-1] for p in s.parts)
    predicted = make_network_report(deeper, measured=False).predicted
    assert (predicted.params, predicted.macs) == (17_960_232, 2_738_917_376)

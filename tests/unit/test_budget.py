"""The one budget: every heavy path refuses too-big work before allocating it."""
from __future__ import annotations

import math
import resource
import time

import pytest
import torch
import torch.nn as nn

from cnnviz.core import budget
from cnnviz.core.blocks import REGISTRY
from cnnviz.core.report import make_report
from cnnviz.core.spec import StackSpec, build
from cnnviz.core.walk import predict
from cnnviz.topics import (
    costs,
    degradation,
    features,
    gradflow,
    receptive_field,
    sliding,
    training,
)

WIDE = {"in_channels": 128, "out_channels": 128}


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_counted_on_meta_equals_the_real_module():
    for name in REGISTRY:
        spec = StackSpec.create(name, depth=2, batch=2)
        work = budget.stack_work(spec)
        p = predict(build(spec), spec.input_shape)
        assert (work.params, work.macs, work.activations) == (p.params, p.macs, p.memory), name
        assert work.inputs == 4 * math.prod(spec.input_shape), name


def test_work_adds_weights_and_their_gradients_to_memory():
    work = budget.Work("x", params=1000, macs=10, activations=4000)
    assert work.memory == 4000 + 4 * 1000
    grads = budget.Work("x", 1000, 10, 4000, budget.FORWARD_BACKWARD, repeats=5)
    assert grads.memory == 4000 + 8 * 1000 and grads.total_macs == 10 * 3 * 5
    # the input batch too (and its gradient): a pooling network holds little else
    seen = budget.Work("x", 1000, 10, 4000, budget.FORWARD_BACKWARD, inputs=500)
    assert seen.memory == grads.memory + 2 * 500


@pytest.mark.parametrize("work, words", [
    (budget.Work("this stack", 160_000_000, 1, 1), "160.0 M parameters; the live limit is 150 M"),
    (budget.Work("this stack", 1, 1, 2 * 2**30), "2.0 GiB of activations"),
    (budget.Work("this stack", 1, 50 * 10**9, 1), "50.0 GMACs a forward pass"),
    (budget.Work("training", 1, 10**9, 1, budget.FORWARD_BACKWARD, 100), "about 7.5 s"),
])
def test_each_limit_refuses_with_numbers_and_what_to_reduce(work, words):
    with pytest.raises(budget.BudgetError, match="Reduce") as e:
        budget.check(work)
    assert words in str(e.value) and str(e.value)[0].isupper()


def test_time_adds_up_over_pieces_of_work():
    piece = budget.Work("one probe", 1, 10**9, 1, budget.FORWARD_BACKWARD)  # 0.075 s each
    budget.check(*[piece] * 60)  # 4.5 s
    with pytest.raises(budget.BudgetError, match="The sweep would take about 7.5 s"):
        budget.check(*[piece] * 100, what="the sweep")


def test_the_issues_plain_vs_residual_stack_is_refused_fast():
    """/plain_vs_residual?p_in_channels=128&p_out_channels=128 at 200 blocks: 115 s, 4.6 GB."""
    spec = StackSpec.create("resnet_basic", WIDE, depth=200, batch=8)
    before = peak_mb()
    with pytest.raises(budget.BudgetError, match="live limit"):
        gradflow.compare(spec)
    # each depth alone fits (40 channels), the seven of them do not
    sweep = StackSpec.create("resnet_basic", {"in_channels": 40, "out_channels": 40}, batch=8)
    with pytest.raises(budget.BudgetError, match="The depth sweep .7 depths, up to 100. would"):
        gradflow.depth_sweep(sweep)
    assert peak_mb() - before < 200  # nothing of the stack's size was allocated


def test_training_is_budgeted_by_steps_and_depth():
    with pytest.raises(budget.BudgetError, match="Training three stacks for 1000 steps"):
        next(degradation.train_degradation(degradation.TrainConfig(depth=60, steps=1000)))
    budget.check(*degradation_work(degradation.TrainConfig()),  # the default fits
                 budget=training.TRAINING_BUDGET)


def degradation_work(config: degradation.TrainConfig) -> list[budget.Work]:
    return [budget.stack_work(config.spec(d, skip).replace(batch=config.batch),
                              passes=budget.FORWARD_BACKWARD, repeats=config.steps)
            for d, skip in ((config.shallow_depth, False), (config.depth, False),
                            (config.depth, True))]


def test_image_paths_are_budgeted():
    spec = features.image_spec(StackSpec.create("resnet_basic", WIDE, depth=60), 224, 224)
    image = torch.zeros(3, 224, 224)
    with pytest.raises(budget.BudgetError, match="feature maps"):
        features.feature_maps(spec, image, 60)
    with pytest.raises(budget.BudgetError, match="effective receptive field"):
        receptive_field.effective_rf(spec, image)


def test_the_checkerboard_is_budgeted():
    with pytest.raises(budget.BudgetError, match="checkerboard comparison|upsampling"):
        sliding.checkerboard(size=40_000)


def test_report_and_cost_lab_are_budgeted():
    with pytest.raises(budget.BudgetError, match="parameters"):
        make_report(StackSpec.create("resnet_basic", {"in_channels": 512, "out_channels": 512},
                                     depth=200))
    with pytest.raises(budget.BudgetError, match="GMACs"):
        costs.compare("one 5×5 vs two 3×3", channels=1024, size=112)


def test_default_views_fit_comfortably():
    """What a student sees first must never be refused."""
    spec = StackSpec.create("resnet_basic", batch=8, depth=30)
    plain, residual = gradflow.probe_work(spec)
    assert plain.seconds() + residual.seconds() < 2
    assert math.isfinite(budget.stack_work(StackSpec.create("resnet_basic")).seconds())


def test_heavy_work_stops_between_layers_when_its_run_is_abandoned():
    """The UI's yield point raises when a session's run was stopped or superseded; heavy
    work then ends at the next layer, gives its slot back and leaves no hook behind."""
    from cnnviz.deploy import heavy as hv

    class Abandoned(BaseException):
        pass

    calls = []

    def yield_point():
        calls.append(1)
        if len(calls) > 5:  # the tab closes during the run
            raise Abandoned

    spec = StackSpec.create("resnet_basic", depth=50, height=8, width=8)

    @hv.heavy
    def forward():
        with torch.no_grad():
            return build(spec)(torch.zeros(1, 16, 8, 8))

    free = hv.SLOTS._free
    hv.set_yield_point(yield_point)
    try:
        with pytest.raises(Abandoned):
            forward()
    finally:
        hv.set_yield_point(None)
    assert len(calls) == 6  # stopped at the sixth module, of hundreds
    assert hv.SLOTS._free == free and hv._hook_handle is None
    assert torch.nn.modules.module._global_forward_pre_hooks == {}
    forward()  # with no yield point the work runs through



def test_window_and_elementwise_work_count_too():
    """A network of large stride-1 pools on 1024x1024 (about 1.4 KB of text) once ran 54 s
    of server CPU: pools cost nothing to a budget of MACs alone. Now it is refused in
    milliseconds, and so is a deep stack of activations on a large input."""
    from cnnviz.core.network import network_spec
    from cnnviz.core.network.report import make_network_report
    stage = ";".join(["maxpool:kernel_size=11,stride=1,padding=5"] * 8)
    pools = "|".join(f"s{i}={stage}" for i in range(4)) + "|head=adaptive_avgpool;flatten;linear"
    for measured in (False, True):
        start = time.perf_counter()
        with pytest.raises(budget.BudgetError, match="would take about"):
            make_network_report(network_spec(pools, channels=3, height=1024, width=1024),
                                measured=measured)
        assert time.perf_counter() - start < 0.5
    acts = "|".join(f"s{i}=" + ";".join(["act"] * 16) for i in range(4)) \
        + "|head=adaptive_avgpool;flatten;linear"
    start = time.perf_counter()
    with pytest.raises(budget.BudgetError, match="live limit"):  # its time or its memory
        make_network_report(network_spec(acts, channels=3, height=1024, width=1024,
                                          batch=16), measured=True)
    assert time.perf_counter() - start < 0.5


@pytest.mark.parametrize("layer", [nn.MaxPool2d(3, 1, 1), nn.AvgPool2d(3, 1, 1),
                                   nn.BatchNorm2d(8), nn.GroupNorm(4, 8), nn.ReLU(),
                                   nn.Upsample(scale_factor=2), nn.Conv2d(8, 8, 3, padding=1),
                                   nn.Conv2d(8, 8, 3, padding=1, groups=8)])
def test_the_estimate_grows_with_the_work(layer):
    """Every kind of layer costs time, more for a larger map and more with a backward."""
    small = budget.module_work("x", nn.Sequential(layer), (2, 8, 16, 16))
    large = budget.module_work("x", nn.Sequential(layer), (2, 8, 64, 64))
    both = budget.module_work("x", nn.Sequential(layer), (2, 8, 64, 64),
                              budget.FORWARD_BACKWARD)
    assert 0 < small.seconds() < large.seconds() < both.seconds()


def test_one_structure_walk_serves_every_seed_and_caller():
    """The picker, the report and the field's probe ask for the same stack's walk: it is
    walked once, and what they share equals a fresh walk of the real module."""
    budget._structure_walk.cache_clear()
    spec = StackSpec.create("resnet_basic", depth=3, seed=1)
    first = budget.stack_prediction(spec)[1]
    again = budget.stack_prediction(spec.replace(seed=2), "again", budget.FORWARD_BACKWARD)[1]
    assert again is first
    assert budget._structure_walk.cache_info().misses == 1
    fresh = predict(build(spec.replace(seed=2)), spec.input_shape)
    assert (first.params, first.macs, first.memory, first.output_shape) == \
        (fresh.params, fresh.macs, fresh.memory, fresh.output_shape)
    assert budget._structure_walk.cache_info().maxsize is not None  # bounded

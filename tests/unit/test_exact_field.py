"""The exact receptive field: from the walk's tape, confirmed by torch's input gradients,
with the textbook recurrence kept as its upper bound."""
from __future__ import annotations

import pytest

from cnnviz.core.blocks import REGISTRY
from cnnviz.core.exact_field import measured_field, predicted_field
from cnnviz.core.report import make_report
from cnnviz.core.spec import StackSpec, build
from cnnviz.core.walk import predict


def exact(spec: StackSpec):
    model = build(spec, "cpu")
    field, probe = predicted_field(model, predict(model, spec.input_shape))
    return field, measured_field(model, probe, field)


@pytest.mark.parametrize("levels, largest, smallest, bound", [
    (1, 18, 18, 19), (2, 44, 44, 47), (3, 100, 92, 103)])
def test_a_unets_field_is_smaller_than_the_recurrence(levels, largest, smallest, bound):
    # the 2x2/s2 pool and the 2x2/s2 transposed conv work on aligned grids: the recurrence
    # counts their reach twice; how much an output pixel reads depends on its phase
    spec = StackSpec.create("unet", {"levels": levels}, 1, 64, 64)
    predicted, measured = exact(spec)
    assert predicted == measured
    assert predicted.largest == (largest, largest) and predicted.smallest == (smallest,
                                                                               smallest)
    assert predicted.bound == (bound, bound) and predicted.bound_is_larger


def settings(name: str) -> list[StackSpec]:
    """A block at its defaults and at three other settings."""
    entry, names = REGISTRY[name], {p.name for p in REGISTRY[name].params}
    other = ({"stride": 2} if "stride" in names and entry.param("stride").default == 1
             else {"kernel_size": 5, "padding": 2} if "kernel_size" in names
             and entry.param("kernel_size").default == 3 else {})
    return [StackSpec.create(name, {}, 1), StackSpec.create(name, {}, 2, 24, 24),
            StackSpec.create(name, {}, 1, 40, 48), StackSpec.create(name, other, 2, 32, 32)]


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_the_exact_field_is_what_torch_measures_for_every_block(name):
    for spec in settings(name):
        predicted, measured = exact(spec)
        assert predicted == measured, spec.label()
        if not predicted.is_global:
            assert all(b >= x for b, x in zip(predicted.bound, predicted.largest))


def test_the_report_shows_the_exact_field_and_names_the_bound():
    report = make_report(StackSpec.create("unet", {}, 1, 64, 64))
    assert report.field.text() == report.measured_field.text() == "44×44"
    assert report.checks()["exact receptive field"][2]
    notes = " ".join(report.rf_notes())
    assert "47x47" in notes and "upper bound" in notes and "aligned grids" in notes
    assert "skips" not in notes  # the old, false reason
    assert report.to_json()["receptive_field"]["exact"]["largest"] == [44, 44]


def test_a_border_cut_is_said_as_such():
    # a 9-layer stack of 3x3 convs reads 19x19; an 11x11 input cuts the centre pixel's field
    report = make_report(StackSpec.create("conv_bn_act", {}, 9, 11, 11))
    assert report.field.largest == (19, 19) and report.agrees
    assert any("larger than the 11x11 input" in n for n in report.rf_notes())


def test_the_receptive_field_page_calls_its_box_the_recurrences_bound():
    from cnnviz.topics.features import image_spec
    from cnnviz.topics.receptive_field import rf_theory
    notes = rf_theory(image_spec(StackSpec.create("unet", {}, 1), 64, 64))[2]
    assert any("recurrence's bound, 47 × 47" in n and "exact field is 44 × 44" in n
               for n in notes)
    plain = rf_theory(image_spec(StackSpec.create("resnet_basic", {}, 2), 64, 64))[2]
    assert not any("bound" in n for n in plain)


def test_a_probe_over_the_budget_leaves_the_report_standing():
    # a deep U-Net's field needs a grown input over the live limit: the report is still made,
    # the field is the predicted one and the note says why
    report = make_report(StackSpec.create("unet", {"levels": 3, "out_channels": 64}, 4, 64, 64))
    assert report.field is not None and report.measured_field is None
    assert "exact receptive field" not in report.checks() and report.agrees
    assert any("over the live budget" in n for n in report.rf_notes())

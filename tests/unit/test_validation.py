"""User numbers that once slipped through: NaN and infinities, 'same' with an even kernel."""
from __future__ import annotations

import pytest

from cnnviz.core.blocks import REGISTRY
from cnnviz.core.spec import StackSpec, build
from cnnviz.core.walk import predict

FLOAT_PARAMS = [(block, p.name) for block, entry in REGISTRY.items()
                for p in entry.params if p.type is float]


def test_there_are_float_parameters_to_check():
    assert {"se_ratio", "layer_scale", "compression"} <= {name for _, name in FLOAT_PARAMS}


@pytest.mark.parametrize("block, name", FLOAT_PARAMS)
@pytest.mark.parametrize("raw", ["nan", "inf", "-inf", float("nan"), float("inf")])
def test_non_finite_floats_are_refused_with_the_usual_sentence(block, name, raw):
    with pytest.raises(ValueError, match=rf"^{name} must be a number from .* not "):
        StackSpec.create(block, {name: raw})


@pytest.mark.parametrize("kernel, dilation", [(2, 1), (4, 1), (4, 3), (6, 1)])
def test_same_padding_with_an_odd_span_is_refused(kernel, dilation):
    with pytest.raises(ValueError, match=r"'same' padding .* span \(k-1\)·d = \d+ is odd"):
        StackSpec.create("conv_bn_act", {"kernel_size": kernel, "dilation": dilation,
                                         "padding": "same"})


@pytest.mark.parametrize("kernel, dilation", [(1, 1), (3, 1), (4, 2), (5, 3), (7, 1)])
def test_same_padding_keeps_the_size_whenever_it_is_allowed(kernel, dilation):
    spec = StackSpec.create("conv_bn_act", {"kernel_size": kernel, "dilation": dilation,
                                            "padding": "same"}, height=13, width=10)
    assert predict(build(spec), spec.input_shape).output_shape[2:] == (13, 10)


@pytest.mark.parametrize("digits", ["٣", "３", "৩", "٣٢"])
def test_only_the_digits_0_to_9_are_numbers_everywhere(digits):
    """The network text once accepted '٣' through int() while a lesson's step=١ was
    refused: one rule now, ASCII digits only."""
    from cnnviz.core.network import network_spec
    with pytest.raises(ValueError, match="digits 0-9"):
        StackSpec.create("resnet_basic", depth=digits)
    with pytest.raises(ValueError, match="kernel_size must be"):
        StackSpec.create("resnet_basic", {"kernel_size": digits})
    with pytest.raises(ValueError, match="out_channels must be"):
        network_spec(f"stem=conv:out_channels={digits}|head=adaptive_avgpool;flatten;linear")


def test_a_refused_value_is_echoed_cut_short():
    for raw in ("9" * 5000, "x" * 5000):
        with pytest.raises(ValueError) as e:
            StackSpec.create("resnet_basic", seed=raw)
        assert len(str(e.value)) < 160, str(e.value)
    with pytest.raises(ValueError) as e:
        StackSpec.create("resnet_basic", {"kernel_size": "x" * 5000})
    assert len(str(e.value)) < 160

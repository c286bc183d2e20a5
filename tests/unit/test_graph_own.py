"""cnnviz's own models through the same door: every registry block stack and every network
preset, traced by torch.fx and walked as a graph, gives the container walk's report (so
the graph walk could replace it). Both walks run on the meta device: no weights, no
forward, a few milliseconds a model."""
from __future__ import annotations

import pytest

from cnnviz.core.blocks import REGISTRY
from cnnviz.core.exact_field import predicted_field
from cnnviz.core.graph import trace
from cnnviz.core.network import PRESETS, network_spec
from cnnviz.core.network.spec import build_network
from cnnviz.core.spec import StackSpec, build
from cnnviz.core.walk import predict


def same_report(model, shape, exact: bool = False) -> None:
    before = predict(model, shape)
    graph = trace(model)
    after = predict(graph, shape)
    assert [r.name for r in after.layers if r.op == "no formula"] == []
    for what in ("params", "macs", "output_shape", "memory", "receptive_field", "support"):
        assert getattr(after, what) == getattr(before, what), what
    if exact:
        assert predicted_field(graph, after)[0] == predicted_field(model, before)[0]


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_block_stack_traced_gives_the_same_report(name):
    spec = StackSpec.create(name, {}, 2, 16, 16)
    same_report(build(spec, "meta"), spec.input_shape, exact=name in ("unet", "masked_conv",
                                                                       "upsample_conv"))


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_traced_gives_the_same_report(name):
    spec = network_spec(name, height=64, width=64)
    same_report(build_network(spec, "meta"), spec.input_shape)

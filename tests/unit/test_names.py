"""Layers, blocks, parameters and their values have readable names (cnnviz.core.names and
the registry's labels): what the app shows instead of module paths and raw values."""
from __future__ import annotations

import re

import pytest

from cnnviz.core.blocks import REGISTRY
from cnnviz.core.blocks.registry import INITS, option_label
from cnnviz.core.layers import ACTS, NORMS
from cnnviz.core.names import layer_names, part_words
from cnnviz.core.network.layers import LAYERS
from cnnviz.core.spec import StackSpec, build
from cnnviz.core.walk import predict
from cnnviz.topics.features import FILTER_LABELS, FILTERS

IDENTIFIER = re.compile(r"\b[a-z][a-z0-9]*_[a-z0-9_]+\b|\b\w+(?:\.\w+){2,}\b")


def test_a_stacks_layers_are_named_by_block_kind_and_order():
    spec = StackSpec.create("resnet_basic", {"stride": 2, "in_channels": 8}, depth=2,
                            height=16, width=16)
    layers = predict(build(spec, "meta"), spec.input_shape).layers
    names = layer_names([(x.name, x.kind) for x in layers])
    assert names[:4] == ["block 1 · conv 1", "block 1 · BatchNorm 1", "block 1 · ReLU 1",
                         "block 1 · conv 2"]
    assert "block 1 · shortcut conv" in names and "block 1 · add" in names
    assert names[-1] == "block 2 · ReLU 2"
    assert len(set(names)) == len(names)  # one name a layer


def test_a_networks_layers_name_their_stage():
    names = layer_names([("stem.0.conv", "Conv2d"), ("stem.1", "MaxPool2d"),
                         ("stage1.0.0.body.0.conv", "Conv2d"), ("stage1.0.0.add", "add"),
                         ("head.2", "Linear")])
    assert names == ["stem · block 1 · conv", "stem · block 2 · max pool",
                     "stage 1 · block 1 · conv", "stage 1 · block 1 · add",
                     "head · block 3 · linear"]


@pytest.mark.parametrize("block", sorted(REGISTRY))
def test_every_blocks_layers_have_unique_readable_names(block):
    spec = StackSpec.create(block, None, depth=2, height=16, width=16)
    layers = predict(build(spec, "meta"), spec.input_shape).layers
    names = layer_names([(x.name, x.kind) for x in layers])
    assert len(set(names)) == len(names), names
    assert not [n for n in names if IDENTIFIER.search(n)]


def test_every_block_parameter_and_choice_has_words():
    for entry in REGISTRY.values():
        assert not IDENTIFIER.search(entry.title), entry.name
        for p in entry.params:
            assert not IDENTIFIER.search(p.label), (entry.name, p.name)
            assert not IDENTIFIER.search(p.help), (entry.name, p.name)
            for value in p.choices:
                assert not IDENTIFIER.search(p.option_label(value)), (p.name, value)
        assert not IDENTIFIER.search(entry.summary), entry.name
    assert option_label("kaiming_in") == "Kaiming (fan-in)"
    assert option_label("torch") == "PyTorch default"
    assert option_label("relu6") == "ReLU6" and option_label(3) == "3"
    for value in (*INITS, *ACTS, *NORMS):
        assert option_label(value) != value or value == "none"
    for kind in (*REGISTRY, *LAYERS):
        assert not IDENTIFIER.search(part_words(kind, 2)), kind
    assert set(FILTER_LABELS) == {"random", *FILTERS}
    assert FILTER_LABELS["sobel_x"] == "Sobel x"

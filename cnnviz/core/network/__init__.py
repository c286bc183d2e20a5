"""Whole networks built from the registry's blocks: the spec, the presets, the report."""
from cnnviz.core.network.presets import PRESETS, Preset, network_spec
from cnnviz.core.network.spec import NetworkSpec, Part, Stage, build_network, parse_input

__all__ = ["PRESETS", "NetworkSpec", "Part", "Preset", "Stage", "build_network", "network_spec",
           "parse_input"]

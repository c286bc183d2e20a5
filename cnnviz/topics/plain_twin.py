"""A network and its plain twin: the same stages with every shortcut removed (ResNet-34 and
plain-34, He et al. 2016, §4.1), side by side, and the gradient probe of both.
"""
from __future__ import annotations

import math
from dataclasses import replace

import torch.nn as nn

from cnnviz.core.layers import Residual
from cnnviz.core.network import NetworkSpec
from cnnviz.core.network.presets import PRESETS
from cnnviz.core.network.spec import Part, Stage
from cnnviz.topics.gradflow import StackFlow, fmt
from cnnviz.topics.networks import PROBE_BATCH, PROBE_SIZE

# blocks whose `skip` is a shortcut around the block (a dense block's would be its concat)
SHORTCUT_BLOCKS = frozenset({"residual", "resnet_basic", "se", "resnet_bottleneck", "resnext",
                             "regnet", "preact_basic", "preact_bottleneck",
                             "inverted_residual", "mbconv", "fused_mbconv", "convnext",
                             "convmixer"})


def _plain_part(part: Part) -> Part:
    if part.kind not in SHORTCUT_BLOCKS or part.values.get("skip", True) is False:
        return part
    return replace(part, args=tuple((k, v) for k, v in part.args if k != "skip")
                   + (("skip", False),))


def plain_twin(spec: NetworkSpec) -> NetworkSpec | None:
    """`spec` with every shortcut switched off (named after the preset it equals, as
    plain-34 is ResNet-34's), or None when no part has one to switch off."""
    stages = tuple(Stage(s.name, tuple(_plain_part(p) for p in s.parts)) for s in spec.stages)
    if stages == spec.stages:
        return None
    text = "|".join(s.text() for s in stages)
    name = next((n for n, preset in PRESETS.items() if preset.text == text), "custom")
    return spec.replace(stages=stages, name=name)


def twin_title(spec: NetworkSpec) -> str:
    """A network's name as a learner reads it: its preset's title, or words."""
    preset = PRESETS.get(spec.name)
    return preset.title if preset else "your network"


def shortcut_counts(model: nn.Module, stages: list[str]) -> list[int]:
    """How many shortcuts (additions of a block's input) each stage of a built network has."""
    return [sum(isinstance(m, Residual) for m in getattr(model, name).modules())
            for name in stages]


def probe_pair(spec: NetworkSpec, twin: NetworkSpec) -> tuple[NetworkSpec, NetworkSpec]:
    """The twin and the network at the probe's size (the Networks page's gradient probe)."""
    return tuple(s.replace(height=PROBE_SIZE, width=PROBE_SIZE, batch=PROBE_BATCH)  # type: ignore[return-value]
                 for s in (twin, spec))


def ratio_sentence(plain: StackFlow, residual: StackFlow, plain_name: str, name: str) -> str:
    """One sentence that reads the probe's ratio (StackFlow.first_over_last: the first
    main-path convolution's weight-gradient norm over the last one's) for a student."""
    q_plain, q_res = plain.first_over_last, residual.first_over_last
    if not (math.isfinite(q_plain) and math.isfinite(q_res)):
        return (f"The ratio divides the first convolution's weight-gradient norm by the last "
                f"one's; here it cannot be read ({plain.headline()} and "
                f"{residual.headline()}).")
    return (f"The ratio divides the first convolution's weight-gradient norm by the last "
            f"one's on the main path (the last with a gradient): in {plain_name} the first "
            f"one's is {fmt(q_plain)} times as large as the last one's, in {name} "
            f"{fmt(q_res)} times; the further a ratio is from 1, the "
            f"more the first and the last convolution's gradients differ (the two layers "
            f"differ in size too, and the ratio says nothing of how much gradient the "
            f"network gets in all).")

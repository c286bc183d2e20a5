"""A person's own model on the Networks page: its top-level modules as the page's stages
(for the stage diagram the presets get) and the gradient probe the presets get, run on a
fresh build of the model through the one budget."""
from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn as nn

from cnnviz.core.budget import FORWARD_BACKWARD, check, module_work
from cnnviz.core.errors import ModelError
from cnnviz.core.field import ReceptiveField
from cnnviz.core.graph.report import Inspection
from cnnviz.core.names import kind_words
from cnnviz.core.network.report import StageRow
from cnnviz.topics.gradflow import StackFlow, probe_blocks
from cnnviz.topics.networks import PROBE_BATCH


def stage_rows(report: Inspection) -> list[StageRow]:
    """The model's top-level modules, in the order the forward reaches them, as stages: what
    each is made of (its rows' kinds, counted) and the shape it hands on."""
    groups: dict[str, list] = {}
    for layer in report.predicted.layers:
        groups.setdefault(layer.name.split(".")[0], []).append(layer)
    rows, shape = [], tuple(report.input_shape[1:])
    for name, layers in groups.items():
        counts: dict[str, int] = {}
        for layer in layers:
            words = kind_words(layer.kind)
            counts[words] = counts.get(words, 0) + 1
        parts = ", ".join(k + (f"×{n}" if n > 1 else "") for k, n in counts.items())
        out = tuple(layers[-1].out_shape)
        signals = [x for x in layers if x.signal is not None]
        field = signals[-1].receptive_field if signals else ReceptiveField((1, 1))
        rows.append(StageRow(name, parts, shape, out, sum(x.params for x in layers),
                             sum(x.macs for x in layers), field, tuple(layers)))
        shape = out
    return rows


def probe_shape(report: Inspection) -> tuple[int, int, int, int]:
    """The probe's input: a batch of PROBE_BATCH at the model's own input size (a model
    may need its size: a linear layer after a flatten)."""
    return (PROBE_BATCH, *report.input_shape[1:])


def probe_model(report: Inspection, make: Callable[[], nn.Module], seed: int = 0) -> StackFlow:
    """One forward + backward of a fresh build of the model (`make()`), in training mode,
    after the budget admits it (counted on the traced graph before anything is built):
    every convolution's and linear layer's weight-gradient norm, as the presets' probe."""
    shape = probe_shape(report)
    check(module_work("the gradient probe", report.module, shape, FORWARD_BACKWARD))
    model = make()
    generator = torch.Generator().manual_seed(seed + 1)  # the data; +0 made the weights
    x = torch.randn(shape, generator=generator)
    try:
        return probe_blocks(model, [model], x, "ce", generator)
    except (RuntimeError, TypeError, ValueError, IndexError) as e:  # the model's own code
        raise ModelError(f"{report.name} fails in training mode on a batch of {shape[0]}: "
                         f"{' '.join(str(e).split())[:300]}") from None

"""The Networks page's parts for a person's own model (cnnviz.topics.own_model): its
top-level modules as stages with torch's shapes, and the gradient probe, refused by the
budget before the model is built."""
from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest
import torch
import torch.nn as nn

import cnnviz
from cnnviz.core.errors import BudgetError
from cnnviz.topics.own_model import probe_model, stage_rows

sys.path.insert(0, str(Path(__file__).parent))
from gallery_models import UNet  # noqa: E402


def test_the_stages_are_the_top_level_modules_with_torch_s_shapes():
    model = UNet()
    report = cnnviz.inspect(model, (3, 32, 32), measure=False)
    rows = stage_rows(report)
    assert [r.name for r in rows] == ["inc", "down1", "down2", "up1", "up2", "outc"]
    shapes, x = {}, torch.rand(1, 3, 32, 32)
    x1 = model.inc(x)
    x2 = model.down1(x1)
    x3 = model.down2(x2)
    u1 = model.up1(x3, x2)
    u2 = model.up2(u1, x1)
    for name, y in zip(("inc", "down1", "down2", "up1", "up2", "outc"),
                       (x1, x2, x3, u1, u2, model.outc(u2))):
        shapes[name] = tuple(y.shape[1:])
    assert {r.name: r.output_shape for r in rows} == shapes
    assert sum(r.params for r in rows) == sum(p.numel() for p in model.parameters())
    assert rows[0].input_shape == (3, 32, 32)


def test_the_probe_is_refused_by_the_budget_before_the_model_is_built():
    model = nn.Sequential(nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(),
                          nn.Conv2d(32, 32, 3, padding=1))
    report = cnnviz.inspect(model, (3, 832, 832), measure=False)  # one forward fits
    built = []
    with pytest.raises(BudgetError, match="The gradient probe would hold"):
        probe_model(report, lambda: built.append(1) or model)
    assert not built


def test_the_probe_measures_every_weighted_layer():
    model = UNet()
    flow = probe_model(cnnviz.inspect(model, (3, 16, 16), measure=False), UNet)
    weighted = [n for n, m in model.named_modules()
                if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear))]
    assert flow.layers == weighted
    assert all(math.isfinite(g) and g > 0 for g in flow.grad_norms)

"""The generated PyTorch script runs on its own and prints the Report's shape and params."""
from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from cnnviz.core.blocks import REGISTRY
from cnnviz.core.report import make_report
from cnnviz.core.spec import StackSpec
from cnnviz.render.codegen import expression, script

CASES = [
    ("resnet_basic", {"stride": 2, "out_channels": 32}, 3),
    ("inception", {}, 1),
    ("shufflenet", {"stride": 2, "out_channels": 32}, 2),
    ("convnext", {}, 2),
    ("masked_conv", {"mask_type": "A"}, 2),
    ("invertible_1x1", {}, 2),
    ("dense", {}, 2),
    ("gc", {}, 1),
    ("transposed", {}, 1),
    ("resnext", {"shortcut": "avgpool", "stride": 2}, 1),
    ("upsample_conv", {"mode": "pixel_shuffle", "scale": 3}, 2),
]


@pytest.mark.parametrize("block, params, depth", CASES, ids=[c[0] for c in CASES])
def test_generated_script_prints_the_reports_numbers(tmp_path, block, params, depth):
    spec = StackSpec.create(block, params, depth=depth, height=8, width=8)
    report = make_report(spec, measured=False)
    path = tmp_path / f"{block}.py"
    path.write_text(script(spec, report.model))
    # self-contained: nothing from cnnviz
    assert "cnnviz" not in "".join(
        line for line in path.read_text().splitlines() if line.startswith(("import", "from")))
    done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"output shape: {tuple(report.predicted.output_shape)}",
        f"parameters: {report.predicted.params}"]


def test_every_block_has_a_constructor_for_every_layer():
    """A block the generator cannot write would fail here, without running anything."""
    for block in REGISTRY:
        spec = StackSpec.create(block, depth=2, height=8, width=8)
        model = make_report(spec, measured=False).model
        ast.parse(script(spec, model))


def test_identical_blocks_are_written_once():
    spec = StackSpec.create("resnet_basic", {"stride": 2}, depth=5, height=8, width=8)
    code = script(spec, make_report(spec, measured=False).model)
    assert "def block_1()" in code and "def block_2()" in code and "def block_3()" not in code
    assert "*[block_2() for _ in range(4)]" in code


def test_expression_keeps_non_default_arguments():
    import torch.nn as nn

    text = expression(nn.Conv2d(4, 8, 3, stride=2, padding=2, dilation=2, groups=4, bias=False))
    assert text == "nn.Conv2d(4, 8, 3, stride=2, padding=2, dilation=2, groups=4, bias=False)"
    assert expression(nn.AvgPool2d(2, ceil_mode=True, count_include_pad=False)) == \
        "nn.AvgPool2d(2, ceil_mode=True, count_include_pad=False)"

"""The Explorer's per-layer work: every formula string evaluates to the walk's figure, torch's
per-layer counts equal both, and the CSV export keeps its columns and neutralises formulas.
"""
from __future__ import annotations

import csv
import io

import pytest

from cnnviz.core.blocks import REGISTRY
from cnnviz.core.report import make_report
from cnnviz.core.spec import StackSpec
from cnnviz.core.work import evaluate
from cnnviz.render.explorer_charts import WORK_COLUMNS, work_csv, work_rows

# every block at its defaults, and the settings where a formula has more factors
SETTINGS = [(block, {}, 1) for block in sorted(REGISTRY)] + [
    ("resnet_bottleneck", {"stride": 2}, 2), ("resnext", {"stride": 2}, 1),
    ("dw_separable", {"stride": 2}, 2), ("conv_bn_act", {"norm": "none", "bias": True}, 3),
    ("transposed", {}, 2), ("gc", {}, 2), ("invertible_1x1", {}, 2)]


def report_of(block: str, values: dict, batch: int):
    return make_report(StackSpec.create(block, values, depth=2 if block == "vgg" else 1,
                                        height=16, width=16, batch=batch))


@pytest.mark.parametrize("block, values, batch", SETTINGS)
def test_every_formula_evaluates_to_its_figure_and_torch_agrees(block, values, batch):
    report = report_of(block, values, batch)
    p = report.predicted
    work = report.work()
    weighted = [layer for layer in p.layers if layer.params or layer.macs]
    assert len(work) == len(weighted) > 0
    for w, layer in zip(work, weighted):
        assert (w.params, w.macs) == (layer.params, layer.macs)
        assert (evaluate(w.params_expr) if w.params_expr else 0) == layer.params, w
        assert (evaluate(w.macs_expr) if w.macs_expr else 0) == layer.macs, w
        assert (w.params_measured, w.macs_measured) == (layer.params, layer.macs), w
        assert "." not in w.title and "_" not in w.title  # a readable name, not a path
    assert sum(w.params for w in work) == p.params
    assert sum(w.macs for w in work) == p.macs


@pytest.mark.parametrize("block", sorted(REGISTRY))
def test_the_table_rows_are_the_reports_figures(block):
    report = report_of(block, {}, 1)
    rows = work_rows(report)
    weighted = [layer for layer in report.predicted.layers if layer.params or layer.macs]
    assert len(rows) == len(weighted) + 1  # and the whole stack's totals
    for row, layer in zip(rows, weighted):
        assert row["parameters predicted"] == row["parameters measured"] == f"{layer.params:,}"
        assert row["MACs predicted"] == row["MACs measured"] == f"{layer.macs:,}"
        for column, figure in (("parameters: formula", layer.params),
                               ("MACs: formula", layer.macs)):
            expr, _, shown = row[column].rpartition(" = ")
            assert (evaluate(expr) if expr else int(shown)) == figure == int(
                shown.replace(",", "")), row
        assert row["agree"] == "✅"
    total = rows[-1]
    assert total["parameters predicted"] == f"{report.predicted.params:,}"
    assert total["MACs measured"] == f"{report.predicted.macs:,}" and total["agree"] == "✅"


def test_the_examples_of_the_issue():
    """A 3×3 conv from 64 to 64 channels on 56×56, and its BatchNorm."""
    report = make_report(StackSpec.create("conv_bn_act", {"in_channels": 64,
                                                          "out_channels": 64, "bias": True},
                                          height=56, width=56))
    rows = work_rows(report)
    assert rows[0]["parameters: formula"] == "3·3·64·64 + 64 = 36,928"
    assert rows[0]["MACs: formula"] == "3·3·64·64·56·56 = 115,605,504"
    assert rows[0]["kernel"] == "3×3" and rows[0]["Cin → Cout"] == "64 → 64"
    assert rows[1]["parameters: formula"] == "2·64 = 128"


def test_the_csv_has_the_columns_and_neutralises_formulas():
    rows = work_rows(report_of("resnet_basic", {}, 1))
    text = work_csv(rows + [dict.fromkeys(WORK_COLUMNS, "=HYPERLINK(1)")])
    read = list(csv.DictReader(io.StringIO(text)))
    assert list(read[0]) == list(WORK_COLUMNS)
    assert [r["layer"] for r in read[:-1]] == [r["layer"] for r in rows]
    assert read[0]["parameters: formula"] == rows[0]["parameters: formula"]
    assert set(read[-1].values()) == {"'=HYPERLINK(1)"}


def test_the_bottleneck_strides_on_its_3x3_as_its_description_says():
    assert "stride sits on the 3x3" in REGISTRY["resnet_bottleneck"].summary
    rows = work_rows(make_report(StackSpec.create("resnet_bottleneck", {"stride": 2})))
    body = [r for r in rows if "conv" in r["layer"] and "shortcut" not in r["layer"]]
    assert [(r["kernel"], r["stride"]) for r in body] == [("1×1", "1"), ("3×3", "2"),
                                                          ("1×1", "1")]


def test_the_counting_notes_read_the_module():
    bottleneck = report_of("resnet_bottleneck", {}, 1).counting_notes()
    assert bottleneck[0].startswith("All 3 convolutions have no bias.")
    assert any("running mean and variance are not parameters" in n for n in bottleneck)
    plain = report_of("conv_bn_act", {"norm": "none", "bias": True}, 1).counting_notes()
    assert plain == ["The convolution keeps a bias: one more parameter per output channel."]
    bare = report_of("conv_bn_act", {"norm": "none"}, 1).counting_notes()
    assert bare == ["The convolution has no bias."]  # no norm: no reason to give


@pytest.mark.parametrize("bad", ["1+", "2**3", "a·2", "3/2", "__import__('os')"])
def test_evaluate_takes_only_whole_products_and_sums(bad):
    with pytest.raises((ValueError, SyntaxError)):
        evaluate(bad)

"""The Explorer's report is shared by every seed of one architecture (cnnviz.ui.frame.cache):
these tests hold the reason true, that no figure of a report depends on the seed."""
from __future__ import annotations

from dataclasses import replace

import pytest

from cnnviz.core.blocks import REGISTRY
from cnnviz.core.report import make_report
from cnnviz.core.spec import StackSpec
from cnnviz.ui.frame import cache


def _figures(report):
    return (report.predicted, report.measured, report.field, report.measured_field,
            report.checks(), str(report.model))


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_no_figure_of_a_report_depends_on_the_seed(name):
    spec = StackSpec.create(name, depth=2)
    assert _figures(make_report(spec)) == _figures(make_report(replace(spec, seed=12345)))


def test_every_seed_of_an_architecture_shares_one_cached_report():
    spec = StackSpec.create("resnet_basic", depth=2, seed=7)
    first = cache.cached_report(spec)
    other = cache.cached_report(replace(spec, seed=99))
    assert first.spec.seed == 7 and other.spec.seed == 99  # each session sees its own seed
    assert first.predicted is other.predicted and first.measured is other.measured
    assert cache.cached_report(replace(spec, depth=3)).predicted is not first.predicted

"""The sidebar picker draws the stack's fields from cnnviz.core.fields: each widget's label,
limits and help are the field's, and a link at a field's limit is taken while one past it
is replaced by the default with a warning (the CLI and StackSpec: tests/unit/test_fields.py).
"""
from __future__ import annotations

import pytest
from conftest import app_test

from cnnviz.core.fields import CHANNELS, STACK_FIELDS

TIMEOUT = 90
BLOCK = "conv_bn_act"

pytestmark = pytest.mark.usefixtures("fresh_caches")


def test_every_field_widget_has_the_fields_label_limits_and_help():
    at = app_test(TIMEOUT, block=BLOCK).run()
    assert not at.exception
    for field, key in [*((f, f"pick_{f.name}") for f in STACK_FIELDS),
                       (CHANNELS, f"pick_p_{CHANNELS.name}")]:
        proto = at.number_input(key=key).proto
        assert proto.has_min and proto.has_max, key
        assert (proto.min, proto.max) == (field.low, field.high), key
        assert (proto.label, proto.help) == (field.label, field.help), key
    assert at.number_input(key="pick_depth").value == STACK_FIELDS[0].default


@pytest.mark.parametrize("field", STACK_FIELDS, ids=lambda f: f.name)
def test_a_link_at_a_limit_is_taken_and_one_past_it_warns(field):
    # the largest input is refused by the budget, not by the field: keep the rest small
    small = {"depth": "1", "height": "8", "width": "8", "batch": "1"}
    at = app_test(TIMEOUT, block=BLOCK, **{**small, field.name: str(field.high)}).run()
    assert not at.exception and not at.warning
    assert at.number_input(key=f"pick_{field.name}").value == field.high
    at = app_test(TIMEOUT, block=BLOCK, **{**small, field.name: str(field.high + 1)}).run()
    assert at.number_input(key=f"pick_{field.name}").value == field.default
    said = [w.value.replace("\\", "") for w in at.warning]  # Markdown's escapes dropped
    assert any(f"{field.name} = {field.high + 1} is out of range: use {field.low} to "
               f"{field.high}" in w for w in said), said

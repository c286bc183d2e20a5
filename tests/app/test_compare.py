"""A vs B on the Explorer and the Networks page: pinned in the URL, bad values refused."""
from __future__ import annotations

from urllib.parse import urlencode

import pytest
from conftest import app_test, page_file, shown
from streamlit.testing.v1 import AppTest

from cnnviz.pages import EXPLORER


def rows(at: AppTest) -> list[dict]:
    """The A-vs-B headline table's rows."""
    for df in at.table:
        frame = df.value
        if list(frame.columns)[:3] == ["", "A", "B"]:
            return frame.to_dict("records")
    return []


def test_pin_a_then_change_the_picker_to_compare():
    at = app_test().run()
    at.switch_page(page_file(EXPLORER.file)).run()  # / alone is Start here
    assert not rows(at)
    at.button(key="explorer_pin").click().run()
    assert "a" in at.query_params  # the defaults: an empty query
    at.number_input(key="pick_depth").set_value(3).run()
    table = {r[""]: r for r in rows(at)}
    assert table["parameters"]["B / A"] == "×3"  # three blocks for one
    assert table["parameters"]["B − A"].startswith("+")
    assert table["output C × H × W"]["A"] == table["output C × H × W"]["B"] == "16 × 32 × 32"
    at.button(key="explorer_unpin").click().run()
    assert not rows(at) and "a" not in at.query_params


def test_a_shared_link_opens_the_comparison():
    at = app_test(block="vgg", depth="2", a=urlencode({"block": "resnet_basic",
                                                       "depth": "2"})).run()
    assert not at.exception
    table = {r[""]: r for r in rows(at)}
    assert table["MACs"]["B / A"].startswith("×0.6")  # VGG's pooled maps are a quarter
    assert any(e.label == "Layer by layer, A and B" for e in at.expander)


@pytest.mark.parametrize("bad", ["junk", "block=nope", "depth=99999", "p_kernel_size=٣",
                                 "block=vgg&evil=1", "[x](http://e.vil)", "a" * 5000])
def test_bad_a_values_warn_and_compare_nothing(bad):
    at = app_test(a=bad).run()
    assert not at.exception
    warned = [shown(w.value) for w in at.warning]
    assert any("names no design to compare" in w for w in warned), warned
    assert all(len(w) < 500 for w in warned)
    assert not rows(at) and not any("e.vil" in m.value for m in at.markdown)


def test_two_networks_side_by_side():
    at = app_test(net="resnet50", a="net=resnet18").run()
    at.switch_page(page_file("pages/network.py")).run()
    assert not at.exception
    table = {r[""]: r for r in rows(at)}
    assert table["parameters"]["A"] == "11.7 M" and table["parameters"]["B"] == "25.6 M"
    bad = app_test(net="resnet50", a="net=nope").run()
    bad.switch_page(page_file("pages/network.py")).run()
    assert any("names no design to compare" in shown(w.value) for w in bad.warning)

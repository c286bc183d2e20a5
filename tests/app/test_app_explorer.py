"""The app shell, the shared picker and the Block Explorer, through streamlit's AppTest."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import app_test, page_file, shown
from streamlit.testing.v1 import AppTest

from cnnviz.core.blocks import REGISTRY
from cnnviz.core.report import make_report
from cnnviz.core.spec import StackSpec, build
from cnnviz.core.walk import predict
from cnnviz.pages import EXPLORER
from cnnviz.render.diagram import to_dot
from cnnviz.render.explorer_charts import WORK_COLUMNS, work_csv, work_rows
from cnnviz.ui.frame.widgets import table_cells

TIMEOUT = 90

pytestmark = pytest.mark.usefixtures("fresh_caches")


def app(**query: str) -> AppTest:
    """The Explorer: a link to / with the Explorer's query opens it; / alone is Start here,
    so the test then opens the Explorer as its navigation link does."""
    at = app_test(TIMEOUT, **query).run()
    if not (at.title and at.title[0].value.endswith("Block Explorer")):
        at.switch_page(page_file(EXPLORER.file)).run()
    return at


def latex(at: AppTest) -> str:
    return "\n".join(x.value for x in at.latex)


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


# --- the default page ----------------------------------------------------------

def test_default_configuration_renders_everything():
    at = app()
    assert_clean(at)
    assert at.title[0].value.endswith("Block Explorer")
    spec = StackSpec.create("resnet_basic")
    p = predict(build(spec), spec.input_shape)
    shown = metrics(at)
    assert shown["Output C × H × W"] == "16 × 32 × 32"
    assert shown["Parameters"] == "4.67 k" and p.params == 4672
    assert shown["Receptive field (H × W)"] == "5 × 5"
    assert r"(1, 16, 32, 32) \to (1, 16, 32, 32)" in latex(at)
    assert any("torch confirms every predicted number" in s.value for s in at.success)
    assert [t.label for t in at.tabs][:2] == ["Shape and receptive field", "Cost and memory"]
    # only the open tab runs: the receptive-field chart, none of the other tabs' content
    charts = [json.loads(c.proto.spec) for c in at.get("echarts_chart")]
    assert len(charts) == 1
    assert charts[0]["title"]["text"].endswith(": 5 × 5 at the output")
    points = charts[0]["series"][0]["data"]  # one point per layer the walk visits
    assert len(points) == len(p.layers) and points[-1][1:3] == [5, 5]
    assert [x[4] for x in points] == [lr.receptive_field.text(" × ") for lr in p.layers]
    assert not at.get("graphviz_chart") and not at.table
    assert dict(at.query_params) == {}  # defaults stay out of the URL


def open_view(at: AppTest, view: str) -> AppTest:
    """Open one of the Explorer's tabs, as a click on it does."""
    at.session_state["view"] = view
    return at.run()


def check_view(at: AppTest, view: str) -> None:
    """The content a tab shows when it is open (and only then)."""
    assert_clean(at)
    charts = at.get("echarts_chart")
    if view == "Shape and receptive field":
        assert len(charts) == 1 and at.latex
        assert len(at.metric) == 8  # six above the tabs, jump and centre support here
    elif view == "Cost and memory":
        costs = json.loads(charts[0].proto.spec)
        assert len(charts) == 1 and costs["title"][0]["text"] == "Parameters"
        assert len(at.table) == 1 and "Measured (torch storages)" in metrics(at)
    elif view == "Predicted vs measured":
        table, work = at.table[0].value, at.table[1].value
        assert not charts and len(at.table) == 2 and len(table) >= 5
        assert (table.iloc[:, -1].astype(str).str.contains("✅")).all(), table
        assert list(work.columns) == list(WORK_COLUMNS) and set(work["agree"]) == {"✅"}
        assert at.get("download_button")  # the layer table as CSV
    elif view == "Diagram":
        assert not charts and "digraph" in at.get("graphviz_chart")[0].proto.spec
    elif view == "torchinfo":
        assert not charts and "Total params" in at.code[0].value
    elif view == "Code":
        assert not charts and "def build()" in at.code[0].value
        assert at.get("download_button")
    else:
        raise AssertionError(f"no check for the view {view!r}")
    assert not at.warning


VIEWS = ["Shape and receptive field", "Cost and memory", "Predicted vs measured", "Diagram",
         "torchinfo", "Code"]


@pytest.mark.parametrize("view", VIEWS)
def test_each_view_from_the_url(view):
    at = app(view=view)
    assert [t.label for t in at.tabs] == VIEWS
    check_view(at, view)
    code = [c.value for c in at.code if "def build()" in c.value]
    assert bool(code) == (view == "Code")
    if code:
        assert "class Residual" in code[0]


def test_rf_chart_marks_where_the_field_becomes_global():
    at = app(block="se", height="8", width="8")
    chart = json.loads(at.get("echarts_chart")[0].proto.spec)
    assert chart["title"]["text"].endswith(": global at the output")
    marked = chart["series"][0]["markLine"]["data"][0]["xAxis"]
    first_global = next(x for x in chart["series"][0]["data"] if x[4] == "global")
    assert marked == first_global[0] and first_global[1] is None  # a gap in the line


def test_unknown_view_in_the_url_warns_and_opens_the_first_tab():
    at = app(view="Everything")
    assert not at.exception and not at.error
    assert any("view='Everything'" in shown(w.value) for w in at.warning)
    check_view(at.run(), "Shape and receptive field")  # the warning goes with the bad value


def test_changing_widgets_updates_formula_metrics_and_url():
    at = app()
    at.number_input(key="pick_p_stride").set_value(2).run()
    assert_clean(at)
    text = latex(at)
    assert r"\frac{32 + 2\cdot1 - (3-1) - 1}{2} \right\rfloor + 1 = 16" in text
    assert r"\to (1, 16, 16, 16)" in text
    assert metrics(at)["Output C × H × W"] == "16 × 16 × 16"
    assert at.query_params["p_stride"] == "2"
    at.number_input(key="pick_p_out_channels").set_value(32).run()
    assert metrics(at)["Output C × H × W"] == "32 × 16 × 16"
    # the per-layer chart follows: the projection shortcut's 1x1 conv appears
    costs = json.loads(open_view(at, "Cost and memory").get("echarts_chart")[0].proto.spec)
    assert any("shortcut" in name for name in costs["xAxis"][1]["data"])
    at.selectbox(key="pick_block").set_value("inception").run()
    assert_clean(at)  # a new block starts from its own defaults
    assert at.number_input(key="pick_p_in_channels").value == 192
    assert at.session_state["view"] == "Cost and memory"  # the open tab stays open
    assert {k: v for k, v in at.query_params.items() if k != "view"} == {"block": "inception"}


# --- every block and the edge configurations ------------------------------------------

@pytest.mark.parametrize("block", sorted(REGISTRY))
def test_every_block_renders_every_view(block):
    at = app(block=block, height="8", width="8")
    assert at.selectbox(key="pick_block").value == block
    for view in VIEWS:
        check_view(open_view(at, view), view)
        if view == "Predicted vs measured":  # the layer table is the report's, row by row
            rows = work_rows(make_report(StackSpec.create(block, height=8, width=8)))
            assert at.table[1].value.to_dict("records") == table_cells(rows)
            button = at.get("download_button")[0].proto
            assert button.label.endswith("(CSV)") and work_csv(rows).startswith("layer,")


@pytest.mark.parametrize("query, expect", [
    ({"p_stride": "2"}, r"\to (1, 16, 16, 16)"),
    ({"p_dilation": "2", "p_padding": "0", "p_skip": "false"}, r"\to (1, 16, 24, 24)"),
    ({"block": "conv_bn_act", "p_groups": "16"}, r"\to (1, 16, 32, 32)"),
])
def test_edge_configurations(query, expect):
    at = app(**query)
    assert_clean(at)
    assert expect in latex(at)
    assert not at.warning


def test_depth_50_is_drawn_and_summarised_compactly():
    at = app(depth="50", height="8", width="8", p_in_channels="8", p_out_channels="8",
             p_stride="2")
    assert_clean(at)
    # the 3x3 and the 1x1 shortcut halve H and W once; 49 blocks after them keep it
    assert latex(at).count(r"\right\rfloor + 1 = 4") == 4
    assert len(at.latex) == 4 and r"\to (1, 8, 4, 4)" in latex(at)
    dot = open_view(at, "Diagram").get("graphviz_chart")[0].proto.spec
    assert "48 more identical blocks" in dot


# --- invalid configurations: an error, a usable picker, no traceback -----------------

@pytest.mark.parametrize("query, message", [
    ({"block": "conv_bn_act", "p_groups": "5"}, "groups = 5 does not divide"),
    ({"block": "conv_bn_act", "p_kernel_size": "11", "p_padding": "0", "height": "4",
      "width": "4"}, "spans 11 pixels"),
    ({"height": "1024", "width": "1024", "batch": "256"}, "live limit"),
])
def test_invalid_configuration_shows_error_and_keeps_picker(query, message):
    at = app(**query)
    assert not at.exception
    assert any(message in shown(e.value) for e in at.error), [e.value for e in at.error]
    assert any("Fix the picker" in i.value for i in at.info)
    assert not at.metric  # the page stopped before its numbers
    at.button(key="pick_reset").click().run()  # the picker still works
    assert not at.exception
    if "p_groups" in query or "p_kernel_size" in query:
        assert not at.error and at.metric


# --- the URL ---------------------------------------------------------------------------

def test_tampered_url_warns_and_falls_back_to_defaults():
    at = app(block="nope", depth="abc", p_kernel_size="999", p_bogus="1", device="tpu")
    assert not at.exception and not at.error
    warnings = " ".join(shown(w.value) for w in at.warning)
    for bad in ("'nope'", "'abc'", "999", "bogus", "'tpu'"):
        assert bad in warnings, warnings
    assert at.selectbox(key="pick_block").value == "resnet_basic"
    assert at.number_input(key="pick_depth").value == 1
    assert at.number_input(key="pick_p_kernel_size").value == 3
    assert metrics(at)["Output C × H × W"] == "16 × 32 × 32"
    assert "block" not in at.query_params and "depth" not in at.query_params


def test_url_reproduces_a_configuration():
    query = {"block": "se", "depth": "2", "p_reduction": "4", "p_skip": "false",
             "height": "16", "width": "12"}
    at = app(**query)
    assert_clean(at)
    assert not at.warning
    assert at.selectbox(key="pick_block").value == "se"
    assert at.toggle(key="pick_p_skip").value is False
    assert at.number_input(key="pick_p_reduction").value == 4
    assert dict(at.query_params) == query
    assert metrics(at)["Output C × H × W"] == "16 × 16 × 12"


def test_picker_state_survives_a_page_switch():
    at = app(block="vgg")
    for page in ("pages/receptive_field.py", "pages/feature_maps.py"):
        at.switch_page(page_file(page)).run()
        assert at.selectbox(key="pick_block").value == "vgg"
        assert at.query_params["block"] == "vgg"


def test_picker_state_survives_a_page_without_the_picker():
    """Streamlit forgets a widget's value when a run does not draw it: the Networks page
    (its own sidebar) once sent a student back to the default block."""
    at = app(block="vgg", depth="3")
    at.switch_page(page_file("pages/network.py")).run()
    assert not [w for w in at.selectbox if w.key == "pick_block"]
    at.switch_page(page_file("pages/explorer.py")).run()
    assert at.selectbox(key="pick_block").value == "vgg"
    assert at.number_input(key="pick_depth").value == 3


# --- the server ---------------------------------------------------------------------------

WARM_START = """
import asyncio, importlib, sys, threading
import streamlit as st
server = importlib.import_module("app")  # as uvicorn imports it for `streamlit run app.py`
assert "torch" not in sys.modules, "importing app.py must not wait for torch"
assert isinstance(server.app, st.App) and server.app._user_lifespan is server.lifespan

async def serve():
    async with server.lifespan(server.app):
        worker = next(t for t in threading.enumerate() if t.name == "cnnviz-warm-start")
    worker.join(120)

asyncio.run(serve())
from cnnviz.ui.frame import startup
print(len(startup.every_module()) > 100 and "cnnviz.render.trained_charts" in startup.every_module()
      and all(name in sys.modules for name in startup.every_module() + ("torch",)))
"""


def test_app_py_is_a_server_that_imports_torch_in_the_background():
    from conftest import ROOT
    from streamlit.web.server.app_discovery import discover_asgi_app
    found = discover_asgi_app(ROOT / "app.py")  # how `streamlit run` decides to serve `app`
    assert found.is_asgi_app and found.import_string == "app:app"
    done = subprocess.run([sys.executable, "-c", WARM_START], cwd=ROOT, capture_output=True,
                          text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("True"), done.stdout


# --- the block diagram -----------------------------------------------------------------

def test_diagram_has_shapes_on_edges_and_an_add_node():
    spec = StackSpec.create("resnet_basic", {"stride": 2, "out_channels": 32})
    model = build(spec)
    dot = to_dot(model, predict(model, spec.input_shape))
    assert 'label="+", shape=circle' in dot  # the residual add
    assert '-> n2 [label="16×32×32"]' in dot  # input into the first conv
    assert dot.count('[label="32×16×16"') >= 4  # after the stride-2 conv, both branches
    assert "Conv2d 1×1\\n16→32, s2" in dot  # the projection shortcut


def test_diagram_marks_concat_and_gate():
    for block, node in (("inception", 'label="concat"'), ("se", 'label="×"')):
        spec = StackSpec.create(block, height=8, width=8)
        model = build(spec)
        assert node in to_dot(model, predict(model, spec.input_shape))

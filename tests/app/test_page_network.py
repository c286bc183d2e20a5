"""The Network page through streamlit's AppTest: every preset, a custom network from a URL,
the stage builder, the tabs, and tampered URLs.

Expected numbers come from the library (cnnviz.core.network), never from a literal.
"""
from __future__ import annotations

import json
import zlib

import pytest
from conftest import app_test, page_file, shown
from streamlit.testing.v1 import AppTest
from test_app_explorer import assert_clean

from cnnviz.core.network import PRESETS, NetworkSpec
from cnnviz.core.network.report import make_network_report
from cnnviz.render.explorer_charts import number
from cnnviz.render.network_charts import shape_text
from cnnviz.topics.networks import compare_networks
from cnnviz.topics.plain_twin import plain_twin, probe_pair, ratio_sentence
from cnnviz.ui.network import builder as nb

pytestmark = pytest.mark.usefixtures("fresh_caches")

PAGE = "pages/network.py"
TIMEOUT = 120
CUSTOM = ("stem=conv_bn_act:out_channels=16,kernel_size=3,stride=2,padding=1"
          "|body=resnet_basic*2:out_channels=32,stride=2|head=adaptive_avgpool;flatten;linear")


def page(**query: str) -> AppTest:
    at = app_test(TIMEOUT, **query)
    return at.switch_page(page_file(PAGE)).run()


def with_builder(**query: str) -> AppTest:
    """The page with the builder's expander opened, as a click on it does."""
    at = page(**query)
    assert not at.get("form")  # a preset's builder is drawn only once opened
    at.session_state[nb.BUILDER] = True
    return at.run()


def predicted(spec: NetworkSpec):
    return make_network_report(spec, measured=False)


def assert_shows(at: AppTest, spec: NetworkSpec) -> None:
    """The headline metrics and the stage table equal the library's predicted report."""
    report = predicted(spec)
    p = report.predicted
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Parameters"] == number(p.params)
    assert metrics["MACs"] == number(p.macs)
    assert metrics["Output"] == shape_text(p.output_shape[1:])
    table = at.table[0].value
    assert list(table["stage"]) == [s.name for s in report.stages]
    assert list(table["output (C × H × W)"]) == [shape_text(s.output_shape)
                                                   for s in report.stages]
    assert list(table["params"]) == [number(s.params) for s in report.stages]
    assert list(table["MACs"]) == [number(s.macs) for s in report.stages]
    assert list(table["receptive field"]) == [s.receptive_field.text(" × ")
                                              for s in report.stages]
    assert abs(table["% params"].astype(float).sum() - 100) < 1
    assert abs(table["% MACs"].astype(float).sum() - 100) < 1


def facts_of(spec: NetworkSpec) -> list[str]:
    from cnnviz.topics.networks import facts
    return facts(predicted(spec))


def url_spec(at: AppTest) -> NetworkSpec:
    """The network the page's URL names now."""
    q = at.query_params
    text = q["arch"] if "arch" in q else PRESETS[q["net"]].text
    c, h, w = q.get("input", "3,224,224").split(",")
    return NetworkSpec.create(text, channels=c, height=h, width=w,
                              classes=q.get("classes", 1000))


# --- every preset -------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_shows_the_library_numbers(name):
    at = page(net=name)
    assert_clean(at)
    spec = NetworkSpec.create(PRESETS[name].text, name)
    assert_shows(at, spec)
    assert any(PRESETS[name].title in m.value for m in at.markdown)
    assert at.sidebar.selectbox(key="net_preset").value == name
    assert dict(at.query_params) == {"net": name}
    facts = [shown(m.value)[2:] for m in at.markdown if m.value.startswith("- ")]
    assert facts == facts_of(spec)


def test_the_page_has_no_block_picker_and_computes_only_the_open_tab():
    at = page()
    assert_clean(at)
    assert "Block" not in [s.label for s in at.sidebar.selectbox]  # its own controls only
    assert [n.label for n in at.sidebar.number_input] == ["C", "H", "W", "Classes"]
    assert dict(at.query_params) == {"net": "resnet18"}
    # the open tab: a second table, params and MACs by kind of layer; no chart is drawn
    assert not at.get("plotly_chart") and not at.get("graphviz_chart") and not at.code
    stages, kinds = (t.value for t in at.table)
    assert list(kinds["kind of layer"]) == ["full k×k conv", "pointwise 1×1 conv",
                                          "fully connected", "norm and scale"]
    assert kinds["% params"].astype(float).sum() == pytest.approx(100, abs=0.2)
    assert kinds["% MACs"].astype(float).sum() == pytest.approx(100, abs=0.2)


# --- a custom network from the URL, and the sidebar ----------------------------------------

def test_custom_network_from_the_url():
    at = page(arch=CUSTOM, input="3,64,64", classes="10")
    assert_clean(at)
    spec = NetworkSpec.create(CUSTOM, height=64, width=64, classes=10)
    assert_shows(at, spec)
    assert {m.label: m.value for m in at.metric}["Output"] == "10"
    assert any(m.value == "### Your own network" for m in at.markdown)
    assert at.sidebar.selectbox(key="net_preset").value == "custom"
    assert dict(at.query_params) == {"arch": spec.text(), "input": "3,64,64", "classes": "10"}


def test_a_presets_text_in_the_url_is_that_preset():
    at = page(arch=PRESETS["resnet34"].text)
    assert_clean(at)
    assert dict(at.query_params) == {"net": "resnet34"}


def test_sidebar_changes_the_preset_the_input_and_the_classes():
    at = page()
    at.sidebar.selectbox(key="net_preset").set_value("mobilenet_v2").run()
    assert_clean(at)
    assert dict(at.query_params) == {"net": "mobilenet_v2"}
    at.sidebar.number_input(key="net_height").set_value(160).run()
    at.sidebar.number_input(key="net_width").set_value(128).run()
    at.sidebar.number_input(key="net_classes").set_value(10).run()
    assert_clean(at)
    assert dict(at.query_params) == {"net": "mobilenet_v2", "input": "3,160,128",
                                     "classes": "10"}
    assert_shows(at, NetworkSpec.create(PRESETS["mobilenet_v2"].text, "mobilenet_v2",
                                        height=160, width=128, classes=10))


def test_your_own_network_opens_the_builder_on_the_current_one():
    at = page(net="vgg11")
    assert not at.get("form") and not at.text_area  # a preset's builder waits to be opened
    at.sidebar.selectbox(key="net_preset").set_value(nb.CUSTOM).run()
    assert_clean(at)
    assert dict(at.query_params) == {"net": "vgg11"}  # unchanged until a stage is
    assert at.get("form") and at.selectbox(key="net_stage").value == stage_names(at)[0]
    assert at.sidebar.selectbox(key="net_preset").value == "vgg11"
    assert "builder below" in at.toast[0].value


# --- the builder --------------------------------------------------------------------------

def stage_names(at: AppTest) -> list[str]:
    return list(at.table[0].value["stage"])


def edit_key(at: AppTest) -> str:
    """The widget-key prefix of the selected stage's edit form."""
    spec, name = url_spec(at), at.selectbox(key="net_stage").value
    i = [s.name for s in spec.stages].index(name)
    return f"net_e{zlib.crc32(f'{i}:{spec.stages[i].text()}'.encode())}"


def test_move_remove_and_add_stages():
    at = with_builder()
    at.selectbox(key="net_stage").set_value("stage2").run()
    at.button(key="net_up").click().run()
    assert_clean(at)
    assert stage_names(at) == ["stem", "stage2", "stage1", "stage3", "stage4", "head"]
    assert "arch" in at.query_params and "net" not in at.query_params
    assert_shows(at, url_spec(at))
    at.button(key="net_down").click().run()  # stage2 is still selected: back where it was
    assert dict(at.query_params) == {"net": "resnet18"}
    at.selectbox(key="net_stage").set_value("stage1").run()
    at.button(key="net_remove").click().run()
    assert_clean(at)
    assert stage_names(at) == ["stem", "stage2", "stage3", "stage4", "head"]
    assert_shows(at, url_spec(at))
    at.selectbox(key="net_stage").set_value("stage4").run()
    at.button(key="net_add").click().run()
    assert_clean(at)
    assert stage_names(at) == ["stem", "stage2", "stage3", "stage4", "new1", "head"]
    assert at.selectbox(key="net_stage").value == "new1"
    assert url_spec(at).stages[4].text() == "new1=resnet_basic:out_channels=512"
    assert_shows(at, url_spec(at))


def test_edit_a_stage_in_its_form():
    at = with_builder()
    at.selectbox(key="net_stage").set_value("stage3").run()
    key = edit_key(at)
    at.number_input(key=f"{key}_0_depth").set_value(4)
    at.number_input(key=f"{key}_0_width").set_value(320)
    at.text_input(key=f"{key}_name").set_value("wide3")
    at.button(key=f"FormSubmitter:{key}_form-Apply to the stage").click().run()
    assert_clean(at)
    spec = url_spec(at)
    assert spec.stages[3].text() == "wide3=resnet_basic*4:out_channels=320,stride=2"
    assert at.selectbox(key="net_stage").value == "wide3"
    assert_shows(at, spec)
    # a wrong value is refused with the library's sentence; the network stays as it was
    key = edit_key(at)
    at.text_input(key=f"{key}_0_other").set_value("kernel_size=banana")
    at.button(key=f"FormSubmitter:{key}_form-Apply to the stage").click().run()
    assert not at.exception
    assert any("That change was not made" in e.value and "kernel" in e.value for e in at.error)
    assert url_spec(at) == spec


def test_the_whole_text_can_be_edited_and_a_refused_change_keeps_the_network():
    at = with_builder()
    key = next(t.key for t in at.text_area if t.key.startswith("net_text"))
    at.text_area(key=key).set_value(CUSTOM)
    at.button(key="net_apply_text").click().run()
    assert_clean(at)
    assert at.query_params["arch"] == NetworkSpec.create(CUSTOM).text()
    key = next(t.key for t in at.text_area if t.key.startswith("net_text"))
    at.text_area(key=key).set_value("a=flatten|b=conv:out_channels=8")  # cannot be built
    at.button(key="net_apply_text").click().run()
    assert not at.exception
    assert any("conv needs a C x H x W map" in shown(e.value) for e in at.error)
    assert at.query_params["arch"] == NetworkSpec.create(CUSTOM).text()


# --- the tabs -----------------------------------------------------------------------------

def open_tab(at: AppTest, label: str) -> AppTest:
    at.session_state["net_view"] = label
    return at.run()


def test_across_networks_highlights_the_current_preset():
    at = open_tab(page(net="vgg16"), "Across networks")
    assert_clean(at)
    fig = json.loads(at.get("plotly_chart")[0].proto.spec)
    presets, mine = fig["data"]
    assert mine["text"] == ["VGG-16"] and len(presets["text"]) == len(PRESETS) - 1
    assert fig["layout"]["xaxis"]["type"] == "log" and fig["layout"]["yaxis"]["type"] == "log"
    assert "71.6% (torchvision" in mine["customdata"][0]


def test_scaling_tab_shows_each_way_of_scaling_and_the_rule():
    at = open_tab(page(net="efficientnet_b0"), "Scaling")
    assert not at.exception and not at.warning
    rows = at.table[-1].value
    assert list(rows["scaling"]) == ["as it is", "depth only", "width only",
                                     "resolution only", "compound"]
    assert list(rows["input"])[3] == "258 × 258" and list(rows["params ×"])[3] == "1.00"
    fig = json.loads(at.get("plotly_chart")[-1].proto.spec)
    assert [t["name"] for t in fig["data"]] == ["MACs ×", "parameters ×"]
    at.slider(key="net_phi").set_value(2).run()
    assert list(at.table[-1].value["input"])[4] == "296 × 296"  # round(224 * 1.15²)


def test_diagram_code_and_checks_tabs():
    at = open_tab(page(net="resnet18"), "Diagram")
    assert_clean(at)
    chain, stage = (g.proto.spec for g in at.get("graphviz_chart"))
    assert chain.count("rounded,filled") == 6 and '"256×14×14"' in chain
    assert at.selectbox(key="net_diagram").value == "stage1" and "cluster_1" in stage
    at.selectbox(key="net_diagram").set_value("stage3").run()
    assert "128×28×28" in at.get("graphviz_chart")[1].proto.spec  # stage3's input
    at = open_tab(at, "Code")
    assert_clean(at)
    assert "def build() -> nn.Sequential:" in at.code[0].value
    assert "('stage4', nn.Sequential(" in at.code[0].value
    at = open_tab(at, "Predicted vs measured")
    assert_clean(at)
    rows = at.table[1].value
    assert set(rows["agree"]) == {"✅"} and "per-stage shapes" in set(rows["number"])
    assert any("torch confirms" in s.value for s in at.success)


def test_plain_vs_residual_probe():
    at = open_tab(page(), "Plain vs residual")
    assert not at.get("plotly_chart")  # only on demand
    at.toggle(key="net_probe").set_value(True).run()
    assert_clean(at)
    fig = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert [t["name"] for t in fig["data"][:2]] == ["plain", "residual"]
    assert fig["layout"]["yaxis"]["type"] == "log"
    assert any("plain-34" in m.value for m in at.markdown)


def test_the_plain_twin_in_one_step():
    at = page(net="resnet34")
    assert not at.get("graphviz_chart")  # the twin's diagrams only once asked for
    at.toggle(key="net_twin").set_value(True).run()
    assert_clean(at)
    spec = nb.network_from_query({"net": "resnet34"})
    twin = plain_twin(spec)
    assert twin is not None and twin.name == "plain34"  # the preset plain-34 itself
    dots = [c.proto.spec for c in at.get("graphviz_chart")][:2]
    assert "3 shortcuts" in dots[0] and "style=dashed" in dots[0]
    assert "no shortcuts" in dots[1] and "style=dashed" not in dots[1]
    flows = compare_networks(*probe_pair(spec, twin))
    sentence = ratio_sentence(*flows, "Plain-34", "ResNet-34")
    assert "divides the first convolution's weight-gradient norm by the last" in sentence
    assert any(shown(m.value) == sentence for m in at.markdown), sentence
    fig = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert [t["name"] for t in fig["data"][:2]] == ["plain", "residual"]


def test_no_twin_for_a_network_without_shortcuts():
    for name in ("vgg16", "plain34"):
        at = page(net=name)
        assert_clean(at)
        assert not [t for t in at.toggle if t.key == "net_twin"]


# --- tampered URLs ------------------------------------------------------------------------

@pytest.mark.parametrize("query, says", [
    ({"arch": "[x](http://evil.example)"}, "is not a network"),
    ({"net": "<b>nope</b>"}, "Unknown network"),
    ({"net": "vgg16", "input": "3,abc,224"}, "URL value input="),
    ({"net": "vgg16", "classes": "-5"}, "URL value classes="),
    ({"arch": "a=resnet_basic|a=resnet_basic"}, "cannot be built"),
    ({"arch": "forward=conv"}, "is taken"),  # a KeyError from torch before
    ({"arch": "a=maxpool:padding=5,kernel_size=3"}, "a pool takes at most 1"),
])
def test_tampered_url_warns_and_shows_a_network(query, says):
    at = page(**query)
    assert_clean(at)
    warnings = [w.value for w in at.warning]
    assert any(says in shown(w) for w in warnings), warnings
    assert all("](http" not in w and "<b>" not in w for w in warnings)  # escaped
    assert at.metric and at.table


def test_a_network_that_cannot_run_says_why():
    at = page(arch="a=conv:out_channels=8,kernel_size=11", input="3,4,4")
    assert not at.exception
    assert any("kernel spans 11 pixels" in shown(e.value) for e in at.error)
    assert not at.metric
    assert at.selectbox(key="net_stage").value == "a"  # the builder is there to fix it


# --- the server's warm-up -----------------------------------------------------------------

def test_warm_up_computes_what_every_presets_first_view_needs(monkeypatch):
    """After prewarm.network_views() a preset's first view computes no report at all."""
    from cnnviz.core.network import report as report_module
    from cnnviz.ui import prewarm

    prewarm.network_views()
    calls = []
    real = report_module.make_network_report
    monkeypatch.setattr(report_module, "make_network_report",
                        lambda *a, **k: calls.append(a[0].name) or real(*a, **k))
    for name in PRESETS:
        assert_clean(page(net=name))
    at = open_tab(page(net="vgg16"), "Across networks")
    assert_clean(at)
    assert at.get("plotly_chart")
    assert calls == []
    assert_clean(page(net="vgg16", input="3,128,128"))  # not warmed: computed now
    assert calls == ["vgg16"]

"""The Networks page on a person's own model, as `cnnviz app --model FILE.py:NAME` starts it
(the model named in the server's environment): the report of the traced model, confirmed
by torch, and a sentence for a model that cannot be shown. Expected numbers come from
cnnviz.inspect itself, never from a literal."""
from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest
import torch.nn as nn
from conftest import app_test, page_file, shown
from test_no_identifiers import offences
from test_no_identifiers import report as offence_report

import cnnviz
from cnnviz.deploy.own_model import MODEL_ARGS_ENV, MODEL_ENV, MODEL_INPUT_ENV
from cnnviz.render.explorer_charts import number

pytestmark = pytest.mark.usefixtures("fresh_caches")
GALLERY = Path(__file__).resolve().parents[1] / "unit" / "gallery_models.py"


def network_page():
    return app_test(120).switch_page(page_file("pages/network.py")).run()


def test_the_networks_page_opens_on_the_model_of_the_environment(monkeypatch):
    monkeypatch.setenv(MODEL_ENV, f"{GALLERY}:UNet")
    monkeypatch.setenv(MODEL_INPUT_ENV, "3,32,32")
    at = network_page()
    assert not at.exception, at.exception
    sys.path.insert(0, str(GALLERY.parent))
    from gallery_models import UNet
    report = cnnviz.inspect(UNet(), (3, 32, 32))
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Parameters"] == number(report.params)
    assert metrics["MACs"] == number(report.macs)
    assert metrics["Receptive field"] == report.field.text(" × ")
    assert at.success and "torch confirms" in at.success[0].value
    layers = at.table[1].value  # the stages, then the layers
    assert len(layers) == len(report.rows) and set(layers["agree"]) == {"yes"}
    # the model's own names are its rows' names, shown as code, and only there
    assert list(layers["name"]) == [f"`{r.name}`" for r in report.rows]
    assert not offences(at, "own model"), offence_report(offences(at, "own model"))
    # the diagram: the presets' chain of stages, one box per top-level module, in order
    dot = at.get("graphviz_chart")[0].proto.spec
    places = [dot.index(f'label="{name}') for name in ("inc", "down1", "down2", "up1", "up2",
                                                       "outc")]
    assert places == sorted(places) and "8×32×32" in dot and "2×32×32" in dot
    # the gradient probe: one norm per convolution, in order, each a real gradient
    at.toggle(key="own_probe").set_value(True).run()
    assert not at.exception, at.exception
    chart = json.loads(at.get("plotly_chart")[0].proto.spec)
    convs = [n for n, m in UNet().named_modules()
             if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear))]
    probe = at.table[-2].value  # the probe's table, then the checks
    assert list(probe["name"]) == [f"`{n}`" for n in convs]
    norms = [float(v) for v in probe["weight-gradient norm"]]
    assert all(math.isfinite(v) and v > 0 for v in norms)
    assert len(chart["data"][0]["x"]) == len(convs)
    assert not offences(at, "own model, probe"), offence_report(offences(at, "own model, probe"))


def test_a_model_that_cannot_be_shown_is_a_sentence(monkeypatch):
    monkeypatch.setenv(MODEL_ENV, str(GALLERY.parent / "missing.py") + ":Net")
    at = network_page()
    assert not at.exception, at.exception
    assert "no such file" in at.error[0].value and not at.metric


def test_without_the_environment_the_page_is_the_presets(monkeypatch):
    monkeypatch.delenv(MODEL_ENV, raising=False)
    at = network_page()
    assert not at.exception and "Your own model" not in [m.value for m in at.markdown]


BAD = '''
import torch.nn as nn
class Raises(nn.Module):
    def __init__(self):
        super().__init__()
        raise RuntimeError("no weights file here")
def mlp():
    return nn.Sequential(nn.Linear(10, 10))
class Huge(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(32_000, 32_000)
    def forward(self, x):
        return x
class Flow(nn.Module):
    def forward(self, x):
        return x if x.sum() > 0 else -x
def deep():
    return nn.Sequential(*[nn.Conv2d(3, 3, 3, stride=2) for _ in range(6)])
'''


@pytest.mark.parametrize("name, extra, words", [
    ("Nope", {}, "defines no 'Nope'"),
    ("Raises", {}, "Raises() raised RuntimeError: no weights file here"),
    ("mlp", {}, "needs a flat vector"),
    ("deep", {MODEL_INPUT_ENV: "3,16,16"}, "padded input is only"),
    ("Flow", {}, "torch.fx cannot trace Flow"),
    ("Huge", {}, "1,024.0 M parameters"),
    ("deep", {MODEL_ARGS_ENV: "[1]"}, "not a JSON object"),
])
def test_every_bad_model_is_one_sentence(monkeypatch, tmp_path, name, extra, words):
    path = tmp_path / "models.py"
    path.write_text(BAD)
    monkeypatch.setenv(MODEL_ENV, f"{path}:{name}")
    for k, v in extra.items():
        monkeypatch.setenv(k, v)
    at = network_page()
    assert not at.exception, at.exception
    assert len(at.error) == 1 and words in shown(at.error[0].value) and not at.metric, \
        [e.value for e in at.error]

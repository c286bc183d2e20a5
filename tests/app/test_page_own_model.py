"""The Networks page on a person's own model, as `cnnviz app --model FILE.py:NAME` starts it
(the model named in the server's environment): the report of the traced model, confirmed
by torch, and a sentence for a model that cannot be shown. Expected numbers come from
cnnviz.inspect itself, never from a literal."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from conftest import app_test, page_file

import cnnviz
from cnnviz.deploy.own_model import MODEL_ENV, MODEL_INPUT_ENV
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


def test_a_model_that_cannot_be_shown_is_a_sentence(monkeypatch):
    monkeypatch.setenv(MODEL_ENV, str(GALLERY.parent / "missing.py") + ":Net")
    at = network_page()
    assert not at.exception, at.exception
    assert "no such file" in at.error[0].value and not at.metric


def test_without_the_environment_the_page_is_the_presets(monkeypatch):
    monkeypatch.delenv(MODEL_ENV, raising=False)
    at = network_page()
    assert not at.exception and "Your own model" not in [m.value for m in at.markdown]

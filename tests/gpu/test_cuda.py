"""The same numbers on a GPU: every block's report on cuda equals the cpu report, and the
Explorer runs with device=cuda. Skipped where torch sees no CUDA device."""
from __future__ import annotations

import pytest
import torch
from conftest import app_test

from cnnviz.core.blocks import REGISTRY
from cnnviz.core.report import make_report
from cnnviz.core.spec import StackSpec

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")]


@pytest.mark.parametrize("block", sorted(REGISTRY))
def test_report_on_cuda_equals_cpu(block):
    spec = StackSpec.create(block, depth=2, batch=2)
    cpu, cuda = make_report(spec, "cpu"), make_report(spec, "cuda")
    assert cuda.device.startswith("cuda") and cuda.device_note is None
    assert cuda.agrees and cpu.agrees
    assert cuda.to_json()["measured"] | {"notes": []} == cpu.to_json()["measured"] | {
        "notes": []}
    assert cuda.predicted.params == cpu.predicted.params
    assert cuda.predicted.macs == cpu.predicted.macs


def test_explorer_runs_on_cuda():
    at = app_test(device="cuda").run()
    assert not at.exception and not at.error
    assert at.selectbox(key="pick_device").value == "cuda"
    assert any("torch confirms" in s.value for s in at.success)


@pytest.mark.parametrize("name", ["resnet50", "mobilenet_v2", "densenet121", "convnext_tiny",
                                  "vgg16"])
def test_network_report_on_cuda_equals_cpu(name):
    from cnnviz.core.network import network_spec
    from cnnviz.core.network.report import make_network_report
    spec = network_spec(name)
    cpu, cuda = make_network_report(spec, "cpu"), make_network_report(spec, "cuda")
    assert cuda.device.startswith("cuda") and cuda.device_note is None
    assert cuda.agrees and cpu.agrees
    assert cuda.to_json()["measured"] | {"notes": []} == cpu.to_json()["measured"] | {
        "notes": []}


def test_training_on_cuda_finds_the_cpus_accuracy_within_a_point():
    from cnnviz.topics.training import TrainConfig, train
    config = TrainConfig.create(StackSpec.create("resnet_basic", depth=2), size=16, epochs=6)
    cpu, cuda = train(config, "cpu"), train(config, "cuda")
    assert abs(cpu.test_accuracy - cuda.test_accuracy) <= 0.01
    assert next(iter(cuda.state.values())).device.type == "cpu"  # kept on the CPU


def test_the_trained_page_runs_on_cuda():
    from conftest import page_file
    at = app_test(device="cuda").run()
    at.switch_page(page_file("pages/trained.py")).run()
    assert not at.exception and not at.error
    from cnnviz.core.datasets import load_dataset
    truth = str(int(load_dataset("digits", 16).y_test[0]))
    assert [m.value for m in at.metric if m.label == "Prediction"] == [truth, truth]

"""What makes cnnviz.inspect fast on a model seen before, and what keeps it honest: one
trace per model while its structure is unchanged (a changed model is traced again), a
bounded cache that lets a model go, the probe's copy made once, a class built on the meta
device traced once, and its weights drawn from a generator of the call's own."""
from __future__ import annotations

import gc
import sys
import threading
from pathlib import Path

import torch
import torch.nn as nn

import cnnviz
from cnnviz.core.graph import load
from cnnviz.core.graph.seeded import call_seeded
from cnnviz.core.graph.trace import TRACES, TraceCache, probe_module, trace, trace_afresh

sys.path.insert(0, str(Path(__file__).parent))
from gallery_models import ResNet18  # noqa: E402


class Gate(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.gated = True

    def forward(self, x):
        y = self.conv(x)
        return y * torch.sigmoid(y) if self.gated else y


def test_a_model_is_traced_once_until_it_changes():
    model = Gate()
    first = trace(model)
    assert trace(model) is first  # unchanged: the same graph
    model.gated = False  # a plain attribute the forward reads
    second = trace(model)
    assert second is not first and "sigmoid" not in str(second.graph)
    model.conv = nn.Conv2d(3, 8, 3, padding=1)  # a submodule replaced
    third = trace(model)
    assert third is not second and third.get_submodule("conv").out_channels == 8
    model.eval()  # train/eval is part of the structure too
    fourth = trace(model)
    assert fourth is not third
    model.conv.register_forward_hook(lambda m, args, out: out * 2)  # a trace may run it
    assert trace(model) is not fourth
    report = cnnviz.inspect(model, (3, 8, 8))
    assert report.agrees and report.output_shape == (1, 8, 8, 8)


def test_the_cache_is_bounded_and_lets_a_model_go():
    cache = TraceCache(size=2)
    models = [Gate() for _ in range(3)]
    for model in models:
        cache.get(model)
    del model
    assert len(cache) == 2
    kept = models.pop()
    del models
    gc.collect()
    assert len(cache) == 1  # the evicted one never counted; the collected one went
    assert cache.get(kept) is cache.get(kept)
    del kept
    gc.collect()
    assert len(cache) == 0


def test_the_probe_copy_is_made_once_per_trace():
    gm = trace(Gate())
    assert probe_module(gm) is probe_module(gm) and probe_module(gm) is not gm


def test_a_class_is_traced_once_and_walked_once(monkeypatch):
    afresh, cached, walked = [], [], []
    monkeypatch.setattr(load, "trace", lambda m: cached.append(m) or trace(m))
    monkeypatch.setattr(load, "trace_afresh", lambda m: afresh.append(m) or trace_afresh(m))
    monkeypatch.setattr(load, "predict", lambda gm, s: walked.append(gm) or
                        __import__("cnnviz.core.walk").core.walk.predict(gm, s))
    report = load.inspect(ResNet18, (3, 32, 32), args={"width": 8, "classes": 10})
    assert [str(m.conv1.weight.device) for m in afresh] == ["meta"] and len(walked) == 1
    assert not cached  # the throwaway structure is kept out of the cache of models
    assert report.agrees and report.module.get_submodule("conv1").weight.device.type == "cpu"


def test_a_seeded_build_draws_from_its_own_generator():
    torch.manual_seed(123)
    state = torch.random.get_rng_state()
    a = call_seeded(lambda: ResNet18(width=8), 7)
    b = call_seeded(lambda: ResNet18(width=8), 7)
    assert torch.equal(state, torch.random.get_rng_state())  # the caller's state as it was
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    torch.manual_seed(7)
    c = ResNet18(width=8)  # the generator gives what seeding the global one gave
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), c.parameters()))


def test_another_thread_drawing_meanwhile_changes_nothing():
    stop = threading.Event()

    def draw() -> None:
        while not stop.is_set():
            torch.rand(64)
    other = threading.Thread(target=draw)
    other.start()
    try:
        a = call_seeded(lambda: ResNet18(width=8), 3)
    finally:
        stop.set()
        other.join()
    b = call_seeded(lambda: ResNet18(width=8), 3)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


def test_a_draw_without_a_generator_argument_is_still_seeded():
    def make():  # dropout takes no generator: it draws from the global one
        return torch.nn.functional.dropout(torch.ones(64), 0.5, training=True)
    torch.manual_seed(1)
    state = torch.random.get_rng_state()
    first, second = call_seeded(make, 5), call_seeded(make, 5)
    assert torch.equal(first, second) and torch.equal(state, torch.random.get_rng_state())
    assert not torch.equal(first, call_seeded(make, 6))


def test_a_generator_the_constructor_names_is_kept():
    own = torch.Generator().manual_seed(3)

    def make():  # nn.init takes its generator by position too
        return nn.init.uniform_(torch.empty(4), -1, 1, own), torch.rand(2, generator=own)
    by_position, by_name = call_seeded(make, 0)
    mine = torch.Generator().manual_seed(3)
    assert torch.equal(by_position, torch.empty(4).uniform_(-1, 1, generator=mine))
    assert torch.equal(by_name, torch.rand(2, generator=mine))


def teardown_module():
    TRACES.clear()

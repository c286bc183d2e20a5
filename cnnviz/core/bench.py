"""Benchmarks of the analysis: medians of runs in one process, cases alternating."""
from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable

import torch
import torch.nn as nn

from cnnviz.core.measure import measure
from cnnviz.core.spec import StackSpec, build
from cnnviz.core.walk import predict

REPEATS = 15


def _times_ms(fn: Callable[[], object], repeats: int) -> list[float]:
    """Wall times of `repeats` calls, with the garbage collector off during each (as timeit)."""
    times = []
    for _ in range(repeats):
        gc.collect()
        gc.disable()
        try:
            start = time.perf_counter()
            fn()
            times.append((time.perf_counter() - start) * 1e3)
        finally:
            gc.enable()
    return times


def run_bench(depth: int = 50, repeats: int = REPEATS, network: str = "resnet50",
              network_size: int = 224) -> list[dict]:
    """Predicted report vs torchinfo.summary, and measured report vs forward + backward, for
    a deep stack of basic blocks and for a whole network at batch 1."""
    from cnnviz.core.network import build_network, network_spec

    stack = StackSpec.create("resnet_basic", {"in_channels": 16, "out_channels": 16},
                             depth=depth, height=32, width=32)
    net = network_spec(network, height=network_size, width=network_size)
    return [bench_case(stack.label(), build(stack), stack.input_shape, repeats),
            bench_case(net.label(), build_network(net), net.input_shape, repeats)]


def bench_case(label: str, model: nn.Module, shape: tuple[int, int, int, int],
               repeats: int) -> dict:
    """The two ratios for one model, its cases timed in alternating rounds."""
    from torchinfo import summary

    prediction = predict(model, shape)
    x = torch.randn(shape, generator=torch.Generator().manual_seed(0))

    def forward_backward() -> None:
        model.zero_grad(set_to_none=True)
        model(x.requires_grad_(False)).sum().backward()

    cases = {
        "predicted_report": lambda: predict(model, shape),
        "torchinfo_summary": lambda: summary(model, input_size=shape, verbose=0),
        "measured_report": lambda: measure(model, shape, "cpu", prediction),
        "forward_backward": forward_backward,
    }
    for fn in cases.values():  # warm-up: allocator, oneDNN primitives
        fn()
    samples: dict[str, list[float]] = {name: [] for name in cases}
    rounds = 3  # short blocks per case, rounds alternating, so drift hits every case alike
    for _ in range(rounds):
        for name, fn in cases.items():
            fn()  # untimed: lets torch's worker threads and the caches settle after a switch
            samples[name] += _times_ms(fn, max(1, repeats // rounds))
    med = {name: statistics.median(v) for name, v in samples.items()}
    model.zero_grad(set_to_none=True)
    return {
        "config": label, "repeats": repeats, "torch_threads": torch.get_num_threads(),
        "median_ms": {k: round(v, 3) for k, v in med.items()},
        "torchinfo_over_predicted": round(med["torchinfo_summary"] / med["predicted_report"], 1),
        "measured_over_forward_backward": round(med["measured_report"] / med["forward_backward"],
                                                2),
        "targets": {"torchinfo_over_predicted": ">= 20",
                    "measured_over_forward_backward": "<= 1.5"},
    }

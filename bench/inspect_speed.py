"""cnnviz.inspect on a 50-layer model written in plain PyTorch (ResNet-50, `out += identity`):
the predicted report (trace + graph walk) against torchinfo.summary, and the measured report
(one forward and one backward of the probe, node by node) against a plain forward and
backward. Rounds alternate, so drift hits every case alike; medians and both ratios in one
run. Targets (issue 33): torchinfo / predicted >= 10, measured / forward+backward <= 1.5.

The predicted report is timed twice: on a model inspected before (its torch.fx trace is
reused, as cnnviz.inspect does while the model's structure is unchanged; the walk and the
check of that structure run every time) and on a model seen for the first time (traced
afresh). torchinfo.summary keeps nothing between calls.

    python bench/inspect_speed.py [--size 224] [--rounds 3]
"""
from __future__ import annotations

import argparse
import statistics
import time

import _harness  # noqa: F401  (the repository root on the import path)
import torch
import torch.nn as nn
from torchinfo import summary

from cnnviz.core.graph import probe_module, trace
from cnnviz.core.graph.measure import measure_graph
from cnnviz.core.graph.trace import trace_afresh
from cnnviz.core.walk import predict


class Bottleneck(nn.Module):
    def __init__(self, cin: int, mid: int, stride: int):
        super().__init__()
        out = 4 * mid
        self.conv1, self.bn1 = nn.Conv2d(cin, mid, 1, bias=False), nn.BatchNorm2d(mid)
        self.conv2 = nn.Conv2d(mid, mid, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(mid)
        self.conv3, self.bn3 = nn.Conv2d(mid, out, 1, bias=False), nn.BatchNorm2d(out)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or cin != out:
            self.downsample = nn.Sequential(nn.Conv2d(cin, out, 1, stride, bias=False),
                                            nn.BatchNorm2d(out))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        out += identity
        return self.relu(out)


class ResNet50(nn.Module):
    def __init__(self, classes: int = 1000):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64),
                                  nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1))
        layers, cin = [], 64
        for i, (mid, n) in enumerate(zip((64, 128, 256, 512), (3, 4, 6, 3))):
            blocks = []
            for j in range(n):
                blocks.append(Bottleneck(cin, mid, 2 if i > 0 and j == 0 else 1))
                cin = 4 * mid
            layers.append(nn.Sequential(*blocks))
        self.layers = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(cin, classes)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(self.layers(self.stem(x))), 1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    model = ResNet50().eval()
    shape = (1, 3, args.size, args.size)
    x = torch.randn(shape)

    def forward_backward() -> None:
        model.zero_grad(set_to_none=True)
        model(x).sum().backward()

    traced = trace(model)
    cases = {
        "predicted_report": lambda: predict(trace(model), shape),
        "  of which the walk": lambda: predict(traced, shape),
        "predicted, new model": lambda: predict(trace_afresh(model), shape),
        "torchinfo_summary": lambda: summary(model, input_size=shape, verbose=0),
        "measured_report": lambda: measure_graph(probe_module(trace(model)), shape),
        "forward_backward": forward_backward,
    }
    for fn in cases.values():  # warm-up: allocator, oneDNN primitives
        fn()
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.rounds):
        for name, fn in cases.items():
            start = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - start)
    med = {k: statistics.median(v) for k, v in samples.items()}
    convs = sum(isinstance(m, (nn.Conv2d, nn.Linear)) for m in model.modules())
    print(f"ResNet-50 in plain PyTorch ({convs} convolutions and linears, downsampling "
          f"included), input {shape[1:]}, {args.rounds} rounds, medians:")
    for k, v in med.items():
        print(f"  {k:20} {1000 * v:9.1f} ms")
    print(f"torchinfo / predicted:        {med['torchinfo_summary'] / med['predicted_report']:.1f}"
          f"x (target >= 10; a model inspected before: its trace reused)")
    print(f"torchinfo / predicted, new:   "
          f"{med['torchinfo_summary'] / med['predicted, new model']:.1f}x (traced afresh)")
    print(f"torchinfo / the walk alone:   "
          f"{med['torchinfo_summary'] / med['  of which the walk']:.1f}x")
    print(f"measured / forward+backward:  {med['measured_report'] / med['forward_backward']:.2f}"
          f"x (target <= 1.5)")


if __name__ == "__main__":
    main()

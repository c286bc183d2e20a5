"""Benchmark: the plain + residual gradient-flow probe as a share of this machine's peak.

    python bench/gradflow_probe.py [--depth 50] [--channels 16] [--size 32] [--batch 8]
                                   [--repeats 5] [--device cpu]

Efficiency = probe FLOPs (forward + backward, counted by FlopCounterMode)
           / (median probe time x GFLOP/s of a large float32 matmul measured in the same run).
The probe time includes building both stacks from the seed, as the page pays it.
On a shared machine the figures vary with its load: report them with `uptime`.
"""
from __future__ import annotations

import argparse
import statistics
import time

import _harness  # noqa: F401  (the repository root on the import path)
import torch
from torch.utils.flop_counter import FlopCounterMode

from cnnviz.cli.args import parse_assignments
from cnnviz.core.spec import StackSpec
from cnnviz.topics import gradflow


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def matmul_gflops(device: torch.device, n: int = 2048, repeats: int = 5) -> float:
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)
    a @ b
    times = []
    for _ in range(repeats):
        _sync(device)
        t = time.perf_counter()
        a @ b
        _sync(device)
        times.append(time.perf_counter() - t)
    return 2 * n**3 / min(times) / 1e9


def probe_flops(spec: StackSpec, device: torch.device) -> int:
    """Forward + backward FLOPs of one probe (both stacks), counted by torch."""
    with FlopCounterMode(display=False) as counter:
        gradflow.compare(spec, device=device)
    return counter.get_total_flops()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--depth", type=int, default=50)
    ap.add_argument("--channels", type=int, default=16)
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--block", default="resnet_basic")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=0,
                    help="intra-op threads (0 = torch's default); on a busy machine 1 avoids "
                         "OpenMP threads waiting for each other")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)  # a script: the global setting is ours to choose
    device = torch.device(args.device)
    params = {"in_channels": args.channels, "out_channels": args.channels,
              **parse_assignments(args.set)}
    spec = StackSpec.create(args.block, params, depth=args.depth, height=args.size,
                            width=args.size, batch=args.batch)
    flops = probe_flops(spec, device)
    gradflow.compare(spec, device=device)  # warm-up
    times = []
    for _ in range(args.repeats):
        _sync(device)
        t = time.perf_counter()
        gradflow.compare(spec, device=device)
        _sync(device)
        times.append(time.perf_counter() - t)
    peak = matmul_gflops(device)
    median = statistics.median(times)
    achieved = flops / median / 1e9
    print(f"spec            {spec.label()}, batch {spec.batch}, device {device}")
    print(f"threads         {torch.get_num_threads()}")
    print(f"probe FLOPs     {flops / 1e9:.2f} GFLOP (plain + residual, forward + backward)")
    print(f"probe time      median {median * 1e3:.0f} ms, min {min(times) * 1e3:.0f} ms "
          f"over {len(times)} runs")
    print(f"achieved        {achieved:.1f} GFLOP/s")
    print(f"matmul peak     {peak:.1f} GFLOP/s (2048x2048 float32, best of 5)")
    print(f"efficiency      {achieved / peak:.0%} of the matmul peak")
    print("note: the machine may be shared with other jobs; the figures vary with its load.")


if __name__ == "__main__":
    main()

"""The budget's time model against the clock: every kind of layer at a few sizes.

Not a test. For each layer (in train mode, as the heavy paths run it) the budget estimates
the seconds of a forward pass and of a forward + backward pass (cnnviz.core.budget's
COSTS, from the predicted walk: MACs, window reads, elements), and the clock measures them
on one thread, the share of one heavy slot on this 2-core machine (median of --repeats).
It prints estimated / measured for each; the constants in COSTS were chosen from this table
so that every ratio lies within 0.5-2 (exit status 1 if one does not).

    python bench/budget_calibration.py [--repeats 5] [--threads 1] [--json]
"""
from __future__ import annotations

import argparse
import json
import statistics
import time

import _harness  # noqa: F401  (the repository root on the import path)
import torch
import torch.nn as nn

from cnnviz.core.budget import FORWARD, FORWARD_BACKWARD, module_work
from cnnviz.core.layers import LayerNorm2d

N = 8  # the batch of every case


def cases() -> list[tuple[str, str, nn.Module, tuple[int, int, int, int]]]:
    """(kind, what, module, input shape)."""
    out = []
    for c, h in ((16, 64), (64, 56), (256, 14)):
        out.append(("dense", f"conv 3x3 {c}->{c} on {h}x{h}",
                    nn.Conv2d(c, c, 3, padding=1), (N, c, h, h)))
    out.append(("dense", "conv 1x1 64->256 on 56x56", nn.Conv2d(64, 256, 1), (N, 64, 56, 56)))
    out.append(("dense", "grouped conv 3x3 64, 4 groups", nn.Conv2d(64, 64, 3, padding=1,
                                                                   groups=4), (N, 64, 56, 56)))
    out.append(("dense", "transposed conv 4x4 s2 64", nn.ConvTranspose2d(64, 64, 4, 2, 1),
                (N, 64, 28, 28)))
    out.append(("dense", "linear 4096->4096", nn.Sequential(nn.Flatten(), nn.Linear(4096, 4096)),
                (64, 4096, 1, 1)))
    for k, c, h in ((3, 64, 56), (7, 96, 56), (5, 32, 112)):
        out.append(("depthwise", f"depthwise {k}x{k} {c} on {h}x{h}",
                    nn.Conv2d(c, c, k, padding=k // 2, groups=c), (N, c, h, h)))
    for k, s, c, h in ((3, 1, 64, 56), (7, 1, 16, 128), (2, 2, 64, 56), (3, 2, 64, 112)):
        out.append(("pool", f"max pool {k}x{k} s{s} {c} on {h}x{h}",
                    nn.MaxPool2d(k, s, k // 2 if s == 1 else 0), (N, c, h, h)))
    out.append(("pool", "avg pool 2x2 s2 64 on 56x56", nn.AvgPool2d(2, 2), (N, 64, 56, 56)))
    for what, m in (("batch norm", nn.BatchNorm2d(64)), ("group norm", nn.GroupNorm(32, 64)),
                    ("layer norm", LayerNorm2d(64))):
        out.append(("norm", f"{what} 64 on 56x56", m, (N, 64, 56, 56)))
    for what, m in (("ReLU", nn.ReLU()), ("GELU", nn.GELU()), ("SiLU", nn.SiLU())):
        out.append(("activation", f"{what} 64 on 56x56", m, (N, 64, 56, 56)))
    for mode in ("nearest", "bilinear"):
        out.append(("resample", f"upsample x2 {mode} 64 on 28x28",
                    nn.Upsample(scale_factor=2, mode=mode), (N, 64, 28, 28)))
    out.append(("resample", "pixel shuffle x2 256 on 28x28", nn.PixelShuffle(2),
                (N, 256, 28, 28)))
    return out


def _clock(fn, repeats: int) -> float:
    fn()  # warm
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def measure(m: nn.Module, shape: tuple[int, ...], repeats: int) -> tuple[float, float]:
    """(forward, forward + backward) seconds, train mode."""
    m.train()
    x = torch.randn(*shape)

    def forward():
        with torch.no_grad():
            m(x)

    def both():
        xx = x.detach().requires_grad_(True)
        m(xx).sum().backward()

    return _clock(forward, repeats), _clock(both, repeats)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    rows = []
    for kind, what, m, shape in cases():
        est_f = module_work(what, m, shape, FORWARD).seconds()
        est_fb = module_work(what, m, shape, FORWARD_BACKWARD).seconds()
        f, fb = measure(m, shape, a.repeats)
        rows.append({"kind": kind, "layer": what, "estimated_forward_s": est_f,
                     "measured_forward_s": f, "ratio_forward": est_f / f,
                     "estimated_both_s": est_fb, "measured_both_s": fb,
                     "ratio_both": est_fb / fb})
    bad = [r for r in rows if not all(0.5 <= r[k] <= 2 for k in ("ratio_forward",
                                                                  "ratio_both"))]
    if a.json:
        print(json.dumps({"threads": a.threads, "rows": rows, "outside": len(bad)}, indent=2))
    else:
        print(f"{'kind':11} {'layer':38} {'fwd est/meas':>13} {'fwd+bwd est/meas':>17}")
        for r in rows:
            print(f"{r['kind']:11} {r['layer']:38} {r['ratio_forward']:13.2f} "
                  f"{r['ratio_both']:17.2f}")
        ratios = [r[k] for r in rows for k in ("ratio_forward", "ratio_both")]
        print(f"{len(rows)} layers, {a.threads} thread(s): estimated / measured from "
              f"{min(ratios):.2f} to {max(ratios):.2f}; {len(bad)} outside 0.5-2")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())

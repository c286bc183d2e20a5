"""Benchmark: cnnviz's training loop against a hand-written PyTorch loop, and the default
residual stack's time to its test accuracy.

    python bench/training_loop.py [--depth 4] [--size 16] [--epochs 12] [--repeats 3]
                                  [--threads 2]

Both loops train the same model (make_classifier, same seed) on the same batches (the same
generator and order), with the same AdamW and cosine schedule and the same threads. The
hand-written loop does nothing else; cnnviz's loop also records per-layer gradient norms,
the running loss and accuracy, calls a progress callback every step (as the page's bar),
checks the budget first and measures the test split after every epoch. Runs alternate
(app, hand, app, hand, ...) and the medians are compared in one run.
"""
from __future__ import annotations

import argparse
import statistics
import time

import _harness  # noqa: F401  (the repository root on the import path)
import torch
import torch.nn.functional as F

from cnnviz.core.datasets import load_dataset
from cnnviz.core.spec import StackSpec
from cnnviz.topics.training import (
    TrainConfig,
    make_classifier,
    steps_per_epoch,
    train,
)


def hand_written(config: TrainConfig) -> float:
    """The plain loop: forward, loss, backward, step. Returns seconds."""
    data = load_dataset(config.data, config.size)
    x, y = data.x_train, data.y_train
    model = make_classifier(config.stack).train()
    decay = [p for p in model.parameters() if p.dim() > 1]
    rest = [p for p in model.parameters() if p.dim() <= 1]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": config.weight_decay},
                             {"params": rest, "weight_decay": 0.0}], lr=config.lr)
    per_epoch = steps_per_epoch(len(y), config.batch)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, per_epoch * config.epochs)
    order = torch.Generator().manual_seed(config.seed + 1)
    start = time.perf_counter()
    for _ in range(config.epochs):
        perm = torch.randperm(len(y), generator=order)
        for batch in perm[: per_epoch * config.batch].view(per_epoch, config.batch):
            loss = F.cross_entropy(model(x[batch]), y[batch])
            opt.zero_grad(set_to_none=False)
            loss.backward()
            opt.step()
            sched.step()
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--depth", type=int, default=4)
    ap.add_argument("--size", type=int, default=16)
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    config = TrainConfig.create(StackSpec.create("resnet_basic", depth=a.depth), size=a.size,
                                epochs=a.epochs)
    samples = steps_per_epoch(1347, config.batch) * config.batch * config.epochs
    load_dataset(config.data, config.size)  # read once, outside the timings
    app, hand, accuracy = [], [], []
    steps = [0]

    def progress(step: int, total: int) -> None:  # what the page's bar gets, every step
        steps[0] = step

    for _ in range(a.repeats):
        start = time.perf_counter()
        run = train(config, on_step=progress)
        app.append(time.perf_counter() - start)
        accuracy.append(run.test_accuracy)
        hand.append(hand_written(config))
    app_rate, hand_rate = samples / statistics.median(app), samples / statistics.median(hand)
    print(f"{config.stack.label()}, {config.describe()}, {a.threads} threads, "
          f"{a.repeats} runs each")
    print(f"cnnviz loop : median {statistics.median(app):6.2f} s  {app_rate:8.0f} samples/s"
          f"  (test accuracy {statistics.median(accuracy):.2%}, "
          f"{run.seconds:.2f} s to the last epoch)")
    print(f"hand loop   : median {statistics.median(hand):6.2f} s  {hand_rate:8.0f} samples/s")
    print(f"ratio       : {app_rate / hand_rate:.2f}x the hand-written loop's samples per "
          f"second (target >= 0.7)")
    first = next((e for e in run.epochs if e.test_accuracy >= 0.97), None)
    if first is not None:
        print(f"97% test accuracy first reached after epoch {first.epoch}, "
              f"{first.seconds:.1f} s of training (target <= 30 s)")


if __name__ == "__main__":
    main()

"""The degradation problem (He et al. 2016, Fig. 1): does a deeper plain stack train worse?

`train_degradation` trains a shallow plain, a deep plain and a deep residual stack on a
synthetic 10-class image task (`make_dataset`, made in code, nothing downloaded) and
reports whether the deeper plain stack trained worse.
"""
from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F

from cnnviz.core.budget import FORWARD_BACKWARD, check, stack_work
from cnnviz.core.layers import ConvNormAct
from cnnviz.core.spec import StackSpec, build, init_weights
from cnnviz.topics.gradflow import CLASSES


def make_dataset(n: int, size: int = 16, noise: float = 0.6, seed: int = 0
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """n grayscale size x size images of 10 pattern classes, deterministic from `seed`.

    Classes: stripes at 0/45/90/135 degrees, checkers, rings, one blob, two blobs,
    a cross and a plain ramp; random phase, position and Gaussian noise.
    """
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % CLASSES
    labels = labels[torch.randperm(n, generator=g)]
    c = torch.arange(size, dtype=torch.float32) - (size - 1) / 2
    yy, xx = torch.meshgrid(c, c, indexing="ij")  # (size, size) each
    u = torch.rand(n, 4, generator=g)
    u = u[:, :, None, None]  # (N, 4, 1, 1): broadcasts against (size, size)
    phase, sign = u[:, 0] * 2 * math.pi, (u[:, 3] > .5).float() * 2 - 1
    cy, cx = (u[:, 1] - .5) * size / 2, (u[:, 2] - .5) * size / 2
    freq = 2 * math.pi / 5
    angle = {0: (1, 0), 1: (1, 1), 2: (0, 1), 3: (1, -1)}
    images = torch.zeros(n, size, size)
    blob = lambda oy, ox: torch.exp(-((yy - oy) ** 2 + (xx - ox) ** 2) / 6)  # noqa: E731
    for k in range(CLASSES):
        sel = labels == k
        ph, y0, x0, s = phase[sel], cy[sel], cx[sel], sign[sel]
        if k in angle:
            a, b = angle[k]
            img = torch.sin(freq * (a * xx + b * yy) / math.hypot(a, b) + ph)
        elif k == 4:
            img = torch.sign(torch.sin(freq * (xx + x0)) * torch.sin(freq * (yy + y0)))
        elif k == 5:
            img = torch.sin(freq * torch.sqrt((yy - y0) ** 2 + (xx - x0) ** 2) + ph)
        elif k == 6:
            img = 2 * blob(y0, x0) - .3
        elif k == 7:
            img = 2 * (blob(y0, x0) + blob(-y0, -x0)) - .5
        elif k == 8:
            img = ((yy - y0).abs() < 1.5).float() + ((xx - x0).abs() < 1.5).float() - .4
        else:
            img = s * (xx * (ph - math.pi) / math.pi + yy) / size * 2
        images[sel] = img
    images += noise * torch.randn(n, size, size, generator=g)
    return images[:, None], labels  # (N, 1, H, W), (N,)


class Classifier(nn.Module):
    """stem conv -> the stack -> global average pool -> linear: a tiny trainable network."""

    def __init__(self, stack: nn.Module, width: int, norm: str):
        super().__init__()
        self.stem = ConvNormAct(1, width, 3, norm=norm)
        self.stack = stack
        self.head = nn.Linear(width, CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stack(self.stem(x))      # (N, 1, H, W) -> (N, width, H, W)
        return self.head(x.mean(dim=(2, 3)))  # (N, width) -> (N, classes)


@dataclass(frozen=True)
class TrainConfig:
    """The degradation experiment; defaults are the preset that shows the effect on a CPU."""

    block: str = "resnet_basic"
    depth: int = 20          # deep plain and deep residual: 40 convs
    shallow_depth: int = 3   # the shallower plain stack it is compared with
    width: int = 8           # channels: small, so a 2-core CPU trains all three in ~30 s
    norm: str = "batch"      # He et al. used BN: the degradation is not vanishing gradients
    init: str = "kaiming_out"
    zero_init_last: bool = True  # residual branches start at zero (Goyal et al. 2017)
    steps: int = 120
    batch: int = 32
    lr: float = 0.02         # SGD + momentum 0.9 as in the paper; 0.05 sometimes diverged
    seed: int = 0
    train_size: int = 2000

    def spec(self, depth: int, skip: bool) -> StackSpec:
        return StackSpec.create(self.block, {"in_channels": self.width, "out_channels": self.width,
                                             "norm": self.norm, "init": self.init, "skip": skip,
                                             "zero_init_last": self.zero_init_last},
                                depth=depth, height=16, width=16, batch=self.batch,
                                seed=self.seed)


RUNS = ("shallow plain", "deep plain", "deep residual")
DEGRADATION_RULE = ("Counted as degradation when, on the whole training set after training, the "
                    "deep plain stack's loss is more than 10% above the shallow plain stack's "
                    "and the deep residual stack's is not.")


@dataclass
class TrainResult:
    config: TrainConfig
    steps: list[int] = field(default_factory=list)
    loss: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in RUNS})
    accuracy: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in RUNS})
    final: dict[str, dict[str, float]] = field(default_factory=dict)

    def verdict(self) -> tuple[bool, str]:
        """Did this run show degradation (deep plain worse, deep residual not)? and why."""
        if not self.final:
            return False, "The run has not finished."
        f = {k: self.final[k]["loss"] for k in RUNS}
        a = {k: self.final[k]["accuracy"] for k in RUNS}
        c = self.config
        worse = f["deep plain"] > 1.1 * f["shallow plain"]
        res_ok = f["deep residual"] <= 1.1 * f["shallow plain"]
        numbers = (f"final training loss / accuracy: plain depth {c.shallow_depth}: "
                   f"{f['shallow plain']:.3f} / {a['shallow plain']:.0%}, plain depth {c.depth}: "
                   f"{f['deep plain']:.3f} / {a['deep plain']:.0%}, residual depth {c.depth}: "
                   f"{f['deep residual']:.3f} / {a['deep residual']:.0%}")
        if worse and res_ok:
            return True, (f"**Degradation appeared in this run**: the deeper plain stack trained "
                          f"worse than the shallower one, the residual stack of the same depth "
                          f"did not ({numbers}).")
        why = ("the deeper plain stack was not clearly worse (more than 10% higher loss)"
               if not worse else "the residual stack was also worse than the shallow plain one")
        return False, (f"**Degradation did not appear in this run**: {why} ({numbers}). "
                       f"More steps, another seed or a lower learning rate may change that.")

    def to_json(self) -> dict:
        ok, text = self.verdict()
        return {"config": asdict(self.config), "steps": self.steps, "loss": self.loss,
                "accuracy": self.accuracy, "final": self.final, "degradation": ok,
                "verdict": text}


def train_degradation(config: TrainConfig = TrainConfig(), device: str | torch.device = "cpu",
                      report_every: int = 10) -> Iterator[TrainResult]:
    """Train the three stacks side by side; yields the growing result every few steps.

    Curves are the training loss and accuracy on each step's minibatch (smoothed);
    the final numbers are measured on the whole training set in eval mode.
    """
    device = torch.device(device)
    x, y = make_dataset(config.train_size, seed=config.seed)
    x, y = x.to(device), y.to(device)
    specs = {"shallow plain": config.spec(config.shallow_depth, False),
             "deep plain": config.spec(config.depth, False),
             "deep residual": config.spec(config.depth, True)}
    check(*(stack_work(spec.replace(batch=config.batch), f"training the {name} stack",
                       FORWARD_BACKWARD, config.steps, reduce="the steps or the depth")
            for name, spec in specs.items()),
          what=f"training three stacks for {config.steps} steps")
    models, optims = {}, {}
    for name, spec in specs.items():
        g = torch.Generator().manual_seed(config.seed)
        model = Classifier(build(spec), config.width, config.norm)
        with torch.no_grad():  # stem and head from the generator too, never the global RNG
            init_weights(model.stem, config.init, g)
            nn.init.normal_(model.head.weight, 0, 1 / math.sqrt(config.width), generator=g)
            model.head.bias.zero_()
        models[name] = model.to(device).train()
        optims[name] = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=0.9,
                                       weight_decay=1e-4)
    order = torch.Generator().manual_seed(config.seed + 1)
    result, smooth = TrainResult(config), dict[str, list[float]]()
    for step in range(1, config.steps + 1):
        idx = torch.randint(0, config.train_size, (config.batch,), generator=order).to(device)
        xb, yb = x[idx], y[idx]
        for name, model in models.items():
            logits = model(xb)
            loss = F.cross_entropy(logits, yb)
            optims[name].zero_grad(set_to_none=True)
            loss.backward()
            optims[name].step()
            acc = (logits.argmax(1) == yb).float().mean()
            now = torch.stack([loss.detach(), acc]).tolist()
            old = smooth.get(name, now)
            smooth[name] = [0.9 * o + 0.1 * n if step > 1 else n for o, n in zip(old, now)]
        if step % report_every == 0 or step == config.steps:
            result.steps.append(step)
            for name in RUNS:
                result.loss[name].append(smooth[name][0])
                result.accuracy[name].append(smooth[name][1])
            if step == config.steps:
                result.final = {name: _evaluate(m, x, y) for name, m in models.items()}
            yield result


@torch.no_grad()
def _evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
    model.eval()
    logits = torch.cat([model(xb) for xb in x.split(500)])
    loss, acc = F.cross_entropy(logits, y), (logits.argmax(1) == y).float().mean()
    return dict(zip(("loss", "accuracy"), torch.stack([loss, acc]).tolist()))


def run_training(config: TrainConfig = TrainConfig(), device: str | torch.device = "cpu"
                 ) -> TrainResult:
    result = TrainResult(config)
    for result in train_degradation(config, device):  # noqa: B007 (the last one is the answer)
        pass
    return result



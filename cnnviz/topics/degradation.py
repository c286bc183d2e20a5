"""The degradation problem (He et al. 2016, Fig. 1): does a deeper plain stack train worse?

`train_degradation` trains a shallow plain, a deep plain and a deep residual stack on one
of the local data sets (cnnviz.core.datasets: synthetic 16×16 patterns, or the
handwritten digits enlarged to 16×16) and reports whether the deeper plain stack trained
worse.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F

from cnnviz.core.budget import FORWARD_BACKWARD, check, stack_work
from cnnviz.core.datasets import DATASETS, load_dataset, make_patterns
from cnnviz.core.errors import InputError
from cnnviz.core.spec import StackSpec
from cnnviz.topics.training import TRAINING_BUDGET, make_classifier

SIZE = 16  # both data sets at 16×16: the patterns are made at it, the digits enlarged ×2


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
    train_size: int = 2000   # patterns made for training (the digits have 1,347)
    data: str = "patterns"   # or "digits" (cnnviz.core.datasets)
    optimizer: str = "sgd"   # as in the paper; or "adamw"

    def spec(self, depth: int, skip: bool) -> StackSpec:
        return StackSpec.create(self.block, {"in_channels": self.width, "out_channels": self.width,
                                             "norm": self.norm, "init": self.init, "skip": skip,
                                             "zero_init_last": self.zero_init_last},
                                depth=depth, height=SIZE, width=SIZE, batch=self.batch,
                                seed=self.seed)


# Each data set's starting point: on the digits, SGD at this budget barely starts to learn,
# AdamW shows the same effect in 200 steps (measured: degradation with seeds 0 and 1).
PRESETS = {"patterns": TrainConfig(),
           "digits": TrainConfig(data="digits", depth=12, steps=200, optimizer="adamw",
                                 lr=0.003)}
OPTIMIZER_NAMES = {"sgd": "SGD + momentum 0.9", "adamw": "AdamW"}

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
    x, y = training_images(config)
    x, y = x.to(device), y.to(device)
    n = len(y)
    specs = {"shallow plain": config.spec(config.shallow_depth, False),
             "deep plain": config.spec(config.depth, False),
             "deep residual": config.spec(config.depth, True)}
    check(*(stack_work(spec.replace(batch=config.batch), f"training the {name} stack",
                       FORWARD_BACKWARD, config.steps, reduce="the steps or the depth")
            for name, spec in specs.items()),
          what=f"training three stacks for {config.steps} steps", budget=TRAINING_BUDGET)
    models: dict[str, nn.Module] = {}
    optims = {}
    for name, spec in specs.items():
        models[name] = make_classifier(spec, device).train()
        model = models[name]
        optims[name] = (torch.optim.SGD(model.parameters(), lr=config.lr, momentum=0.9,
                                        weight_decay=1e-4) if config.optimizer == "sgd" else
                        torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=1e-4))
    order = torch.Generator().manual_seed(config.seed + 1)
    result, smooth = TrainResult(config), dict[str, list[float]]()
    for step in range(1, config.steps + 1):
        idx = torch.randint(0, n, (config.batch,), generator=order).to(device)
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


def training_images(config: TrainConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """The images the three stacks learn from: (N, 1, 16, 16) and their labels."""
    if config.data not in DATASETS:
        raise InputError(f"Unknown data set {config.data!r}; use one of {', '.join(DATASETS)}.")
    if config.data == "digits":
        digits = load_dataset("digits", SIZE)
        return digits.x_train, digits.y_train
    return make_patterns(config.train_size, SIZE, seed=config.seed)


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



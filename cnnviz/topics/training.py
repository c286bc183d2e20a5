"""Training a stack of registry blocks as an image classifier, deterministically on a CPU.

The network is `stem conv (1 -> C) -> the stack -> global average pool -> linear`, an
nn.Sequential the predicted walk understands, so the budget counts its training the same
way as every other heavy path: the predicted MACs of a batch × the steps × 3 (a backward
costs about two forwards), plus the test set's forward passes after each epoch.

Everything random comes from generators seeded by the configuration's seed (the stack's
weights, the stem and head, the order of the batches), so a CPU run is repeatable.
"""
from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F

from cnnviz.core.budget import (
    BUDGET,
    FORWARD,
    FORWARD_BACKWARD,
    Budget,
    Work,
    check,
    work_units,
)
from cnnviz.core.datasets import CLASSES, DATASETS, SIZES, DataSet, load_dataset
from cnnviz.core.errors import InputError
from cnnviz.core.fields import TRAIN_BATCH, Field
from cnnviz.core.layers import NORMS, ConvNormAct
from cnnviz.core.network import NetworkSpec, build_network
from cnnviz.core.spec import CONVS, StackSpec, build, init_weights
from cnnviz.core.walk import predict

OPTIMIZERS = ("adamw", "sgd")
SCHEDULES = ("cosine", "constant")
# the numbers only a training takes (the stack's own are cnnviz.core.fields')
EPOCHS = Field("epochs", "Epochs", 1, 100, 12, "passes over the training images")
IMAGE_SIDE = Field("size", "Image size", min(SIZES), max(SIZES), 16,
                   "side of the images the network reads")
# Training is the one request that is expected to take a while: it shows its progress and
# can be stopped, so it may use more of the server than a page view (BUDGET.seconds).
TRAINING_BUDGET = replace(BUDGET, seconds=60.0)
# Trained weights are kept per session: a cap on their size bounds a classroom's memory.
MAX_TRAINED_PARAMS = 1_000_000


class Classifier(nn.Sequential):
    """stem conv -> the stack -> global average pool -> linear: a small trainable network."""

    stem: ConvNormAct
    stack: nn.Sequential
    pool: nn.AdaptiveAvgPool2d
    flatten: nn.Flatten
    head: nn.Linear

    def __init__(self, stack: nn.Sequential, width: int, features: int, norm: str,
                 in_channels: int = 1, classes: int = CLASSES):
        super().__init__(OrderedDict(
            stem=ConvNormAct(in_channels, width, 3, norm=norm),  # (N, 1, S, S) -> (N, C, S, S)
            stack=stack,
            pool=nn.AdaptiveAvgPool2d(1),
            flatten=nn.Flatten(),                                 # (N, C', 1, 1) -> (N, C')
            head=nn.Linear(features, classes)))

    def block_outputs(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The stack's output after every block (no hooks: the module may be shared)."""
        outputs, x = [], self.stem(x)
        for block in self.stack:
            x = block(x)
            outputs.append(x)
        return outputs

    def classify(self, features: torch.Tensor) -> torch.Tensor:
        """The last block's maps -> class scores (logits)."""
        return self.head(self.flatten(self.pool(features)))


def stem_norm(spec: StackSpec) -> str:
    norm = spec.values.get("norm", "batch")
    return norm if norm in NORMS else "batch"


def make_classifier(spec: StackSpec, device: str | torch.device = "cpu") -> Classifier:
    """The classifier around `spec`'s stack (input channels = the stack's width), every
    weight drawn from generators seeded by spec.seed."""
    last = spec.block_configs()[-1]
    features = spec.entry.output_channels(last)
    model = Classifier(build(spec), spec.in_channels, features, stem_norm(spec))
    g = torch.Generator().manual_seed(spec.seed)
    with torch.no_grad():  # stem and head from the generator too, never the global RNG
        init_weights(model.stem, spec.values["init"], g)
        nn.init.normal_(model.head.weight, 0, 1 / math.sqrt(features), generator=g)
        model.head.bias.zero_()
    return model.to(device)


def weighted_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """The layers with weights the gradient norms are reported for, input to output."""
    return [(name, m) for name, m in model.named_modules() if isinstance(m, CONVS)]


# --- configuration ---------------------------------------------------------------------

@dataclass(frozen=True)
class TrainConfig:
    """What to train and how. The defaults reach about 98% on the digits' test split in a
    few seconds on a 2-core CPU (bench/training_loop.py)."""

    spec: StackSpec             # the stack; its height/width/batch are set from the fields below
    data: str = "digits"
    size: int = IMAGE_SIDE.default  # the side of the images the network reads (SIZES)
    epochs: int = EPOCHS.default
    batch: int = TRAIN_BATCH.default
    optimizer: str = "adamw"    # AdamW (Loshchilov & Hutter 2019); sgd is momentum 0.9
    lr: float = 0.005
    weight_decay: float = 5e-4
    schedule: str = "cosine"    # cosine decay to zero over every step (Loshchilov & Hutter 2017)
    # a whole network (its own stem and head, on 1 channel at `size`, CLASSES outputs)
    # trained instead of the classifier around `spec`; `spec` then gives the seed only
    network: NetworkSpec | None = None

    @classmethod
    def create(cls, spec: StackSpec, **fields: Any) -> TrainConfig:
        """Validated: InputError with a sentence for a bad value."""
        config = cls(spec, **fields)
        if config.data not in DATASETS:
            raise InputError(f"Unknown data set {config.data!r}; use one of "
                             f"{', '.join(DATASETS)}.")
        if config.size not in SIZES:
            raise InputError(f"The image size must be one of {', '.join(map(str, SIZES))}, "
                             f"not {config.size!r}.")
        config = replace(config, epochs=EPOCHS.parse(config.epochs),
                         batch=TRAIN_BATCH.parse(config.batch))
        if config.optimizer not in OPTIMIZERS or config.schedule not in SCHEDULES:
            raise InputError(f"Use an optimizer of {', '.join(OPTIMIZERS)} and a schedule of "
                             f"{', '.join(SCHEDULES)}.")
        if not (0 < config.lr <= 1 and 0 <= config.weight_decay <= 0.1):
            raise InputError("The learning rate must be in (0, 1] and the weight decay in "
                             "[0, 0.1].")
        return config

    @property
    def stack(self) -> StackSpec:
        """The stack at this training's image size and batch."""
        return self.spec.replace(height=self.size, width=self.size, batch=self.batch)

    @property
    def seed(self) -> int:
        return self.spec.seed

    def describe(self) -> str:
        opt = "AdamW" if self.optimizer == "adamw" else "SGD with momentum 0.9"
        sched = ("cosine decay to 0" if self.schedule == "cosine" else "a constant rate")
        return (f"{opt}, learning rate {self.lr:g} with {sched}, weight decay "
                f"{self.weight_decay:g}, batch {self.batch}, {self.epochs} epochs, seed "
                f"{self.seed}")

    def to_json(self) -> dict[str, Any]:
        s = self.spec
        out = {k: v for k, v in asdict(self).items() if k not in ("spec", "network")}
        if self.network is not None:
            out["network"] = self.network.text()
        changed = {k: v for k, v in s.params if v != s.entry.param(k).default}
        return {"block": s.block, "depth": s.depth, "params": changed, "seed": s.seed, **out}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TrainConfig:
        names = ("data", "size", "epochs", "batch", "optimizer", "lr", "weight_decay",
                 "schedule")
        fields: dict[str, Any] = {k: data[k] for k in names if k in data}
        spec = StackSpec.create(data["block"], data.get("params", {}), depth=data["depth"],
                                seed=data.get("seed", 0))
        if "network" in data:
            size = fields.get("size", IMAGE_SIDE.default)
            fields["network"] = NetworkSpec.create(data["network"], channels=1, height=size,
                                                   width=size, classes=CLASSES,
                                                   seed=spec.seed)
        return cls.create(spec, **fields)


def meta_classifier(config: TrainConfig) -> Classifier:
    """The configuration's network on the meta device: its structure, parameter count and
    tensor sizes, with no memory and no initialization."""
    with torch.device("meta"):
        return Classifier(build(config.stack, "meta"), config.spec.in_channels,
                          config.spec.entry.output_channels(config.stack.block_configs()[-1]),
                          stem_norm(config.spec))


def make_model(config: TrainConfig, device: str | torch.device = "cpu") -> nn.Module:
    """The network a configuration trains: its own network, or the classifier around its
    stack."""
    if config.network is not None:
        return build_network(config.network, device)
    return make_classifier(config.stack, device)


def meta_model(config: TrainConfig) -> nn.Module:
    """make_model's network on the meta device (structure and sizes, no memory)."""
    if config.network is not None:
        return build_network(config.network, "meta")
    return meta_classifier(config)


def steps_per_epoch(n: int, batch: int) -> int:
    return max(1, n // batch)  # the last, smaller batch is dropped (BatchNorm needs >1)


def training_work(config: TrainConfig, n_train: int, n_test: int) -> tuple[Work, Work]:
    """The work of the training steps and of the evaluations after each epoch, counted
    on the meta device."""
    p = predict(meta_model(config), (config.batch, 1, config.size, config.size))
    steps = steps_per_epoch(n_train, config.batch) * config.epochs
    reduce = "the epochs, the image size, the channels or the depth"
    units = tuple(work_units(p).items())
    train = Work("training this stack", p.params, p.macs, p.memory, FORWARD_BACKWARD, steps,
                 reduce, inputs=4 * config.batch * config.size ** 2, units=units)
    evaluations = math.ceil(n_test / config.batch) * config.epochs
    test = Work("evaluating it after each epoch", p.params, p.macs, p.memory, FORWARD,
                evaluations, reduce, units=units)
    return train, test


def check_training(config: TrainConfig, data: DataSet | None = None,
                   budget: Budget = TRAINING_BUDGET) -> None:
    """BudgetError unless the whole training fits the budget (milliseconds: no weights)."""
    data = data or load_dataset(config.data, config.size)
    train, test = training_work(config, len(data.y_train), len(data.y_test))
    if train.params > MAX_TRAINED_PARAMS:
        raise InputError(f"This stack has {train.params:,} parameters; a stack trained here "
                         f"may have {MAX_TRAINED_PARAMS:,} at most. Reduce the channels or "
                         f"the depth.")
    check(train, test, what=f"training this stack for {config.epochs} epochs", budget=budget)


# --- the run ---------------------------------------------------------------------------

@dataclass
class Epoch:
    """One epoch's figures. Training loss and accuracy are the running means over its
    batches (the network changes meanwhile); test figures are measured after it."""

    epoch: int
    train_loss: float
    train_accuracy: float
    test_loss: float
    test_accuracy: float
    grad_norms: list[float]  # mean ‖∂L/∂W‖ over the epoch's steps, per weighted layer
    lr: float
    seconds: float  # since the start of training


@dataclass
class TrainRun:
    """A training run as it grows: its epochs, and the weights after the last one."""

    config: TrainConfig
    layers: list[str]
    epochs: list[Epoch] = field(default_factory=list)
    state: dict[str, torch.Tensor] = field(default_factory=dict)  # on the CPU
    train_accuracy: float = math.nan  # the final network on the whole training set

    @property
    def finished(self) -> bool:
        return len(self.epochs) == self.config.epochs

    @property
    def test_accuracy(self) -> float:
        return self.epochs[-1].test_accuracy if self.epochs else math.nan

    @property
    def seconds(self) -> float:
        return self.epochs[-1].seconds if self.epochs else 0.0

    def model(self, device: str | torch.device = "cpu") -> Classifier:
        """The trained network, in eval mode (a Classifier unless the configuration
        trains a network of its own)."""
        model: Any = make_model(self.config, "cpu")
        model.load_state_dict(self.state)
        return model.to(device).eval()

    def curves(self) -> dict[str, list[float]]:
        return {k: [getattr(e, k) for e in self.epochs]
                for k in ("train_loss", "train_accuracy", "test_loss", "test_accuracy")}

    def to_json(self) -> dict[str, Any]:
        return {"config": self.config.to_json(), "epochs": len(self.epochs),
                "test_accuracy": self.test_accuracy, "train_accuracy": self.train_accuracy,
                "seconds": round(self.seconds, 2), "curves": self.curves(),
                "layers": self.layers,
                "grad_norms": [e.grad_norms for e in self.epochs]}


Progress = Callable[[int, int], None]  # (steps done, steps in all)


def train_epochs(config: TrainConfig, device: str | torch.device = "cpu",
                 on_step: Progress | None = None) -> Iterator[TrainRun]:
    """Train; yield the growing run after every epoch (its weights included).

    `on_step` is called after every step: a UI updates its progress bar there, and a
    caller stops the training by raising from it (nothing is left behind).
    """
    device = torch.device(device)
    data = load_dataset(config.data, config.size)
    check_training(config, data)
    x_train, y_train = data.x_train.to(device), data.y_train.to(device)
    x_test, y_test = data.x_test.to(device), data.y_test.to(device)
    model = make_model(config, device).train()
    layers = weighted_layers(model)
    weights: list[torch.Tensor] = [m.weight for _, m in layers]  # type: ignore[misc]
    optimizer = _optimizer(config, model)
    per_epoch = steps_per_epoch(len(y_train), config.batch)
    total = per_epoch * config.epochs
    schedule = (torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, total)
                if config.schedule == "cosine" else None)
    order = torch.Generator().manual_seed(config.seed + 1)
    run, start, step = TrainRun(config, [name for name, _ in layers]), time.perf_counter(), 0
    for epoch in range(1, config.epochs + 1):
        model.train()
        perm = torch.randperm(len(y_train), generator=order).to(device)
        sums = torch.zeros(3, device=device)  # loss, correct, seen
        norms = torch.zeros(len(weights), device=device)
        lr = optimizer.param_groups[0]["lr"]
        for batch in perm[: per_epoch * config.batch].view(per_epoch, config.batch):
            xb, yb = x_train[batch], y_train[batch]
            logits = model(xb)
            loss = F.cross_entropy(logits, yb)
            optimizer.zero_grad(set_to_none=False)
            loss.backward()
            norms += torch.stack(torch._foreach_norm([w.grad for w in weights
                                                     if w.grad is not None]))
            optimizer.step()
            if schedule is not None:
                schedule.step()
            with torch.no_grad():
                sums += torch.stack([loss.detach() * len(yb),
                                     (logits.argmax(1) == yb).sum().float(),
                                     torch.tensor(float(len(yb)), device=device)])
            step += 1
            if on_step is not None:
                on_step(step, total)
        test_loss, test_acc = evaluate(model, x_test, y_test)
        loss_sum, correct, seen = sums.tolist()
        run.epochs.append(Epoch(epoch, loss_sum / seen, correct / seen, test_loss, test_acc,
                                (norms / per_epoch).tolist(), lr,
                                time.perf_counter() - start))
        run.state = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
        if epoch == config.epochs:
            run.train_accuracy = evaluate(model, x_train, y_train)[1]
        yield run


def train(config: TrainConfig, device: str | torch.device = "cpu",
          on_step: Progress | None = None) -> TrainRun:
    """Train to the end; the finished run."""
    return list(train_epochs(config, device, on_step))[-1]  # one run, grown every epoch


def _optimizer(config: TrainConfig, model: nn.Module) -> torch.optim.Optimizer:
    # no weight decay on norms' scales and biases (1-d tensors), as timm and torchvision do
    decay = [p for p in model.parameters() if p.dim() > 1]
    rest = [p for p in model.parameters() if p.dim() <= 1]
    groups = [{"params": decay, "weight_decay": config.weight_decay},
              {"params": rest, "weight_decay": 0.0}]
    if config.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=config.lr, momentum=0.9)
    return torch.optim.AdamW(groups, lr=config.lr)


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch: int = 512
             ) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of `model` in eval mode on (x, y)."""
    was_training = model.training
    model.eval()
    logits = torch.cat([model(xb) for xb in x.split(batch)])
    model.train(was_training)
    correct = int((logits.argmax(1) == y).sum())
    return float(F.cross_entropy(logits, y)), correct / len(y)

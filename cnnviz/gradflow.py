"""Gradient flow through deep stacks, plain versus residual (He et al. 2016).

Three experiments, all on freshly built modules and a `torch.Generator` per call:

* `compare` — one forward and backward of the plain stack (skip=False) and the
  residual stack (skip=True) of the same spec and seed; per layer the
  weight-gradient norm, per block the norm of dL/dx at its input and the mean
  and std of its output. Non-finite numbers are kept and reported as
  "exploded", never raised.
* `depth_sweep` — the first layer's gradient norm as the stack grows.
* `train_degradation` — train a shallow plain, a deep plain and a deep residual
  stack on a synthetic 10-class image task (`make_dataset`) and report whether
  the deeper plain stack trained worse (the degradation problem, He et al.
  2016, Fig. 1).
"""
from __future__ import annotations

import argparse
import contextlib
import json
import math
import sys
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterator, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from .blocks import get_block
from .cli import add_stack_args, spec_from_args
from .layers import ConvNormAct
from .spec import CONVS, StackSpec, build, init_weights, resolve_device

EXPLODED = "exploded"
LOSSES = ("ce", "mse")  # cross-entropy on a fixed random target, or mean square of the output
CLASSES = 10
# Pre- and post-activation twins: the page's ordering switch swaps one for the other.
PREACT_TWIN = {"resnet_basic": "preact_basic", "preact_basic": "resnet_basic",
               "resnet_bottleneck": "preact_bottleneck", "preact_bottleneck": "resnet_bottleneck"}
SWEEP_DEPTHS = (2, 4, 8, 16, 32, 64, 100)
# The page's story presets: the overrides each one applies to the picker's spec.
STORIES = {
    "Vanishing gradient: no norm, torch's default init": dict(norm="none", init="torch",
                                                              zero_init_last=False),
    "Exploding forward signal: no norm, Kaiming init": dict(norm="none", init="kaiming_out",
                                                            zero_init_last=False),
    "Remedy: batch normalization": dict(norm="batch", init="kaiming_out", zero_init_last=False),
    "Remedy: zero-init the last layer of each branch": dict(norm="none", init="kaiming_out",
                                                           zero_init_last=True),
    "Remedy: a smaller (Xavier) init": dict(norm="none", init="xavier", zero_init_last=False),
}
PROBE_BATCH, PROBE_SIZE = 8, 32  # the page probes at most 32x32, batch 8: quick on a CPU


# --- results ------------------------------------------------------------------

@dataclass
class StackFlow:
    """What one forward + backward of one stack shows; floats may be nan or inf."""

    layers: list[str]            # weighted layers (convs, linears), input -> output
    grad_norms: list[float]      # ||dL/dW|| per weighted layer
    input_grad_norms: list[float]  # ||dL/dx|| at each block's input, block 1 first
    activation_mean: list[float]  # of each block's output
    activation_std: list[float]
    loss: float
    zero_init: bool = False      # residual branches started at zero (zero_init_last)

    @property
    def first_over_last(self) -> float:
        """First layer's weight-gradient norm over the last layer's (nan when undefined).

        "Last" is the last layer whose gradient is not exactly zero: with zero_init_last the
        final conv of each branch feeds a zero scale and gets no gradient at step 0.
        """
        nonzero = [g for g in self.grad_norms if g != 0]
        return ratio(self.grad_norms[0], nonzero[-1]) if nonzero else math.nan

    def headline(self) -> str:
        """first_over_last as text: a number, "exploded", or "n/a" (no gradient at all)."""
        q = self.first_over_last
        if self.zero_init and not self.exploded:
            return "n/a (zero-init)"
        return fmt(q) if math.isfinite(q) or self.exploded else "n/a"

    @property
    def flow_through(self) -> float:
        """||dL/dx|| at block 1's input over that at the last block's input."""
        return ratio(self.input_grad_norms[0], self.input_grad_norms[-1])

    @property
    def exploded(self) -> bool:
        values = self.grad_norms + self.input_grad_norms + self.activation_std + [self.loss]
        return any(not math.isfinite(v) for v in values)

    @property
    def std_growth(self) -> float:
        """Last block's output std over the first block's."""
        return ratio(self.activation_std[-1], self.activation_std[0])

    def to_json(self) -> dict:
        return {"layers": self.layers, "grad_norms": _marked(self.grad_norms),
                "input_grad_norms": _marked(self.input_grad_norms),
                "activation_mean": _marked(self.activation_mean),
                "activation_std": _marked(self.activation_std),
                "loss": _marked([self.loss])[0],
                "first_over_last": _marked([self.first_over_last])[0],
                "exploded": self.exploded}


@dataclass
class Comparison:
    spec: StackSpec
    loss: str
    plain: StackFlow
    residual: StackFlow

    def to_json(self) -> dict:
        return {"spec": self.spec.label(), "loss": self.loss,
                "plain": self.plain.to_json(), "residual": self.residual.to_json()}


def ratio(a: float, b: float) -> float:
    """a / b, with nan for non-finite inputs or 0 / 0 and inf for x / 0."""
    if not (math.isfinite(a) and math.isfinite(b)):
        return math.nan
    if b == 0:
        return math.nan if a == 0 else math.inf
    return a / b


def _marked(values: Sequence[float]) -> list:
    """JSON-safe: nan and inf become the marker "exploded"."""
    return [v if math.isfinite(v) else EXPLODED for v in values]


# --- the probe ----------------------------------------------------------------

def check_spec(spec: StackSpec) -> None:
    if not spec.entry.has_skip:
        raise ValueError(f"{spec.block} has no shortcut to switch off; pick a residual block "
                         f"(e.g. resnet_basic or preact_basic) to compare plain and residual.")


def weighted_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """Convolutions and linears in the order the forward meets them (input -> output)."""
    return [(name, m) for name, m in model.named_modules() if isinstance(m, CONVS)]


@contextlib.contextmanager
def flush_denormals() -> Iterator[None]:
    """Treat float32 subnormals as zero while a probe runs, on this thread only.

    Vanishing gradients pass through the subnormal range (below 1.2e-38), where x86
    arithmetic is ~30x slower; flushing them costs the tail below 1e-38, which then
    reads as 0 ("vanished"). The flag lives in this thread's MXCSR and is reset after.
    """
    ok = torch.set_flush_denormal(True)
    try:
        yield
    finally:
        if ok:
            torch.set_flush_denormal(False)


def probe_stack(spec: StackSpec, loss: str = "ce", device: str | torch.device = "cpu"
                ) -> StackFlow:
    """One forward + backward of a freshly built stack; hooks are always removed."""
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {', '.join(LOSSES)}, not {loss!r}.")
    device = torch.device(device)
    generator = torch.Generator().manual_seed(spec.seed + 1)  # the data; +0 made the weights
    # channels_last: ~15% faster convolutions (oneDNN/cuDNN) for the same numbers' meaning
    model = build(spec, device).train().to(memory_format=torch.channels_last)
    x = torch.randn(spec.input_shape, generator=generator).to(device)
    x = x.contiguous(memory_format=torch.channels_last).requires_grad_(True)  # dL/dx of block 1
    stats: list[torch.Tensor] = []
    in_grads: list[torch.Tensor | None] = [None] * len(model)
    handles = []

    def on_output(module, args, out):
        stats.append(_std_mean(out.detach()))

    def on_input(i):
        def pre(module, args):
            if args[0].requires_grad:
                args[0].register_hook(lambda g: in_grads.__setitem__(i, g.detach().norm()))
        return pre

    for i, block in enumerate(model):
        handles.append(block.register_forward_pre_hook(on_input(i)))
        handles.append(block.register_forward_hook(on_output))
    try:
        with flush_denormals():
            y = model(x)
            value = _loss(y, loss, generator)
            value.backward()
    finally:
        for h in handles:
            h.remove()
    layers = weighted_layers(model)
    grads = [m.weight.grad if m.weight.grad is not None else torch.zeros((), device=device)
             for _, m in layers]
    norms = torch.stack(torch._foreach_norm(grads)) if grads else torch.zeros(0)
    missing = torch.tensor(math.nan, device=device)
    std_mean = torch.stack(stats)
    packed = torch.cat([norms.float(), torch.stack([g if g is not None else missing
                                                    for g in in_grads]).float(),
                        std_mean[:, 0], std_mean[:, 1], value.detach().reshape(1)]).tolist()
    n, d = len(layers), len(model)
    return StackFlow([name for name, _ in layers], packed[:n], packed[n:n + d],
                     packed[n + 2 * d:n + 3 * d], packed[n + d:n + 2 * d], packed[-1],
                     bool(spec.values.get("zero_init_last") and spec.values.get("skip")))


def _std_mean(t: torch.Tensor) -> torch.Tensor:
    """[std, mean] from one sum and one dot product (BLAS): ~10x cheaper than std_mean.

    Values whose square overflows float32 (|x| > ~1e19) read as exploded.
    """
    if t.dim() == 4 and t.is_contiguous(memory_format=torch.channels_last):
        t = t.permute(0, 2, 3, 1)  # a view: (N, C, H, W) -> (N, H, W, C), contiguous
    flat = t.reshape(-1)
    n = flat.numel()
    mean = flat.sum() / n
    var = (torch.dot(flat, flat) / n - mean * mean).clamp_min(0) * (n / max(1, n - 1))
    return torch.stack([var.sqrt(), mean])


def _loss(y: torch.Tensor, kind: str, generator: torch.Generator) -> torch.Tensor:
    """Cross-entropy of a fixed random linear head on the pooled output, or mean(y^2)."""
    if kind == "mse":
        return y.pow(2).mean()
    channels = y.shape[1]
    head = torch.randn(CLASSES, channels, generator=generator) / math.sqrt(channels)
    target = torch.randint(0, CLASSES, (y.shape[0],), generator=generator)
    logits = y.mean(dim=(2, 3)) @ head.to(y.device).T  # (N, C) -> (N, classes)
    return F.cross_entropy(logits, target.to(y.device))


def compare(spec: StackSpec, loss: str = "ce", device: str | torch.device = "cpu"
            ) -> Comparison:
    """The plain and the residual stack of one spec, same seed, same input."""
    check_spec(spec)
    return Comparison(spec, loss, probe_stack(spec.replace(skip=False), loss, device),
                      probe_stack(spec.replace(skip=True), loss, device))


def depth_sweep(spec: StackSpec, depths: Sequence[int] = SWEEP_DEPTHS, loss: str = "ce",
                device: str | torch.device = "cpu",
                progress: Callable[[int, int], None] | None = None,
                probe: Callable[[StackSpec], Comparison] | None = None) -> dict[str, list]:
    """First-layer weight-gradient norm vs depth, for the plain and the residual stack.

    `probe` replaces compare(spec, loss, device), e.g. by a cached version of it."""
    check_spec(spec)
    probe = probe or (lambda s: compare(s, loss, device))
    out: dict[str, Any] = {"depth": list(depths), "plain": [], "residual": []}
    for i, depth in enumerate(depths):
        result = probe(spec.replace(depth=depth))
        out["plain"].append(result.plain.grad_norms[0])
        out["residual"].append(result.residual.grad_norms[0])
        if progress:
            progress(i + 1, len(depths))
    return out


def with_ordering(spec: StackSpec, preact: bool) -> StackSpec:
    """The spec with its block swapped for its pre-/post-activation twin, if it has one."""
    is_pre = spec.block.startswith("preact_")
    if spec.block not in PREACT_TWIN or is_pre == preact:
        return spec
    twin = PREACT_TWIN[spec.block]
    names = {p.name for p in get_block(twin).params}
    return StackSpec.create(twin, {k: v for k, v in spec.values.items() if k in names},
                            spec.depth, spec.height, spec.width, spec.batch, spec.seed)


# --- the story, computed from the numbers -------------------------------------

def fmt(x: float) -> str:
    return EXPLODED if not math.isfinite(x) else f"{x:.3g}"


def story(result: Comparison) -> list[str]:
    """Sentences (markdown) that say what these numbers show, for this run."""
    p, r, v = result.plain, result.residual, result.spec.values
    lines = []
    for name, flow in (("plain", p), ("residual", r)):
        q = flow.first_over_last
        if flow.exploded:
            lines.append(f"The **{name}** stack **exploded**: some activations or gradients "
                         f"overflowed to inf/nan (marked ✕ on the plots).")
        elif flow.zero_init:
            silent = sum(1 for g in flow.grad_norms if g == 0)
            lines.append(f"With `zero_init_last` every **{name}** branch starts at zero, so the "
                         f"stack is the identity: {silent} of {len(flow.grad_norms)} convolutions "
                         f"get no gradient at step 0 (they sit before a zeroed scale or weight); "
                         f"the first update switches them on. The identity carries the "
                         f"gradient back: "
                         f"‖∂L/∂x‖ at block 1 is **{fmt(flow.flow_through)}×** that at the last "
                         f"block.")
        elif q == 0:
            vanished = next(i for i, g in enumerate(flow.grad_norms) if g != 0)
            lines.append(f"The **{name}** stack's first-layer gradient **underflowed to 0**: "
                         f"the first {vanished} layers' gradients are below float32's smallest "
                         f"number (~1e-38), while the last layer's is {fmt(flow.grad_norms[-1])}"
                         f" — the early layers cannot learn at all (vanishing gradient).")
        elif q < 1e-3:
            lines.append(f"The **{name}** stack's first-layer gradient is **{fmt(q)}×** its last "
                         f"layer's: about {_orders(q)} orders of magnitude smaller — the early "
                         f"layers barely learn (vanishing gradient).")
        elif q > 1e3:
            lines.append(f"The **{name}** stack's first-layer gradient is **{fmt(q)}×** its last "
                         f"layer's: the gradient grows on its way back (exploding gradient).")
        else:
            lines.append(f"The **{name}** stack's first-layer gradient is **{fmt(q)}×** its last "
                         f"layer's: within {max(q, 1 / q) if q > 0 else 0:.2g}× — it flows.")
    g = r.std_growth
    if math.isfinite(g) and g > 10:
        per_block = g ** (1 / max(1, len(r.activation_std) - 1))
        lines.append(f"Forward, the residual stack's output std grows **{fmt(g)}×** from the "
                     f"first block to the last (×{per_block:.2f} per block, variance "
                     f"×{per_block ** 2:.2f}): each block adds its branch's variance to the "
                     f"identity's. Remedies: normalization, zero-init of the last norm in each "
                     f"branch (`zero_init_last`), or a smaller init for the branch.")
    if v["norm"] == "none" and not v["zero_init_last"] and not lines[-1].startswith("Forward"):
        lines.append("Without normalization the init alone sets the scale of every signal; "
                     "try batch norm or `zero_init_last` to see the remedies.")
    return lines


def _orders(q: float) -> str:
    return f"{-math.log10(q):.0f}"


# --- synthetic images and the degradation experiment ---------------------------

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
    result, smooth = TrainResult(config), {}
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
    for result in train_degradation(config, device):
        pass
    return result


# --- command line ---------------------------------------------------------------

def add_cli(subparsers) -> argparse.ArgumentParser:
    """Add `gradflow BLOCK [--depth N] [--set NAME=VALUE]...` to the CLI."""
    p = subparsers.add_parser("gradflow", help="gradient flow: plain vs residual stack",
                              description="One forward + backward of the plain (skip=false) and "
                                          "the residual (skip=true) stack of a block.")
    add_stack_args(p, depth=30, batch=8)
    p.add_argument("--loss", default="ce", choices=LOSSES, help="ce (random target) or mse")
    p.set_defaults(run=run_cli)
    return p


def run_cli(args: argparse.Namespace, out=None) -> int:
    """Print the comparison; ValueError for bad input (the caller turns it into exit 2)."""
    out = out or sys.stdout
    spec = spec_from_args(args)
    device, note = resolve_device(args.device)
    if note:
        sys.stderr.write(note + "\n")
    result = compare(spec, args.loss, device)
    if args.json:
        out.write(json.dumps(result.to_json(), indent=2) + "\n")
        return 0
    out.write(format_table(result) + "\n")
    return 0


def format_table(result: Comparison) -> str:
    p, r = result.plain, result.residual
    rows = [f"{result.spec.label()}, loss={result.loss}",
            f"{'layer':<28}{'plain |dL/dW|':>16}{'residual |dL/dW|':>18}"]
    for i in range(max(len(p.layers), len(r.layers))):
        name = (p.layers + r.layers[len(p.layers):])[i]
        a = fmt(p.grad_norms[i]) if i < len(p.grad_norms) else "-"
        b = fmt(r.grad_norms[i]) if i < len(r.grad_norms) else "-"
        rows.append(f"{name:<28}{a:>16}{b:>18}")
    rows.append(f"{'block':<28}{'plain out std':>16}{'residual out std':>18}")
    for i, (a, b) in enumerate(zip(p.activation_std, r.activation_std)):
        rows.append(f"{i:<28}{fmt(a):>16}{fmt(b):>18}")
    rows.append(f"{'first/last |dL/dW|':<28}{p.headline():>16}{r.headline():>18}")
    rows += [""] + [s.replace("**", "") for s in story(result)]
    return "\n".join(rows)

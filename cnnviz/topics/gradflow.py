"""Gradient flow through deep stacks, plain versus residual (He et al. 2016).

Two experiments, all on freshly built modules and a `torch.Generator` per call:

* `compare` — one forward and backward of the plain stack (skip=False) and the
  residual stack (skip=True) of the same spec and seed; per layer the
  weight-gradient norm, per block the norm of dL/dx at its input and the mean
  and std of its output. Non-finite numbers are kept and reported as
  "exploded", never raised.
* `depth_sweep` — the first layer's gradient norm as the stack grows.

The degradation experiment (training) lives in cnnviz.topics.degradation.
"""
from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F

from cnnviz.core.blocks import get_block
from cnnviz.core.budget import FORWARD_BACKWARD, Work, check, stack_work
from cnnviz.core.errors import SpecError
from cnnviz.core.spec import CONVS, StackSpec, build

EXPLODED = "exploded"
LOSSES = ("ce", "mse")  # cross-entropy on a fixed random target, or mean square of the output
CLASSES = 10
# Pre- and post-activation twins: the page's ordering switch swaps one for the other.
PREACT_TWIN = {"resnet_basic": "preact_basic", "preact_basic": "resnet_basic",
               "resnet_bottleneck": "preact_bottleneck", "preact_bottleneck": "resnet_bottleneck"}
SWEEP_DEPTHS = (2, 4, 8, 16, 32, 64, 100)


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
        raise SpecError(f"{spec.block} has no shortcut to switch off; pick a residual block "
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
    device = torch.device(device)
    generator = torch.Generator().manual_seed(spec.seed + 1)  # the data; +0 made the weights
    model = build(spec, device)
    x = torch.randn(spec.input_shape, generator=generator).to(device)
    return probe_blocks(model, list(model), x, loss, generator,
                        bool(spec.values.get("zero_init_last") and spec.values.get("skip")))


def probe_blocks(model: nn.Module, blocks: list[nn.Module], x: torch.Tensor, loss: str,
                 generator: torch.Generator, zero_init: bool = False) -> StackFlow:
    """One forward + backward of `model` in training mode on `x`, watching `blocks` (its
    top-level steps, input -> output): the gradient at each one's input and its output's
    statistics, and every weighted layer's gradient norm."""
    if loss not in LOSSES:
        raise SpecError(f"loss must be one of {', '.join(LOSSES)}, not {loss!r}.")
    device = x.device
    # channels_last: ~15% faster convolutions (oneDNN/cuDNN) for the same numbers' meaning
    model = model.train().to(memory_format=torch.channels_last)  # type: ignore[call-overload]  # stubs lack it
    x = x.contiguous(memory_format=torch.channels_last).requires_grad_(True)  # dL/dx of block 1
    stats: list[torch.Tensor] = []
    in_grads: list[torch.Tensor | None] = [None] * len(blocks)
    handles = []

    def on_output(module, args, out):
        stats.append(_std_mean(out.detach()))

    def on_input(i):
        def pre(module, args):
            if args[0].requires_grad:
                args[0].register_hook(lambda g: in_grads.__setitem__(i, g.detach().norm()))
        return pre

    for i, block in enumerate(blocks):
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
    grads: list[torch.Tensor] = [
        g if isinstance(g := m.weight.grad, torch.Tensor) else torch.zeros((), device=device)
        for _, m in layers]
    norms = torch.stack(torch._foreach_norm(grads)) if grads else torch.zeros(0)
    missing = torch.tensor(math.nan, device=device)
    std_mean = torch.stack(stats)
    packed = torch.cat([norms.float(), torch.stack([g if g is not None else missing
                                                    for g in in_grads]).float(),
                        std_mean[:, 0], std_mean[:, 1], value.detach().reshape(1)]).tolist()
    n, d = len(layers), len(blocks)
    return StackFlow([name for name, _ in layers], packed[:n], packed[n:n + d],
                     packed[n + 2 * d:n + 3 * d], packed[n + d:n + 2 * d], packed[-1], zero_init)


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
    """Cross-entropy of a fixed random linear head on the pooled output (or on a network's
    logits), or mean(y^2)."""
    if kind == "mse":
        return y.pow(2).mean()
    if y.dim() == 2:  # a network's own classifier: its logits, a random target class each
        target = torch.randint(0, y.shape[1], (y.shape[0],), generator=generator)
        return F.cross_entropy(y, target.to(y.device))
    channels = y.shape[1]
    head = torch.randn(CLASSES, channels, generator=generator) / math.sqrt(channels)
    target = torch.randint(0, CLASSES, (y.shape[0],), generator=generator)
    logits = y.mean(dim=(2, 3)) @ head.to(y.device).T  # (N, C) -> (N, classes)
    return F.cross_entropy(logits, target.to(y.device))


def compare(spec: StackSpec, loss: str = "ce", device: str | torch.device = "cpu"
            ) -> Comparison:
    """The plain and the residual stack of one spec, same seed, same input."""
    check_spec(spec)
    check(*probe_work(spec), what="the plain and the residual probe")
    return Comparison(spec, loss, probe_stack(spec.replace(skip=False), loss, device),
                      probe_stack(spec.replace(skip=True), loss, device))


def depth_sweep(spec: StackSpec, depths: Sequence[int] = SWEEP_DEPTHS, loss: str = "ce",
                device: str | torch.device = "cpu",
                progress: Callable[[int, int], None] | None = None,
                probe: Callable[[StackSpec], Comparison] | None = None) -> dict[str, list]:
    """First-layer weight-gradient norm vs depth, for the plain and the residual stack.

    `probe` replaces compare(spec, loss, device), e.g. by a cached version of it."""
    check_spec(spec)
    check(*(w for d in depths for w in probe_work(spec.replace(depth=d))),
          what=f"the depth sweep ({len(depths)} depths, up to {max(depths)})")
    probe = probe or (lambda s: compare(s, loss, device))
    out: dict[str, Any] = {"depth": list(depths), "plain": [], "residual": []}
    for i, depth in enumerate(depths):
        result = probe(spec.replace(depth=depth))
        out["plain"].append(result.plain.grad_norms[0])
        out["residual"].append(result.residual.grad_norms[0])
        if progress:
            progress(i + 1, len(depths))
    return out


def probe_work(spec: StackSpec) -> tuple[Work, Work]:
    """The budget's view of compare(spec): a forward and backward of each stack."""
    reduce = "the depth, the channels or the input size"
    plain, residual = (stack_work(spec.replace(skip=skip),
                                  f"the {name} stack at depth {spec.depth}", FORWARD_BACKWARD,
                                  reduce=reduce)
                       for skip, name in ((False, "plain"), (True, "residual")))
    return plain, residual


# The page probes at most 32x32 at batch 4: quick on a CPU a class shares (the stories of
# vanishing and exploding gradients are about depth, not about the batch).
PROBE_BATCH, PROBE_SIZE = 4, 32
TOGGLES = ("norm", "init", "act", "zero_init_last")


def probe_for(spec: StackSpec, controls: Mapping[str, Any]) -> StackSpec:
    """The stack the Plain vs Residual page probes: `spec` at the page's batch and (at most)
    its size, with the page's controls (depth, preact and the TOGGLES; one left out or None
    keeps the block's own). The page, its lessons and the warm-up all probe this."""
    spec = spec.replace(batch=PROBE_BATCH, height=min(spec.height, PROBE_SIZE),
                        width=min(spec.width, PROBE_SIZE))
    if controls.get("preact") is not None:
        spec = with_ordering(spec, bool(controls["preact"]))
    toggles = {k: controls[k] for k in TOGGLES if controls.get(k) is not None}
    return with_toggles(spec, depth=int(controls.get("depth") or spec.depth), **toggles)


def with_toggles(spec: StackSpec, depth: int, **toggles: object) -> StackSpec:
    """The spec at `depth` with the toggles its block has a parameter for (mbconv has no
    `zero_init_last`, convmixer no `norm`: they keep their own)."""
    return spec.replace(depth=depth, **{k: v for k, v in toggles.items() if k in spec.values})


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
            lines.append(f"With each branch started at zero, every **{name}** branch adds "
                         f"nothing at first, so the "
                         f"stack is the identity: {silent} of {len(flow.grad_norms)} convolutions "
                         f"get no gradient at step 0 (they sit before a zeroed scale or weight); "
                         f"the first update switches them on. The identity carries the "
                         f"gradient back: "
                         f"‖∂L/∂x‖ at block 1 is **{fmt(flow.flow_through)}×** that at the last "
                         f"block.")
        elif q == 0:
            vanished = next(i for i, g in enumerate(flow.grad_norms) if g != 0)
            lines.append(f"The **{name}** stack's first-layer gradient **underflowed to 0**: "
                         f"the first {vanished} layers' gradient norms are 0 in float32 (their "
                         f"entries are so small that their squares fall below float32's "
                         f"smallest number, about 1e-45), while the last layer's is "
                         f"{fmt(flow.grad_norms[-1])}"
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
                     f"identity's. Normalization inside the branches slows this to about "
                     f"√depth (De & Smith 2020); starting each branch at zero (*start each "
                     f"branch at zero*, Goyal et al. 2017) or scaling the branches' init down "
                     f"with the depth (Fixup, Zhang et al. 2019) keeps the stream at its "
                     f"input's scale at the start.")
    elif math.isfinite(g) and g > 1.5 and v.get("norm") not in (None, "none"):
        lines.append(f"Normalization inside each branch does not rescale the residual stream "
                     f"itself: each block still adds a branch of about unit variance to it, "
                     f"so the residual stack's output std grows **{fmt(g)}×** over the "
                     f"{len(r.activation_std)} blocks (De & Smith 2020), while the plain "
                     f"stack's stays put.")
    if v.get("norm") not in (None, "none") and math.isfinite(p.first_over_last) \
            and p.first_over_last > 10:
        lines.append(f"Batch norm keeps every layer's output at unit scale on the way forward, "
                     f"but not the gradient on the way back: at initialisation a deep plain "
                     f"stack with batch norm passes a gradient that grows layer by layer "
                     f"(**{fmt(p.first_over_last)}×** here; Yang et al. 2019). It fixes the "
                     f"forward signal, not the backward one.")
    if v.get("init") == "xavier" and v.get("norm") == "none" and math.isfinite(g) \
            and math.isfinite(p.std_growth):
        lines.append(f"A smaller (Xavier) init shrinks each branch, so the residual stream "
                     f"grows more slowly (**{fmt(g)}×** here), but it still grows with the "
                     f"depth, and the plain stack's forward signal fades "
                     f"(**{fmt(p.std_growth)}×**). Only a scale that shrinks with the depth "
                     f"stops the growth (Fixup, Zhang et al. 2019).")
    if (v.get("norm") == "none" and not v.get("zero_init_last")
            and not lines[-1].startswith(("Forward", "A smaller"))):
        lines.append("Without normalization the init alone sets the scale of every signal; "
                     "compare batch norm and *start each branch at zero*.")
    return lines


def _orders(q: float) -> str:
    return f"{-math.log10(q):.0f}"

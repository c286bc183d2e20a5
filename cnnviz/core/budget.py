"""The one budget: what one request may ask of a shared CPU server before cnnviz refuses.

Every path that builds or runs a module (the Explorer's report, the gradient probe, the
depth sweep, training, feature maps, the effective receptive field, the cost lab, the
CLI) describes its work as a `Work` and calls `check` before anything large is
allocated. The work is counted by formula from the modules' structure on the meta
device (no weights, no activations), so a refusal costs milliseconds.

A refusal is a `BudgetError` (cnnviz.core.errors, an InputError) in one sentence style:
what is too big, the numbers, and what to reduce.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass, replace

import torch
import torch.nn as nn

from cnnviz.core.errors import BudgetError
from cnnviz.core.spec import StackSpec, build
from cnnviz.core.walk import Prediction, predict


@dataclass(frozen=True)
class Budget:
    """Limits of one request. The defaults keep a 2-core server responsive for a class."""

    params: int = 150_000_000          # weights of one model (600 MB in float32): VGG-16 fits
    macs: int = 40 * 10**9             # multiply-accumulates of one forward pass
    memory: int = 1 * 2**30            # bytes held at once: activations, weights, grads
    # Seconds of one heavy slot (one core of the 2-core server) for the whole request, as
    # the time model below estimates it: a student should not wait longer for one view.
    seconds: float = 6.0


BUDGET = Budget()
FORWARD, FORWARD_BACKWARD = 1, 3  # a backward costs about two forwards (of a dense conv)


@dataclass(frozen=True)
class Cost:
    """Seconds per unit of work of one kind of layer, on one core of the development
    machine, forward; and the backward's cost as a multiple of the forward's. Calibrated by
    bench/budget_calibration.py (every kind's estimate within 2x of its measured time)."""

    forward: float
    backward: float


# kind of work -> its cost. A layer's units are its MACs (convs, linears), its window
# reads (pools: k^2 per output), its outputs, or its elements (norms, activations, ...).
COSTS = {
    "dense": Cost(1 / 40e9, 2.0),           # MACs of convs (grouped too), linears, transposed
    "depthwise": Cost(1 / 200e9, 140.0),    # MACs of depthwise convs: backward 0.7 ns each
    "depthwise_out": Cost(1.5e-9, 0.0),     # ... and their outputs (memory-bound forward)
    "pool": Cost(1.3e-9, 0.6),              # window reads of max / average pools
    "pool_out": Cost(15e-9, 0.6),           # ... and their outputs
    "avg_pool": Cost(2e-9, 1.0),            # window reads of an average pool (cheaper)
    "batch_norm": Cost(1 / 0.6e9, 1.75),    # elements normalized by batch statistics
    "group_norm": Cost(1 / 1.6e9, 5.0),     # elements of group norms
    "layer_norm": Cost(1.84e-9, 2.9),       # elements of ConvNeXt's channel LayerNorm
    "activation": Cost(1 / 2.5e9, 4.0),     # elements through ReLU, GELU, SiLU, ...
    "resample": Cost(1 / 0.38e9, 2.2),      # elements written by an upsample or a shuffle
    "merge": Cost(1 / 1.5e9, 1.0),          # elements of an add, a multiply, a concatenation
}
# a layer's op (its row in the walk) -> the kind of work it does
_KIND_OF_OP = {"depthwise": "depthwise", "pool": "pool", "norm": "group_norm",
               "activation": "activation", "upsample": "resample", "copy": "resample",
               "add": "merge", "mul": "merge", "cat": "merge", "softmax": "activation"}


def work_units(p: Prediction) -> dict[str, int]:
    """The predicted walk's work by kind (MACs, window reads, outputs, elements), the batch
    included."""
    batch, units = p.input_shape[0], dict[str, int]()

    def add(kind: str, amount: int) -> None:
        if amount:
            units[kind] = units.get(kind, 0) + amount

    for layer in p.layers:
        kind = _KIND_OF_OP.get(layer.op, "dense")
        outputs = batch * math.prod(layer.out_shape)
        if layer.kind == "AdaptiveAvgPool2d":  # a global mean: one pass over the map
            add("merge", layer.elementwise)
        elif kind == "dense":
            add("dense", layer.macs)
        elif kind == "depthwise":
            add("depthwise", layer.macs)
            add("depthwise_out", outputs)
        elif kind == "pool" and layer.kind == "AvgPool2d":
            add("avg_pool", layer.elementwise)
        elif kind == "pool":
            add("pool", layer.elementwise)
            add("pool_out", outputs)
        elif kind == "group_norm" and layer.kind.startswith("BatchNorm"):
            add("batch_norm", layer.elementwise)
        elif kind == "group_norm" and "LayerNorm" in layer.kind:
            add("layer_norm", layer.elementwise)
        else:
            add(kind, layer.elementwise)
    return units


def pass_seconds(units: dict[str, int]) -> tuple[float, float]:
    """(forward, backward) seconds of one pass over `units` of work."""
    forward = sum(n * COSTS[k].forward for k, n in units.items())
    backward = sum(n * COSTS[k].forward * COSTS[k].backward for k, n in units.items())
    return forward, backward


@dataclass(frozen=True)
class Work:
    """What one request will do, counted before it runs.

    Args:
        what: names the work in the refusal ("this stack", "the depth sweep").
        params: weights of the largest model the request builds.
        macs: multiply-accumulates of one pass of that model over the whole batch.
        activations: bytes of the activations one pass keeps (for the backward).
        passes: FORWARD or FORWARD_BACKWARD.
        repeats: how many such passes the request runs (steps, samples, stacks).
        reduce: what the user can lower, as the end of the refusal's sentence.
        reduce_params: what to lower when the weights alone are too many.
        weight_grads: False when the backward differentiates the input only (the measured
            probe), so the weights are held once.
        inputs: bytes of the input batch (held twice with a backward: its gradient too).
        units: the work of one pass by kind (work_units); without it the MACs are counted
            as dense convolutions'.
    """

    what: str
    params: int
    macs: int
    activations: int
    passes: int = FORWARD
    repeats: int = 1
    reduce: str = "the batch, the input size, the channels or the depth"
    reduce_params: str = "the channels, the kernel size or the depth"
    weight_grads: bool = True
    inputs: int = 0
    units: tuple[tuple[str, int], ...] = ()

    @property
    def memory(self) -> int:
        """Peak bytes: the activations and the input, plus weights (and the gradients of
        both with a backward)."""
        backward = self.passes > FORWARD
        weights = 4 * self.params * (2 if backward and self.weight_grads else 1)
        return self.activations + weights + self.inputs * (2 if backward else 1)

    @property
    def total_macs(self) -> int:
        return self.macs * self.passes * self.repeats

    def seconds(self) -> float:
        """Estimated seconds of the whole work on one core (the time model of COSTS)."""
        forward, backward = pass_seconds(dict(self.units) or {"dense": self.macs})
        return self.repeats * (forward + (backward if self.passes > FORWARD else 0.0))


def check(*works: Work, what: str | None = None, budget: Budget = BUDGET) -> None:
    """Raise BudgetError unless every piece of work fits `budget` and, run one after the
    other, their time does too (`what` names them together in that refusal)."""
    for work in works:
        if work.params > budget.params:
            raise BudgetError(f"{_cap(work.what)} would have {work.params / 1e6:,.1f} M "
                              f"parameters; the live limit is {budget.params / 1e6:,.0f} M. "
                              f"Reduce {work.reduce_params}.")
        if work.memory > budget.memory:
            raise BudgetError(f"{_cap(work.what)} would hold {_bytes(work.memory)} of "
                              f"activations, input and weights; the live limit is "
                              f"{_bytes(budget.memory)}. Reduce {work.reduce}.")
        if work.macs > budget.macs:
            raise BudgetError(f"{_cap(work.what)} costs {work.macs / 1e9:,.1f} GMACs a "
                              f"forward pass; the live limit is {budget.macs / 1e9:,.0f}. "
                              f"Reduce {work.reduce}.")
    seconds = sum(w.seconds() for w in works)
    if seconds > budget.seconds:
        raise BudgetError(f"{_cap(what or works[0].what)} would take about {_secs(seconds)} "
                          f"of the shared server; the live limit is {_secs(budget.seconds)}. "
                          f"Reduce {works[0].reduce}.")


def _secs(s: float) -> str:
    return f"{s:,.0f} s" if s >= 10 else f"{s:.1f} s"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _bytes(n: int) -> str:
    return f"{n / 2**30:.1f} GiB" if n >= 2**30 else f"{n / 2**20:,.0f} MiB"


def input_bytes(shape: tuple[int, ...]) -> int:
    """Bytes of a float32 input batch of `shape`."""
    return 4 * math.prod(shape)


def module_work(what: str, model: nn.Module, input_shape: tuple[int, int, int, int],
                passes: int = FORWARD, repeats: int = 1, reduce: str = Work.reduce,
                reduce_params: str = Work.reduce_params,
                prediction: Prediction | None = None) -> Work:
    """Count a module's work by the predicted walk (no tensor arithmetic: a module on the
    meta device will do); `prediction`: that walk, when the caller has it already."""
    p = predict(model, input_shape) if prediction is None else prediction
    return Work(what, p.params, p.macs, p.memory, passes, repeats, reduce, reduce_params,
                inputs=input_bytes(input_shape), units=tuple(work_units(p).items()))


def stack_work(spec: StackSpec, what: str = "this stack", passes: int = FORWARD,
               repeats: int = 1, reduce: str = Work.reduce) -> Work:
    """The work of running `spec`'s stack, counted on the meta device (nothing allocated).

    The parameter count comes first and alone, so a stack too big to describe quickly
    (a 200-deep wide stack) is refused before its walk.
    """
    return stack_prediction(spec, what, passes, repeats, reduce)[0]


def stack_prediction(spec: StackSpec, what: str = "this stack", passes: int = FORWARD,
                     repeats: int = 1, reduce: str = Work.reduce) -> tuple[Work, Prediction]:
    """stack_work and the predicted walk it came from (the same numbers as the real stack's:
    a caller that goes on to build it need not walk it again)."""
    check(Work(what, _stack_params(spec), 0, 0))
    p = _structure_walk(replace(spec, seed=0))
    return Work(what, p.params, p.macs, p.memory, passes, repeats, reduce,
                inputs=input_bytes(spec.input_shape), units=tuple(work_units(p).items())), p


@functools.lru_cache(maxsize=256)
def _structure_walk(spec: StackSpec) -> Prediction:
    """The predicted walk of a stack's structure, shared by every seed and every caller.

    One new stack on the Explorer asked for it three times (the picker's check, the report,
    the exact field's probe size), each a meta build and a walk. Callers only read it.
    """
    return predict(build(spec, "meta"), spec.input_shape)


def _stack_params(spec: StackSpec) -> int:
    """Parameters of the stack from its first two blocks (the rest repeat the second)."""
    configs = spec.block_configs()[:2]
    with torch.device("meta"):
        first, *rest = [_numel(spec.entry.build(c)) for c in configs]
    return first + (spec.depth - 1) * sum(rest)


def _numel(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())

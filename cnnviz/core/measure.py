"""Measured analysis: what torch itself reports for the same module.

Shapes from a real forward, parameters from numel(), FLOPs from the formulas
of torch.utils.flop_counter applied to the ops the forward executes,
activation memory from the storages it allocates, and the receptive field as
the support of the input gradient of one output pixel. One forward and one
backward give all of them.

The probe runs with every path open: positive weights and inputs (no ReLU or
cancellation can hide a pixel), normalization as the identity (statistics
count as constants, as receptive fields assume), and max-pooling replaced by
average pooling of the same window (a max passes gradient to one pixel only).
"""
from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn as nn
from torch.func import functional_call
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import flop_registry, shape_wrapper
from torch.utils.hooks import RemovableHandle

from cnnviz.core.kinds import find_kind, node_modules, row_name
from cnnviz.core.walk import Prediction, Support, centre_pixel


@dataclass
class Measurement:
    output_shape: tuple[int, ...]
    params: int
    flops: int
    memory: int
    support: Support
    layer_shapes: dict[str, tuple[int, ...]]
    device: str
    notes: list[str] = field(default_factory=list)
    # per report row (cnnviz.core.kinds.row_name): the parameters its module holds itself
    # (a merge: none of its branches'), and torch's FLOPs of the ops it ran outside the
    # rows nested in it, halved (FLOPs = 2 x MACs)
    layer_params: dict[str, int] = field(default_factory=dict)
    layer_macs: dict[str, int] = field(default_factory=dict)


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


@torch.no_grad()
def opened_tensors(model: nn.Module, dtype: torch.dtype = torch.float32) -> dict[str, torch.Tensor]:
    """New values for every parameter and buffer: positive weights scaled by fan-in, zero
    biases, unit scales, fresh norm statistics. Nothing of `model` changes, and `model` may
    be a structure on the meta device when its only buffers are norm statistics."""
    values = {}
    for name, p in model.named_parameters():
        if p.dim() > 1:  # one positive value: no sum can cancel (and no RNG to wait for)
            values[name] = torch.full(p.shape, 1.0 / p[0].numel(), dtype=dtype)
        else:  # biases off; norm scales and Glow's log-scales at a neutral positive value
            values[name] = torch.full(p.shape, 0.0 if name.endswith("bias") else 1.0,
                                      dtype=dtype)
    for name, b in model.named_buffers():
        if name.endswith(("running_var", "sign_s")):  # fresh statistics; positive Glow signs
            values[name] = torch.ones(b.shape, dtype=dtype)
        elif name.endswith("running_mean"):
            values[name] = torch.zeros(b.shape, dtype=dtype)
        elif b.is_meta:  # a structure alone: only counters (unused in eval) have no value
            if b.is_floating_point():
                raise ValueError(f"Buffer {name!r} has no value on the meta device; measure "
                                 f"the built module instead.")
            values[name] = torch.zeros(b.shape, dtype=b.dtype)
        else:
            values[name] = b.clone().to(dtype) if b.is_floating_point() else b.clone()
    return values


def path_hooks(model: nn.Module) -> list[RemovableHandle]:
    """Forward hooks that open the paths weights cannot, from each layer kind's probe_hook
    (group and layer norms pass their input on, max-pools average their window)."""
    hooks = []
    for m in model.modules():
        kind = find_kind(m)
        if kind is not None and kind.probe_hook is not None:
            hooks.append(m.register_forward_hook(kind.probe_hook))
    return hooks


@torch.no_grad()
def open_paths(model: nn.Module) -> list:
    """Open every path of `model` itself (a private copy: its weights change). Hook handles."""
    model.eval()
    tensors = dict(model.named_parameters()) | dict(model.named_buffers())
    for name, value in opened_tensors(model).items():
        tensors[name].requires_grad_(False)  # only the input gradient is wanted
        tensors[name].copy_(value)
    return path_hooks(model)


@contextmanager
def opened_copy(model: nn.Module, input_shape: tuple[int, ...],
                device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32,
                seed: int = 0) -> Iterator[Any]:
    """A private copy of `model` with every path open, and a positive input needing grad.

    Yields (copy, input, hooks): extra hooks appended to `hooks` are removed on exit too.
    """
    generator = torch.Generator().manual_seed(seed)
    probe = copy.deepcopy(model).to(device="cpu", dtype=dtype)
    hooks = open_paths(probe)
    probe.to(device)
    x = torch.rand(input_shape, generator=generator, dtype=dtype).add_(0.5).to(device)
    x.requires_grad_(True)
    try:
        yield probe, x, hooks
    finally:
        for h in hooks:
            h.remove()


def input_grad(x: torch.Tensor) -> torch.Tensor:
    """x.grad after a backward; an error if nothing reached the input."""
    if x.grad is None:
        raise RuntimeError("The backward pass left no gradient on the input.")
    return x.grad


def pixel_support(grad: torch.Tensor, pixel: tuple[int, int]) -> Support:
    """Rows and columns where an input gradient of shape (N, C, H, W) is not zero."""
    grad = grad.abs().sum(dim=(0, 1))
    rows = torch.nonzero(grad.sum(dim=1)).flatten().tolist()
    cols = torch.nonzero(grad.sum(dim=0)).flatten().tolist()
    if not rows:
        return Support(pixel, (0, -1), (0, -1))
    return Support(pixel, (rows[0], rows[-1]), (cols[0], cols[-1]))


class FlopCount(TorchDispatchMode):
    """Sum torch's own FLOP formulas (torch.utils.flop_counter) over the executed ops.

    FlopCounterMode applies the same formulas and also tracks which module each op belongs
    to, with hooks on every module and tensor; that bookkeeping costs more than the
    forward itself, and a total needs none of it (tests hold both counts equal).
    """

    def __init__(self):
        super().__init__()
        self.total = 0

    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        # torch wraps a mode's __torch_dispatch__ to keep torch.compile out of it, which
        # imports torch._dynamo (~1.3 s) on first use; nothing here is ever compiled.
        return False

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        formula = flop_registry.get(func._overloadpacket)
        if formula is not None:
            self.total += _apply(formula, args, kwargs, out)
        return out


def _shapes(value):
    """torch.utils.flop_counter.get_shape over a tuple or list of arguments."""
    if isinstance(value, torch.Tensor):
        return value.shape
    if isinstance(value, (list, tuple)):
        return type(value)(_shapes(v) for v in value)
    return value


def _apply(formula: Any, args: tuple, kwargs: dict, out: Any) -> int:
    """A flop formula on the shapes of the arguments. Most of torch's formulas take shapes
    through a wrapper that maps them with pytree, which costs more than the formula; the
    wrapped formula on shapes mapped here is the same count (tests hold both equal)."""
    if getattr(formula, "__code__", None) is not _SHAPE_WRAPPER_CODE:
        return formula(*args, **kwargs, out_val=out)
    return formula.__wrapped__(*_shapes(args), out_shape=_shapes(out),
                  **{k: _shapes(v) for k, v in kwargs.items()})


_SHAPE_WRAPPER_CODE = shape_wrapper(lambda *a, **k: 0).__code__


@contextmanager
def _training_off(model: nn.Module) -> Iterator[None]:
    """eval() for the duration, then every module's own training flag back."""
    flags = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        yield
    finally:
        for m, flag in flags:
            m.training = flag


def _probe(model: nn.Module, input_shape: tuple[int, ...], device: torch.device,
           dtype: torch.dtype, seed: int) -> Any:
    """One counted forward and one backward from the centre output pixel, with every path
    open: `model` runs with opened tensors (torch.func.functional_call) and temporary hooks,
    so none of its weights, statistics or flags change."""
    generator = torch.Generator().manual_seed(seed)
    tensors = {k: v.to(device) for k, v in opened_tensors(model, dtype).items()}
    x = torch.rand(input_shape, generator=generator, dtype=dtype).add_(0.5).to(device)
    x.requires_grad_(True)
    shapes: dict[str, tuple] = {}
    storages: dict[int, torch.Tensor] = {}  # held, so the allocator cannot reuse them
    flops = FlopCount()
    row_flops: dict[str, int] = {}
    open_rows: list[list[int]] = []  # per running row: [FLOPs at its start, FLOPs of rows in it]
    hooks = path_hooks(model)

    def enter(mod, args):
        open_rows.append([flops.total, 0])

    def recorder(name: str) -> Callable[..., None]:
        def record(mod, args, out):
            shapes[name] = tuple(out.shape[1:])
            storages[out.untyped_storage().data_ptr()] = out
            start, nested = open_rows.pop()
            inside = flops.total - start
            row_flops[name] = row_flops.get(name, 0) + inside - nested
            if open_rows:
                open_rows[-1][1] += inside
        return record

    for name, m in node_modules(model).items():
        hooks.append(m.register_forward_pre_hook(enter))
        hooks.append(m.register_forward_hook(recorder(row_name(name, m))))
    try:
        with _training_off(model), flops:
            y = functional_call(model, tensors, (x,), tie_weights=False)  # none are tied
        if y.dim() == 2:  # a classifier's vector: every feature is the one "pixel"
            pixel = (0, 0)
            y.sum().backward()
        else:
            pixel = centre_pixel(y.shape[2], y.shape[3])
            y[:, :, pixel[0], pixel[1]].sum().backward()
    finally:
        for h in hooks:
            h.remove()
    storages.pop(x.untyped_storage().data_ptr(), None)
    memory = sum(t.untyped_storage().nbytes() for t in storages.values())
    return (tuple(y.shape), flops.total, pixel_support(input_grad(x), pixel), shapes, memory,
            row_flops)


def row_params(model: nn.Module) -> dict[str, int]:
    """The parameters each report row's module holds (numel): a leaf all of its own, a
    merge only those outside its branches (none in cnnviz's merges)."""
    out = {}
    for name, m in node_modules(model).items():
        kind = find_kind(m)
        recurse = kind is not None and kind.is_leaf
        out[row_name(name, m)] = sum(p.numel() for p in m.parameters(recurse=recurse)
                                     if p.requires_grad)
    return out


def pixel_supports(model: nn.Module, input_shape: tuple[int, int, int, int],
                   pixels: list[tuple[int, int]], device: str | torch.device = "cpu",
                   dtype: torch.dtype = torch.float32) -> list[Support]:
    """The input-gradient support of each output pixel in `pixels` (clipped to the output):
    one forward with every path open, one backward per pixel. `model` comes out unchanged."""
    device = torch.device(device)
    tensors = {k: v.to(device) for k, v in opened_tensors(model, dtype).items()}
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(input_shape, generator=generator, dtype=dtype).add_(0.5).to(device)
    x.requires_grad_(True)
    hooks = path_hooks(model)
    supports = []
    try:
        with _training_off(model):
            y = functional_call(model, tensors, (x,), tie_weights=False)
        for i, (r, c) in enumerate(pixels):
            pixel = (min(r, y.shape[2] - 1), min(c, y.shape[3] - 1))
            (grad,) = torch.autograd.grad(y[:, :, pixel[0], pixel[1]].sum(), x,
                                          retain_graph=i < len(pixels) - 1)
            supports.append(pixel_support(grad, pixel))
    finally:
        for h in hooks:
            h.remove()
    return supports


def measure(model: nn.Module, input_shape: tuple[int, int, int, int],
            device: str | torch.device = "cpu", prediction: Prediction | None = None,
            seed: int = 0) -> Measurement:
    """Measure `model` with torch on `input_shape` (batch, channels, height, width).

    `model` is run with substituted tensors and temporary hooks and comes out unchanged,
    but it must not be running in another thread meanwhile (make_report measures the
    module it has just built).
    """
    device = torch.device(device)
    out_shape, flops, support, shapes, memory, row_flops = _probe(model, input_shape, device,
                                                                  torch.float32, seed)
    notes = []
    if prediction is not None and support != prediction.support:
        # Deep stacks can make the gradient at the far edge of the field smaller than
        # float32 can hold (about 1e-45); float64 reaches 1e-308. Measure again there.
        support = _probe(model, (1, *input_shape[1:]), torch.device("cpu"), torch.float64,
                         seed)[2]
        notes.append("The receptive-field probe underflowed in float32 and was repeated in "
                     "float64 on the cpu.")
    return Measurement(out_shape, count_params(model), flops, memory, support, shapes,
                       str(device), notes, row_params(model),
                       {name: n // 2 for name, n in row_flops.items()})

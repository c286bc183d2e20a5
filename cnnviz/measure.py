"""Measured analysis: what torch itself reports for the same module.

Shapes from a real forward, parameters from numel(), FLOPs from
torch.utils.flop_counter.FlopCounterMode, activation memory from the storages
the forward allocates, and the receptive field as the support of the input
gradient of one output pixel.

The receptive-field probe runs on a copy whose paths are all open: positive
weights and inputs (no ReLU or cancellation can hide a pixel), normalization
as the identity (statistics count as constants, as receptive fields assume),
and max-pooling replaced by average pooling of the same window (a max passes
gradient to one pixel only). The user's module is never touched.
"""
from __future__ import annotations

import copy
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from .analysis import NORMS, Prediction, Support, centre_pixel, node_modules, row_name


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


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


@torch.no_grad()
def open_paths(model: nn.Module, generator: torch.Generator) -> list:
    """Make every wire of `model` (a private copy) carry gradient; returns hook handles."""
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)  # only the input gradient is wanted
        fan = p[0].numel() if p.dim() > 1 else 1
        if p.dim() == 1:  # biases, log-scales: neutral
            p.zero_()
        else:
            p.copy_((torch.rand(p.shape, generator=generator) + 0.5) / fan)
    handles = []
    for m in model.modules():
        if hasattr(m, "sign_s"):  # Glow's sign buffer: keep the weight positive
            m.sign_s.fill_(1.0)
        if isinstance(m, NORMS):
            handles.append(m.register_forward_hook(lambda mod, args, out: args[0].clone()))
        elif isinstance(m, nn.MaxPool2d):
            handles.append(m.register_forward_hook(
                lambda mod, args, out: F.avg_pool2d(args[0], mod.kernel_size, mod.stride,
                                                    mod.padding, mod.ceil_mode, False)))
    return handles


@contextmanager
def opened_copy(model: nn.Module, input_shape, device: torch.device | str = "cpu",
                dtype: torch.dtype = torch.float32, seed: int = 0):
    """A private copy of `model` with every path open, and a positive input needing grad.

    Yields (copy, input, hooks): extra hooks appended to `hooks` are removed on exit too.
    """
    generator = torch.Generator().manual_seed(seed)
    probe = copy.deepcopy(model).to(device="cpu", dtype=dtype)
    hooks = open_paths(probe, generator)
    probe.to(device)
    x = (torch.rand(input_shape, generator=generator, dtype=dtype) + 0.5).to(device)
    x.requires_grad_(True)
    try:
        yield probe, x, hooks
    finally:
        for h in hooks:
            h.remove()


def pixel_support(grad: torch.Tensor, pixel: tuple[int, int]) -> Support:
    """Rows and columns where an input gradient of shape (N, C, H, W) is not zero."""
    grad = grad.abs().sum(dim=(0, 1))
    rows = torch.nonzero(grad.sum(dim=1)).flatten().tolist()
    cols = torch.nonzero(grad.sum(dim=0)).flatten().tolist()
    if not rows:
        return Support(pixel, (0, -1), (0, -1))
    return Support(pixel, (rows[0], rows[-1]), (cols[0], cols[-1]))


def _probe(model: nn.Module, input_shape, device: torch.device, dtype: torch.dtype,
           seed: int, record: bool):
    """One forward (counted) and one backward from the centre output pixel."""
    shapes: dict[str, tuple] = {}
    storages: dict[int, torch.Tensor] = {}  # held, so the allocator cannot reuse them
    with opened_copy(model, input_shape, device, dtype, seed) as (probe, x, hooks):
        if record:
            for name, m in node_modules(probe).items():
                def hook(mod, args, out, name=row_name(name, m)):
                    shapes[name] = tuple(out.shape[1:])
                    storages[out.untyped_storage().data_ptr()] = out
                hooks.append(m.register_forward_hook(hook))
        with FlopCounterMode(display=False) as counter:
            y = probe(x)
        pixel = centre_pixel(y.shape[2], y.shape[3])
        y[:, :, pixel[0], pixel[1]].sum().backward()
    storages.pop(x.untyped_storage().data_ptr(), None)
    return (tuple(y.shape), counter.get_total_flops(), pixel_support(x.grad, pixel), shapes,
            sum(t.untyped_storage().nbytes() for t in storages.values()))


def measure(model: nn.Module, input_shape: tuple[int, int, int, int],
            device: str | torch.device = "cpu", prediction: Prediction | None = None,
            seed: int = 0) -> Measurement:
    """Measure `model` with torch on `input_shape` (batch, channels, height, width)."""
    device = torch.device(device)
    out_shape, flops, support, shapes, memory = _probe(model, input_shape, device,
                                                       torch.float32, seed, record=True)
    notes = []
    if prediction is not None and support != prediction.support:
        # Deep stacks can make the gradient at the far edge of the field smaller than
        # float32 can hold (about 1e-45); float64 reaches 1e-308. Measure again there.
        support = _probe(model, (1, *input_shape[1:]), torch.device("cpu"), torch.float64,
                         seed, record=False)[2]
        notes.append("The receptive-field probe underflowed in float32 and was repeated in "
                     "float64 on the cpu.")
    return Measurement(out_shape, count_params(model), flops, memory, support, shapes,
                       str(device), notes)

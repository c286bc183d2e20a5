"""Kinds of the graph's function and method calls: merges, activations, views, resizing.

Each handler gets the walk, the row name and the call's arguments (tensors as T, the rest
as plain values) and returns the output (a T, or a tuple of them), or None when the call
is outside what it predicts (then torch measures the row: "no formula"). Calls that a
registry module does too (F.max_pool2d, F.interpolate, ...) go through that module's rule.
"""
from __future__ import annotations

import operator
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F

from cnnviz.core.graph.values import Handler, P, T, add_row, as_t, last_row, nbytes
from cnnviz.core.graph.views import (
    chunk_kind,
    contiguous_kind,
    expand_kind,
    getitem_kind,
    permute_kind,
    reshape_kind,
    split_kind,
    torch_flatten_kind,
    transpose_kind,
)
from cnnviz.core.kinds import visit
from cnnviz.core.tape import (
    Axis,
    ConfigError,
    Signal,
    Walk,
    axis_after,
    broadcast_map,
    reads_map,
)


def _widest(axes: list[Axis]) -> Axis:
    return Axis(min(a.lo for a in axes), max(a.hi for a in axes), max(a.jump for a in axes))


def merge(w: Walk, name: str, op: str, xs: list[T], shape: tuple[int, ...],
          memory: bool = True) -> T:
    """An add, multiply or concatenation of tensors: sizes broadcast, the widest field wins."""
    sigs = [x.sig for x in xs]
    if len(shape) == 2:  # flat vectors: every feature already sees what the input saw
        h = wd = 1
    else:
        h, wd = shape[-2], shape[-1]
    local = [s for s in sigs if not s.is_global] or sigs
    inputs = [(s, broadcast_map(s.height, h), broadcast_map(s.width, wd)) for s in sigs]
    channels = shape[1] if len(shape) == 2 else int(torch.Size(shape[1:-2]).numel())
    y = w.emit(inputs, channels, h, wd, _widest([s.rf_h for s in local]),
               _widest([s.rf_w for s in local]), any(s.is_global for s in sigs),
               flat=len(shape) == 2)
    out = T(y, shape)
    add_row(w, name, op, xs[0], out, op=op, elementwise=w.batch * y.numel,
            memory=nbytes(out) if memory else 0)
    return out


def _binary(op: str, inplace: bool = False) -> Handler:
    def handle(w: Walk, name: str, args: list, kwargs: dict) -> T | None:
        a, b = args[0], args[1] if len(args) > 1 else kwargs.get("other")
        ts = [v for v in (a, b) if isinstance(v, T)]
        shapes = [v.shape if isinstance(v, (T, P)) else () for v in (a, b)]
        try:
            shape = tuple(torch.broadcast_shapes(*shapes))
        except RuntimeError:
            raise ConfigError(f"At '{name}', the shapes {shapes[0][1:]} and {shapes[1][1:]} "
                              f"do not broadcast (channels, height, width).") from None
        if len(shape) not in (2, 4) or any(len(t.shape) != len(shape) for t in ts):
            return None
        if len(ts) == 1:  # a scalar or a parameter: one pixel at a time
            x = ts[0]
            if x.shape != shape:
                return None
            n = w.batch * x.sig.numel
            add_row(w, name, op, x, x, op=op, elementwise=n, memory=0 if inplace else nbytes(x))
            return x.same_pixels()
        if any(t.last for t in ts):
            return None
        return merge(w, name, op, ts, shape, memory=not inplace)
    return handle


def _per_pixel(op: str, inplace_arg: int | None = 1, inplace: bool = False) -> Handler:
    """Activations: one pixel at a time; in place (inplace=True, relu_) they allocate none."""
    def handle(w: Walk, name: str, args: list, kwargs: dict) -> T | None:
        x = args[0]
        if not isinstance(x, T):
            return None
        same = inplace or bool(kwargs.get("inplace")) or (
            inplace_arg is not None and len(args) > inplace_arg and args[inplace_arg] is True)
        add_row(w, name, op, x, x, op=op, elementwise=w.batch * x.sig.numel,
                memory=0 if same else nbytes(x))
        return x.same_pixels()
    return handle


def _as_module(make: Callable[..., nn.Module | None], kind: str) -> Handler:
    """A call that a registry module does too: the module's rule on the same arguments."""
    def handle(w: Walk, name: str, args: list, kwargs: dict) -> T | None:
        x = args[0]
        if not isinstance(x, T) or len(x.shape) != 4:
            return None
        module = make(*args[1:], **kwargs)
        if module is None:
            return None
        before = len(w.layers)
        y = visit(w, module, x.sig, name)
        out = as_t(y, w.batch)
        last_row(w, before, out.shape, kind)
        return out
    return handle


def _max_pool(kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
              ceil_mode: bool = False, return_indices: bool = False) -> nn.Module | None:
    if return_indices:
        return None
    return nn.MaxPool2d(kernel_size, stride, padding, dilation, ceil_mode=ceil_mode)


def _avg_pool(kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
              count_include_pad: bool = True, divisor_override: int | None = None
              ) -> nn.Module:
    return nn.AvgPool2d(kernel_size, stride, padding, ceil_mode, count_include_pad,
                        divisor_override)


def _interpolate(w: Walk, name: str, args: list, kwargs: dict) -> T | None:
    names = ("size", "scale_factor", "mode", "align_corners")
    opts = dict(zip(names, args[1:])) | kwargs
    x, mode = args[0], opts.get("mode", "nearest")
    if not isinstance(x, T) or len(x.shape) != 4 or mode not in ("nearest", "bilinear") \
            or opts.get("align_corners") or opts.get("recompute_scale_factor"):
        return None
    scale = opts.get("scale_factor")
    if opts.get("size") is not None:
        size = opts["size"]
        size = (size, size) if isinstance(size, int) else tuple(size)
        ratios = {Fraction(s, n) for s, n in zip(size, x.shape[2:])}
        scale = next(iter(ratios)) if len(ratios) == 1 else None
    if isinstance(scale, (tuple, list)):
        scale = scale[0] if len(set(scale)) == 1 else None
    if scale is None or Fraction(scale).denominator != 1 or scale < 1:
        return None
    return _as_module(lambda: nn.Upsample(scale_factor=int(scale), mode=mode),
                      f"interpolate({mode})")(w, name, [x], {})


def _adaptive(x_size: Any) -> nn.Module:
    return nn.AdaptiveAvgPool2d(x_size)


def _dims(x: T, dim: Any) -> set[int]:
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    return {d % len(x.shape) for d in dims if isinstance(d, int)}


def _mean(w: Walk, name: str, args: list, kwargs: dict) -> T | None:
    """x.mean((2, 3)), keepdim or not: a global average pooling."""
    x = args[0]
    dim = args[1] if len(args) > 1 else kwargs.get("dim")
    keep = args[2] if len(args) > 2 else kwargs.get("keepdim", False)
    if not isinstance(x, T) or len(x.shape) != 4 or _dims(x, dim) != {2, 3}:
        return None
    out = _as_module(lambda: nn.AdaptiveAvgPool2d(1), "mean")(w, name, [x], {})
    if keep or out is None:
        return out
    s = out.sig
    flat = Signal(s.channels, 1, 1, s.rf_h, s.rf_w, s.is_global, s.node, flat=True)
    w.layers[-1].out_shape = (s.channels,)
    return T(flat, (w.batch, s.channels))


def _cat(w: Walk, name: str, args: list, kwargs: dict) -> T | None:
    xs = args[0]
    dim = args[1] if len(args) > 1 else kwargs.get("dim", 0)
    if not xs or not all(isinstance(x, T) for x in xs):
        return None
    n = len(xs[0].shape)
    if n not in (2, 4) or any(len(x.shape) != n for x in xs) or dim % n != 1:
        return None
    for x in xs[1:]:
        if x.shape[2:] != xs[0].shape[2:]:
            raise ConfigError(f"At '{name}', torch.cat needs equal height and width: "
                              f"{xs[0].shape[1:]} vs {x.shape[1:]} (channels, height, width).")
    shape = (xs[0].shape[0], sum(x.shape[1] for x in xs), *xs[0].shape[2:])
    return merge(w, name, "cat", list(xs), shape)


def _pad(w: Walk, name: str, args: list, kwargs: dict) -> T | None:
    x, pad = args[0], args[1] if len(args) > 1 else kwargs["pad"]
    mode = args[2] if len(args) > 2 else kwargs.get("mode", "constant")
    if not isinstance(x, T) or len(x.shape) != 4 or mode != "constant" or len(pad) not in (2, 4):
        return None
    left, right, top, bottom = (*pad, 0, 0) if len(pad) == 2 else pad
    s, maps, axes = x.sig, [], []
    for n, lo, rf in ((s.height, top, s.rf_h), (s.width, left, s.rf_w)):
        def reads(o: int, lo: int = lo) -> list[int]:
            return [o - lo]
        maps.append(reads_map(reads, n))
        axes.append(axis_after(rf, reads, 1))
    h, wd = s.height + top + bottom, s.width + left + right
    if h < 1 or wd < 1:
        raise ConfigError(f"At '{name}', the padding leaves no pixel: {h}x{wd}.")
    y = w.emit([(s, maps[0], maps[1])], s.channels, h, wd, axes[0], axes[1], s.is_global)
    out = as_t(y, w.batch)
    add_row(w, name, "pad", x, out, op="copy", elementwise=w.batch * y.numel,
            memory=nbytes(out))
    return out


ACTIVATION_FUNCTIONS = (F.relu, F.relu6, F.silu, F.gelu, F.sigmoid, F.tanh, F.leaky_relu,
                        F.hardswish, F.hardsigmoid, F.elu, F.mish, F.hardtanh,
                        torch.relu, torch.sigmoid, torch.tanh)
_INPLACE_ARG = {F.leaky_relu: 2, F.elu: 2, F.hardtanh: 3, torch.relu: None,
                torch.sigmoid: None, torch.tanh: None}
FUNCTIONS: dict[Any, Handler] = {
    **{f: _per_pixel("activation", _INPLACE_ARG.get(f, 1)) for f in ACTIVATION_FUNCTIONS},
    torch.relu_: _per_pixel("activation", None, inplace=True),
    operator.add: _binary("add"), torch.add: _binary("add"), operator.sub: _binary("add"),
    torch.sub: _binary("add"), operator.mul: _binary("mul"), torch.mul: _binary("mul"),
    operator.truediv: _binary("mul"), torch.div: _binary("mul"),
    operator.iadd: _binary("add", inplace=True), operator.imul: _binary("mul", inplace=True),
    torch.cat: _cat, torch.concat: _cat, torch.flatten: torch_flatten_kind,
    torch.reshape: reshape_kind(False), torch.transpose: transpose_kind,
    torch.permute: permute_kind, torch.chunk: chunk_kind, torch.split: split_kind,
    torch.mean: _mean, operator.getitem: getitem_kind,
    F.interpolate: _interpolate, F.upsample: _interpolate, F.pad: _pad,
    F.adaptive_avg_pool2d: _as_module(_adaptive, "adaptive_avg_pool2d"),
    F.max_pool2d: _as_module(_max_pool, "max_pool2d"),
    F.avg_pool2d: _as_module(_avg_pool, "avg_pool2d"),
}
METHODS: dict[str, Handler] = {
    "relu": _per_pixel("activation", None), "relu_": _per_pixel("activation", None, True),
    "sigmoid": _per_pixel("activation", None), "sigmoid_": _per_pixel("activation", None, True),
    "tanh": _per_pixel("activation", None),
    "add": _binary("add"), "add_": _binary("add", inplace=True), "mul": _binary("mul"),
    "mul_": _binary("mul", inplace=True), "sub": _binary("add"), "div": _binary("mul"),
    "flatten": torch_flatten_kind, "view": reshape_kind(True), "reshape": reshape_kind(False),
    "transpose": transpose_kind, "permute": permute_kind, "contiguous": contiguous_kind,
    "chunk": chunk_kind, "split": split_kind, "mean": _mean, "expand": expand_kind,
    "expand_as": expand_kind,
}

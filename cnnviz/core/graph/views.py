"""Kinds of the graph's views: flatten, view and reshape, transpose and permute (a channel
shuffle), contiguous, expand, and the pieces of a split (chunk, split, a channel slice).

A view allocates nothing; a reshape or contiguous of a non-contiguous tensor copies it.
Pixels keep their place unless the batch or the last two dims move (then: no formula)."""
from __future__ import annotations

from typing import Any

import torch

from cnnviz.core.graph.values import Handler, P, T, add_row, nbytes, regroup
from cnnviz.core.tape import Signal, Walk, broadcast_map, global_map


def _flatten(w: Walk, name: str, x: T, memory: int = 0) -> T:
    """(N, ...) -> (N, F): one vector holds every position (the classifier sees it all)."""
    s = x.sig
    y = w.emit([(s, global_map(s.height), global_map(s.width))], s.numel, 1, 1, s.rf_h, s.rf_w,
               is_global=True, flat=True)
    out = T(y, (x.shape[0], s.numel))
    add_row(w, name, "flatten", x, out, memory=memory)
    return out


def torch_flatten_kind(w: Walk, name: str, args: list, kwargs: dict) -> T | None:
    x = args[0]
    start = args[1] if len(args) > 1 else kwargs.get("start_dim", 0)
    end = args[2] if len(args) > 2 else kwargs.get("end_dim", -1)
    if not isinstance(x, T) or start != 1 or end not in (-1, len(x.shape) - 1):
        return None
    if len(x.shape) == 2:
        add_row(w, name, "flatten", x, x)
        return x
    return _flatten(w, name, x, 0 if x.contiguous else nbytes(x))


def reshape_kind(view: bool) -> Handler:
    def handle(w: Walk, name: str, args: list, kwargs: dict) -> T | None:
        x, shape = args[0], list(args[1:]) or [kwargs.get("shape") or kwargs.get("size")]
        if len(shape) == 1 and isinstance(shape[0], (tuple, list, torch.Size)):
            shape = list(shape[0])
        if not isinstance(x, T) or not all(isinstance(s, int) for s in shape):
            return None
        if -1 in shape:
            known = int(torch.Size([s for s in shape if s != -1]).numel())
            shape[shape.index(-1)] = x.numel // max(1, known)
        new = tuple(shape)
        copy = 0 if x.contiguous or view else nbytes(x)  # a view never copies
        if new[0] != x.shape[0] or int(torch.Size(new).numel()) != x.numel:
            return None
        if len(new) == 2 and x.spatial:
            return _flatten(w, name, x, copy)
        if len(new) == 4 and x.sig.flat and new[2:] == (1, 1):  # (N, C) -> (N, C, 1, 1)
            s = x.sig
            out = T(Signal(new[1], 1, 1, s.rf_h, s.rf_w, s.is_global, s.node), new)
            add_row(w, name, "view" if view else "reshape", x, out)
            return out
        if new == x.shape or (len(new) >= 4 and x.spatial and new[-2:] == x.shape[-2:]):
            out = regroup(x, new) if len(new) >= 4 else T(x.sig, new)
            add_row(w, name, "view" if view else "reshape", x, out, op="copy" if copy else "",
                    elementwise=w.batch * x.sig.numel if copy else 0, memory=copy)
            return out
        return None
    return handle


def _permutation(x: T, perm: list[int]) -> T | None:
    n = len(x.shape)
    perm = [p % n for p in perm]
    if n == 4 and not x.sig.flat and perm in ([0, 2, 3, 1], [0, 3, 1, 2]):
        to_last = perm == [0, 2, 3, 1]
        if to_last == x.last:
            return None
        return T(x.sig, tuple(x.shape[p] for p in perm), False, last=to_last)
    if not x.spatial or perm[0] != 0 or perm[-2:] != [n - 2, n - 1]:
        return None  # moves the batch or the pixels: outside the map's rules
    return regroup(x, tuple(x.shape[p] for p in perm), contiguous=False)


def transpose_kind(w: Walk, name: str, args: list, kwargs: dict) -> T | None:
    x = args[0]
    if not isinstance(x, T):
        return None
    d0, d1 = args[1] if len(args) > 1 else kwargs["dim0"], args[2] if len(args) > 2 \
        else kwargs["dim1"]
    perm = list(range(len(x.shape)))
    perm[d0], perm[d1] = perm[d1], perm[d0]
    out = _permutation(x, perm)
    if out is not None:
        add_row(w, name, "transpose", x, out)  # a view: no new memory
    return out


def permute_kind(w: Walk, name: str, args: list, kwargs: dict) -> T | None:
    x = args[0]
    dims = list(args[1:]) or list(kwargs.get("dims", ()))
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = list(dims[0])
    out = _permutation(x, dims) if isinstance(x, T) else None
    if out is not None:
        add_row(w, name, "permute", x, out)
    return out


def expand_kind(w: Walk, name: str, args: list, kwargs: dict) -> T | None:
    """x.expand_as(y), x.expand(N, C, H, W): a broadcast view (no new memory)."""
    x, target = args[0], tuple(args[1:])
    if len(target) == 1:
        target = tuple(target[0].shape if isinstance(target[0], (T, P)) else target[0])
    if not isinstance(x, T) or len(x.shape) != 4 or len(target) != 4:
        return None
    shape = tuple(n if t == -1 else t for n, t in zip(x.shape, target))
    if any(n not in (1, t) for n, t in zip(x.shape, shape)) or x.shape[:2] != shape[:2]:
        return None
    s = x.sig
    y = w.emit([(s, broadcast_map(s.height, shape[2]), broadcast_map(s.width, shape[3]))],
               s.channels, shape[2], shape[3], s.rf_h, s.rf_w, s.is_global)
    out = T(y, shape, contiguous=False)
    add_row(w, name, "expand", x, out)
    return out


def contiguous_kind(w: Walk, name: str, args: list, kwargs: dict) -> T | None:
    x = args[0]
    if not isinstance(x, T):
        return None
    copy = 0 if x.contiguous else nbytes(x)
    out = T(x.sig, x.shape)
    add_row(w, name, "contiguous", x, out, op="copy" if copy else "",
            elementwise=w.batch * x.sig.numel if copy else 0, memory=copy)
    return out


def _channel_piece(x: T, start: int, stop: int) -> T:
    s = x.sig
    sig = Signal(stop - start, s.height, s.width, s.rf_h, s.rf_w, s.is_global, s.node)
    return T(sig, (x.shape[0], stop - start, *x.shape[2:]), contiguous=False)


def _pieces(w: Walk, name: str, x: Any, sizes: list[int], dim: int) -> tuple[T, ...] | None:
    if not isinstance(x, T) or len(x.shape) != 4 or dim % 4 != 1:
        return None
    out, start = [], 0
    for size in sizes:
        out.append(_channel_piece(x, start, start + size))
        start += size
    add_row(w, name, "split", x, out[0])  # views: no new memory
    return tuple(out)


def chunk_kind(w: Walk, name: str, args: list, kwargs: dict) -> tuple[T, ...] | None:
    x, k = args[0], args[1] if len(args) > 1 else kwargs["chunks"]
    dim = args[2] if len(args) > 2 else kwargs.get("dim", 0)
    if not isinstance(x, T):
        return None
    c = x.shape[dim]
    size = -(-c // k)
    return _pieces(w, name, x, [min(size, c - i) for i in range(0, c, size)], dim)


def split_kind(w: Walk, name: str, args: list, kwargs: dict) -> tuple[T, ...] | None:
    x, size = args[0], args[1] if len(args) > 1 else kwargs["split_size_or_sections"]
    dim = args[2] if len(args) > 2 else kwargs.get("dim", 0)
    if not isinstance(x, T):
        return None
    c = x.shape[dim]
    sizes = list(size) if isinstance(size, (list, tuple)) else \
        [min(size, c - i) for i in range(0, c, size)]
    return _pieces(w, name, x, sizes, dim)


def getitem_kind(w: Walk, name: str, args: list, kwargs: dict) -> Any:
    """A piece of a split, or a channel slice x[:, a:b]."""
    x, index = args
    if isinstance(x, (tuple, list)):
        return x[index]
    if not isinstance(x, T) or len(x.shape) != 4 or not isinstance(index, tuple) \
            or len(index) != 2 or index[0] != slice(None) or not isinstance(index[1], slice):
        return None
    start, stop, step = index[1].indices(x.shape[1])
    if step != 1 or stop <= start:
        return None
    out = _channel_piece(x, start, stop)
    add_row(w, name, "slice", x, out)
    return out

"""What flows along the graph walk's edges: tensors described by their shape and signal."""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cnnviz.core.tape import Layer, Signal, Walk

NO_FORMULA = "no formula"  # the op of a row torch measured and no rule predicted

# (walk, row name, arguments, keyword arguments) -> output, or None: no formula
Handler = Callable[[Walk, str, list[Any], dict[str, Any]], Any]


@dataclass
class T:
    """A tensor of the walk: its full shape (batch first) and its signal (field, tape node).

    The signal sees a (N, C, H, W) map; a tensor with more dims before H, W (a channel
    shuffle's (N, g, C/g, H, W)) is a map of prod(middle) channels; a (N, F) one is flat."""

    sig: Signal
    shape: tuple[int, ...]
    contiguous: bool = True
    last: bool = False  # (N, H, W, C): channels last, as after x.permute(0, 2, 3, 1)

    @property
    def numel(self) -> int:
        return math.prod(self.shape)

    @property
    def spatial(self) -> bool:
        return len(self.shape) >= 4 and not self.sig.flat and not self.last

    def same_pixels(self) -> T:
        """A new tensor of the same shape and layout (one pixel at a time made it)."""
        return T(self.sig, self.shape, self.contiguous, self.last)


@dataclass
class P:
    """A parameter or buffer read in a forward (get_attr): counted where it is read."""

    shape: tuple[int, ...]


def as_t(sig: Signal, batch: int, contiguous: bool = True) -> T:
    return T(sig, (batch, *sig.shape), contiguous)


def regroup(x: T, shape: tuple[int, ...], contiguous: bool = True) -> T:
    """The same pixels with their channels grouped as `shape` (batch, ..., H, W)."""
    sig = x.sig
    channels = math.prod(shape[1:-2])
    s = Signal(channels, sig.height, sig.width, sig.rf_h, sig.rf_w, sig.is_global, sig.node)
    return T(s, shape, contiguous)


def last_row(w: Walk, before: int, shape: tuple[int, ...], kind: str | None = None) -> None:
    """Give the rows a node added their full output shape (batch excluded) and its kind."""
    for layer in w.layers[before:]:
        layer.out_shape = shape[1:]
        if kind is not None:
            layer.kind = kind


def add_row(w: Walk, name: str, kind: str, x: T, y: T, *, op: str = "", elementwise: int = 0,
            memory: int = 0, params: int = 0, macs: int = 0) -> Layer:
    w.row(name, kind, x.sig, y.sig, params=params, macs=macs, elementwise=elementwise, op=op,
          memory=memory)
    layer = w.layers[-1]
    layer.in_shape, layer.out_shape = x.shape[1:], y.shape[1:]
    return layer


def nbytes(x: T) -> int:
    return 4 * x.numel

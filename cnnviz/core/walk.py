"""Predicted analysis: walk the built module and apply one formula per layer kind.

No forward pass and no tensor arithmetic: shapes, receptive fields, parameter
and MAC counts come from each module's hyperparameters, by the rule of its
entry in cnnviz.core.kinds. The walk records a tape of spatial maps (see
cnnviz.core.tape) so that the exact set of input pixels one output pixel
depends on can be propagated back (what torch's gradient measures).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch.nn as nn

from cnnviz.core.field import ReceptiveField
from cnnviz.core.kinds import ACTIVATIONS, node_modules, row_name, visit
from cnnviz.core.tape import Axis, ConfigError, Layer, Signal, Walk

__all__ = ["ACTIVATIONS", "Axis", "ConfigError", "Layer", "Prediction", "Signal", "Support",
           "centre_pixel", "node_modules", "predict", "predict_supports", "row_name"]


@dataclass
class Support:
    """Rows and columns of the input that one output pixel depends on (inclusive)."""

    pixel: tuple[int, int]
    rows: tuple[int, int]
    cols: tuple[int, int]

    @property
    def size(self) -> tuple[int, int]:
        return (self.rows[1] - self.rows[0] + 1, self.cols[1] - self.cols[0] + 1)


@dataclass
class Prediction:
    input_shape: tuple[int, int, int, int]
    output_shape: tuple[int, ...]  # (N, C, H, W), or (N, F) after a flatten
    layers: list[Layer]
    params: int
    macs: int
    elementwise: dict[str, int]
    memory: int
    support: Support
    output: Signal  # the walk's last signal: its receptive field in full

    @property
    def flops(self) -> int:
        return 2 * self.macs

    @property
    def receptive_field(self) -> ReceptiveField:
        return self.output.receptive_field


def predict(model: nn.Module, input_shape: tuple[int, int, int, int]) -> Prediction:
    """Predicted shapes, receptive field, params and MACs of `model` on `input_shape`."""
    return _walk(model, input_shape)[0]


def predict_supports(model: nn.Module, input_shape: tuple[int, int, int, int],
                     pixels: list[tuple[int, int]]) -> tuple[Prediction, list[Support]]:
    """The prediction and the exact input support of each output pixel in `pixels`
    (clipped to the output), from one walk."""
    prediction, w = _walk(model, input_shape)
    y = prediction.output
    return prediction, [_support(w, y, (min(r, y.height - 1), min(c, y.width - 1)))
                        for r, c in pixels]


def _walk(model: nn.Module, input_shape: tuple[int, int, int, int]) -> tuple[Prediction, Walk]:
    n, c, h, wd = input_shape
    w = Walk(n)
    y = visit(w, model, Signal(c, h, wd, Axis(), Axis()), "")
    for dim, size in zip("HW", (y.height, y.width)):
        if size < 1:
            raise ConfigError(f"The output {dim} would be {size}: the input is too small for "
                              f"this many downsampling layers.")
    totals: dict[str, int] = {}
    for layer in w.layers:
        if layer.op and layer.elementwise:  # a depthwise conv's op tags its MACs instead
            totals[layer.op] = totals.get(layer.op, 0) + layer.elementwise
    return Prediction(
        input_shape=input_shape, output_shape=(n, *y.shape), layers=w.layers,
        params=sum(layer.params for layer in w.layers),
        macs=sum(layer.macs for layer in w.layers), elementwise=totals,
        memory=sum(layer.memory for layer in w.layers),
        support=_support(w, y, centre_pixel(y.height, y.width)), output=y), w


def centre_pixel(height: int, width: int) -> tuple[int, int]:
    return (height // 2, width // 2)


def _support(w: Walk, y: Signal, pixel: tuple[int, int]) -> Support:
    """Propagate one output pixel back along the tape to the input.

    The pixels needed at a node are a union of rectangles, kept as {column mask: row mask}:
    every map is separable (rows and columns apart), so a rectangle maps to a rectangle,
    and a PixelCNN mask (two rectangles of taps) stays exact.
    """
    needed: dict[int, dict[int, int]] = {y.node: {1 << pixel[1]: 1 << pixel[0]}}
    for node, inputs in reversed(w.tape):
        rects = needed.pop(node, None)
        if not rects:
            continue
        for src, map_h, map_w in inputs:
            target = needed.setdefault(src, {})
            for cols, rows in rects.items():
                bh = map_h(rows) if map_h else rows
                bw = map_w(cols) if map_w else cols
                if bh and bw:
                    target[bw] = target.get(bw, 0) | bh
            if len(target) > 1:
                needed[src] = _outermost(target)
    rects = needed.get(0, {})
    if not rects:
        return Support(pixel, (0, -1), (0, -1))
    rows = cols = 0
    for c, r in rects.items():
        rows, cols = rows | r, cols | c
    return Support(pixel, _bit_range(rows), _bit_range(cols))


def _outermost(rects: dict[int, int]) -> dict[int, int]:
    """Drop rectangles inside another one (a shortcut's inside its body's): residual
    networks then carry one rectangle, as a product of rows and columns would."""
    return {c: r for c, r in rects.items()
            if not any((c2, r2) != (c, r) and c & c2 == c and r & r2 == r
                       for c2, r2 in rects.items())}


def _bit_range(mask: int) -> tuple[int, int]:
    return ((mask & -mask).bit_length() - 1, mask.bit_length() - 1)

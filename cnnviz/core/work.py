"""The work shown: each weighted layer's parameter and MAC counts written as products of its
own numbers ("3·3·64·64 + 64"), next to the predicted figure and torch's.

The expressions are written from the same module attributes and shapes the predicted walk
reads (cnnviz.core.kinds); tests/unit/test_work.py evaluates every expression of every
registry block and holds it equal to the walk's figure. A layer kind with no expression
here shows its figure alone.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch.nn as nn

from cnnviz.core.kinds import node_modules, row_name
from cnnviz.core.layers import AttentionPool, InvertibleConv1x1, LayerNorm2d, LayerScale
from cnnviz.core.names import layer_names
from cnnviz.core.walk import Layer

if TYPE_CHECKING:
    from cnnviz.core.report import Report

TIMES = "·"


@dataclass(frozen=True)
class LayerWork:
    """One weighted layer's row of the work: what it is and how its counts are made."""

    title: str          # readable name ("block 1 · conv 2")
    kind: str           # the module's class
    kernel: str         # "3×3", or "" for a layer without a window
    stride: str         # "2", "2×1", or ""
    in_channels: int
    out_channels: int
    out_shape: tuple[int, ...]
    params_expr: str    # "3·3·64·64 + 64"
    params: int         # predicted (the walk)
    params_measured: int | None  # torch: numel of the module's parameters
    macs_expr: str
    macs: int
    macs_measured: int | None    # torch's FLOP counter on the ops the module ran, halved


def product(*factors: int | str) -> str:
    return TIMES.join(str(f) for f in factors)


def _pair(v: int | tuple[int, ...]) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[-1]))


def _size_text(v: tuple[int, int]) -> str:
    return str(v[0]) if v[0] == v[1] else f"{v[0]}×{v[1]}"


def _per_group(channels: int, groups: int) -> str:
    return str(channels) if groups == 1 else f"({channels}/{groups})"


def expressions(m: nn.Module, layer: Layer, batch: int) -> tuple[str, str]:
    """(parameter expression, MAC expression) of one layer; "" where a count is zero."""
    lead: tuple[int, ...] = (batch,) if batch > 1 else ()
    if isinstance(m, nn.ConvTranspose2d):
        kh, kw = _pair(m.kernel_size)
        per = _per_group(m.out_channels, m.groups)
        bias = f" + {m.out_channels}" if m.bias is not None else ""
        _, h, w = layer.in_shape  # a transposed conv works per input pixel
        return (product(kh, kw, per, m.in_channels) + bias,
                product(*lead, kh, kw, per, m.in_channels, h, w))
    if isinstance(m, nn.Conv2d):  # the PixelCNN mask zeroes weights, it keeps them
        kh, kw = _pair(m.kernel_size)
        per = _per_group(m.in_channels, m.groups)
        bias = f" + {m.out_channels}" if m.bias is not None else ""
        _, h, w = layer.out_shape
        return (product(kh, kw, per, m.out_channels) + bias,
                product(*lead, kh, kw, per, m.out_channels, h, w))
    if isinstance(m, nn.Linear):
        bias = f" + {m.out_features}" if m.bias is not None else ""
        return (product(m.in_features, m.out_features) + bias,
                product(*lead, m.in_features, m.out_features))
    if isinstance(m, (nn.BatchNorm2d, nn.GroupNorm, LayerNorm2d)):
        c = layer.in_shape[0]  # a scale and a shift per channel (running stats are buffers)
        affine = m.elementwise_affine if isinstance(m, LayerNorm2d) else m.affine
        return (product(2, c) if affine else "", "")
    if isinstance(m, LayerScale):
        return str(m.gamma.numel()), ""
    if isinstance(m, InvertibleConv1x1):
        c, h, w = layer.out_shape
        return (f"{product(2, c, c)} + {c}",
                f"{product(*lead, c, h, w, c)} + {product(2, c, c, c)}")
    if isinstance(m, AttentionPool):  # a 1×1 score conv (C -> 1) and the weighted sum
        c, h, w = layer.in_shape
        return f"{c} + 1", product(2, *lead, c, h, w)
    return "", ""


def _window(m: nn.Module) -> tuple[str, str]:
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
        stride = _pair(m.stride)
        return "×".join(map(str, _pair(m.kernel_size))), \
            _size_text(stride) if stride != (1, 1) else "1"
    return "", ""


def layer_work(report: Report) -> list[LayerWork]:
    """Every layer of the report with parameters or MACs, in walk order."""
    p, m = report.predicted, report.measured
    modules = {row_name(name, mod): mod for name, mod in node_modules(report.model).items()}
    titles = layer_names([(layer.name, layer.kind) for layer in p.layers])
    rows = []
    for layer, title in zip(p.layers, titles):
        if not (layer.params or layer.macs):
            continue
        module = modules[layer.name]
        params_expr, macs_expr = expressions(module, layer, p.input_shape[0])
        kernel, stride = _window(module)
        rows.append(LayerWork(
            title, layer.kind, kernel, stride, layer.in_shape[0], layer.out_shape[0],
            layer.out_shape, params_expr or (str(layer.params) if layer.params else ""),
            layer.params, None if m is None else m.layer_params.get(layer.name),
            macs_expr or (str(layer.macs) if layer.macs else ""), layer.macs,
            None if m is None else m.layer_macs.get(layer.name)))
    return rows


def evaluate(expr: str) -> int:
    """The value of an expression written above: whole numbers, "·", "+" and "(a/b)"."""
    import ast
    from fractions import Fraction

    def value(node: ast.AST) -> Fraction:
        if isinstance(node, ast.Constant) and type(node.value) is int:
            return Fraction(node.value)
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mult, ast.Div)):
            a, b = value(node.left), value(node.right)
            return a + b if isinstance(node.op, ast.Add) else a * b \
                if isinstance(node.op, ast.Mult) else a / b
        raise ValueError(f"not an expression of whole numbers: {expr!r}")
    result = value(ast.parse(expr.replace(TIMES, "*"), mode="eval").body)
    if result.denominator != 1:
        raise ValueError(f"{expr!r} is not a whole number")
    return int(result)


def _of(n: int, total: int, what: str) -> str:
    if total == 1:
        return f"The {what}"
    return f"All {total} {what}s" if n == total else f"{n} of the {total} {what}s"


_NORM_SOURCES = ((nn.BatchNorm2d, "Ioffe & Szegedy 2015, §3"),
                 (nn.GroupNorm, "Wu & He 2018, Group Normalization, §3"),
                 (LayerNorm2d, "Ba, Kiros & Hinton 2016, Layer Normalization, §3"))


def counting_notes(model: nn.Module) -> list[str]:
    """What the parameter counts of `model` include, read from its modules: conv biases
    (present or left out) and the norms' scale and shift, each with its source."""
    convs = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    norms = [m for m in model.modules()
             if isinstance(m, (nn.BatchNorm2d, nn.GroupNorm, LayerNorm2d))]
    batch_norms = any(isinstance(m, nn.BatchNorm2d) for m in norms)
    notes = []
    without = sum(m.bias is None for m in convs)
    if without:
        verb = "has" if without == 1 else "have"
        notes.append(f"{_of(without, len(convs), 'convolution')} {verb} no bias." + (
            " A batch norm right after a conv subtracts each channel's mean, which cancels "
            "a bias (Ioffe & Szegedy 2015, §3.2)." if batch_norms else ""))
    if len(convs) > without:
        verb = "keeps" if len(convs) - without == 1 else "keep"
        notes.append(f"{_of(len(convs) - without, len(convs), 'convolution')} {verb} a "
                     f"bias: one more parameter per output channel.")
    if norms:
        sources = [source for kind, source in _NORM_SOURCES
                   if any(isinstance(m, kind) for m in norms)]
        notes.append("Each norm layer counts 2 parameters per channel: its learned scale γ "
                     f"and shift β ({'; '.join(sources)}).")
    if batch_norms:
        notes.append("BatchNorm's running mean and variance are not parameters: torch does "
                     "not count them, and neither does cnnviz.")
    return notes

"""Modules that hold modules: the chain (nn.Sequential) and the three merges."""
from __future__ import annotations

import torch.nn as nn

from cnnviz.core.kinds.registry import Call, LayerKind, register, row_name, visit
from cnnviz.core.layers import Concat, Gate, Residual
from cnnviz.core.tape import Axis, ConfigError, Signal, Walk, broadcast_map


def sequential_rule(w: Walk, name: str, m: nn.Sequential, x: Signal) -> Signal:
    for child_name, child in m._modules.items():  # named_children() without its set
        if child is not None:
            x = visit(w, child, x, f"{name}.{child_name}" if name else child_name)
    return x


def _sequential_code(m: nn.Sequential) -> Call:
    children = list(m.named_children())
    if all(name.isdigit() for name, _ in children):
        return Call("nn.Sequential", tuple(("", c) for _, c in children))
    return Call("nn.Sequential", tuple(children), ordered=True)


# --- merges ---------------------------------------------------------------------

def _widest(axes: list[Axis]) -> Axis | None:
    if not axes:
        return None
    return Axis(min(a.lo for a in axes), max(a.hi for a in axes), max(a.jump for a in axes))


def _merge(w: Walk, name: str, kind: str, inputs: list[Signal], channels: int) -> Signal:
    """The add, concat or multiply node: inputs broadcast, the widest field wins."""
    height = max(s.height for s in inputs)
    width = max(s.width for s in inputs)
    rf_h = _widest([s.rf_h for s in inputs if not s.is_global]) or inputs[0].rf_h
    rf_w = _widest([s.rf_w for s in inputs if not s.is_global]) or inputs[0].rf_w
    y = w.emit([(s, broadcast_map(s.height, height), broadcast_map(s.width, width))
                for s in inputs], channels, height, width, rf_h, rf_w,
               any(s.is_global for s in inputs))
    w.row(name, kind, inputs[0], y, elementwise=w.batch * y.numel, op=kind,
          memory=w.output_bytes(y))
    return y


def _same_size(name: str, what: str, a: Signal, b: Signal, fix: str,
               broadcast: bool = True) -> None:
    """Equal height and width; a size of 1 broadcasts in an add or a multiply (not in a
    concatenation: torch.cat needs equal sizes)."""
    for n, m in ((a.height, b.height), (a.width, b.width)):
        if n != m and not (broadcast and 1 in (n, m)):
            raise ConfigError(f"At '{name}', the {what} do not line up: {a.shape} vs "
                              f"{b.shape} (channels, height, width). {fix}")


def residual_rule(w: Walk, name: str, m: Residual, x: Signal) -> Signal:
    body = visit(w, m.body, x, f"{name}.body")
    short = visit(w, m.shortcut, x, f"{name}.shortcut")
    fix = ("The branch must give the size the shortcut gives: use padding 'same', or "
           "turn skip off.")
    _same_size(name, "residual branch and the shortcut", body, short, fix)
    if body.channels != short.channels:
        raise ConfigError(f"At '{name}', the residual branch gives {body.channels} channels "
                          f"but the shortcut gives {short.channels}.")
    return _merge(w, row_name(name, m), "add", [body, short], body.channels)


def concat_rule(w: Walk, name: str, m: Concat, x: Signal) -> Signal:
    outs = [visit(w, b, x, f"{name}.branches.{i}") for i, b in enumerate(m.branches)]
    for o in outs[1:]:
        _same_size(name, "concatenated branches", outs[0], o,
                   "Every branch must keep the same height and width: check the padding, and "
                   "give an input size that every downsampling halves exactly (a U-Net of L "
                   "levels needs a multiple of 2^L).",
                   broadcast=False)
    return _merge(w, row_name(name, m), "concat", outs, sum(o.channels for o in outs))


def gate_rule(w: Walk, name: str, m: Gate, x: Signal) -> Signal:
    g = visit(w, m.gate, x, f"{name}.gate")
    return _merge(w, row_name(name, m), "mul", [x, g], x.channels)


register(LayerKind((nn.Sequential,), sequential_rule, _sequential_code, row=False))
register(LayerKind(
    (Residual,), residual_rule, label=lambda m: "+", merge_op="add",
    code=lambda m: Call("Residual", (("body", m.body), ("shortcut", m.shortcut))),
    branches=lambda m: [("body", m.body), ("shortcut", m.shortcut)]))
register(LayerKind(
    (Concat,), concat_rule, label=lambda m: "concat", merge_op="cat",
    code=lambda m: Call("Concat", tuple(("", b) for b in m.branches)),
    branches=lambda m: [(f"branches.{i}", b) for i, b in enumerate(m.branches)]))
register(LayerKind(
    (Gate,), gate_rule, label=lambda m: "×", merge_op="mul",
    code=lambda m: Call("Gate", (("", m.gate),)),
    branches=lambda m: [("", None), ("gate", m.gate)]))

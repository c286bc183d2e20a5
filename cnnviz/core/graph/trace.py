"""Tracing a person's module with torch.fx, and the probe's copy of the traced graph.

Leaf modules are the ones the kinds registry knows (cnnviz.core.kinds): the tracer stops
at them and the walk applies their rule; every other module is traced through, so a merge
written in a `forward` (`out += identity`, `torch.cat`, `x * s`) is a node of the graph.
torch.nn modules the registry does not know stay leaves too (torch's own default), and
their rows are measured only ("no formula").
"""
from __future__ import annotations

import copy

import torch
import torch.fx as fx
import torch.nn as nn
import torch.nn.functional as F

from cnnviz.core.errors import ModelError
from cnnviz.core.kinds import KINDS, find_kind

GraphModule: type[fx.GraphModule]
try:  # generates the forward's code when it first runs: the predicted walk never does
    from torch.fx._lazy_graph_module import _LazyGraphModule as GraphModule
except ImportError:  # pragma: no cover - an older or newer torch without it
    GraphModule = fx.GraphModule


def registry_leaf(m: nn.Module) -> bool:
    """A module whose registry rule describes its forward: its exact type is registered,
    or it subclasses a registered type without a forward of its own."""
    kind = KINDS.get(type(m))
    if kind is None:
        kind = find_kind(m)
        if kind is None or not any(type(m).forward is t.forward for t in kind.types):
            return False
    return kind.is_leaf


class Tracer(fx.Tracer):
    def is_leaf_module(self, m: nn.Module, module_qualified_name: str) -> bool:
        if isinstance(m, fx.GraphModule):
            return False
        return registry_leaf(m) or super().is_leaf_module(m, module_qualified_name)


def trace(model: nn.Module) -> fx.GraphModule:
    """The fx graph of `model`; a ModelError naming the module and the reason when fx cannot
    trace it (control flow that depends on the input's values, an unsupported call)."""
    if isinstance(model, fx.GraphModule):
        return model
    if not isinstance(model, nn.Module):
        raise ModelError(f"cnnviz inspects a torch.nn.Module, not a {type(model).__name__}.")
    name = type(model).__name__
    try:
        graph = Tracer().trace(model)
    except Exception as e:  # fx raises TraceError, TypeError, RuntimeError, ... alike
        reason = " ".join(str(e).split()) or type(e).__name__
        raise ModelError(f"torch.fx cannot trace {name}: {reason[:300]} (cnnviz needs a "
                         f"forward whose steps do not depend on the input's values).") from None
    return GraphModule(model, graph, name)


# --- the probe's copy: every path open -------------------------------------------------

def _max_as_average(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                    return_indices=False):
    """A max passes gradient to one pixel only, an average of the same window to all."""
    return F.avg_pool2d(x, kernel_size, stride, padding, ceil_mode, False)


def _relu(x, *args, **kwargs):
    """A capped activation uncapped (in place where it was): with every path open the values
    grow past the cap, where it would pass no gradient and hide pixels of the field."""
    inplace = kwargs.get("inplace", False) or (bool(args) and args[-1] is True)
    return torch.relu_(x) if inplace else torch.relu(x)


def _sigmoid(x, *args, **kwargs):
    """A hard sigmoid is flat past ±3 (no gradient there): the probe's is a sigmoid."""
    inplace = kwargs.get("inplace", False) or (bool(args) and args[-1] is True)
    return torch.sigmoid_(x) if inplace else torch.sigmoid(x)


def _pass_on(x, *args, **kwargs):
    """A norm's statistics mix pixels and, with uniform weights after it, cancel: the probe
    passes its input on (statistics count as constants, as receptive fields assume)."""
    return x.clone()


_OPENED = {F.layer_norm: _pass_on, F.max_pool2d: _max_as_average, F.relu6: _relu,
           F.hardtanh: _relu, F.hardsigmoid: _sigmoid}


def probe_module(gm: fx.GraphModule) -> fx.GraphModule:
    """A copy of `gm` whose functional max-pools average and whose capped activations do
    not cap (the registry's probe hooks do the same for modules): same shapes and FLOPs."""
    graph = copy.deepcopy(gm.graph)
    for node in graph.nodes:
        module = gm.get_submodule(str(node.target)) if node.op == "call_module" else None
        if isinstance(module, nn.Hardtanh):  # ReLU6 too; its probe hook cannot undo in place
            node.op, node.target = "call_function", _relu
            node.kwargs = {"inplace": module.inplace}
        elif isinstance(module, nn.Hardsigmoid):
            node.op, node.target = "call_function", _sigmoid
            node.kwargs = {"inplace": module.inplace}
        elif isinstance(module, nn.LayerNorm):  # as LayerNorm2d's probe hook does
            node.op, node.target, node.kwargs = "call_function", _pass_on, {}
        elif node.op == "call_function" and node.target in _OPENED:
            node.target = _OPENED[node.target]
        elif node.op == "call_method" and node.target in ("relu6", "hardtanh"):
            node.op, node.target = "call_function", _relu
    graph.lint()
    return GraphModule(gm, graph, gm.__class__.__name__)

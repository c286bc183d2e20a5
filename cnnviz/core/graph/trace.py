"""Tracing a person's module with torch.fx, and the probe's copy of the traced graph.

Leaf modules are the ones the kinds registry knows (cnnviz.core.kinds): the tracer stops
at them and the walk applies their rule; every other module is traced through, so a merge
written in a `forward` (`out += identity`, `torch.cat`, `x * s`) is a node of the graph.
torch.nn modules the registry does not know stay leaves too (torch's own default), and
their rows are measured only ("no formula").
"""
from __future__ import annotations

import copy
import functools
import threading
import weakref
from collections import OrderedDict
from typing import Any

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
    trace it (control flow that depends on the input's values, an unsupported call).

    A model traced before, whose structure is unchanged, gets the same graph back (tracing
    is most of a predicted report's time): see TRACES.
    """
    if isinstance(model, fx.GraphModule):
        return model
    if not isinstance(model, nn.Module):
        raise ModelError(f"cnnviz inspects a torch.nn.Module, not a {type(model).__name__}.")
    return TRACES.get(model)


def trace_afresh(model: nn.Module) -> fx.GraphModule:
    """trace without the cache."""
    name = type(model).__name__
    try:
        graph = Tracer().trace(model)
    except Exception as e:  # fx raises TraceError, TypeError, RuntimeError, ... alike
        reason = " ".join(str(e).split()) or type(e).__name__
        raise ModelError(f"torch.fx cannot trace {name}: {reason[:300]} (cnnviz needs a "
                         f"forward whose steps do not depend on the input's values).") from None
    return GraphModule(model, graph, name)


_PLAIN_VALUES = (bool, int, float, str, type(None))
_PLAIN_TYPES = frozenset(_PLAIN_VALUES)


def _plain(v: Any, identity: bool) -> Any:
    """A module attribute as the fingerprint holds it: by value when plain (a forward may
    branch on it), else by identity (or its type's name, for a layout)."""
    kind = type(v)
    if kind in _PLAIN_TYPES or isinstance(v, _PLAIN_VALUES):
        return v
    if (kind is tuple or kind is list) and len(v) <= 16 and all(
            type(x) in _PLAIN_TYPES for x in v):
        return (kind, *v)
    return id(v) if identity else type(v).__name__


def structure(model: nn.Module, identity: bool = True) -> list[tuple[Any, ...]]:
    """What a trace depends on, module by module: path, class and its forward, the module
    object, train or eval, its plain attributes, its parameters and buffers (object and
    shape), its forward hooks. Equal fingerprints trace alike, unless the forward reads
    something outside the module (a global, a closure): tracing bakes those in, and
    TRACES.clear() forgets. identity=False: the layout alone (two builds of one
    constructor have equal layouts)."""
    out = []
    for path, m in model.named_modules(remove_duplicate=False):
        attrs = tuple((k, _plain(v, identity)) for k, v in vars(m).items() if k[0] != "_")
        tensors = tuple((k, id(t) if identity else 0, t.shape)
                        for d in (m._parameters, m._buffers) for k, t in d.items()
                        if t is not None)
        hooks = (tuple(m._forward_pre_hooks), tuple(m._forward_hooks))  # they run in a trace
        out.append((path, type(m), id(type(m).forward), id(m) if identity else 0, m.training,
                    attrs, tensors, hooks))
    return out


class TraceCache:
    """The last few models' traces, keyed on the model object and checked against its
    structure (a model changed since, a submodule replaced or an attribute set, is traced
    again). Bounded, and an entry goes when its model is garbage collected: a trace shares
    the model's submodules, so it would keep their weights alive.

    A collected model's callback only notes its key (it may run inside any allocation,
    this cache's own included); the next call removes the entry."""

    def __init__(self, size: int = 8):
        self.size = size
        self._entries: OrderedDict[int, tuple[weakref.ref, list, fx.GraphModule]] = \
            OrderedDict()
        self._dead: list[tuple[int, weakref.ref]] = []
        self._lock = threading.Lock()

    def get(self, model: nn.Module) -> fx.GraphModule:
        key, shape = id(model), structure(model)
        with self._lock:
            self._purge()
            hit = self._entries.get(key)
            if hit is not None and hit[0]() is model and hit[1] == shape:
                self._entries.move_to_end(key)
                return hit[2]
        gm = trace_afresh(model)
        ref = weakref.ref(model, functools.partial(self._note_dead, key))
        with self._lock:
            self._entries[key] = (ref, shape, gm)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return gm

    def _note_dead(self, key: int, ref: weakref.ref) -> None:
        self._dead.append((key, ref))  # atomic: no lock, no dict change here

    def _purge(self) -> None:
        while self._dead:
            key, ref = self._dead.pop()
            hit = self._entries.get(key)
            if hit is not None and hit[0] is ref:
                del self._entries[key]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            self._purge()
            return len(self._entries)


TRACES = TraceCache()


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
    not cap (the registry's probe hooks do the same for modules): same shapes and FLOPs.
    Made once per traced module and kept in its `meta` (it lives and dies with it)."""
    probe = gm.meta.get(_PROBE)
    if probe is None:
        probe = gm.meta[_PROBE] = _opened(gm)
    return probe


_PROBE = "cnnviz.probe"


def _opened(gm: fx.GraphModule) -> fx.GraphModule:
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

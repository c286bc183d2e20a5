"""The predicted walk over a torch.fx graph: branches and merges come from the graph.

Registering fx.GraphModule as a layer kind makes every consumer of the container walk
(cnnviz.core.walk.predict, the exact field's tape, the budget's module_work) walk a traced
module too: leaf modules by their registry rule, function and method calls by the kinds of
cnnviz.core.graph.functions, plain values (sizes, their arithmetic) evaluated as Python
does. A call with no kind gets its output shape from torch (one forward, on the meta device
when the model is a structure only) and a row marked "no formula": its numbers are torch's,
never guessed, and the field past it is not predicted.
"""
from __future__ import annotations

import math
import operator
from typing import Any

import torch
import torch.fx as fx
import torch.nn as nn
from torch.utils._pytree import tree_flatten, tree_map

from cnnviz.core.errors import ModelError
from cnnviz.core.graph.channels_last import (
    LAST_FUNCTIONS,
    TORCH_ACTIVATIONS,
    last_module,
    torch_activation,
)
from cnnviz.core.graph.functions import ACTIVATION_FUNCTIONS, FUNCTIONS, METHODS
from cnnviz.core.graph.trace import registry_leaf
from cnnviz.core.graph.values import NO_FORMULA, P, T, add_row, as_t, last_row
from cnnviz.core.kinds import ACTIVATIONS, visit
from cnnviz.core.kinds.registry import LayerKind, register
from cnnviz.core.tape import Axis, Signal, Walk, global_map

_VALUE_METHODS = {"size", "dim"}
_PER_PIXEL = (*ACTIVATIONS, *TORCH_ACTIVATIONS, nn.Identity, nn.Dropout)
_LAST_OK = {*ACTIVATION_FUNCTIONS, torch.relu_, operator.add, operator.mul, torch.add, torch.mul,
            operator.sub, operator.truediv, torch.permute, "permute", "contiguous", "relu",
            "relu_", "sigmoid", "add", "mul"}
_PLAIN = {getattr, len, int, float, min, max, abs, round, tuple, list}  # on plain values


def row_names(gm: fx.GraphModule) -> dict[str, str]:
    """fx node name -> report row name: a module's path (the node's name when the module is
    called again), a call's name inside the module whose forward makes it ("layer1.0.add")."""
    names: dict[str, str] = {}
    used: set[str] = set()
    for n in gm.graph.nodes:
        if n.op in ("placeholder", "output"):
            continue
        if n.op in ("call_module", "get_attr"):  # a module called again: "relu (call 2)"
            name, k = str(n.target), 1
            while name in used:
                k += 1
                name = f"{n.target} (call {k})"
        else:
            scope = list(n.meta.get("nn_module_stack") or {})
            name = f"{scope[-1]}.{n.name}" if scope and scope[-1] else n.name
        used.add(name)
        names[n.name] = name
    return names


def graph_rule(w: Walk, name: str, gm: fx.GraphModule, x: Signal) -> Signal:
    env: dict[fx.Node, Any] = {}
    seen: set[int] = set()
    out: Any = None
    inputs = 0
    names = row_names(gm)
    modules = dict(gm.named_modules(remove_duplicate=False))  # 15x faster than each lookup
    for node in gm.graph.nodes:
        args = fx.node.map_arg(node.args, env.__getitem__)
        kwargs = fx.node.map_arg(node.kwargs, env.__getitem__)
        if node.op == "placeholder":
            inputs += 1
            if inputs == 1:
                env[node] = as_t(x, w.batch)
            elif node.args:  # a default value
                env[node] = node.args[0]
            else:
                raise ModelError(f"The forward of {type(gm).__name__} takes more than one "
                                 f"input ('{node.name}' too); cnnviz feeds it one image batch.")
        elif node.op == "get_attr":
            env[node] = _get_attr(w, gm, node, names[node.name], x, seen)
        elif node.op == "output":
            out = args[0]
        else:
            env[node] = _call(w, gm, node, names[node.name], list(args), dict(kwargs), seen,
                              modules)
    if not isinstance(out, T):
        first = next((v for v in tree_flatten(out)[0] if isinstance(v, T)), None)
        if first is None:
            raise ModelError(f"The forward of {type(gm).__name__} returns no tensor.")
        out = first
    return out.sig


def _get_attr(w: Walk, gm: fx.GraphModule, node: fx.Node, name: str, x: Signal,
              seen: set[int]) -> Any:
    value = operator.attrgetter(str(node.target))(gm)
    if not isinstance(value, torch.Tensor):
        return value
    if isinstance(value, nn.Parameter) and id(value) not in seen:
        seen.add(id(value))
        w.row(name, "parameter", x, x, params=value.numel())
        w.layers[-1].out_shape = tuple(value.shape[1:])
    return P(tuple(value.shape))


def _call(w: Walk, gm: fx.GraphModule, node: fx.Node, name: str, args: list, kwargs: dict,
          seen: set[int], modules: dict[str, nn.Module]) -> Any:
    tensors = _tensors((args, kwargs))
    target = node.target
    if node.op == "call_module":
        m = modules.get(str(target)) or gm.get_submodule(str(target))
        known = registry_leaf(m) or isinstance(m, nn.Identity)  # a torch.nn leaf to fx
        x = args[0] if len(args) == 1 and not kwargs and isinstance(args[0], T) else None
        if x is not None and x.last:
            out = last_module(w, name, m, x) if id(m) not in seen else None
            if out is None and isinstance(m, _PER_PIXEL):
                out = _module(w, name, m, x, seen)
            if out is not None:
                seen.add(id(m))
                return out
        elif known and x is not None:
            return _module(w, name, m, x, seen)
        elif x is not None and isinstance(m, TORCH_ACTIVATIONS):
            return torch_activation(w, name, m, x, id(m) in seen)
        return _no_formula(w, gm, node, name, tensors, m, seen)
    if not tensors:  # sizes and their arithmetic: plain Python values
        if node.op == "call_function" and (target in _PLAIN or getattr(
                target, "__module__", "") in ("_operator", "operator")):
            return target(*args, **kwargs)  # type: ignore[operator]
        return _no_formula(w, gm, node, name, tensors, None, seen)
    if node.op == "call_method" and target in _VALUE_METHODS or target is getattr:
        value = _value(args, kwargs, target)
        return value if value is not None else _no_formula(w, gm, node, name, [], None, seen)
    if node.op == "call_function":
        handler = FUNCTIONS.get(target) or LAST_FUNCTIONS.get(target)  # type: ignore[arg-type]
    else:
        handler = METHODS.get(str(target))
    if any(isinstance(t, T) and t.last for t in tensors) and not (
            target in _LAST_OK or target in LAST_FUNCTIONS):
        handler = None  # the handlers read channels at dim 1
    result = handler(w, name, args, kwargs) if handler is not None else None
    if result is None:
        return _no_formula(w, gm, node, name, tensors, None, seen)
    return result


def _tensors(value: Any) -> list[T | P]:
    """The tensors among a call's arguments (nested in lists, tuples and dicts)."""
    if isinstance(value, (T, P)):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _tensors(v)]
    return []


def _value(args: list, kwargs: dict, target: Any) -> Any:
    x = args[0]
    if not isinstance(x, (T, P)):
        return None
    shape = torch.Size(x.shape)
    if target == "dim":
        return len(shape)
    if target == "size":
        dim = args[1] if len(args) > 1 else kwargs.get("dim")
        return shape if dim is None else shape[dim]
    attr = args[1]
    if attr == "shape":
        return shape
    if attr == "ndim":
        return len(shape)
    return None


def _module(w: Walk, name: str, m: nn.Module, x: T, seen: set[int]) -> T:
    before = len(w.layers)
    y = visit(w, m, x.sig, name)
    out = x.same_pixels() if y is x.sig else as_t(y, w.batch)
    last_row(w, before, out.shape)
    for layer in w.layers[before:]:
        if id(m) in seen:  # a module called twice holds its weights once
            layer.params = 0
        if getattr(m, "inplace", False):
            layer.memory = 0
    seen.add(id(m))
    return out


def _no_formula(w: Walk, gm: fx.GraphModule, node: fx.Node, name: str, tensors: list,
                m: nn.Module | None, seen: set[int]) -> Any:
    """torch's output for a call no kind describes; its row says it has no formula."""
    value = measured_values(gm, w)[node.name]
    params = 0
    if m is not None and id(m) not in seen:
        seen.add(id(m))
        params = sum(p.numel() for p in m.parameters())
    ts = [t for t in tensors if isinstance(t, T)]
    first = ts[0].sig if ts else Signal(1, 1, 1, Axis(), Axis())
    kind = type(m).__name__ if m is not None else getattr(node.target, "__name__",
                                                          str(node.target))

    def to_t(shape: tuple[int, ...]) -> T:
        spatial = len(shape) == 4
        c, h, wd = (shape[1], shape[2], shape[3]) if spatial else (math.prod(shape[1:]), 1, 1)
        y = w.emit([(t.sig, global_map(t.sig.height), global_map(t.sig.width)) for t in ts],
                   c, h, wd, first.rf_h, first.rf_w, True, flat=not spatial)
        return T(y, shape)

    if isinstance(value, TensorShape):
        out: Any = to_t(tuple(value))
        shape = out.shape
    elif isinstance(value, tuple) and value and all(isinstance(v, TensorShape) for v in value):
        out = tuple(to_t(tuple(v)) for v in value)
        shape = out[0].shape
    else:
        return value  # a plain value
    x = ts[0] if ts else out if isinstance(out, T) else out[0]
    add_row(w, name, kind, x, out if isinstance(out, T) else out[0], op=NO_FORMULA,
            params=params)
    w.layers[-1].out_shape = shape[1:]
    return out


class TensorShape(tuple):
    """A tensor's shape as measured_values records it (a torch.Size is a value of its own)."""


def measured_values(gm: fx.GraphModule, w: Walk) -> dict[str, Any]:
    """Every node's output as torch gives it: a shape for a tensor (a tuple of shapes for
    several), the value itself otherwise. One forward, on the model's own device (meta for a
    structure), kept for the rest of the walk."""
    cached = getattr(w, "graph_values", None)
    if cached is not None:
        return cached
    shape = (w.batch, *_input_shape(w))
    first = next(iter([*gm.parameters(), *gm.buffers()]), None)
    device = first.device if first is not None else torch.device("cpu")
    values: dict[str, Any] = {}

    class Recorder(fx.Interpreter):
        def run_node(self, n: fx.Node) -> Any:
            result = super().run_node(n)
            values[n.name] = tree_map(
                lambda v: TensorShape(v.shape) if isinstance(v, torch.Tensor) else v, result)
            return result
    # in eval mode: a model in training mode would otherwise fold these zeros into its
    # batch norms' running statistics (no_grad does not stop that); its modes come back
    modes = [(m, m.training) for m in gm.modules()]
    gm.eval()
    try:
        with torch.no_grad():
            Recorder(gm).run(torch.zeros(shape, device=device))
    except Exception as e:  # the model's own code fails on this input
        raise ModelError(f"{type(gm).__name__} fails on an input of {shape[1:]}: "
                         f"{' '.join(str(e).split())[:300]}") from None
    finally:
        for m, training in modes:
            m.training = training
    w.graph_values = values  # type: ignore[attr-defined]
    return values


def _input_shape(w: Walk) -> tuple[int, ...]:
    return w.graph_input  # type: ignore[attr-defined]


def _graph_predict(w: Walk, name: str, gm: fx.GraphModule, x: Signal) -> Signal:
    w.graph_input = x.shape  # type: ignore[attr-defined]
    return graph_rule(w, name, gm, x)


register(LayerKind((fx.GraphModule,), _graph_predict, code=lambda m: type(m).__name__ + "()",
                   row=False))

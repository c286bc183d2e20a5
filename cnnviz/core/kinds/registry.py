"""One entry per layer kind, and the lookup every consumer goes through.

An entry says, for one module type, all that the rest of cnnviz needs to know:
the predicted walk's rule, the diagram's label, the code export's constructor
and, where weights alone cannot open every path, the measured probe's hook.
Everything is plain data or a function of the module; render reads it, so core
imports no renderer.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn as nn

from cnnviz.core.tape import ConfigError, Signal, Walk

Rule = Callable[[Walk, str, Any, Signal], Signal]  # (walk, row name, module, input) -> output
ProbeHook = Callable[[Any, tuple[Any, ...], Any], torch.Tensor]  # a forward hook's signature


@dataclass(frozen=True)
class Call:
    """A constructor whose arguments are modules, as plain data: the code export writes
    each argument (a keyword, or "" for a positional one) with its own expression."""

    func: str
    args: tuple[tuple[str, nn.Module], ...] = ()
    ordered: bool = False  # named entries: nn.Sequential(OrderedDict([(name, module), ...]))


def _type_name(m: nn.Module) -> str:
    return type(m).__name__


@dataclass(frozen=True)
class LayerKind:
    """What the walk, the probe, the diagram and the code export know of one layer type.

    Args:
        predict: the predicted walk's rule (shape, receptive field, params, MACs, tape).
        code: the constructor expression (text), or a Call for modules holding modules.
        label: the diagram's box text.
        probe_hook: a forward hook that opens the paths weights cannot (see core.measure).
        merge_op: for merges, their report row's suffix ("add", "cat", "mul").
        branches: for merges, what meets at the merge in walk order, as (name, module);
            None stands for the merge's own input.
        row: False for modules the report has no row for (containers, the identity).
    """

    types: tuple[type[nn.Module], ...]
    predict: Rule
    code: Callable[[Any], str | Call]
    label: Callable[[Any], str] = _type_name
    probe_hook: ProbeHook | None = None
    merge_op: str | None = None
    branches: Callable[[Any], list[tuple[str, nn.Module | None]]] | None = None
    row: bool = True

    @property
    def is_leaf(self) -> bool:
        """A row of its own whose inside the walk does not visit."""
        return self.row and self.merge_op is None


KINDS: dict[type[nn.Module], LayerKind] = {}


def register(kind: LayerKind) -> LayerKind:
    for t in kind.types:
        if t in KINDS:
            raise ValueError(f"{t.__name__} has two layer-kind entries.")
        KINDS[t] = kind
    return kind


def find_kind(m: nn.Module) -> LayerKind | None:
    """The entry of `m`'s type or of its nearest registered base class (ConvNormAct walks
    as the nn.Sequential it is), or None."""
    for t in type(m).__mro__:
        kind = KINDS.get(t)
        if kind is not None:
            return kind
    return None


def kind_of(m: nn.Module, name: str = "") -> LayerKind:
    kind = find_kind(m)
    if kind is None:
        where = f"layer '{name}' " if name else ""
        raise ConfigError(f"cnnviz knows no layer kind {type(m).__name__} ({where}has no "
                          f"entry in cnnviz.core.kinds).")
    return kind


def visit(w: Walk, m: nn.Module, x: Signal, name: str) -> Signal:
    """The predicted walk through `m` on input `x`: its kind's rule."""
    kind = KINDS.get(type(m)) or kind_of(m, name)  # the exact type first: the common case
    return kind.predict(w, name, m, x)


def row_name(name: str, m: nn.Module) -> str:
    """The report row of a module: merges are named by their operation."""
    kind = find_kind(m)
    op = kind.merge_op if kind is not None else None
    return f"{name}.{op}" if op else name


def node_modules(model: nn.Module, prefix: str = "") -> dict[str, nn.Module]:
    """The modules whose outputs are rows of the report (leaves and merges), in walk order."""
    nodes: dict[str, nn.Module] = {}
    for child_name, child in model.named_children():
        name = f"{prefix}.{child_name}" if prefix else child_name
        kind = find_kind(child)
        if kind is not None and kind.row:
            nodes[name] = child
        if kind is None or not kind.is_leaf:  # containers (ModuleList too) and merges
            nodes.update(node_modules(child, name))
    return nodes


# --- writing constructor expressions ----------------------------------------------------

def args_text(*positional: object, **keyword: tuple[object, object]) -> str:
    """Positional values, then keyword values that differ from their default:
    keyword=(value, default)."""
    parts = [repr(v) for v in positional]
    parts += [f"{k}={v!r}" for k, (v, default) in keyword.items() if v != default]
    return ", ".join(parts)


def square(v: object) -> object:
    """(3, 3) -> 3, as one writes it by hand."""
    return v[0] if isinstance(v, tuple) and len(set(v)) == 1 else v

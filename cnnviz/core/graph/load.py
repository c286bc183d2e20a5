"""The door for a person's own model: a module, a class or a factory, or FILE.py:NAME.

A class or a factory is built on the meta device first (structure only, nothing
allocated): its parameter count and its predicted work go through the one budget
(cnnviz.core.budget) before the real weights exist, so a 10⁹-parameter model is refused in
milliseconds. A module already built is inspected as given.
"""
from __future__ import annotations

import copy
import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import torch.fx as fx
import torch.nn as nn

from cnnviz.core.budget import FORWARD, Work, check, module_work
from cnnviz.core.errors import ModelError
from cnnviz.core.graph.report import (
    REDUCE,
    REDUCE_PARAMS,
    Inspection,
    make_inspection,
    probe_work,
    require_module,
)
from cnnviz.core.graph.seeded import call_seeded
from cnnviz.core.graph.trace import GraphModule, trace, trace_afresh
from cnnviz.core.graph.trace import structure as structure_of
from cnnviz.core.walk import predict


def inspect(model: nn.Module | Callable[..., nn.Module],
            input: tuple[int, int, int] = (3, 224, 224),
            *, batch: int = 1, measure: bool = True, device: str = "cpu", seed: int = 0,
            args: dict[str, Any] | None = None) -> Inspection:
    """The report of `model` on a batch of `input` (C, H, W): per-layer rows (shape, field,
    params, MACs, activation memory), totals, the exact field, each predicted by formula
    and, unless measure=False, confirmed by torch.

    `model` is a module, or a class or function that returns one (called with `args`),
    which is then built on the meta device first and checked against the budget.
    """
    shape = input_shape(input, batch)
    if isinstance(model, nn.Module):
        if args:
            raise ModelError("args are for a class or a function that makes the model, not "
                             "for a model already built.")
        gm = trace(model)
        return make_inspection(gm, predict(gm, shape), type(model).__name__, measure, device,
                               seed, params=sum(p.numel() for p in model.parameters()))
    if not callable(model):
        raise ModelError(f"cnnviz.inspect takes a torch.nn.Module, or a class or function "
                         f"that makes one, not a {type(model).__name__}.")
    name = getattr(model, "__name__", type(model).__name__)
    structure = construct(model, args or {}, "meta")
    check(Work("this model", sum(p.numel() for p in structure.parameters()), 0, 0,
               reduce_params=REDUCE_PARAMS))
    graph = trace_afresh(structure)  # a throwaway: kept out of the cache of models
    p = predict(graph, shape)
    check(probe_work("this model", graph, shape, prediction=p) if measure else
          module_work("this model", graph, shape, FORWARD, reduce=REDUCE,
                      reduce_params=REDUCE_PARAMS, prediction=p))
    built = construct(model, args or {}, "cpu", seed)
    same = retarget(graph, structure, built)
    if same is None:  # built unlike its structure (a constructor that reads random values)
        same = trace(built)
        p = predict(same, shape)
    return make_inspection(same, p, name, measure, device, seed,
                           params=sum(t.numel() for t in built.parameters()))


def retarget(gm: fx.GraphModule, structure: nn.Module, built: nn.Module
             ) -> fx.GraphModule | None:
    """The graph traced on the meta structure, over the built model's modules (no second
    trace), when the two have the same layout; None when they differ."""
    if structure_of(structure, identity=False) != structure_of(built, identity=False):
        return None
    return GraphModule(built, copy.deepcopy(gm.graph), type(built).__name__)


def input_shape(value: Any, batch: int = 1) -> tuple[int, int, int, int]:
    if not isinstance(value, (tuple, list)) or len(value) != 3 or \
            not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value):
        raise ModelError(f"The input is (C, H, W), three positive whole numbers, not "
                         f"{value!r:.60}: cnnviz inspects models that read images.")
    if not isinstance(batch, int) or batch < 1:
        raise ModelError(f"The batch is a positive whole number, not {batch!r:.20}.")
    return (batch, *value)


def construct(factory: Callable[..., Any], args: dict[str, Any], device: str,
              seed: int | None = None) -> nn.Module:
    """factory(**args) built on `device` ("meta": structure only); a ModelError naming it
    when it raises or returns no module. With a seed, its initial weights are drawn from
    that seed, the same on every call, and the caller's random state is left as it was."""
    name = getattr(factory, "__name__", "the model")

    def make() -> Any:
        with torch.device(device):
            return factory(**args)
    try:
        model = make() if seed is None else call_seeded(make, seed)
    except Exception as e:
        reason = " ".join(str(e).split())[:300] or type(e).__name__
        where = ""
        if device == "meta" and isinstance(e, (RuntimeError, NotImplementedError)):
            # what a tensor without values raises (an .item() or .tolist() in __init__)
            where = (" (built as a structure alone, on the meta device, so that its size "
                     "is checked before its weights exist)")
        raise ModelError(f"{name}({_args_text(args)}) raised {type(e).__name__}: "
                         f"{reason}{where}") from None
    require_module(model)
    return model


def _args_text(args: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in args.items())[:120]


def load(ref: str) -> Callable[..., nn.Module]:
    """FILE.py:NAME -> the class or function NAME of that file (its code runs: only a file
    the person on this machine chose)."""
    path_text, sep, name = str(ref).rpartition(":")
    if not sep or not path_text or not name.isidentifier():
        raise ModelError(f"A model is named FILE.py:NAME (a class, or a function returning a "
                         f"module), not {ref!r:.80}.")
    path = Path(path_text)
    if not path.is_file():
        raise ModelError(f"{path_text}: no such file.")
    spec = importlib.util.spec_from_file_location(f"cnnviz_model_{abs(hash(path))}", path)
    if spec is None or spec.loader is None:
        raise ModelError(f"{path_text} is not a Python file.")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.resolve().parent))  # its own imports of files beside it
    try:
        spec.loader.exec_module(module)
    except (Exception, SystemExit) as e:
        reason = " ".join(str(e).split())[:300] or type(e).__name__
        raise ModelError(f"{path_text} raised {type(e).__name__} when imported: "
                         f"{reason}") from None
    finally:
        sys.path.remove(str(path.resolve().parent))
    obj = getattr(module, name, None)
    if obj is None:
        names = sorted(k for k, v in vars(module).items()
                       if callable(v) and getattr(v, "__module__", None) == module.__name__)
        raise ModelError(f"{path_text} defines no {name!r}" +
                         (f"; it defines {', '.join(names)[:200]}." if names else "."))
    if not callable(obj):
        raise ModelError(f"{name} in {path_text} is a {type(obj).__name__}, not a class or a "
                         f"function that returns a module.")
    return obj

"""The configured stack as a self-contained PyTorch script.

The script holds the source of the cnnviz layers it uses (inspect.getsource)
and one constructor expression per distinct block, written from each module's
hyperparameters (not from its repr, which omits arguments). Run, it builds the
stack, does one forward on the configured input and prints the output shape
and the parameter count, which equal the app's.
"""
from __future__ import annotations

import inspect

import torch.nn as nn

from cnnviz.core import layers as L
from cnnviz.core.kinds import KINDS, Call, kind_of
from cnnviz.core.spec import StackSpec

INDENT = "    "


def expression(m: nn.Module, depth: int = 0) -> str:
    """Python that constructs a module of the same structure as `m` (its kind's code)."""
    code = kind_of(m).code(m)
    return code if isinstance(code, str) else _call(code, depth)


def _call(call: Call, depth: int) -> str:
    """A constructor with module arguments, one argument per line."""
    if not call.args:
        return f"{call.func}()"
    pad, inner = INDENT * depth, INDENT * (depth + 1)
    if call.ordered:
        items = [f"({name!r}, {expression(m, depth + 2)})" for name, m in call.args]
        return (f"{call.func}(OrderedDict([\n" + ",\n".join(inner + INDENT + i for i in items)
                + f",\n{inner}]))")
    items = [(f"{key}=" if key else "") + expression(m, depth + 1) for key, m in call.args]
    return f"{call.func}(\n" + ",\n".join(inner + i for i in items) + f",\n{pad})"


def used_classes(model: nn.Module) -> list[type]:
    """cnnviz.layers classes the script must define, in the order of layers.py: those with a
    layer kind of their own (ConvNormAct is written as the nn.Sequential it is)."""
    used = {type(m) for m in model.modules()}
    names = [n for n, obj in vars(L).items()
             if isinstance(obj, type) and obj in used and obj.__module__ == L.__name__
             and obj in KINDS]
    return [getattr(L, n) for n in names]


def _block_functions(model: nn.Module, block: str, prefix: str = "block"
                     ) -> tuple[list[str], list[str]]:
    """One function per run of identical consecutive blocks; the calls that build the stack."""
    runs: list[list] = []  # [expression, count]
    for child in model.children():
        text = expression(child, 1)
        if runs and runs[-1][0] == text:
            runs[-1][1] += 1
        else:
            runs.append([text, 1])
    funcs, calls, start = [], [], 1
    for i, (text, count) in enumerate(runs):
        which = (f"block {start}" if count == 1 else f"blocks {start} to {start + count - 1} "
                 f"(identical)")
        funcs.append(f"def {prefix}_{i + 1}() -> nn.Module:\n"
                     f'{INDENT}"""{block}: {which}."""\n'
                     f"{INDENT}return {text}\n")
        calls.append(f"{prefix}_{i + 1}()" if count == 1 else
                     f"*[{prefix}_{i + 1}() for _ in range({count})]")
        start += count
    return funcs, calls


def script(spec: StackSpec, model: nn.Sequential) -> str:
    """A runnable .py that rebuilds `model` (built from `spec`) and checks its output."""
    entry = spec.entry
    funcs, calls = _block_functions(model, spec.block)
    stack = ("def build() -> nn.Sequential:\n"
             f'{INDENT}"""The stack: {spec.depth} block{"s" * (spec.depth > 1)}."""\n'
             f"{INDENT}return nn.Sequential({', '.join(calls)})\n")
    return _runnable(f"{entry.family} · {spec.block}: {spec.label()}", entry.paper,
                     f"{spec.block}.py", model, ["# --- the configured stack " + "-" * 52
                                                + "\n\n" + "\n\n".join(funcs), stack],
                     spec.input_shape, spec.seed)


def network_script(title: str, paper: str, file_name: str, model: nn.Module,
                   input_shape: tuple[int, ...], seed: int = 0) -> str:
    """A runnable .py that rebuilds a network (stages of blocks and layers) and checks it:
    one function per run of identical blocks in each stage."""
    funcs, stages = [], []
    for name, stage in model.named_children():
        stage_funcs, calls = _block_functions(stage, name, prefix=name)
        funcs += stage_funcs
        stages.append(f"{INDENT * 2}({name!r}, nn.Sequential({', '.join(calls)})),")
    network = ("def build() -> nn.Sequential:\n"
               f'{INDENT}"""The network, stage by stage."""\n'
               f"{INDENT}return nn.Sequential(OrderedDict([\n" + "\n".join(stages)
               + f"\n{INDENT}]))\n")
    return _runnable(title, paper, file_name, model,
                     ["# --- the stages " + "-" * 62 + "\n\n" + "\n\n".join(funcs), network],
                     input_shape, seed)


def _runnable(title: str, paper: str, file_name: str, model: nn.Module, body: list[str],
              input_shape: tuple[int, ...], seed: int) -> str:
    """The script around `body` (code that defines build()): docstring, imports, the
    cnnviz layers it uses, and a main that prints the output shape and parameter count."""
    sources = "\n\n".join(inspect.getsource(c) for c in used_classes(model))
    header = [
        f'"""{title}.',
        "",
        f"{paper}.",
        "",
        f"Generated by cnnviz. Run `python {file_name}`: it prints the output shape and",
        "the parameter count, which equal the app's. The weights here use torch's default",
        "initialisation, not the app's init scheme.",
        '"""',
        "from __future__ import annotations",
        "",
        "from collections import OrderedDict",
        "from typing import Callable",
        "",
        "import torch",
        "import torch.nn as nn",
        "import torch.nn.functional as F",
        "",
    ]
    main = [
        'if __name__ == "__main__":',
        "    model = build().eval()",
        f"    x = torch.randn({', '.join(map(str, input_shape))}, "
        f"generator=torch.Generator().manual_seed({seed}))  # (N, C, H, W)",
        "    with torch.no_grad():",
        "        y = model(x)",
        "    params = sum(p.numel() for p in model.parameters() if p.requires_grad)",
        '    print("output shape:", tuple(y.shape))',
        '    print("parameters:", params)',
    ]
    parts = ["\n".join(header)]
    if sources:
        parts.append("# --- layers from cnnviz.layers " + "-" * 48 + "\n\n" + sources)
    parts += body
    parts.append("\n".join(main) + "\n")
    return "\n\n".join(parts)

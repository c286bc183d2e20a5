"""The configured stack as a self-contained PyTorch script.

The script holds the source of the cnnviz layers it uses (inspect.getsource)
and one constructor expression per distinct block, written from each module's
hyperparameters (not from its repr, which omits arguments). Run, it builds the
stack, does one forward on the configured input and prints the output shape
and the parameter count, which equal the app's.
"""
from __future__ import annotations

import inspect
from collections.abc import Callable

import torch.nn as nn

from cnnviz.core import layers as L
from cnnviz.core.spec import StackSpec

INDENT = "    "


def _args(*positional: object, **keyword: tuple[object, object]) -> str:
    """Positional values, then keyword values that differ from their default:
    keyword=(value, default)."""
    parts = [repr(v) for v in positional]
    parts += [f"{k}={v!r}" for k, (v, default) in keyword.items() if v != default]
    return ", ".join(parts)


def _square(v: object) -> object:
    """(3, 3) -> 3, as one writes it by hand."""
    return v[0] if isinstance(v, tuple) and len(set(v)) == 1 else v


def _conv(m: nn.Conv2d) -> str:
    return "nn.Conv2d(" + _args(
        m.in_channels, m.out_channels, _square(m.kernel_size),
        stride=(_square(m.stride), 1), padding=(_square(m.padding), 0),
        dilation=(_square(m.dilation), 1), groups=(m.groups, 1),
        bias=(m.bias is not None, True), padding_mode=(m.padding_mode, "zeros")) + ")"


def _masked(m: L.MaskedConv2d) -> str:
    return "MaskedConv2d(" + _args(
        m.in_channels, m.out_channels, _square(m.kernel_size), mask_type=(m.mask_type, "B"),
        padding=(_square(m.padding), 0), dilation=(_square(m.dilation), 1),
        bias=(m.bias is not None, True)) + ")"


def _conv_t(m: nn.ConvTranspose2d) -> str:
    return "nn.ConvTranspose2d(" + _args(
        m.in_channels, m.out_channels, _square(m.kernel_size),
        stride=(_square(m.stride), 1), padding=(_square(m.padding), 0),
        output_padding=(_square(m.output_padding), 0), groups=(m.groups, 1),
        bias=(m.bias is not None, True), dilation=(_square(m.dilation), 1)) + ")"


def _batchnorm(m: nn.BatchNorm2d) -> str:
    return "nn.BatchNorm2d(" + _args(m.num_features, eps=(m.eps, 1e-5),
                                     momentum=(m.momentum, 0.1), affine=(m.affine, True)) + ")"


def _groupnorm(m: nn.GroupNorm) -> str:
    return "nn.GroupNorm(" + _args(m.num_groups, m.num_channels, eps=(m.eps, 1e-5),
                                   affine=(m.affine, True)) + ")"


def _layernorm2d(m: L.LayerNorm2d) -> str:
    return "LayerNorm2d(" + _args(m.normalized_shape[0], eps=(m.eps, 1e-6)) + ")"


def _maxpool(m: nn.MaxPool2d) -> str:
    return "nn.MaxPool2d(" + _args(m.kernel_size, stride=(m.stride, m.kernel_size),
                                   padding=(m.padding, 0), dilation=(m.dilation, 1),
                                   ceil_mode=(m.ceil_mode, False)) + ")"


def _avgpool(m: nn.AvgPool2d) -> str:
    return "nn.AvgPool2d(" + _args(m.kernel_size, stride=(m.stride, m.kernel_size),
                                   padding=(m.padding, 0), ceil_mode=(m.ceil_mode, False),
                                   count_include_pad=(m.count_include_pad, True),
                                   divisor_override=(m.divisor_override, None)) + ")"


def _upsample(m: nn.Upsample) -> str:
    scale = m.scale_factor
    scale = int(scale) if isinstance(scale, float) and scale.is_integer() else scale
    return "nn.Upsample(" + _args(scale_factor=(scale, None), mode=(m.mode, "nearest"),
                                  align_corners=(m.align_corners, None)) + ")"


LEAVES: dict[type, Callable[[nn.Module], str]] = {
    nn.Conv2d: _conv, L.MaskedConv2d: _masked, nn.ConvTranspose2d: _conv_t,
    nn.BatchNorm2d: _batchnorm, nn.GroupNorm: _groupnorm, L.LayerNorm2d: _layernorm2d,
    nn.MaxPool2d: _maxpool, nn.AvgPool2d: _avgpool, nn.Upsample: _upsample,
    nn.AdaptiveAvgPool2d: lambda m: f"nn.AdaptiveAvgPool2d({_square(m.output_size)!r})",
    nn.ReLU: lambda m: "nn.ReLU()", nn.ReLU6: lambda m: "nn.ReLU6()",
    nn.SiLU: lambda m: "nn.SiLU()", nn.Sigmoid: lambda m: "nn.Sigmoid()",
    nn.GELU: lambda m: "nn.GELU(" + _args(approximate=(m.approximate, "none")) + ")",
    nn.LeakyReLU: lambda m: "nn.LeakyReLU(" + _args(m.negative_slope) + ")",
    nn.Identity: lambda m: "nn.Identity()",
    L.ChannelSlice: lambda m: f"ChannelSlice({m.start}, {m.stop})",
    L.ChannelShuffle: lambda m: f"ChannelShuffle({m.groups})",
    L.LayerScale: lambda m: f"LayerScale({m.gamma.numel()}, {m.init_value:.6g})",
    L.AttentionPool: lambda m: f"AttentionPool({m.channels})",
    L.InvertibleConv1x1: lambda m: f"InvertibleConv1x1({m.channels})",
}
COMBINATORS = (L.Residual, L.Concat, L.Gate)


def expression(m: nn.Module, depth: int = 0) -> str:
    """Python that constructs a module of the same structure as `m`."""
    pad, inner = INDENT * depth, INDENT * (depth + 1)
    if isinstance(m, nn.Sequential):
        children = list(m.named_children())
        if not children:
            return "nn.Sequential()"
        if all(name.isdigit() for name, _ in children):
            items = [expression(c, depth + 1) for _, c in children]
            return "nn.Sequential(\n" + ",\n".join(inner + i for i in items) + f",\n{pad})"
        items = [f"({name!r}, {expression(c, depth + 2)})" for name, c in children]
        return ("nn.Sequential(OrderedDict([\n" + ",\n".join(inner + INDENT + i for i in items)
                + f",\n{inner}]))")
    if isinstance(m, L.Residual):
        return (f"Residual(\n{inner}body={expression(m.body, depth + 1)},\n"
                f"{inner}shortcut={expression(m.shortcut, depth + 1)},\n{pad})")
    if isinstance(m, L.Concat):
        items = [expression(b, depth + 1) for b in m.branches]
        return "Concat(\n" + ",\n".join(inner + i for i in items) + f",\n{pad})"
    if isinstance(m, L.Gate):
        return f"Gate(\n{inner}{expression(m.gate, depth + 1)},\n{pad})"
    rule = LEAVES.get(type(m))
    if rule is None:
        raise ValueError(f"The code generator has no rule for {type(m).__name__}.")
    return rule(m)


def used_classes(model: nn.Module) -> list[type]:
    """cnnviz.layers classes the script must define, in the order of layers.py."""
    used = {type(m) for m in model.modules()}
    names = [n for n, obj in vars(L).items()
             if isinstance(obj, type) and obj in used and obj.__module__ == L.__name__
             and (obj in COMBINATORS or obj in LEAVES)]
    return [getattr(L, n) for n in names]


def _block_functions(model: nn.Sequential, block: str) -> tuple[list[str], list[str]]:
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
        funcs.append(f"def block_{i + 1}() -> nn.Module:\n"
                     f'{INDENT}"""{block}: {which}."""\n'
                     f"{INDENT}return {text}\n")
        calls.append(f"block_{i + 1}()" if count == 1 else
                     f"*[block_{i + 1}() for _ in range({count})]")
        start += count
    return funcs, calls


def script(spec: StackSpec, model: nn.Sequential) -> str:
    """A runnable .py that rebuilds `model` (built from `spec`) and checks its output."""
    entry = spec.entry
    sources = "\n\n".join(inspect.getsource(c) for c in used_classes(model))
    funcs, calls = _block_functions(model, spec.block)
    header = [
        f'"""{entry.family} · {spec.block}: {spec.label()}.',
        "",
        f"{entry.paper}.",
        "",
        f"Generated by cnnviz. Run `python {spec.block}.py`: it prints the output shape and",
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
    stack = ("def build() -> nn.Sequential:\n"
             f'{INDENT}"""The stack: {spec.depth} block{"s" * (spec.depth > 1)}."""\n'
             f"{INDENT}return nn.Sequential({', '.join(calls)})\n")
    main = [
        'if __name__ == "__main__":',
        "    model = build().eval()",
        f"    x = torch.randn({', '.join(map(str, spec.input_shape))}, "
        f"generator=torch.Generator().manual_seed({spec.seed}))  # (N, C, H, W)",
        "    with torch.no_grad():",
        "        y = model(x)",
        "    params = sum(p.numel() for p in model.parameters() if p.requires_grad)",
        '    print("output shape:", tuple(y.shape))',
        '    print("parameters:", params)',
    ]
    parts = ["\n".join(header)]
    if sources:
        parts.append("# --- layers from cnnviz.layers " + "-" * 48 + "\n\n" + sources)
    parts.append("# --- the configured stack " + "-" * 52 + "\n\n" + "\n\n".join(funcs))
    parts.append(stack)
    parts.append("\n".join(main) + "\n")
    return "\n\n".join(parts)

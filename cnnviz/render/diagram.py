"""A block diagram of the built module as Graphviz DOT, with shapes on the edges.

The walk mirrors cnnviz.analysis: a Sequential is a chain, a Residual is its
branch and its shortcut meeting at an add node, a Concat is its branches
meeting at a concat node, a Gate is its gate branch and the input meeting at a
multiply node; every other module is a box. The shape on each edge is the
predicted output shape of the layer it leaves (Prediction.layers, by name).
"""
from __future__ import annotations

import torch.nn as nn

from cnnviz.core.layers import Concat, Gate, InvertibleConv1x1, MaskedConv2d, Residual
from cnnviz.core.walk import Prediction, row_name

MERGE_STYLE = {"add": ("+", "circle"), "cat": ("concat", "box"), "mul": ("×", "circle")}


def shape_text(shape: tuple[int, ...]) -> str:
    """(C, H, W) as '16×32×32'."""
    return "×".join(str(s) for s in shape)


def describe(m: nn.Module) -> str:
    """A one-line box label for a leaf module."""
    name = type(m).__name__
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
        k, s = m.kernel_size, m.stride
        text = f"{name} {k[0]}×{k[1]}\n{m.in_channels}→{m.out_channels}"
        extras = [f"s{s[0]}" if s[0] == s[1] else f"s{s}"] if s != (1, 1) else []
        if m.dilation != (1, 1):
            extras.append(f"d{m.dilation[0]}")
        if m.groups != 1:
            extras.append("depthwise" if m.groups == m.in_channels == m.out_channels
                          else f"g{m.groups}")
        if isinstance(m, MaskedConv2d):
            extras.append(f"mask {m.mask_type}")
        return text + (", " + ", ".join(extras) if extras else "")
    if isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)):
        return f"{name} {m.kernel_size}, s{m.stride}"
    if isinstance(m, nn.Upsample):
        return f"Upsample ×{m.scale_factor:g} ({m.mode})"
    if isinstance(m, InvertibleConv1x1):
        return f"InvertibleConv1x1\n{m.channels}→{m.channels}"
    return name


class _Dot:
    def __init__(self, prediction: Prediction):
        self.shapes = {layer.name: layer.out_shape for layer in prediction.layers}
        self.lines: list[str] = []  # nodes, inside their block's cluster
        self.edges: list[str] = []  # outside every cluster, or a node they name joins it
        self.count = 0

    def node(self, label: str, shape: str = "box", **attrs: str) -> str:
        self.count += 1
        node_id = f"n{self.count}"
        extra = "".join(f', {k}="{v}"' for k, v in attrs.items())
        self.lines.append(f'  {node_id} [label="{_escape(label)}", shape={shape}{extra}];')
        return node_id

    def edge(self, src: tuple[str, tuple], dst: str, **attrs: str) -> None:
        extra = "".join(f', {k}="{v}"' for k, v in attrs.items())
        self.edges.append(f'  {src[0]} -> {dst} [label="{shape_text(src[1])}"{extra}];')

    def walk(self, m: nn.Module, x: tuple[str, tuple], name: str) -> tuple[str, tuple]:
        """Draw `m` fed by x = (node id, shape); return its output (node id, shape)."""
        if isinstance(m, nn.Identity):
            return x
        if isinstance(m, nn.Sequential):
            for child_name, child in m.named_children():
                x = self.walk(child, x, f"{name}.{child_name}" if name else child_name)
            return x
        if isinstance(m, Residual):
            body = self.walk(m.body, x, f"{name}.body")
            short = self.walk(m.shortcut, x, f"{name}.shortcut")
            return self.merge(m, name, [body, short],
                              dashed={short} if short == x else set())
        if isinstance(m, Concat):
            outs = [self.walk(b, x, f"{name}.branches.{i}") for i, b in enumerate(m.branches)]
            return self.merge(m, name, outs)
        if isinstance(m, Gate):
            gate = self.walk(m.gate, x, f"{name}.gate")
            return self.merge(m, name, [x, gate])
        node = self.node(f"{describe(m)}", tooltip=name)
        self.edge(x, node)
        return node, self.shapes.get(row_name(name, m), x[1])

    def merge(self, m: nn.Module, name: str, inputs: list[tuple[str, tuple]],
              dashed: set = frozenset()) -> tuple[str, tuple]:
        rname = row_name(name, m)
        label, shape = MERGE_STYLE[rname.rsplit(".", 1)[-1]]
        node = self.node(label, shape, tooltip=rname, style="filled", fillcolor="#fdf0d5",
                         fontsize="16" if shape == "circle" else "11")
        for src in inputs:
            self.edge(src, node, **({"style": "dashed"} if src in dashed else {}))
        return node, self.shapes[rname]


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def to_dot(model: nn.Sequential, prediction: Prediction, shown_blocks: int = 2,
           max_full: int = 3) -> str:
    """DOT for the stack; deeper than `max_full` blocks, the first `shown_blocks` blocks
    and one '… N more identical blocks' node."""
    d = _Dot(prediction)
    _, *input_chw = prediction.input_shape
    x = (d.node("input", "oval", style="filled", fillcolor="#e8eef7"), tuple(input_chw))
    blocks = list(model.named_children())
    short = len(blocks) > max_full
    for i, (name, block) in enumerate(blocks[:shown_blocks] if short else blocks):
        d.lines.append(f'  subgraph cluster_{i} {{ label="block {i + 1}"; color="#bbbbbb";')
        x = d.walk(block, x, name)
        d.lines.append("  }")
    if short:
        rest = len(blocks) - shown_blocks
        more = d.node(f"… {rest} more identical block{'s' * (rest > 1)}", "box",
                      style="dashed")
        d.edge(x, more)
        x = (more, tuple(prediction.output_shape[1:]))
    out = d.node("output", "oval", style="filled", fillcolor="#e8eef7")
    d.edge(x, out)
    body = "\n".join(d.lines + d.edges)
    return ("digraph block {\n  rankdir=TB; nodesep=0.3; ranksep=0.3;\n"
            '  node [fontname="Helvetica", fontsize=11];\n'
            '  edge [fontname="Helvetica", fontsize=9, color="#555555"];\n'
            f"{body}\n}}\n")

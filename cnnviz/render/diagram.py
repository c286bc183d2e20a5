"""A block diagram of the built module as Graphviz DOT, with shapes on the edges.

The walk follows each module's layer kind (cnnviz.core.kinds), as the predicted
walk does: a Sequential is a chain, a merge is its branches meeting at a node
with the kind's label (+ for a residual, concat, × for a gate), every other
module is a box with its kind's label. The shape on each edge is the predicted
output shape of the layer it leaves (Prediction.layers, by name).
"""
from __future__ import annotations

import torch.nn as nn

from cnnviz.core.arithmetic import dims_text
from cnnviz.core.kinds import kind_of, row_name
from cnnviz.core.walk import Prediction

Edge = tuple[str, tuple[int, ...]]  # (node id, shape of what it gives)


def describe(m: nn.Module) -> str:
    """A one-line box label for a leaf module (its layer kind's label)."""
    return kind_of(m).label(m)


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
        self.lines.append(f'  {node_id} [label="{dot_text(label)}", shape={shape}{extra}];')
        return node_id

    def edge(self, src: Edge, dst: str, **attrs: str) -> None:
        extra = "".join(f', {k}="{v}"' for k, v in attrs.items())
        self.edges.append(f'  {src[0]} -> {dst} [label="{dims_text(src[1])}"{extra}];')

    def walk(self, m: nn.Module, x: Edge, name: str) -> Edge:
        """Draw `m` fed by x = (node id, shape); return its output (node id, shape)."""
        kind = kind_of(m, name)
        if not kind.row:  # a chain (or the identity, an empty one)
            for child_name, child in m.named_children():
                x = self.walk(child, x, f"{name}.{child_name}" if name else child_name)
            return x
        if kind.branches is not None:
            outs, dashed = [], set()
            for suffix, branch in kind.branches(m):
                out = x if branch is None else self.walk(branch, x, f"{name}.{suffix}")
                if suffix == "shortcut" and out == x:  # an identity shortcut
                    dashed.add(out)
                outs.append(out)
            return self.merge(m, kind.label(m), name, outs, dashed)
        node = self.node(kind.label(m), tooltip=name)
        self.edge(x, node)
        return node, self.shapes.get(row_name(name, m), x[1])

    def merge(self, m: nn.Module, label: str, name: str, inputs: list[Edge],
              dashed: set[Edge]) -> Edge:
        rname = row_name(name, m)
        symbol = len(label) == 1  # +, ×: a circle; a word: a box
        node = self.node(label, "circle" if symbol else "box", tooltip=rname, style="filled",
                         fillcolor="#fdf0d5", fontsize="16" if symbol else "11")
        for src in inputs:
            self.edge(src, node, **({"style": "dashed"} if src in dashed else {}))
        return node, self.shapes[rname]


def dot_text(text: str) -> str:
    """Text inside a DOT label or attribute: quotes, backslashes and newlines escaped."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def to_dot(model: nn.Sequential, prediction: Prediction, shown_blocks: int = 2,
           max_full: int = 3, prefix: str = "") -> str:
    """DOT for the stack; deeper than `max_full` blocks, the first `shown_blocks` blocks
    and one '… N more identical blocks' node. `prefix` names `model` inside the module
    the prediction walked ("stage1." for one stage of a network)."""
    d = _Dot(prediction)
    _, *input_chw = prediction.input_shape
    x: Edge = (d.node("input", "oval", style="filled", fillcolor="#e8eef7"), tuple(input_chw))
    blocks = list(model.named_children())
    short = len(blocks) > max_full
    for i, (name, block) in enumerate(blocks[:shown_blocks] if short else blocks):
        d.lines.append(f'  subgraph cluster_{i} {{ label="block {i + 1}"; color="#bbbbbb";')
        x = d.walk(block, x, prefix + name)
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

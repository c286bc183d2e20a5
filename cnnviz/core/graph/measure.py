"""What torch measures of a traced module, node by node, in one forward and one backward.

The probe's copy (cnnviz.core.graph.trace.probe_module) runs with every path open (the
tensors of cnnviz.core.measure.opened_tensors, the registry's probe hooks), node by node:
each node's output shape, its FLOPs (torch's own formulas) and the bytes of the storages it
allocates; then the input gradient of one output pixel gives its support.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
import torch.fx as fx
import torch.nn as nn
from torch.func import functional_call
from torch.utils._pytree import tree_flatten

from cnnviz.core.measure import FlopCount, input_grad, opened_tensors, path_hooks, pixel_support
from cnnviz.core.walk import Support, centre_pixel


@dataclass
class NodeMeasure:
    shape: tuple[int, ...] | None  # batch excluded; None for a plain value
    flops: int
    memory: int


@dataclass
class GraphMeasurement:
    output_shape: tuple[int, ...]
    params: int
    flops: int
    memory: int
    support: Support
    nodes: dict[str, NodeMeasure] = field(default_factory=dict)

    @property
    def macs(self) -> int:
        return self.flops // 2


class _Run(nn.Module):
    """The graph run node by node, recording each node (functional_call swaps its tensors)."""

    def __init__(self, gm: fx.GraphModule):
        super().__init__()
        self.gm = gm
        self.nodes: dict[str, NodeMeasure] = {}
        self.held: dict[int, torch.Tensor] = {}  # storages seen: none is reused meanwhile

    def forward(self, x: torch.Tensor) -> Any:
        run = self

        class Recorder(fx.Interpreter):
            def run_node(self, n: fx.Node) -> Any:
                with FlopCount() as flops:
                    out = super().run_node(n)
                tensors = [v for v in tree_flatten(out)[0] if isinstance(v, torch.Tensor)]
                new = 0
                for t in tensors:
                    ptr = t.untyped_storage().data_ptr()
                    if ptr not in run.held:
                        run.held[ptr] = t
                        new += t.untyped_storage().nbytes()
                if n.op == "placeholder":
                    new = 0
                shape = tuple(tensors[0].shape[1:]) if tensors else None
                run.nodes[n.name] = NodeMeasure(shape, flops.total, new)
                return out
        for t in [*self.gm.parameters(), *self.gm.buffers()]:
            self.held[t.untyped_storage().data_ptr()] = t
        return Recorder(self.gm, garbage_collect_values=False).run(x)


def measure_graph(probe: fx.GraphModule, input_shape: tuple[int, int, int, int],
                  device: str | torch.device = "cpu", seed: int = 0,
                  dtype: torch.dtype = torch.float32) -> GraphMeasurement:
    """Measure the probe's copy of a traced module on `input_shape`; it comes out unchanged."""
    device = torch.device(device)
    run = _Run(probe)
    tensors = {f"gm.{k}": v.to(device) for k, v in opened_tensors(probe, dtype).items()}
    generator = torch.Generator().manual_seed(seed)
    x = torch.rand(input_shape, generator=generator, dtype=dtype).add_(0.5).to(device)
    x.requires_grad_(True)
    hooks = path_hooks(probe)
    flags = [(m, m.training) for m in probe.modules()]
    probe.eval()
    try:
        # a copy: an in-place first op (F.relu(x, inplace=True)) may not write to a leaf
        y = functional_call(run, tensors, (x.clone(),), tie_weights=False)
        y = next(v for v in tree_flatten(y)[0] if isinstance(v, torch.Tensor))
        if y.dim() == 4:
            pixel = centre_pixel(y.shape[2], y.shape[3])
            y[:, :, pixel[0], pixel[1]].sum().backward()
        else:  # a vector: every feature is the one "pixel"
            pixel = (0, 0)
            y.sum().backward()
    finally:
        for h in hooks:
            h.remove()
        for m, flag in flags:
            m.training = flag
    nodes = run.nodes
    return GraphMeasurement(
        tuple(y.shape), sum(p.numel() for p in probe.parameters()),
        sum(n.flops for n in nodes.values()), sum(n.memory for n in nodes.values()),
        pixel_support(input_grad(x), pixel), nodes)

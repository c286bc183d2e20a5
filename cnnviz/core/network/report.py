"""A network's report: per-stage numbers, predicted by formula and confirmed by torch.

The analysis is the one the blocks use (cnnviz.core.walk and cnnviz.core.measure) run on
the whole network; a stage is the rows whose module names start with the stage's name.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch.nn as nn

from cnnviz.core.budget import FORWARD, FORWARD_BACKWARD, Work, check, input_bytes, work_units
from cnnviz.core.field import ReceptiveField
from cnnviz.core.measure import Measurement, measure
from cnnviz.core.network.spec import NetworkSpec, build_network
from cnnviz.core.report import agreement, support_json
from cnnviz.core.spec import resolve_device
from cnnviz.core.tape import Layer
from cnnviz.core.walk import Prediction, predict

REDUCE = "the input size or the batch"
REDUCE_PARAMS = "the stage widths, the depths or the classifier's width"
NORM_STATISTICS = ("running_mean", "running_var")


@dataclass(frozen=True)
class StageRow:
    """One stage: what it is made of and what it does to the map."""

    name: str
    parts: str  # "resnet_basic×2", "conv_bn_act, maxpool"
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    params: int
    macs: int
    receptive_field: ReceptiveField
    layers: tuple[Layer, ...]

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "parts": self.parts, "input_shape": list(self.input_shape),
                "output_shape": list(self.output_shape), "params": self.params,
                "macs": self.macs, "receptive_field": self.receptive_field.to_json()}


def stage_rows(spec: NetworkSpec, p: Prediction) -> list[StageRow]:
    rows: list[StageRow] = []
    shape: tuple[int, ...] = p.input_shape[1:]
    for stage in spec.stages:
        layers = tuple(x for x in p.layers if x.name.split(".", 1)[0] == stage.name)
        parts = ", ".join(q.kind + (f"×{q.depth}" if q.depth > 1 else "") for q in stage.parts)
        if layers:
            out, field = layers[-1].out_shape, layers[-1].receptive_field
        else:  # a stage of identities changes nothing
            out = shape
            field = rows[-1].receptive_field if rows else ReceptiveField((1, 1))
        rows.append(StageRow(stage.name, parts, shape, out, sum(x.params for x in layers),
                             sum(x.macs for x in layers), field, layers))
        shape = out
    return rows


@dataclass
class NetworkReport:
    spec: NetworkSpec
    model: nn.Module  # on the meta device: the structure the numbers describe
    predicted: Prediction
    stages: list[StageRow]
    measured: Measurement | None
    device: str
    measured_stage_params: dict[str, int] | None = None
    device_note: str | None = None

    def measured_stage_shapes(self) -> dict[str, tuple[int, ...]]:
        """torch's output shape of each stage (its last row's module)."""
        if self.measured is None:
            return {}
        return {s.name: self.measured.layer_shapes.get(s.layers[-1].name, ()) if s.layers
                else s.output_shape for s in self.stages}

    def checks(self) -> dict[str, tuple[Any, Any, bool]]:
        """name -> (predicted, measured, equal) for every number torch confirms."""
        pairs = agreement(self.predicted, self.measured)
        if self.measured is not None:
            for what, predicted, measured in (
                    ("per-stage shapes", {s.name: s.output_shape for s in self.stages},
                     self.measured_stage_shapes()),
                    ("per-stage parameters", {s.name: s.params for s in self.stages},
                     self.measured_stage_params)):
                pairs[what] = (predicted, measured, predicted == measured)
        return pairs

    @property
    def agrees(self) -> bool:
        return all(ok for _, _, ok in self.checks().values())

    def to_json(self) -> dict[str, Any]:
        p, m = self.predicted, self.measured
        out: dict[str, Any] = {
            "network": self.spec.name, "text": self.spec.text(),
            "input_shape": list(p.input_shape), "classes": self.spec.classes,
            "device": self.device, "params": p.params, "macs": p.macs, "flops": p.flops,
            "output_shape": list(p.output_shape), "activation_memory": p.memory,
            "receptive_field": p.receptive_field.to_json(),
            "stages": [s.to_json() for s in self.stages]}
        if self.device_note:
            out["device_note"] = self.device_note
        if m is not None:
            out["measured"] = {
                "params": m.params, "flops": m.flops, "output_shape": list(m.output_shape),
                "activation_memory": m.memory, "centre_pixel": support_json(m.support),
                "stages": [{"name": name, "output_shape": list(shape),
                            "params": (self.measured_stage_params or {}).get(name)}
                           for name, shape in self.measured_stage_shapes().items()],
                "notes": m.notes}
            out["agree"] = {k: ok for k, (_, _, ok) in self.checks().items()}
        return out


def network_prediction(spec: NetworkSpec, passes: int = FORWARD, what: str = "this network"
                       ) -> tuple[Work, nn.Module, Prediction]:
    """The budget's view of running `spec`, the structure on meta, and its predicted walk.

    The weights are counted first and alone, so an absurd classifier is refused before the
    walk. The measured probe differentiates the input only: its weights are held once.
    """
    model = build_network(spec, "meta")
    check(Work(what, sum(q.numel() for q in model.parameters()), 0, 0,
               reduce_params=REDUCE_PARAMS))
    p = predict(model, spec.input_shape)
    return Work(what, p.params, p.macs, p.memory, passes, reduce=REDUCE,
                reduce_params=REDUCE_PARAMS, weight_grads=False,
                inputs=input_bytes(spec.input_shape),
                units=tuple(work_units(p).items())), model, p


def make_network_report(spec: NetworkSpec, device: str = "cpu", measured: bool = True
                        ) -> NetworkReport:
    """Predict the network's numbers and (unless told not to) measure them with torch."""
    dev, note = resolve_device(device)
    work, model, p = network_prediction(spec, FORWARD_BACKWARD if measured else FORWARD)
    check(work)
    result, stage_params = None, None
    if measured:
        # The probe substitutes every weight, so the structure on meta is enough, unless a
        # block keeps values in buffers (a PixelCNN mask, Glow's permutation).
        has_values = any(b.is_floating_point() and not name.endswith(NORM_STATISTICS)
                         for name, b in model.named_buffers())
        probe = build_network(spec, "cpu") if has_values else model
        result = measure(probe, spec.input_shape, dev, p, spec.seed)
        stage_params = {name: sum(q.numel() for q in stage.parameters())
                        for name, stage in probe.named_children()}
    return NetworkReport(spec, model, p, stage_rows(spec, p), result, str(dev), stage_params,
                         note)

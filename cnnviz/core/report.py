"""The report a page or the CLI shows: predicted numbers, measured numbers, agreement."""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import torch.nn as nn

from cnnviz.core.budget import FORWARD, FORWARD_BACKWARD, check, stack_prediction
from cnnviz.core.field import ReceptiveField
from cnnviz.core.measure import Measurement, measure
from cnnviz.core.spec import StackSpec, build, resolve_device
from cnnviz.core.walk import Prediction, Support


@dataclass
class Report:
    spec: StackSpec
    model: nn.Module
    predicted: Prediction
    measured: Measurement | None
    device: str
    device_note: str | None = None

    def checks(self) -> dict[str, tuple[Any, Any, bool]]:
        """name -> (predicted, measured, equal) for every number torch can confirm."""
        return agreement(self.predicted, self.measured)

    @property
    def agrees(self) -> bool:
        return all(ok for _, _, ok in self.checks().values())

    def rf_notes(self) -> list[str]:
        """Why a receptive-field number is what it is, when that is not obvious."""
        p, notes = self.predicted, []
        rf = p.receptive_field
        if rf.is_global:
            notes.append("A global pooling (squeeze-excitation, global context) lets every "
                         "output pixel see the whole input: the receptive field is global.")
            return notes
        if any(isinstance(j, Fraction) and j.denominator > 1 for j in rf.jump):
            notes.append("After upsampling one input pixel feeds several outputs (jump < 1) and "
                         "how many input pixels an output sees depends on its position; the "
                         "size shown is the largest.")
        _, _, h, w = p.input_shape
        (rh, rw), (sh, sw) = rf.size, p.support.size
        if sh < min(rh, h) or sw < min(rw, w):
            notes.append("The centre pixel's field is cut by the border or by the pixels a "
                         "mask or stride skips, so it is smaller than the theoretical size.")
        if rh > h or rw > w:
            notes.append(f"The theoretical field ({rf.text('x')}) is larger than "
                         f"the {h}x{w} input: the centre pixel already sees all of it.")
        return notes

    def to_json(self) -> dict:
        p, m = self.predicted, self.measured
        out = {
            "block": self.spec.block, "depth": self.spec.depth, "params_set": self.spec.values,
            "device": self.device, "input_shape": list(p.input_shape),
            "output_shape": list(p.output_shape), "params": p.params, "macs": p.macs,
            "flops": p.flops, "elementwise_ops": p.elementwise, "activation_memory": p.memory,
            "receptive_field": {**p.receptive_field.to_json(),
                                "centre_pixel": support_json(p.support)},
            "layers": [{
                "name": x.name, "type": x.kind, "input_shape": list(x.in_shape),
                "output_shape": list(x.out_shape), "params": x.params, "macs": x.macs,
                "elementwise_ops": x.elementwise, "elementwise_kind": x.op or None,
                "receptive_field": _layer_rf_json(x.receptive_field)} for x in p.layers],
            "notes": self.rf_notes(),
        }
        if self.device_note:
            out["device_note"] = self.device_note
        if m is not None:
            out["measured"] = {
                "output_shape": list(m.output_shape), "params": m.params, "flops": m.flops,
                "activation_memory": m.memory,
                "receptive_field": {"size": list(m.support.size), "pixel": list(m.support.pixel),
                                    "rows": list(m.support.rows), "cols": list(m.support.cols)},
                "notes": m.notes}
            out["agree"] = {k: ok for k, (_, _, ok) in self.checks().items()}
        return out


def agreement(p: Prediction, m: Measurement | None) -> dict[str, tuple[Any, Any, bool]]:
    """name -> (predicted, measured, equal) for every number torch confirms (none unmeasured)."""
    if m is None:
        return {}
    support = lambda s: f"rows {s.rows[0]}-{s.rows[1]}, cols {s.cols[0]}-{s.cols[1]}"  # noqa
    pairs = {
        "output shape": (p.output_shape, m.output_shape),
        "parameters": (p.params, m.params),
        "FLOPs": (p.flops, m.flops),
        "activation memory (bytes)": (p.memory, m.memory),
        "receptive field of the centre pixel": (support(p.support), support(m.support)),
        "per-layer shapes": ({x.name: x.out_shape for x in p.layers}, m.layer_shapes),
    }
    return {k: (a, b, a == b) for k, (a, b) in pairs.items()}


def support_json(s: Support) -> dict[str, list[int]]:
    return {"pixel": list(s.pixel), "rows": list(s.rows), "cols": list(s.cols),
            "size": list(s.size)}


def _layer_rf_json(rf: ReceptiveField) -> str | dict[str, Any]:
    """Per layer a global field is the word alone (the JSON the CLI has always written)."""
    return "global" if rf.is_global else rf.to_json()


def make_report(spec: StackSpec, device: str = "cpu", measured: bool = True) -> Report:
    """Build the stack, predict, and (unless told not to) measure it with torch."""
    dev, note = resolve_device(device)
    work, prediction = stack_prediction(spec, passes=FORWARD_BACKWARD if measured else FORWARD)
    check(work)  # before the real stack is built
    model = build(spec, dev)
    result = measure(model, spec.input_shape, dev, prediction, spec.seed) if measured else None
    return Report(spec, model, prediction, result, str(dev), note)

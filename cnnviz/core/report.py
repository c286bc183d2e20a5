"""The report a page or the CLI shows: predicted numbers, measured numbers, agreement."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

from dataclasses import dataclass, replace
from typing import Any

import torch.nn as nn

from cnnviz.core.budget import (
    FORWARD,
    FORWARD_BACKWARD,
    BudgetError,
    check,
    stack_prediction,
)
from cnnviz.core.exact_field import FieldProbe, measured_field, predicted_field
from cnnviz.core.field import ExactField, ReceptiveField
from cnnviz.core.measure import Measurement, measure
from cnnviz.core.spec import StackSpec, build, resolve_device
from cnnviz.core.walk import Prediction, Support
from cnnviz.core.work import LayerWork, counting_notes, layer_work


@dataclass
class Report:
    spec: StackSpec
    model: nn.Module
    predicted: Prediction
    measured: Measurement | None
    device: str
    device_note: str | None = None
    field: ExactField | None = None  # the exact receptive field, from the tape
    measured_field: ExactField | None = None  # the same, from torch's input gradients

    def checks(self) -> dict[str, tuple[Any, Any, bool]]:
        """name -> (predicted, measured, equal) for every number torch can confirm."""
        out = agreement(self.predicted, self.measured)
        if self.field is not None and self.measured_field is not None:
            a, b = self.field.text("x"), self.measured_field.text("x")
            out["exact receptive field"] = (a, b, a == b)
        return out

    @property
    def agrees(self) -> bool:
        return all(ok for _, _, ok in self.checks().values())

    def work(self) -> list[LayerWork]:
        """Each weighted layer's counts as products of its numbers, predicted and measured
        (cnnviz.core.work)."""
        return layer_work(self)

    def counting_notes(self) -> list[str]:
        """What the parameter counts include (conv biases, the norms' scale and shift)."""
        return counting_notes(self.model)

    def rf_notes(self) -> list[str]:
        """Why a receptive-field number is what it is, when that is not obvious."""
        p, field, notes = self.predicted, self.field, []
        if p.receptive_field.is_global:
            notes.append("A global pooling (squeeze-excitation, global context) lets every "
                         "output pixel see the whole input: the receptive field is global.")
            return notes
        if field is None:
            return notes
        if self.measured is not None and self.measured_field is None:
            notes.append("torch's check of the exact field needs an input grown to hold the "
                         "whole field, which is over the live budget: the field shown is the "
                         "predicted one (torch still confirms the centre pixel's support on "
                         "this input).")
        if field.bound_is_larger:
            notes.append(f"The textbook recurrence r += (k−1)·j gives {field.bound_text('x')}, "
                         f"an upper bound that no output pixel reaches here: it adds each "
                         f"layer's reach as if the layers' grids were independent, and "
                         f"{self._why_smaller()}. The recurrence: Araujo et al. 2019 "
                         f"(Distill); the exact field is computed here and confirmed by "
                         f"torch.")
        if field.varies:
            (lh, lw), (hh, hw) = field.smallest, field.largest
            notes.append(f"After upsampling, how many input pixels an output pixel reads "
                         f"depends on where it sits on the stride grid: from {lh}x{lw} to "
                         f"{hh}x{hw} here, so the field is shown as a range.")
        _, _, h, w = p.input_shape
        (sh, sw), (fh, fw) = p.support.size, field.largest
        if fh > h or fw > w:
            notes.append(f"The field ({field.text('x')}) is larger than the {h}x{w} input: "
                         f"the centre pixel reads {sh}x{sw} of it, the rest falls outside "
                         f"the border.")
        elif (sh, sw) != (fh, fw) and not field.varies:
            notes.append(f"On this {h}x{w} input the border cuts the centre pixel's field: "
                         f"it reads {sh}x{sw} of its {fh}x{fw} input pixels.")
        return notes

    def _why_smaller(self) -> str:
        kinds = " ".join(layer.kind for layer in self.predicted.layers)
        if "ConvTranspose" in kinds or "Upsample" in kinds or "PixelShuffle" in kinds:
            return ("a downsampling layer and the upsampling layer that undoes it work on "
                    "aligned grids, so the pixels the recurrence adds for each partly "
                    "coincide")
        return "some layers' windows overlap less than the recurrence assumes"

    def to_json(self) -> dict:
        p, m = self.predicted, self.measured
        out = {
            "block": self.spec.block, "depth": self.spec.depth, "params_set": self.spec.values,
            "device": self.device, "input_shape": list(p.input_shape),
            "output_shape": list(p.output_shape), "params": p.params, "macs": p.macs,
            "flops": p.flops, "elementwise_ops": p.elementwise, "activation_memory": p.memory,
            "receptive_field": {**p.receptive_field.to_json(),
                                **({"exact": self.field.to_json()} if self.field else {}),
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
                                    "rows": list(m.support.rows), "cols": list(m.support.cols),
                                    **({"exact": self.measured_field.to_json()}
                                       if self.measured_field else {})},
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
    field, probe = predicted_field(model, prediction)  # the walk reads no tensor
    result = measure(model, spec.input_shape, dev, prediction, spec.seed) if measured else None
    confirmed = _measured_field(spec, model, prediction, field, probe, result, dev)
    return Report(spec, model, prediction, result, str(dev), note, field, confirmed)


def _measured_field(spec: StackSpec, model: nn.Module, prediction: Prediction,
                    field: ExactField, probe: FieldProbe, result: Measurement | None,
                    device: torch.device) -> ExactField | None:
    """torch's exact field: the centre pixel's support already measured, when that is the
    probe; else the probe's own pixels on its input, within the budget."""
    if result is None:
        return None
    if field.is_global:
        return field
    if probe.input_shape[2:] == spec.input_shape[2:] and len(probe.pixels) == 1 \
            and probe.pixels[0] == prediction.support.pixel:
        (h, w) = result.support.size
        return ExactField((h, w), (h, w), field.bound)
    grown = replace(spec, height=probe.input_shape[2], width=probe.input_shape[3], batch=1)
    try:
        check(stack_prediction(grown, "the exact receptive field's probe", FORWARD_BACKWARD,
                               repeats=len(probe.pixels))[0])
    except BudgetError:  # the rest of the report stands; the field stays predicted only
        return None
    return measured_field(model, probe, field, device)

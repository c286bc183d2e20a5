"""The exact receptive field: the input pixels one output pixel can read.

The textbook recurrence r_out = r_in + (k - 1)·j_in (Araujo, Norris & Sim, "Computing
Receptive Fields of Convolutional Neural Networks", Distill 2019) adds every layer's reach
as if the layers' grids were independent. It is an upper bound: when a 2×2/s2 pooling and
the 2×2/s2 transposed convolution that undoes it work on aligned grids (a U-Net), or a mask
removes taps, no output pixel reaches it. The exact field is what the walk's tape gives
(cnnviz.core.walk): the set of input pixels an output pixel depends on, on an input grown
until the border cuts nothing, taken for one output pixel per phase of the stride grid (the
field of an upsampled output depends on its position). torch confirms it with the support
of the input gradient of the same pixels on the same input (cnnviz.core.measure).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import torch
import torch.nn as nn

from cnnviz.core.errors import InputError, SpecError
from cnnviz.core.field import ExactField
from cnnviz.core.measure import pixel_supports
from cnnviz.core.walk import Prediction, Support, centre_pixel, predict_supports

MAX_PHASES = 16  # output pixels probed per field: a U-Net of 4 levels has 16 phases
GROWTHS = 3  # an input grown by the recurrence's bound this many times cuts no field


@dataclass(frozen=True, slots=True)
class FieldProbe:
    """Where the exact field is taken: the grown input and the output pixels (one per
    phase), so torch can measure the same pixels."""

    input_shape: tuple[int, int, int, int]
    pixels: tuple[tuple[int, int], ...]


def phases(prediction: Prediction) -> int:
    """Output pixels in a row whose fields differ: the largest inner stride over the output
    jump (a U-Net of 3 levels: 8; a downsampling stack: 1)."""
    jumps = [j for layer in prediction.layers if layer.signal is not None
             for j in layer.receptive_field.jump]
    grid = math.lcm(1, *(Fraction(j).numerator for j in jumps))
    out_jump = max(Fraction(j) for j in prediction.receptive_field.jump)
    return max(1, min(MAX_PHASES, math.ceil(grid / out_jump)))


def predicted_field(model: nn.Module, prediction: Prediction) -> tuple[ExactField, FieldProbe]:
    """The exact field of `model` (whose walk on its input is `prediction`) from the tape."""
    rf = prediction.receptive_field
    probe = FieldProbe(prediction.input_shape, ())
    if rf.is_global or prediction.output.flat:
        return ExactField(rf.size, rf.size, rf.size, True), probe
    count = phases(prediction)
    n, c, h, w = prediction.input_shape
    sizes = zip(_sizes(h, rf.size[0], _grid(prediction, 0)),
                _sizes(w, rf.size[1], _grid(prediction, 1)))
    refused: InputError | None = None  # why the last size tried does not run, if it did not
    for size_h, size_w in sizes:  # the input first, then grown until nothing is cut
        shape = (1, c, size_h, size_w)
        try:
            walked, supports = predict_supports(model, shape, [])
            refused = None
        except InputError as e:  # too small for the stack: the next size is larger
            refused = e
            continue
        y = walked.output
        centre = centre_pixel(y.height, y.width)
        pixels = tuple((centre[0] + t, centre[1] + t) for t in range(count))
        if any(r >= y.height or col >= y.width for r, col in pixels):
            continue
        supports = predict_supports(model, shape, list(pixels))[1]
        if not any(_touches(s, shape) for s in supports):
            return _field(supports, rf.size), FieldProbe(shape, pixels)
    if refused is not None:  # a stack that runs at its own size only (branches that line
        # up by coincidence): no larger input holds its field uncut
        raise SpecError(f"The exact receptive field needs an input larger than {h}×{w}, "
                        f"where this stack does not run: {refused}")
    raise RuntimeError(f"The exact receptive field did not fit an input of "
                       f"{shape[2]}×{shape[3]}.")  # the bound is an upper bound: never


def _sizes(size: int, bound: int, grid: int) -> list[int]:
    """Input sizes to try along an axis: the input itself, then the smallest size in the
    same phase of the grid that holds the bound with room for every output phase, then
    larger ones (a field off the centre, as a mask's, needs room on one side)."""
    room = bound + 2 * grid + 2
    first = size + grid * max(0, math.ceil((room - size) / grid))
    step = grid * math.ceil(bound / grid)
    return [size, *(first + k * step for k in range(GROWTHS))]


def measured_field(model: nn.Module, probe: FieldProbe, predicted: ExactField,
                   device: str | torch.device = "cpu") -> ExactField:
    """The same field from torch: input-gradient supports of the probe's pixels (again in
    float64 on the cpu when float32 underflows at the field's far edge)."""
    if predicted.is_global:
        return predicted
    supports = pixel_supports(model, probe.input_shape, list(probe.pixels), device)
    field = _field(supports, predicted.bound)
    if field != predicted:
        supports = pixel_supports(model, probe.input_shape, list(probe.pixels), "cpu",
                                  torch.float64)
        field = _field(supports, predicted.bound)
    return field


def _grid(prediction: Prediction, axis: int) -> int:
    """The largest inner stride along an axis: growing the input by multiples of it keeps
    every layer's size rule (a U-Net's levels) and every output phase."""
    jumps = [layer.receptive_field.jump[axis] for layer in prediction.layers
             if layer.signal is not None]
    return math.lcm(1, *(Fraction(j).numerator for j in jumps))


def _touches(s: Support, shape: tuple[int, int, int, int]) -> bool:
    """A support that reaches the input's border may be cut by it (an empty one is not:
    a dilated transposed convolution leaves some output pixels nothing to read)."""
    if s.rows[1] < s.rows[0]:
        return False
    return s.rows[0] <= 0 or s.cols[0] <= 0 or s.rows[1] >= shape[2] - 1 \
        or s.cols[1] >= shape[3] - 1


def _field(supports: list[Support], bound: tuple[int, int]) -> ExactField:
    """The range over the output pixels that read anything."""
    sizes = [s.size for s in supports if s.rows[1] >= s.rows[0]] or [(0, 0)]
    return ExactField((max(h for h, _ in sizes), max(w for _, w in sizes)),
                      (min(h for h, _ in sizes), min(w for _, w in sizes)), bound)

"""Receptive fields: theoretical, effective, and two designs where pixels go missing.

- the theoretical field per layer, r_out = r_in + (k-1)·d·j_in and j_out = j_in·s
  (Araujo et al., Distill 2019), from the predicted walk;
- the effective field (Luo et al. 2016, "Understanding the Effective Receptive Field in
  Deep Convolutional Neural Networks"): |d y_centre / d x| averaged over random inputs
  and the image;
- gradient supports with every path open (the idea of cnnviz.core.measure, whose
  path-opening we import): the PixelCNN blind spot and what a downsampling shortcut
  lets through.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from math import ceil, floor

import numpy as np
import torch
import torch.nn as nn

from cnnviz.core import arithmetic as ar
from cnnviz.core.blocks.config import BlockConfig
from cnnviz.core.blocks.parts import projection
from cnnviz.core.budget import FORWARD_BACKWARD, check, stack_work
from cnnviz.core.errors import SpecError
from cnnviz.core.exact_field import predicted_field
from cnnviz.core.kinds import node_modules
from cnnviz.core.layers import MaskedConv2d
from cnnviz.core.measure import input_grad, opened_copy
from cnnviz.core.names import layer_names
from cnnviz.core.spec import StackSpec, build
from cnnviz.core.walk import Axis, Prediction, Support, centre_pixel, predict

ERF_SAMPLES = 8  # random inputs averaged for the effective receptive field (plus the image)


# --- theoretical receptive field --------------------------------------------------------

@dataclass
class RFStep:
    """One spatial layer of the recurrence, along the height axis; `name` is the layer's
    readable name ("block 1 · conv 2")."""

    name: str
    kind: str
    k: int
    s: int
    d: int
    r_in: int
    j_in: int
    r_out: int
    j_out: int

    def latex(self) -> str:
        name = self.name.replace(" · ", ", ")  # in LaTeX's text mode
        return (rf"\text{{{name}}}:\; r = {self.r_in} + ({self.k}-1)\cdot{self.d}\cdot"
                rf"{self.j_in} = {self.r_out},\quad j = {self.j_in}\cdot{self.s} = {self.j_out}")


@dataclass
class RFGeometry:
    """Output position (i, j) sees input rows i*jump_h + [lo_h, hi_h] (columns alike)."""

    rf_h: Axis
    rf_w: Axis
    output_hw: tuple[int, int]
    input_hw: tuple[int, int]
    is_global: bool

    def box(self, i: int, j: int) -> tuple[int, int, int, int]:
        """(top, left, bottom, right), inclusive, unclipped: may leave the image."""
        if self.is_global:
            return (0, 0, self.input_hw[0] - 1, self.input_hw[1] - 1)
        h, w = self.rf_h, self.rf_w
        top, bottom = _integers(i * h.jump + h.lo, i * h.jump + h.hi)
        left, right = _integers(j * w.jump + w.lo, j * w.jump + w.hi)
        return (top, left, bottom, right)

    def pixel_box(self, i: int, j: int) -> tuple[int, int, int, int] | None:
        """The input cells output (i, j) steps over (its stride footprint), if whole cells."""
        if self.is_global or self.rf_h.jump < 1 or self.rf_w.jump < 1:
            return None
        top, left = int(i * self.rf_h.jump), int(j * self.rf_w.jump)
        return (top, left, top + int(self.rf_h.jump) - 1, left + int(self.rf_w.jump) - 1)

    def clipped(self, i: int, j: int) -> tuple[int, int, int, int]:
        t, left, b, r = self.box(i, j)
        h, w = self.input_hw
        return (max(t, 0), max(left, 0), min(b, h - 1), min(r, w - 1))


def _integers(a: Fraction | float, b: Fraction | float) -> tuple[int, int]:
    return ceil(a), floor(b)


def rf_geometry(prediction: Prediction) -> RFGeometry:
    """The unclipped receptive-field box of every output position, from the predicted walk."""
    y = prediction.output
    return RFGeometry(y.rf_h, y.rf_w, (y.height, y.width), prediction.input_shape[2:],
                      y.is_global)


def rf_theory(spec: StackSpec) -> tuple[RFGeometry, list[RFStep], list[str]]:
    """The receptive-field geometry of `spec`'s stack and its recurrence, layer by layer."""
    model = build(spec)
    prediction = predict(model, spec.input_shape)
    steps, notes = rf_steps(model, prediction)
    exact = predicted_field(model, prediction)[0]
    if exact.bound_is_larger:
        notes.append(f"This box is the recurrence's bound, {exact.bound_text(' × ')}: no output "
                     f"pixel reaches it. The exact field is {exact.text(' × ')}: a downsampling "
                     f"layer and the upsampling layer that undoes it work on aligned grids, so "
                     f"the pixels the recurrence adds for each partly coincide (the Block "
                     f"Explorer confirms it with torch).")
    return rf_geometry(prediction), steps, notes


def rf_steps(model: nn.Module, prediction: Prediction) -> tuple[list[RFStep], list[str]]:
    """The recurrence r_out = r_in + (k-1)·d·j_in, j_out = j_in·s for each conv and pool,
    with the user's numbers; plus notes on the layers the formula does not cover."""
    modules = node_modules(model)
    steps, notes = [], set()
    readable = dict(zip([layer.name for layer in prediction.layers],
                        layer_names([(layer.name, layer.kind) for layer in prediction.layers])))
    for layer in prediction.layers:
        m = modules.get(layer.name)
        rf = layer.receptive_field
        if rf.is_global:
            notes.add("A global pooling makes the field global from there on.")
            continue
        if isinstance(m, MaskedConv2d):
            notes.add("A masked convolution opens only the kernel rows above the centre, so "
                      "it grows the field by less than (k-1)·d·j.")
            continue
        if isinstance(m, (nn.ConvTranspose2d, nn.Upsample)):
            notes.add("Transposed convolutions and upsampling make the jump a fraction "
                      "(j·1/s): the field is counted on the predicted walk instead.")
            continue
        if not isinstance(m, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            continue
        r_out, j_out = rf.size[0], rf.jump[0]
        g = ar.conv_geometry(m)
        k, s, d = g.kernel[0], g.stride[0], g.dilation[0]
        if isinstance(j_out, Fraction) and j_out.denominator != 1:
            notes.add("After upsampling the jump is a fraction; those layers are omitted.")
            continue
        j_in = Fraction(j_out) / s
        if j_in.denominator != 1:
            continue
        r_in = r_out - (k - 1) * d * int(j_in)
        steps.append(RFStep(readable[layer.name], layer.kind, k, s, d, int(r_in), int(j_in),
                            int(r_out), int(j_out)))
    if any(layer.kind in ("add", "concat", "mul") for layer in prediction.layers):
        notes.add("Where branches merge (add, concat), the field is the widest of the branches.")
    return steps, sorted(notes)


# --- gradients ------------------------------------------------------------------------------

def open_gradient(model: nn.Module, input_shape: tuple[int, ...], pixel: tuple[int, int],
                  seed: int = 0) -> np.ndarray:
    """|d y[pixel] / d x| summed over channels, on a copy with every path open (positive
    weights and inputs, norms as identity, max-pool as average: cnnviz.core.measure's probe).
    Its support is exactly the set of pixels the output can depend on. float64."""
    with opened_copy(model, input_shape, dtype=torch.float64, seed=seed) as (probe, x, _):
        probe(x)[:, :, pixel[0], pixel[1]].sum().backward()
    return input_grad(x).abs().sum(dim=(0, 1)).numpy()


@dataclass
class EffectiveRF:
    """The effective receptive field of the centre output pixel (Luo et al. 2016)."""

    grad: np.ndarray  # (H, W) mean |d y_centre / d x| over the inputs, summed over channels
    pixel: tuple[int, int]  # the centre output pixel
    output_hw: tuple[int, int]
    theory: Support  # the predicted support, clipped to the image
    samples: int
    n50: int  # fewest pixels holding 50% of the gradient mass
    n90: int

    @property
    def theory_area(self) -> int:
        return max(1, self.theory.size[0] * self.theory.size[1])

    @property
    def share50(self) -> float:
        return self.n50 / self.theory_area

    @property
    def share90(self) -> float:
        return self.n90 / self.theory_area

    @property
    def support(self) -> Support:
        """Rows and columns where the gradient is not zero."""
        rows = np.nonzero(self.grad.sum(axis=1))[0]
        cols = np.nonzero(self.grad.sum(axis=0))[0]
        if not len(rows):
            return Support(self.pixel, (0, -1), (0, -1))
        return Support(self.pixel, (int(rows[0]), int(rows[-1])), (int(cols[0]), int(cols[-1])))


def mass_pixels(grad: np.ndarray, fraction: float) -> int:
    """The smallest number of pixels whose gradient magnitudes sum to `fraction` of all."""
    values = np.sort(np.abs(grad).ravel())[::-1].astype(np.float64)
    total = values.sum()
    if total <= 0:
        return 0
    cumulative = np.cumsum(values) / total
    return min(int(np.searchsorted(cumulative, fraction - 1e-12)) + 1, len(values))


def effective_rf(spec: StackSpec, image: torch.Tensor | None = None,
                 samples: int = ERF_SAMPLES, device: str | torch.device = "cpu",
                 seed: int = 0) -> EffectiveRF:
    """Mean |d y_centre / d x| of a fresh stack (its real, random weights; eval mode so
    batch entries stay independent) over `samples` Gaussian inputs and the image."""
    if samples < 1 and image is None:
        raise SpecError("The effective receptive field needs at least one input.")
    one = (1, *spec.input_shape[1:])
    batch = samples + (image is not None)
    check(stack_work(spec.replace(batch=batch), "the effective receptive field",
                     FORWARD_BACKWARD, reduce="the input size, the channels or the depth"))
    model = build(spec)
    prediction = predict(model, (batch, *one[1:]))  # the support does not depend on the batch
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn((samples, *one[1:]), generator=generator)
    if image is not None:
        if tuple(image.shape) != one[1:]:
            raise SpecError(f"The image is {tuple(image.shape)} but the stack takes {one[1:]}.")
        x = torch.cat([x, image.unsqueeze(0).float()])
    model = model.to(device).eval()
    x = x.to(device).requires_grad_(True)
    y = model(x)  # (B, C, H', W')
    pixel = centre_pixel(y.shape[2], y.shape[3])
    y[:, :, pixel[0], pixel[1]].sum().backward()
    grad = input_grad(x).abs().sum(dim=1).mean(dim=0).double().cpu().numpy()  # (H, W)
    return EffectiveRF(grad, pixel, (y.shape[2], y.shape[3]), prediction.support, batch,
                       mass_pixels(grad, 0.5), mass_pixels(grad, 0.9))


# --- the PixelCNN blind spot -------------------------------------------------------------------

@dataclass
class BlindSpot:
    """Where the centre pixel of a masked stack can and cannot look."""

    seen: np.ndarray  # (H, W) bool: the gradient reaches it
    causal: np.ndarray  # (H, W) bool: above, or left in the same row (may be seen)
    reach: np.ndarray  # (H, W) bool: inside the theoretical receptive-field box
    pixel: tuple[int, int]

    @property
    def blind(self) -> np.ndarray:
        """Allowed (causal) pixels within reach that the stack still never sees."""
        return self.causal & self.reach & ~self.seen

    def categories(self) -> np.ndarray:
        """0 future (must not be seen), 1 seen, 2 blind spot, 3 the pixel itself,
        4 allowed but beyond the field of this depth."""
        out = np.where(self.seen, 1, np.where(self.blind, 2,
                                              np.where(self.causal, 4, 0)))
        out[self.pixel] = 3
        return out


def masked_spec(depth: int = 4, kernel_size: int = 3, size: int = 15) -> StackSpec:
    """A PixelCNN stack: mask A first (a pixel may not see itself), then mask B."""
    return StackSpec.create("masked_conv", {"in_channels": 1, "out_channels": 4,
                                            "kernel_size": kernel_size, "mask_type": "A"},
                            depth=depth, height=size, width=size)


def blind_spot(spec: StackSpec) -> BlindSpot:
    model = build(spec)
    h, w = spec.height, spec.width
    pixel = centre_pixel(h, w)
    seen = open_gradient(model, (1, spec.in_channels, h, w), pixel, spec.seed) > 0
    rows, cols = np.indices((h, w))
    causal = (rows < pixel[0]) | ((rows == pixel[0]) & (cols < pixel[1]))
    geometry = rf_geometry(predict(model, (1, spec.in_channels, h, w)))
    top, left, bottom, right = geometry.box(*pixel)
    reach = (rows >= top) & (rows <= bottom) & (cols >= left) & (cols <= right)
    return BlindSpot(seen, causal, reach, pixel)


# --- the downsampling shortcut (ResNet-D, He et al. 2019) ---------------------------------

SHORTCUTS = {"conv": "strided 1x1 conv (ResNet)", "avgpool": "2x2 average pool, then 1x1 conv "
             "(ResNet-D)"}


def shortcut_support(kind: str, stride: int = 2, size: int = 8,
                     pixel: tuple[int, int] = (1, 1)) -> np.ndarray:
    """(size, size) bool: the input pixels one output pixel of the shortcut alone reads."""
    if kind not in SHORTCUTS:
        raise SpecError(f"shortcut must be one of {', '.join(SHORTCUTS)}, not {kind!r}.")
    module = projection(BlockConfig(shortcut=kind, norm="none"), 1, 1, stride, "none") \
        or nn.Identity()  # stride 1: the identity shortcut
    return open_gradient(module, (1, 1, size, size), pixel) > 0


# --- dilated convolutions and gridding (Yu & Koltun 2016; Wang et al. 2018) ---------------

HYBRID = (1, 2, 3)  # Wang et al. 2018's hybrid dilated convolution: its rule holds
# Stacks the page sets beside the chosen one: whether Wang et al.'s rule holds, and the holes.
GRIDDING_EXAMPLES = ((1, 2, 3), (1, 2, 5), (2, 3, 4), (1, 2, 8))


def hdc_gap(dilations: tuple[int, ...]) -> int:
    """M2 of Wang et al. 2018's hybrid dilated convolution rule (§3.2) for 3x3 layers: the
    largest gap between the taps layers 2..n leave, from M_n = r_n and
    M_i = max(M_{i+1} - 2 r_i, M_{i+1} - 2 (M_{i+1} - r_i), r_i). With a first layer of
    dilation 1, M2 <= kernel_size means the stack reads every pixel of its field."""
    if len(dilations) < 2:
        raise SpecError("The rule needs at least two dilations.")
    gap = dilations[-1]
    for r in reversed(dilations[1:-1]):
        gap = max(gap - 2 * r, gap - 2 * (gap - r), r)
    return gap


def hdc_holds(dilations: tuple[int, ...], kernel_size: int = 3) -> bool:
    """Wang et al.'s design goal: a first dilation of 1 and M2 <= the kernel size."""
    return dilations[0] == 1 and hdc_gap(dilations) <= kernel_size


def dilated_stack(dilations: tuple[int, ...], kernel_size: int = 3) -> nn.Sequential:
    """3x3 convolutions with the given dilations, 'same' padding, one channel: the stacks
    whose fields the page compares (their weights do not matter: every path is opened)."""
    return nn.Sequential(*[nn.Conv2d(1, 1, kernel_size, padding=d * (kernel_size // 2),
                                     dilation=d, bias=False) for d in dilations])


@dataclass
class Gridding:
    """Which pixels of its receptive field one output pixel of a dilated stack reads."""

    dilations: tuple[int, ...]
    seen: np.ndarray  # (H, W) bool: the gradient of the centre output reaches it
    reach: np.ndarray  # (H, W) bool: inside the theoretical receptive-field box
    field: int  # the box's side

    @property
    def holes(self) -> int:
        """Pixels inside the field that the output never reads."""
        return int((self.reach & ~self.seen).sum())

    def categories(self) -> np.ndarray:
        """0 outside the field, 1 read, 2 a hole: inside the field, never read."""
        return np.where(self.seen, 1, np.where(self.reach, 2, 0))


def gridding(dilations: tuple[int, ...]) -> Gridding:
    """Gradient support of the centre output of `dilated_stack(dilations)`, against the
    box the receptive-field formula gives (predicted by the walk, read by torch)."""
    if not 1 <= len(dilations) <= 6 or not all(1 <= d <= 8 for d in dilations):
        raise SpecError("Give 1 to 6 dilations, each from 1 to 8.")
    model = dilated_stack(dilations)
    size = 2 * sum(dilations) + 5  # the field (1 + 2 * the dilations) and a margin
    pixel = centre_pixel(size, size)
    seen = open_gradient(model, (1, 1, size, size), pixel) > 0
    geometry = rf_geometry(predict(model, (1, 1, size, size)))
    top, left, bottom, right = geometry.box(*pixel)
    rows, cols = np.indices((size, size))
    reach = (rows >= top) & (rows <= bottom) & (cols >= left) & (cols <= right)
    return Gridding(tuple(dilations), seen, reach, bottom - top + 1)

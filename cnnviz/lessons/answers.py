"""What a question asks, computed by cnnviz from the step's state, and how close a guess is.

A question names a quantity (`compute = "params"`); its answer is never written in the
lesson file. Each quantity is one small function of the step's state that calls the same
library the pages call. Its numbers come through a `Lab`: the library itself by default
(the CLI, the tests), the app's bounded caches in the app (cnnviz.ui.lessons.player), so a
question reuses what its page already computed and every heavy path keeps its budget.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.nn as nn

from cnnviz import pages as app
from cnnviz.core import images
from cnnviz.core.budget import check, stack_prediction, stack_work
from cnnviz.core.errors import InputError
from cnnviz.core.exact_field import predicted_field
from cnnviz.core.field import ExactField
from cnnviz.core.network.presets import network_spec
from cnnviz.core.spec import StackSpec, build
from cnnviz.core.walk import ACTIVATIONS, Prediction, predict
from cnnviz.topics import costs, gradflow, learned, networks, receptive_field, sliding
from cnnviz.topics.evidence import occlusion_corners, occlusion_windows
from cnnviz.topics.features import image_spec
from cnnviz.topics.training import Classifier, TrainRun

if TYPE_CHECKING:
    from cnnviz.lessons.model import StepState


class Lab:
    """Where answers get their numbers. The app overrides these with its caches."""

    def predict(self, spec: StackSpec) -> Prediction:
        return stack_prediction(spec)[1]  # on the meta device, after the budget's check

    def exact_field(self, spec: StackSpec) -> ExactField:
        """The stack's exact receptive field, from the walk on the meta device."""
        return predicted_field(build(spec, "meta"), self.predict(spec))[0]

    def gradient_probe(self, spec: StackSpec, loss: str) -> gradflow.Comparison:
        return gradflow.compare(spec, loss)

    def cost(self, topic: str, values: Mapping[str, int]) -> costs.Comparison:
        return costs.compare(topic, **values)

    def effective_rf(self, spec: StackSpec, data: bytes) -> receptive_field.EffectiveRF:
        image = images.to_tensor(images.decode_image(data), spec.height, spec.width)
        return receptive_field.effective_rf(spec, image, seed=spec.seed)

    def blind_spot(self, depth: int, kernel: int) -> receptive_field.BlindSpot:
        # the page's grid; the count is the same on any grid that holds the whole field
        spec = receptive_field.masked_spec(depth, kernel, size=4 * depth + 7)
        return receptive_field.blind_spot(spec)

    def shortcut_support(self, kind: str) -> np.ndarray:
        return receptive_field.shortcut_support(kind, stride=2, size=8, pixel=(1, 1))

    def network(self, spec: Any) -> Prediction:
        """The predicted walk of a whole network (a NetworkSpec of cnnviz.core.network)."""
        from cnnviz.core.network.report import make_network_report
        return make_network_report(spec, measured=False).predicted

    def trained(self, name: str) -> tuple[TrainRun, Classifier]:
        """A shipped trained stack and its model in eval mode."""
        run = learned.shipped_run(name)
        return run, run.model()

    def trained_test(self, name: str) -> learned.TestResults:
        run, model = self.trained(name)
        return learned.test_results(model, learned.run_data(run))


@dataclass(frozen=True)
class Quantity:
    """Something cnnviz computes from a step's state.

    Args:
        label: what the number is, as a question or the CLI names it.
        pages: the pages whose controls it reads (it makes sense only there); () for any.
        args: the arguments a question may give, each with its allowed values (the first
            is the default).
        needs_skip: it compares a block with and without its shortcut.
    """

    name: str
    label: str
    compute: Callable[[Lab, StepState, Mapping[str, Any]], float]
    pages: tuple[str, ...] = ()
    args: Mapping[str, tuple] = field(default_factory=dict)
    needs_skip: bool = False

    def arguments(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """The arguments `given`, else each one's default."""
        return {name: values[0] for name, values in self.args.items()} | dict(given)


QUANTITIES: dict[str, Quantity] = {}


def quantity(label: str, pages: tuple[str, ...] = (), args: Mapping[str, tuple] | None = None,
             needs_skip: bool = False, name: str = "") -> Callable[[Callable], Callable]:
    """Register `fn(lab, state, args) -> number` as a quantity (named after the function
    unless `name` says otherwise)."""
    def wrap(fn):
        key = name or fn.__name__
        QUANTITIES[key] = Quantity(key, label, fn, pages, args or {}, needs_skip)
        return fn
    return wrap


# --- the stack: predicted numbers -------------------------------------------------------

@quantity("the output height H_out, in pixels")
def output_height(lab: Lab, state: StepState, args: Mapping[str, Any]) -> float:
    return lab.predict(state.stack).output_shape[2]


@quantity("the output width W_out, in pixels")
def output_width(lab: Lab, state: StepState, args: Mapping[str, Any]) -> float:
    return lab.predict(state.stack).output_shape[3]


@quantity("the output channels")
def output_channels(lab: Lab, state: StepState, args: Mapping[str, Any]) -> float:
    return lab.predict(state.stack).output_shape[1]


@quantity("the learned parameters of the stack")
def params(lab: Lab, state: StepState, args: Mapping[str, Any]) -> float:
    return lab.predict(state.stack).params


@quantity("the multiply-accumulates (MACs) of one forward pass")
def macs(lab: Lab, state: StepState, args: Mapping[str, Any]) -> float:
    return lab.predict(state.stack).macs


@quantity("the receptive field's height, in input pixels: the exact field, the largest over "
          "output positions (infinite when global)", name="receptive_field")
def receptive_field_size(lab: Lab, state: StepState, args: Mapping[str, Any]) -> float:
    exact = lab.exact_field(state.stack)
    return math.inf if exact.is_global else float(exact.largest[0])


@quantity("the widest feature map inside the stack, in channels")
def widest_channels(lab: Lab, state: StepState, args: Mapping[str, Any]) -> float:
    return max(layer.out_shape[0] for layer in lab.predict(state.stack).layers)


@quantity("the activation functions the stack applies")
def nonlinearities(lab: Lab, state: StepState, args: Mapping[str, Any]) -> float:
    return sum(isinstance(m, ACTIVATIONS) for m in build(state.stack, "meta").modules())


@quantity("the parameters of the shortcuts (the stack's minus the plain stack's)",
          needs_skip=True)
def shortcut_params(lab: Lab, state: StepState, args: Mapping[str, Any]) -> float:
    return lab.predict(state.stack).params - lab.predict(state.stack.replace(skip=False)).params


def _fully_connected(lab: Lab, spec: StackSpec) -> Prediction:
    """A linear layer mapping the stack's whole input to its whole output (on meta)."""
    out = lab.predict(spec).output_shape
    with torch.device("meta"):
        dense = nn.Sequential(nn.Flatten(), nn.Linear(math.prod(spec.input_shape[1:]),
                                                      math.prod(out[1:])))
    return predict(dense, spec.input_shape)


@quantity("the parameters of a fully connected layer with the same input and output sizes")
def fc_params(lab: Lab, state: StepState, args: Mapping[str, Any]) -> float:
    return _fully_connected(lab, state.stack).params


@quantity("how many times more parameters the fully connected layer needs than the stack")
def fc_over_conv(lab: Lab, state: StepState, args: Mapping[str, Any]) -> float:
    return fc_params(lab, state, args) / params(lab, state, args)


@quantity("how many pixels the output maps move when the image moves right (measured)",
          args={"shift": (8, 4, 2, 16)})
def map_shift(lab: Lab, state: StepState, args: Mapping[str, Any]) -> float:
    """Translation equivariance measured with torch: a pattern on a zero background, moved
    right by `shift` pixels; the output displacement that best explains the new maps."""
    spec, shift = state.stack, args["shift"]
    if spec.width < 4 * shift:
        raise InputError(f"The input is {spec.width} pixels wide: moving a pattern by {shift} "
                         f"needs at least {4 * shift}.")
    check(stack_work(spec.replace(batch=2), "the shift experiment"))
    n, c, h, w = spec.input_shape
    x = torch.zeros(2, c, h, w)
    pattern = torch.randn(c, h // 2, w // 4, generator=torch.Generator().manual_seed(spec.seed))
    x[0, :, h // 4: h // 4 + h // 2, w // 4: w // 4 + w // 4] = pattern
    x[1] = torch.roll(x[0], shift, dims=2)  # the pattern stays away from the borders
    with torch.no_grad():
        y = build(spec).eval()(x)  # (2, C', H', W')
    errors = [float((y[1] - torch.roll(y[0], d, dims=2)).abs().sum())
              for d in range(y.shape[3])]
    return int(np.argmin(errors))


# --- Plain vs Residual: the gradient the page shows -----------------------------------------

def _probe(lab: Lab, state: StepState) -> gradflow.Comparison:
    """The page's probe: the picker's stack at its batch and size, with the page's toggles."""
    c = state.resolved()
    return lab.gradient_probe(gradflow.probe_for(state.stack, c), c["loss"])


def _orders(x: float) -> float:
    """log10, with a gradient or a spread that reached exactly 0 at minus infinity."""
    return math.log10(x) if x > 0 else (-math.inf if x == 0 else math.nan)


@quantity("orders of magnitude between the first layer's weight gradient and the last's "
          "(log10 of first / last: negative when it vanishes)", pages=(app.PLAIN_VS_RESIDUAL.name,),
          args={"stack": ("plain", "residual")}, needs_skip=True)
def gradient_orders(lab: Lab, state: StepState, args: Mapping[str, Any]) -> float:
    return _orders(getattr(_probe(lab, state), args["stack"]).first_over_last)


@quantity("orders of magnitude the signal's spread grows from the first block's output to the "
          "last's (log10 of the std ratio)", pages=(app.PLAIN_VS_RESIDUAL.name,),
          args={"stack": ("plain", "residual")}, needs_skip=True)
def signal_growth_orders(lab: Lab, state: StepState, args: Mapping[str, Any]) -> float:
    return _orders(getattr(_probe(lab, state), args["stack"]).std_growth)


# --- Cost & Bottlenecks: the comparison the page shows ------------------------------------

def _comparison(lab: Lab, state: StepState) -> costs.Comparison:
    c = state.resolved()
    _, knobs = costs.TOPICS[c["topic"]]
    return lab.cost(c["topic"], {k.name: c[k.name] for k in knobs})


@quantity("the percentage of the first design's MACs the second design saves",
          pages=(app.COST_LAB.name,))
def macs_saved_percent(lab: Lab, state: StepState, args: Mapping[str, Any]) -> float:
    return 100 * costs.savings(_comparison(lab, state))


@quantity("the second design's MACs over the first design's", pages=(app.COST_LAB.name,))
def macs_ratio(lab: Lab, state: StepState, args: Mapping[str, Any]) -> float:
    return float(_comparison(lab, state).macs_ratio(1))


@quantity("the second design's parameters over the first design's", pages=(app.COST_LAB.name,))
def params_ratio(lab: Lab, state: StepState, args: Mapping[str, Any]) -> float:
    return float(_comparison(lab, state).params_ratio(1))


@quantity("the parameters of one design of the comparison", pages=(app.COST_LAB.name,),
          args={"design": (2, 1, 3, 4, 5, 6, 7, 8, 9)})
def design_params(lab: Lab, state: StepState, args: Mapping[str, Any]) -> float:
    return _design(lab, state, args["design"]).params


@quantity("the MACs of one design of the comparison", pages=(app.COST_LAB.name,),
          args={"design": (2, 1, 3, 4, 5, 6, 7, 8, 9)})
def design_macs(lab: Lab, state: StepState, args: Mapping[str, Any]) -> float:
    return _design(lab, state, args["design"]).macs


def _design(lab: Lab, state: StepState, number: int) -> costs.Design:
    designs = _comparison(lab, state).designs
    if not 1 <= number <= len(designs):
        raise InputError(f"design = {number}: this comparison has {len(designs)} designs.")
    return designs[number - 1]


# --- Convolution Arithmetic: checkerboard artifacts ------------------------------------------

CHECKERBOARD_DESIGNS = {"transposed": "std_transposed", "upsample_conv": "std_upsample_conv",
                        "subpixel": "std_subpixel"}


@quantity("the spread (std) of an upsampled constant image away from the borders",
          pages=(app.CONV_ARITHMETIC.name,), args={"design": tuple(CHECKERBOARD_DESIGNS)})
def checkerboard_std(lab: Lab, state: StepState, args: Mapping[str, Any]) -> float:
    c = state.resolved()
    board = sliding.checkerboard(kernel_size=c["cb_kernel"], stride=2, weights=c["cb_weights"])
    return getattr(board, CHECKERBOARD_DESIGNS[args["design"]])


@quantity("the chosen output of the page's small convolution (kernel as is, or turned 180°)",
          pages=(app.CONV_ARITHMETIC.name,), args={"kernel": ("as is", "flipped")})
def hand_sum_value(lab: Lab, state: StepState, args: Mapping[str, Any]) -> float:
    c = state.resolved()
    hand = sliding.hand_sum(c["ws_seed"])
    out = hand.output if args["kernel"] == "as is" else hand.flipped
    return float(out[c["ws_row"] - 1, c["ws_col"] - 1])


# --- Receptive Field: effective field, blind spot, strided shortcut ---------------------------

@quantity("the percentage of the theoretical field that holds half of the gradient",
          pages=(app.RECEPTIVE_FIELD.name,), args={"variant": ("residual", "plain")})
def erf_share50(lab: Lab, state: StepState, args: Mapping[str, Any]) -> float:
    spec = image_spec(state.stack, app.ERF_IMAGE_SIZE, app.ERF_IMAGE_SIZE)
    if spec.entry.has_skip:
        spec = spec.replace(skip=args["variant"] == "residual")
    data = images.sample_path(state.resolved()["image"]).read_bytes()
    return 100 * lab.effective_rf(spec, data).share50


@quantity("allowed pixels inside the field that the masked stack never sees",
          pages=(app.RECEPTIVE_FIELD.name,))
def blind_pixels(lab: Lab, state: StepState, args: Mapping[str, Any]) -> float:
    c = state.resolved()
    return int(lab.blind_spot(c["mask_depth"], c["mask_kernel"]).blind.sum())


@quantity("pixels inside the field of three dilated 3x3 layers that the centre output never "
          "reads", pages=(app.RECEPTIVE_FIELD.name,), args={"dilations": ("same", "hybrid")})
def gridding_holes(lab: Lab, state: StepState, args: Mapping[str, Any]) -> float:
    same = (state.resolved()["dilation"],) * 3
    return receptive_field.gridding(same if args["dilations"] == "same"
                                    else receptive_field.HYBRID).holes


@quantity("the pixels of a 2x2 window that a downsampling shortcut reads",
          args={"kind": tuple(receptive_field.SHORTCUTS)})
def shortcut_pixels(lab: Lab, state: StepState, args: Mapping[str, Any]) -> float:
    return int(lab.shortcut_support(args["kind"]).sum())


# --- Networks: the preset the page shows ---------------------------------------------------

def _network(lab: Lab, state: StepState) -> Prediction:
    return lab.network(network_spec(state.resolved()["net"]))


@quantity("the learned parameters of the whole network", pages=(app.NETWORK.name,))
def network_params(lab: Lab, state: StepState, args: Mapping[str, Any]) -> float:
    return _network(lab, state).params


@quantity("the multiply-accumulates of one image through the whole network",
          pages=(app.NETWORK.name,))
def network_macs(lab: Lab, state: StepState, args: Mapping[str, Any]) -> float:
    return _network(lab, state).macs


@quantity("how many times its MACs a scaling (the Networks page's Scaling tab) gives the "
          "network", pages=(app.NETWORK.name,),
          args={"scaling": ("compound", "depth only", "width only", "resolution only"),
                "phi": (1, 2, 3)})
def scaled_macs_ratio(lab: Lab, state: StepState, args: Mapping[str, Any]) -> float:
    variants = {v.name: v for v in networks.scaling_variants(
        network_spec(state.resolved()["net"]), args["phi"])}
    chosen = variants[args["scaling"]]
    if chosen.spec is None:
        raise InputError(f"{args['scaling']} cannot be built: {chosen.error}")
    return lab.network(chosen.spec).macs / lab.network(variants["as it is"].spec).macs


# --- Trained Networks: the shipped pair the page shows ---------------------------------------

TRAINED_STACKS = {"stack": ("residual", "plain")}


def _trained_name(state: StepState, args: Mapping[str, Any]) -> str:
    plain, residual = learned.PAIRS[state.resolved()["pair"]]
    return residual if args["stack"] == "residual" else plain


@quantity("the percentage of the 450 test digits the stack classifies right",
          pages=(app.TRAINED.name,), args=TRAINED_STACKS)
def trained_test_accuracy(lab: Lab, state: StepState, args: Mapping[str, Any]) -> float:
    return 100 * lab.trained_test(_trained_name(state, args)).accuracy


@quantity("the test digits the stack gets wrong", pages=(app.TRAINED.name,), args=TRAINED_STACKS)
def trained_mistakes(lab: Lab, state: StepState, args: Mapping[str, Any]) -> float:
    return len(lab.trained_test(_trained_name(state, args)).mistakes)


@quantity("the side of the last block's maps, in pixels (what Grad-CAM weighs)",
          pages=(app.TRAINED.name,), args=TRAINED_STACKS)
def last_map_side(lab: Lab, state: StepState, args: Mapping[str, Any]) -> float:
    run, _ = lab.trained(_trained_name(state, args))
    return lab.predict(run.config.stack).output_shape[3]


@quantity("the occluded copies of the image the occlusion map runs", pages=(app.TRAINED.name,),
          args=TRAINED_STACKS)
def occlusion_copies(lab: Lab, state: StepState, args: Mapping[str, Any]) -> float:
    run, _ = lab.trained(_trained_name(state, args))
    size = run.config.size
    return len(occlusion_corners(size, *occlusion_windows(size)))

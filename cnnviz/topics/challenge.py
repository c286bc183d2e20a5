"""The design challenge: a budget, designs under it, and how they are scored.

A design is a stack the picker could build (a block, its depth, width, kernel size and the
first block's stride) inside the classifier every trained stack here uses (a 3×3 stem
convolution from the digit's one channel to the width, the stack, global average pooling,
a linear layer to the ten digits); or a whole network written in the Networks page's text
(cnnviz.core.network), read on the digits' one channel at the challenge's size with ten
classes, and refused unless it ends in the ten digits' scores. Both train with one fixed
recipe (TrainConfig's defaults: AdamW, learning rate 0.005 with cosine decay, batch 64,
seed 0) for the design's epochs.

The server computes every number from the design itself, never from what a browser sends:
the parameters and the MACs of one image at the challenge's size come from the predicted
walk of the classifier on the meta device (the same numbers torch measures: a test holds
them equal), and a design over the budget is refused with a sentence.

Scores: the digits' 450 test images are split once, per class, into a public half (the
live leaderboard) and a private half the students never see, revealed by the teacher at
the end, Kaggle's public and private leaderboards (so nobody tunes to the board).
"""
from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

from cnnviz.core.datasets import CLASSES, SIZES, load_dataset
from cnnviz.core.errors import InputError
from cnnviz.core.fields import Field
from cnnviz.core.network import NetworkSpec, build_network
from cnnviz.core.network.spec import MAX_TEXT
from cnnviz.core.spec import StackSpec
from cnnviz.core.walk import predict
from cnnviz.topics.training import (
    MAX_TRAINED_PARAMS,
    TrainConfig,
    TrainRun,
    check_training,
    meta_model,
)

# the blocks a design may use: each takes a width, a kernel size and the first block's stride
BLOCKS = ("conv_bn_act", "resnet_basic", "resnet_bottleneck", "dw_separable",
          "inverted_residual", "mbconv")
KERNELS = (1, 3, 5, 7)
STRIDES = (1, 2)
DEPTH = Field("depth", "Depth (blocks)", 1, 12, 2, "how many copies of the block are stacked")
WIDTH = Field("width", "Width (channels)", 4, 128, 16,
              "channels of the stem's output and of every block")
EPOCHS = Field("epochs", "Epochs", 1, 30, 3, "passes over the 1,347 training images")
# what a teacher may set: the limits of a budget
MAX_PARAMS = Field("max_params", "Most parameters", 100, MAX_TRAINED_PARAMS, 20_000,
                   "weights of the whole network, stem and head included")
MAX_MACS = Field("max_macs", "Most MACs per image", 1_000, 500_000_000, 2_000_000,
                 "multiply-accumulates of one image's forward pass at the data's size")
MAX_EPOCHS = Field("max_epochs", "Most epochs", 1, EPOCHS.high, 5,
                   "a design trains for its own epochs, up to this")
MINUTES = Field("minutes", "Open for (minutes)", 1, 600, 30, "no designs are taken after")


@dataclass(frozen=True)
class Budget:
    """A challenge's limits: the data's side, parameters, MACs per image, epochs."""

    size: int
    max_params: int
    max_macs: int
    max_epochs: int

    @classmethod
    def create(cls, size: Any, max_params: Any, max_macs: Any, max_epochs: Any) -> Budget:
        """Validated: InputError with a sentence for a bad value."""
        if size not in SIZES:
            raise InputError(f"The data's size is one of {', '.join(map(str, SIZES))} "
                             f"pixels.")
        return cls(int(size), MAX_PARAMS.parse(max_params), MAX_MACS.parse(max_macs),
                   MAX_EPOCHS.parse(max_epochs))


@dataclass(frozen=True)
class Design:
    """What a student chose; `create` checks every field as untrusted input."""

    block: str
    depth: int
    width: int
    kernel: int
    stride: int
    epochs: int

    @classmethod
    def create(cls, block: Any, depth: Any, width: Any, kernel: Any, stride: Any,
               epochs: Any, size: int) -> Design:
        if block not in BLOCKS:
            raise InputError("A design uses one of the blocks the page offers.")
        kernel, stride = _whole(kernel), _whole(stride)
        if kernel not in KERNELS or kernel > size:
            fits = [k for k in KERNELS if k <= size]
            raise InputError(f"The kernel size is one of {', '.join(map(str, fits))} at "
                             f"{size}×{size} pixels.")
        if stride not in STRIDES:
            raise InputError("The first block's stride is 1 or 2.")
        return cls(block, DEPTH.parse(depth), WIDTH.parse(width), kernel, stride,
                   EPOCHS.parse(epochs))

    @classmethod
    def from_json(cls, data: object, size: int) -> Design:
        """A design sent as JSON (a mapping of its fields); InputError otherwise."""
        if not isinstance(data, Mapping) or set(data) != set(cls.__dataclass_fields__):
            raise InputError(f"A design names exactly: "
                             f"{', '.join(cls.__dataclass_fields__)}.")
        return cls.create(size=size, **{k: data[k] for k in cls.__dataclass_fields__})

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def stack(self, size: int) -> StackSpec:
        """The stack at the challenge's size (seed 0: the fixed recipe)."""
        params: dict[str, Any] = {"in_channels": self.width, "out_channels": self.width,
                                  "kernel_size": self.kernel, "stride": self.stride}
        return StackSpec.create(self.block, params, depth=self.depth, height=size,
                                width=size, seed=0)

    def config(self, size: int) -> TrainConfig:
        """The training: the fixed recipe, for this design's epochs, at `size`."""
        return TrainConfig.create(self.stack(size), size=size, epochs=self.epochs)

    def describe(self) -> str:
        from cnnviz.core.blocks import REGISTRY

        stride = ", the first with stride 2" if self.stride == 2 else ""
        return (f"{REGISTRY[self.block].title} ×{self.depth}, {self.width} channels, "
                f"{self.kernel}×{self.kernel} kernels{stride}; {self.epochs} epochs")


@dataclass(frozen=True)
class TextDesign:
    """A whole network in the Networks page's text (its own stem and head), on the digits'
    one channel at the challenge's size with ten classes; `create` checks it as untrusted
    input, down to its output: the ten digits' scores."""

    network: str
    epochs: int

    @classmethod
    def create(cls, text: Any, epochs: Any, size: int) -> TextDesign:
        if not isinstance(text, str) or not text.strip():
            raise InputError("Write a network in the Networks page's text, e.g. "
                             f"{EXAMPLE}.")
        if len(text) > MAX_TEXT:
            raise InputError(f"The network's text is {len(text):,} characters; the limit "
                             f"is {MAX_TEXT:,}.")
        design = cls(" ".join(text.split()), EPOCHS.parse(epochs))
        design.spec(size)  # every part checked, and its output
        return design

    def spec(self, size: int) -> NetworkSpec:
        """The network at the challenge's size; InputError with a sentence unless it reads
        one channel and ends in the ten digits' scores."""
        spec = NetworkSpec.create(self.network, channels=1, height=size, width=size,
                                  classes=CLASSES, seed=0)
        try:
            out = predict(build_network(spec, "meta"), spec.input_shape).output_shape
        except InputError:
            raise
        except (ValueError, RuntimeError) as e:
            raise InputError(f"This network cannot read the {size}×{size} digits "
                             f"({' '.join(str(e).split())[:160]}).") from None
        if tuple(out) != (1, CLASSES):
            shape = "×".join(map(str, out[1:]))
            raise InputError(f"The network must end in the {CLASSES} digits' scores (a "
                             f"flatten, then a linear layer, as in {EXAMPLE}); it ends in "
                             f"{shape} numbers per image.")
        return spec

    def config(self, size: int) -> TrainConfig:
        """The training: the fixed recipe (seed 0), for this design's epochs, at `size`."""
        seed = StackSpec.create("conv_bn_act", {}, depth=1, seed=0)  # gives the seed only
        return TrainConfig.create(seed, size=size, epochs=self.epochs,
                                  network=self.spec(size))

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        return f"network text: {self.network}; {self.epochs} epochs"


EXAMPLE = ("stem=conv_bn_act:out_channels=8|body=resnet_basic*2:out_channels=8"
           "|head=adaptive_avgpool;flatten;linear")
ChallengeDesign = Design | TextDesign


def design_of(data: object, size: int) -> ChallengeDesign:
    """A design sent or stored as JSON: the picker's fields, or a network's text and its
    epochs; InputError otherwise."""
    if isinstance(data, Mapping) and set(data) == set(TextDesign.__dataclass_fields__):
        return TextDesign.create(data["network"], data["epochs"], size)
    return Design.from_json(data, size)


def _whole(value: Any) -> int | None:
    """A small whole number given as an int or its ASCII digits (never a bool); None else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 4:
        return int(value)
    return None


@dataclass(frozen=True)
class Cost:
    """A design's numbers, computed by the server: the whole classifier's parameters and
    the MACs of one image at the challenge's size."""

    params: int
    macs: int


def cost(design: ChallengeDesign, size: int) -> Cost:
    """The classifier's parameters and MACs per image by the predicted walk (meta device:
    nothing allocated); InputError when the design cannot be built at this size."""
    try:
        model = meta_model(design.config(size))
        p = predict(model, (1, 1, size, size))
    except InputError:
        raise
    except (ValueError, RuntimeError) as e:
        raise InputError(f"This design cannot be built at {size}×{size} pixels "
                         f"({' '.join(str(e).split())[:160]}).") from None
    return Cost(p.params, p.macs)


def refusal(design: ChallengeDesign, found: Cost, budget: Budget) -> str | None:
    """Why a design is over the budget, as a sentence; None when it fits."""
    if found.params > budget.max_params:
        return (f"This design has {found.params:,} parameters; the budget is "
                f"{budget.max_params:,}. Use fewer channels, fewer blocks or smaller kernels.")
    if found.macs > budget.max_macs:
        return (f"This design costs {found.macs:,} MACs per image; the budget is "
                f"{budget.max_macs:,}. Use fewer channels or blocks, or stride 2 in the "
                f"first block (a quarter of the positions after it).")
    if design.epochs > budget.max_epochs:
        return (f"This design trains for {design.epochs} epochs; the budget allows "
                f"{budget.max_epochs}.")
    return None


def checked(design: ChallengeDesign, budget: Budget) -> Cost:
    """The design's cost when it fits the budget and the server's one training budget;
    InputError with a sentence otherwise."""
    found = cost(design, budget.size)
    why = refusal(design, found, budget)
    if why is not None:
        raise InputError(why)
    check_training(design.config(budget.size))  # the server's own limit on one training
    return found


# --- scoring ---------------------------------------------------------------------------

@functools.cache
def private_mask(size: int = 16) -> np.ndarray:
    """Which test images are private: per class, every second one in the source's order
    (a fixed split, the same at every size and on every server)."""
    data = load_dataset("digits", size)
    labels, index = data.y_test.numpy(), data.index_test
    private = np.zeros(len(labels), dtype=bool)
    for digit in np.unique(labels):
        mine = np.flatnonzero(labels == digit)
        ordered = mine[np.argsort(index[mine], kind="stable")]
        private[ordered[1::2]] = True
    return private


@torch.no_grad()
def scores(run: TrainRun) -> tuple[float, float]:
    """The trained network's accuracy on the public and on the private test split."""
    data = load_dataset(run.config.data, run.config.size)
    model = run.model("cpu")
    predicted = torch.cat([model(xb).argmax(1) for xb in data.x_test.split(512)])
    right = (predicted == data.y_test).numpy()
    private = private_mask(run.config.size)
    return float(right[~private].mean()), float(right[private].mean())


def pareto_front(points: Sequence[tuple[float, float]]) -> list[int]:
    """The indices of the points (cost, accuracy) no other point beats: none costs no more
    and is at least as accurate, with one of the two strictly better (two equal points
    both stay). Cheapest first."""
    front = []
    for i, (c, a) in enumerate(points):
        if any(c2 <= c and a2 >= a and (c2 < c or a2 > a)
               for j, (c2, a2) in enumerate(points) if j != i):
            continue
        front.append(i)
    return sorted(front, key=lambda i: (points[i][0], -points[i][1]))


def share(value: float | None) -> str:
    """An accuracy as the leaderboard writes it."""
    return "–" if value is None or math.isnan(value) else f"{value:.1%}"

"""What a trained stack learned: its answers, its filters, its maps and its mistakes.

The shipped stacks (assets/trained/, made by `cnnviz train ... --save`) come in pairs of
the same depth, plain and residual, so every view can set the two side by side. Every
function here takes a model in eval mode and changes nothing in it (no hooks, no grads
written): a model may be shared by every session.
"""
from __future__ import annotations

import copy
import functools
import os
import threading
import weakref
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.fusion import fuse_conv_bn_eval

from cnnviz.core.datasets import CLASSES, TEST_SIZE, DataSet, load_dataset
from cnnviz.core.errors import InputError
from cnnviz.core.layers import ConvNormAct
from cnnviz.topics.evidence import grad_cam, occlusion
from cnnviz.topics.runs import load_run, read_record
from cnnviz.topics.training import (
    Classifier,
    TrainRun,
    make_model,
)

TRAINED = Path(__file__).resolve().parents[2] / "assets" / "trained"
# pairs of shipped stacks the pages offer: (plain, residual) of the same depth
PAIRS = {"depth 4": ("plain-4", "residual-4"), "depth 12": ("plain-12", "residual-12")}
# the page's inputs, which lessons may set (its views are cnnviz.pages.TrainedView)
SOURCES = ("draw", "test")
TEST_IMAGES = TEST_SIZE
SHOWN_CHANNELS = 8  # feature maps shown per block
TOP = 9             # the test images that excite a channel most


@functools.cache
def shipped() -> dict[str, dict]:
    """name -> record of every stack in assets/trained/ (read once)."""
    return {path.parent.name: read_record(path.parent)
            for path in sorted(TRAINED.glob("*/record.json"))}


def opening_pair() -> str:
    """The shipped pair where the shortcuts make the largest difference: the residual
    stack's test accuracy minus the plain one's, read from their records (the first pair
    on a tie, or when a record is missing)."""
    records = shipped()

    def gap(pair: str) -> float:
        plain, residual = PAIRS[pair]
        if plain not in records or residual not in records:
            return -1.0
        return records[residual]["test_accuracy"] - records[plain]["test_accuracy"]
    return max(PAIRS, key=gap)


def check_name(name: str) -> None:
    if name not in shipped():
        raise InputError(f"There is no trained stack {name!r}; the shipped ones are "
                         f"{', '.join(shipped())}.")


def shipped_run(name: str) -> TrainRun:
    """A shipped stack's run (weights and history); InputError for an unknown name."""
    check_name(name)
    return load_run(TRAINED / name)


def find_run(name_or_folder: str) -> TrainRun:
    """A shipped stack by name, or a folder that `cnnviz train --save` wrote."""
    if name_or_folder in shipped():
        return shipped_run(name_or_folder)
    folder = Path(name_or_folder)
    if not folder.is_dir():
        raise InputError(f"{name_or_folder!r} is neither a shipped stack ("
                         f"{', '.join(shipped())}) nor a folder of a saved one.")
    return load_run(folder)


# --- one input ---------------------------------------------------------------------------

@dataclass
class Inspection:
    """What one network makes of one input."""

    probabilities: np.ndarray  # (classes,)
    prediction: int
    maps: list[np.ndarray]     # per block: (n, h, w), its first n channels
    grad_cam: np.ndarray       # (S, S) in [0, 1]
    occlusion: np.ndarray      # (S, S): drop of the predicted class's probability


@torch.no_grad()
def classify(model: Classifier, data: DataSet, counts: np.ndarray) -> np.ndarray:
    """The class probabilities (classes,) of one image in the data set's raw form."""
    return F.softmax(model(data.prepare(counts).to(device_of(model))), dim=1)[0].cpu().numpy()


def inspect(model: Classifier, data: DataSet, counts: np.ndarray,
            channels: int = SHOWN_CHANNELS) -> Inspection:
    """Run one image (the data set's raw form: 8×8 counts for the digits) through
    `model`: probabilities, every block's maps and the evidence for its top class."""
    model = folded(model)
    x = data.prepare(counts).to(device_of(model))  # (1, 1, S, S)
    with torch.no_grad():
        outputs = model.block_outputs(x)
        probs = F.softmax(model.classify(outputs[-1]), dim=1)[0].cpu().numpy()
    top = int(probs.argmax())
    blank = float(data.prepare(np.zeros_like(counts))[0, 0, 0, 0])  # an empty pixel
    return Inspection(probs, top, [o[0, :channels].cpu().numpy() for o in outputs],
                      grad_cam(model, x, top, last_maps=outputs[-1]),
                      occlusion(model, x, top, fill=blank, base=float(probs[top])))


# one pool for the process, no more threads than cores: a page's networks side by side
_WORKERS = ThreadPoolExecutor(max_workers=os.cpu_count() or 1,
                              thread_name_prefix="cnnviz-inspect")


def inspect_all(nets: Sequence[tuple[Classifier, DataSet]], counts: np.ndarray
                ) -> list[Inspection]:
    """inspect() for every (model, data) at once, each on a thread of its own: torch lets
    go of Python's lock inside its kernels, so two networks take little more time than
    one where a core is free."""
    return list(_WORKERS.map(lambda net: inspect(net[0], net[1], counts), nets))


_FOLDED: weakref.WeakKeyDictionary[nn.Module, nn.Module] = weakref.WeakKeyDictionary()
_FOLDING = threading.Lock()


def folded(model: Classifier) -> Classifier:
    """A copy of an eval-mode `model` whose batch norms are folded into the convolutions
    before them (w' = w·γ/σ, b' = (b − μ)·γ/σ + β): the same outputs to float precision
    with one operation fewer per layer, 15-35% less time on a CPU. Made once
    and kept as long as the model lives; a model in training mode is returned as is."""
    if model.training:
        return model
    with _FOLDING:
        fast = _FOLDED.get(model)
        if fast is None:
            fast = _FOLDED[model] = _fold(copy.deepcopy(model))
    return fast  # type: ignore[return-value]


def _fold(model: nn.Module) -> nn.Module:
    for layer in model.modules():
        if isinstance(layer, ConvNormAct) and isinstance(layer.norm, nn.BatchNorm2d):
            layer.conv, layer.norm = fuse_conv_bn_eval(layer.conv, layer.norm), nn.Identity()
    return model


def device_of(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


def prepared(data: DataSet, counts: np.ndarray) -> np.ndarray:
    """The (S, S) image the network reads, before standardisation (0-1 for digits)."""
    return data.prepare(counts)[0, 0].numpy() * data.std + data.mean


# --- what it learned ----------------------------------------------------------------------

def first_filters(run: TrainRun, model: nn.Module) -> tuple[np.ndarray, np.ndarray]:
    """The first convolution's k×k filters (C, k, k) on the image (the stem's): learned,
    and as initialised from the same seed."""
    start = first_conv(make_model(run.config)).weight
    return (first_conv(model).weight[:, 0].detach().cpu().numpy(),
            start[:, 0].detach().numpy())


def first_conv(model: nn.Module) -> nn.Conv2d:
    """The convolution that reads the image (of a Classifier: the stem's)."""
    return next(m for m in model.modules() if isinstance(m, nn.Conv2d))


@torch.no_grad()
def channel_means(model: Classifier, data: DataSet, batch: int = 450) -> list[np.ndarray]:
    """Per block, (N, C): each test image's mean activation of every channel."""
    device = device_of(model)
    parts = [model.block_outputs(xb.to(device)) for xb in data.x_test.split(batch)]
    return [torch.cat([p[b] for p in parts]).mean(dim=(2, 3)).cpu().numpy()
            for b in range(len(parts[0]))]


def top_images(means: np.ndarray, channel: int, k: int = TOP) -> np.ndarray:
    """Indices of the k test images whose mean activation of `channel` is largest."""
    if not 0 <= channel < means.shape[1]:
        raise InputError(f"Channel {channel + 1} does not exist: this block has "
                         f"{means.shape[1]}.")
    return np.argsort(-means[:, channel], kind="stable")[:k]


@dataclass
class TestResults:
    """The network on the whole test split."""

    predictions: np.ndarray  # (N,)
    labels: np.ndarray       # (N,)

    @property
    def accuracy(self) -> float:
        return float((self.predictions == self.labels).mean())

    @property
    def confusion(self) -> np.ndarray:
        """(true, predicted) counts."""
        m = np.zeros((CLASSES, CLASSES), dtype=np.int64)
        np.add.at(m, (self.labels, self.predictions), 1)
        return m

    @property
    def mistakes(self) -> np.ndarray:
        return np.flatnonzero(self.predictions != self.labels)


@torch.no_grad()
def test_results(model: Classifier, data: DataSet) -> TestResults:
    logits = torch.cat([model(xb.to(device_of(model))) for xb in data.x_test.split(450)])
    return TestResults(logits.argmax(1).cpu().numpy(), data.y_test.numpy())


def run_data(run: TrainRun) -> DataSet:
    return load_dataset(run.config.data, run.config.size)

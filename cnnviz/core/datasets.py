"""The data sets cnnviz trains on, made or shipped locally: nothing is downloaded.

* **digits** — the handwritten digits that scikit-learn ships inside its wheel
  (`sklearn.datasets.load_digits`): 1,797 images of 8×8, classes 0-9. They are a copy of
  the test part of UCI's "Optical Recognition of Handwritten Digits" (Alpaydin & Kaynak
  1998, CC BY 4.0), whose 43 writers were split 30 for training and 13 for testing: these
  are the 13's. NIST's programs cut each digit from a form as a normalised 32×32 bitmap,
  and every 4×4 block of it became one pixel counting its inked pixels, 0 to 16. A fixed
  stratified split (seed 0) keeps 450 images for testing.
* **patterns** — ten classes of noisy synthetic textures (stripes, checkers, rings,
  blobs, crosses, ramps), made in code from a seed.

Images reach a network as (N, 1, S, S) float tensors: the digits' counts divided by 16,
resized bilinearly from 8×8 to S×S, then standardised with the training images' mean and
standard deviation.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from cnnviz.core.errors import InputError

CLASSES = 10
DATASETS = ("digits", "patterns")
SIZES = (8, 16, 32)            # the side the network reads; digits are 8×8 at source
DIGITS_SIDE = 8
DIGITS_MAX = 16                # a pixel counts the inked pixels of a 4×4 block
TEST_SIZE = 450                # of 1,797: 1,347 to train on
SPLIT_SEED = 0
PATTERNS_TRAIN, PATTERNS_TEST = 1500, 500


@dataclass(frozen=True)
class DataSet:
    """A train/test split, ready for a network: (N, 1, S, S) standardised, labels (N,).

    `raw_train`/`raw_test` keep the images as shown to a person (digits: the 8×8 counts
    0-16, patterns: the S×S values), `index_test` each test image's place in the source.
    """

    name: str
    size: int
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    raw_train: np.ndarray
    raw_test: np.ndarray
    index_test: np.ndarray
    mean: float
    std: float

    @property
    def source_side(self) -> int:
        return DIGITS_SIDE if self.name == "digits" else self.size

    @property
    def factor(self) -> float:
        """How many times each side was enlarged on the way to the network."""
        return self.size / self.source_side

    def describe(self) -> str:
        if self.name == "digits":
            grow = (f"enlarged ×{self.factor:g} (bilinear) to {self.size}×{self.size}"
                    if self.factor != 1 else f"kept at {self.size}×{self.size}")
            return (f"Handwritten digits from scikit-learn (UCI, Alpaydin & Kaynak 1998): "
                    f"{len(self.y_train):,} training and {len(self.y_test):,} test images "
                    f"(a fixed stratified split, seed {SPLIT_SEED}), 8×8 counts of ink "
                    f"{grow}.")
        return (f"Synthetic patterns: {len(self.y_train):,} training and {len(self.y_test):,} "
                f"test images of {self.size}×{self.size}, ten textures with noise, made in "
                f"code from a seed.")

    def prepare(self, raw: np.ndarray) -> torch.Tensor:
        """Images as a person sees them (this data set's raw form) -> the network's input."""
        return (_scaled(self.name, raw, self.size) - self.mean)[:, None] / self.std


def _scaled(name: str, raw: np.ndarray, size: int) -> torch.Tensor:
    """(N, h, w) or (h, w) raw images -> (N, size, size) in [0, 1] for digits."""
    x = torch.tensor(np.asarray(raw, dtype=np.float32))
    x = x[None] if x.dim() == 2 else x
    return upsample(x / DIGITS_MAX, size) if name == "digits" else x  # (N, S, S)


def check_dataset(name: str, size: int) -> None:
    if name not in DATASETS:
        raise InputError(f"Unknown data set {name!r}; use one of {', '.join(DATASETS)}.")
    if size not in SIZES:
        raise InputError(f"The image size must be one of {', '.join(map(str, SIZES))} "
                         f"pixels, not {size!r}.")


def upsample(images: torch.Tensor, size: int) -> torch.Tensor:
    """(N, h, w) -> (N, size, size), bilinear (corners aligned as in image resizing)."""
    if images.shape[-1] == size:
        return images.clone()
    return F.interpolate(images[:, None], size=(size, size), mode="bilinear",
                         align_corners=False)[:, 0]


@functools.lru_cache(maxsize=8)
def load_dataset(name: str = "digits", size: int = 16) -> DataSet:
    """The data set `name` at `size`×`size`, the same every time (cached; read-only)."""
    check_dataset(name, size)
    if name == "digits":
        train_raw, y_train, test_raw, y_test, index_test = _digits_split()
    else:
        x, y = make_patterns(PATTERNS_TRAIN + PATTERNS_TEST, size, seed=SPLIT_SEED)
        raw = x[:, 0].numpy()
        train_raw, test_raw = raw[:PATTERNS_TRAIN], raw[PATTERNS_TRAIN:]
        y_train, y_test = y[:PATTERNS_TRAIN].numpy(), y[PATTERNS_TRAIN:].numpy()
        index_test = np.arange(PATTERNS_TRAIN, PATTERNS_TRAIN + PATTERNS_TEST)
    train, test = _scaled(name, train_raw, size), _scaled(name, test_raw, size)
    mean, std = float(train.mean()), float(train.std())  # of the training images only
    return DataSet(name, size, ((train - mean) / std)[:, None], torch.as_tensor(y_train).long(),
                   ((test - mean) / std)[:, None], torch.as_tensor(y_test).long(), train_raw,
                   test_raw, index_test, mean, std)


@functools.cache
def _digits_split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """scikit-learn's digits, split once: train counts, labels, test counts, labels, the
    test images' indices in load_digits' order."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    index = np.arange(len(digits.target))
    train, test = train_test_split(index, test_size=TEST_SIZE, stratify=digits.target,
                                   random_state=SPLIT_SEED)
    images = digits.images.astype(np.float32)
    return (images[train], digits.target[train], images[test], digits.target[test], test)


def make_patterns(n: int, size: int = 16, noise: float = 0.6, seed: int = 0
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """n grayscale size×size images of 10 pattern classes, deterministic from `seed`.

    Classes: stripes at 0/45/90/135 degrees, checkers, rings, one blob, two blobs,
    a cross and a plain ramp; random phase, position and Gaussian noise.
    """
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % CLASSES
    labels = labels[torch.randperm(n, generator=g)]
    c = torch.arange(size, dtype=torch.float32) - (size - 1) / 2
    yy, xx = torch.meshgrid(c, c, indexing="ij")  # (size, size) each
    u = torch.rand(n, 4, generator=g)
    u = u[:, :, None, None]  # (N, 4, 1, 1): broadcasts against (size, size)
    phase, sign = u[:, 0] * 2 * math.pi, (u[:, 3] > .5).float() * 2 - 1
    cy, cx = (u[:, 1] - .5) * size / 2, (u[:, 2] - .5) * size / 2
    freq = 2 * math.pi / 5
    angle = {0: (1, 0), 1: (1, 1), 2: (0, 1), 3: (1, -1)}
    images = torch.zeros(n, size, size)
    blob = lambda oy, ox: torch.exp(-((yy - oy) ** 2 + (xx - ox) ** 2) / 6)  # noqa: E731
    for k in range(CLASSES):
        sel = labels == k
        ph, y0, x0, s = phase[sel], cy[sel], cx[sel], sign[sel]
        if k in angle:
            a, b = angle[k]
            img = torch.sin(freq * (a * xx + b * yy) / math.hypot(a, b) + ph)
        elif k == 4:
            img = torch.sign(torch.sin(freq * (xx + x0)) * torch.sin(freq * (yy + y0)))
        elif k == 5:
            img = torch.sin(freq * torch.sqrt((yy - y0) ** 2 + (xx - x0) ** 2) + ph)
        elif k == 6:
            img = 2 * blob(y0, x0) - .3
        elif k == 7:
            img = 2 * (blob(y0, x0) + blob(-y0, -x0)) - .5
        elif k == 8:
            img = ((yy - y0).abs() < 1.5).float() + ((xx - x0).abs() < 1.5).float() - .4
        else:
            img = s * (xx * (ph - math.pi) / math.pi + yy) / size * 2
        images[sel] = img
    images += noise * torch.randn(n, size, size, generator=g)
    return images[:, None], labels  # (N, 1, H, W), (N,)


PATTERN_NAMES = ("stripes 0°", "stripes 45°", "stripes 90°", "stripes 135°", "checkers",
                 "rings", "one blob", "two blobs", "cross", "ramp")


def class_names(name: str) -> tuple[str, ...]:
    return tuple(map(str, range(CLASSES))) if name == "digits" else PATTERN_NAMES

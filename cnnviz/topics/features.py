"""What a stack does to an image: feature maps and fixed, explainable filters.

Every function builds a fresh module from the spec (never a cached one), removes the
hooks it adds, and draws randomness from a torch.Generator. A fixed kernel (Sobel, blur,
sharpen, identity) in the first convolution ties one filter to its map.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn

from cnnviz.core.budget import check, stack_work
from cnnviz.core.layers import MaskedConv2d
from cnnviz.core.spec import StackSpec, build

SHOWN_CHANNELS = 16  # the grid shows at most this many channels

# name -> (3x3 kernel, what its map shows). Sobel x differentiates along x, so it
# answers to vertical edges; the blurs average; sharpen adds the Laplacian back.
FILTERS: dict[str, tuple[np.ndarray, str]] = {
    "sobel_x": (np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float32),
                "Sobel x: brightness change from left to right, bright on vertical edges"),
    "sobel_y": (np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], dtype=np.float32),
                "Sobel y: brightness change from top to bottom, bright on horizontal edges"),
    "box_blur": (np.full((3, 3), 1 / 9, dtype=np.float32),
                 "box blur: the mean of the 3x3 neighbourhood"),
    "gaussian_blur": (np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], dtype=np.float32) / 16,
                      "Gaussian blur: a weighted mean, the centre counting most"),
    "sharpen": (np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=np.float32),
                "sharpen: the pixel plus its difference from its four neighbours"),
    "identity": (np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], dtype=np.float32),
                 "identity: the grey image itself"),
}


# --- feature maps ---------------------------------------------------------------------

@dataclass
class ChannelStats:
    mean: float
    std: float
    zeros: float  # share of exactly-zero values (dead after a ReLU)


@dataclass
class FeatureMaps:
    """One image through one stack: the chosen block's output and the first conv's."""

    block: int  # 1-based index of the block shown
    shapes: list[tuple[int, int, int]]  # (C, H, W) after each block
    maps: np.ndarray  # (n, h, w): the first n channels of the chosen block's output
    stats: list[ChannelStats]
    first_conv: str  # name of the first convolution in the module
    kernel: np.ndarray  # (k, k) its channel-0 kernel, summed over R, G, B (mask applied)
    first_map: np.ndarray  # (h, w) channel 0 of the first convolution's output
    filter: str  # "random" or a FILTERS key
    dilation: int = 1
    stride: int = 1


def plain_and_residual(spec: StackSpec) -> list[tuple[str, StackSpec]]:
    """(title, spec) for the plain and the residual stack, or just the spec if it has no skip."""
    if not spec.entry.has_skip:
        return [("", spec)]
    return [("plain (skip off)", spec.replace(skip=False)),
            ("residual (skip on)", spec.replace(skip=True))]


def image_spec(spec: StackSpec, height: int, width: int) -> StackSpec:
    """The picker's stack on an RGB image: 3 input channels, the image's size, batch 1."""
    return spec.replace(in_channels=3, height=height, width=width, batch=1)


def fit_kernel(kernel: np.ndarray, size: int) -> np.ndarray:
    """Centre a 3x3 kernel in a size x size one (cropped when size < 3)."""
    out = np.zeros((size, size), dtype=np.float32)
    c, r = size // 2, kernel.shape[0] // 2
    for i in range(kernel.shape[0]):
        for j in range(kernel.shape[1]):
            y, x = c + i - r, c + j - r
            if 0 <= y < size and 0 <= x < size:
                out[y, x] = kernel[i, j]
    return out


def first_conv(model: nn.Module) -> tuple[str, nn.Conv2d]:
    """The first nn.Conv2d that reads the image (3 input channels), in module order."""
    for name, m in model.named_modules():
        if isinstance(m, nn.Conv2d) and m.in_channels == 3:
            return name, m
    raise ValueError("This block has no ordinary convolution reading the image (e.g. it "
                     "starts with a transposed or invertible 1x1 convolution), so there is "
                     "no kernel to show or replace. Pick another block.")


@torch.no_grad()
def set_filter(conv: nn.Conv2d, name: str) -> np.ndarray:
    """Put a fixed kernel in every output channel of `conv`, applied to the grey image
    (the mean over the input channels of its group); returns the kernel used."""
    if name not in FILTERS:
        raise ValueError(f"Unknown filter {name!r}; choose random or one of "
                         f"{', '.join(FILTERS)}.")
    k = conv.kernel_size[0]
    kernel = torch.from_numpy(fit_kernel(FILTERS[name][0], k))
    per_group = conv.weight.shape[1]
    conv.weight.copy_((kernel / per_group).expand_as(conv.weight))
    if conv.bias is not None:
        conv.bias.zero_()
    return kernel.numpy()


def channel_stats(x: torch.Tensor) -> list[ChannelStats]:
    """Mean, std and share of zeros of each channel of a (C, H, W) map."""
    flat = x.reshape(x.shape[0], -1).double()
    std = flat.std(dim=1, unbiased=False) if flat.shape[1] > 1 else torch.zeros(len(flat))
    return [ChannelStats(float(m), float(s), float(z)) for m, s, z in
            zip(flat.mean(dim=1), std, (flat == 0).double().mean(dim=1))]


def feature_maps(spec: StackSpec, image: torch.Tensor, block: int, filter: str = "random",
                 device: str | torch.device = "cpu", channels: int = SHOWN_CHANNELS
                 ) -> FeatureMaps:
    """Run `image` (3, H, W), normalized, through a fresh stack built from `spec`.

    `block` is 1-based; the stack runs only up to it. Weights come from the spec's
    initialization and seed; `filter` replaces the first convolution's kernel.
    """
    if image.dim() != 3 or image.shape[0] != 3:
        raise ValueError(f"Expected an RGB image tensor (3, H, W), got {tuple(image.shape)}.")
    if spec.in_channels != 3 or (spec.height, spec.width) != tuple(image.shape[1:]):
        raise ValueError("The spec must take the image: use image_spec(spec, H, W).")
    if not 1 <= block <= spec.depth:
        raise ValueError(f"Block {block} does not exist: the stack has {spec.depth}.")
    spec = spec.replace(depth=block)  # nothing after the chosen block is needed
    check(stack_work(spec, "the feature maps of this stack"))
    model = build(spec)
    model = model.to(device).eval()
    name, conv = first_conv(model)
    kernel = set_filter(conv, filter) if filter != "random" else None
    captured: dict[str, torch.Tensor] = {}
    handle = conv.register_forward_hook(lambda m, args, out: captured.setdefault("y", out))
    shapes = []
    try:
        with torch.no_grad():
            x = image.unsqueeze(0).to(device)
            for stage in model:  # (1, C, H, W) -> (1, C', H', W') block by block
                x = stage(x)
                shapes.append(tuple(x.shape[1:]))
    finally:
        handle.remove()
    out = x[0].float().cpu()
    weight = conv.weight * conv.mask if isinstance(conv, MaskedConv2d) else conv.weight
    if kernel is None or isinstance(conv, MaskedConv2d):
        kernel = weight[0].sum(dim=0).detach().float().cpu().numpy()
    return FeatureMaps(block=block, shapes=shapes, maps=out[:channels].numpy(),
                       stats=channel_stats(out[:channels]), first_conv=name, kernel=kernel,
                       first_map=captured["y"][0, 0].float().cpu().numpy(), filter=filter,
                       dilation=conv.dilation[0], stride=conv.stride[0])

"""What a stack does to an image: feature maps and fixed, explainable filters.

Every function builds a fresh module from the spec (never a cached one), removes the
hooks it adds, and draws randomness from a torch.Generator. A fixed kernel (Sobel, blur,
sharpen, identity) in the first convolution ties one filter to its map.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn as nn

from cnnviz.core.budget import check, stack_work
from cnnviz.core.errors import SpecError
from cnnviz.core.layers import AttentionPool, Gate, MaskedConv2d
from cnnviz.core.names import layer_name
from cnnviz.core.spec import StackSpec, build

SHOWN_CHANNELS = 16  # the grid shows at most this many channels

# name -> (3x3 kernel, what its map shows). Sobel x differentiates along x, so it
# answers to vertical edges; the blurs average; sharpen adds the Laplacian back.
FILTERS: dict[str, tuple[np.ndarray, str]] = {
    "sobel_x": (np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float32),
                "Sobel x: the change in brightness from left to right: positive where the image "
                "brightens to the right, negative where it darkens, so vertical edges stand out"),
    "sobel_y": (np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], dtype=np.float32),
                "Sobel y: the change in brightness from top to bottom: positive where the image "
                "brightens downwards, negative where it darkens, so horizontal edges stand out"),
    "box_blur": (np.full((3, 3), 1 / 9, dtype=np.float32),
                 "box blur: the mean of the 3x3 neighbourhood"),
    "gaussian_blur": (np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], dtype=np.float32) / 16,
                      "Gaussian blur: a weighted mean, the centre counting most"),
    "sharpen": (np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=np.float32),
                "sharpen: the pixel plus its difference from its four neighbours"),
    "identity": (np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], dtype=np.float32),
                 "identity: the grey image itself"),
}
# what the app shows for each (a URL and a lesson keep the key itself)
FILTER_LABELS = {"random": "random (initialisation)", "sobel_x": "Sobel x",
                 "sobel_y": "Sobel y", "box_blur": "box blur", "gaussian_blur": "Gaussian blur",
                 "sharpen": "sharpen", "identity": "identity"}


# --- feature maps ---------------------------------------------------------------------

@dataclass
class ChannelStats:
    mean: float
    std: float
    zeros: float  # share of exactly-zero values (dead after a ReLU)


@dataclass
class ChannelAttention:
    """What one attention module of the shown block computed for the image.

    A squeeze-and-excitation gate (Hu et al. 2018) multiplies each channel by a value in
    (0, 1) that it computes from the whole image; a global-context module (Cao et al. 2019)
    adds a value to each channel at every pixel, from a weighted average of all pixels.
    """

    module: str  # its path in the block
    kind: str  # "gate" (SE: a multiplier per channel) or "context" (GC: an offset)
    values: np.ndarray  # (C,)
    where: np.ndarray | None = None  # GC: (h, w) the weights of the average (sum 1)


@dataclass
class FeatureMaps:
    """One image through one stack: the chosen block's output and the first conv's."""

    block: int  # 1-based index of the block shown
    shapes: list[tuple[int, int, int]]  # (C, H, W) after each block
    maps: np.ndarray  # (n, h, w): the first n channels of the chosen block's output
    stats: list[ChannelStats]
    first_conv: str  # the first convolution's readable name ("block 1 · conv 1")
    kernel: np.ndarray  # (k, k) its channel-0 kernel, summed over R, G, B (mask applied)
    first_map: np.ndarray  # (h, w) channel 0 of the first convolution's output
    filter: str  # "random" or a FILTERS key
    dilation: int = 1
    stride: int = 1
    attention: list[ChannelAttention] = field(default_factory=list)  # of the shown block


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
    raise SpecError("This block has no ordinary convolution reading the image (e.g. it "
                    "starts with a transposed or invertible 1x1 convolution), so there is "
                    "no kernel to show or replace. Pick another block.")


@torch.no_grad()
def set_filter(conv: nn.Conv2d, name: str) -> np.ndarray:
    """Put a fixed kernel in every output channel of `conv`, applied to the grey image
    (the mean over the input channels of its group); returns the kernel used."""
    if name not in FILTERS:
        raise SpecError(f"Unknown filter {name!r}; choose random or one of "
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
        raise SpecError(f"Block {block} does not exist: the stack has {spec.depth}.")
    spec = spec.replace(depth=block)  # nothing after the chosen block is needed
    check(stack_work(spec, "the feature maps of this stack"))
    model = build(spec)
    model = model.to(device).eval()
    path, conv = first_conv(model)
    name = layer_name(path, [(n, type(m).__name__) for n, m in model.named_modules()
                             if isinstance(m, nn.Conv2d)])  # its block, its order there
    kernel = set_filter(conv, filter) if filter != "random" else None
    captured: dict[str, torch.Tensor] = {}
    handles = [conv.register_forward_hook(lambda m, args, out: captured.setdefault("y", out))]
    handles += _attention_hooks(model[block - 1], captured)
    shapes = []
    try:
        with torch.no_grad():
            x = image.unsqueeze(0).to(device)
            for stage in model:  # (1, C, H, W) -> (1, C', H', W') block by block
                x = stage(x)
                shapes.append(tuple(x.shape[1:]))
    finally:
        for h in handles:
            h.remove()
    out = x[0].float().cpu()
    weight = conv.weight * conv.mask if isinstance(conv, MaskedConv2d) else conv.weight
    if kernel is None or isinstance(conv, MaskedConv2d):
        kernel = weight[0].sum(dim=0).detach().float().cpu().numpy()
    return FeatureMaps(block=block, shapes=shapes, maps=out[:channels].numpy(),
                       stats=channel_stats(out[:channels]), first_conv=name, kernel=kernel,
                       first_map=captured["y"][0, 0].float().cpu().numpy(), filter=filter,
                       dilation=conv.dilation[0], stride=conv.stride[0],
                       attention=_attention(model[block - 1], captured))


def _attention_hooks(block: nn.Module, captured: dict[str, torch.Tensor]) -> list:
    """Hooks that keep what the block's attention modules compute: an SE gate's output,
    and a GC module's offsets and the scores its softmax turns into weights."""
    def keep(key: str) -> Callable[..., None]:
        return lambda m, args, out: captured.__setitem__(key, out.detach())

    hooks = []
    for name, m in block.named_modules():
        if isinstance(m, Gate):
            hooks.append(m.gate.register_forward_hook(keep(f"gate:{name}")))
        elif isinstance(m, nn.Sequential) and len(m) and isinstance(m[0], AttentionPool):
            hooks.append(m.register_forward_hook(keep(f"context:{name}")))
            hooks.append(m[0].score.register_forward_hook(keep(f"score:{name}")))
    return hooks


def _attention(block: nn.Module, captured: dict[str, torch.Tensor]) -> list[ChannelAttention]:
    out = []
    for key, value in captured.items():
        kind, _, name = key.partition(":")
        if kind in ("gate", "context"):
            where = None
            if kind == "context":  # the softmax AttentionPool applies to its scores
                score = captured[f"score:{name}"][0, 0]
                where = score.flatten().softmax(0).view_as(score).float().cpu().numpy()
            out.append(ChannelAttention(name, kind, value[0, :, 0, 0].float().cpu().numpy(),
                                        where))
    return out

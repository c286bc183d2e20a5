"""The small vocabulary every block is written in.

Blocks are ordinary nn.Modules built from these pieces. Merges (add, concat,
multiply) live in three combinators, so the analysis can walk any block by
module type alone, without tracing, and the block diagram falls out of the
same walk. Optional parts are factories; an absent part is nn.Identity so
each forward reads as a straight line (the timm convention).
"""
from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn as nn
import torch.nn.functional as F

from cnnviz.core.checks import grouped_conv
from cnnviz.core.errors import SpecError

NORMS = ("batch", "group", "layer", "none")
ACTS = ("relu", "relu6", "leaky_relu", "silu", "gelu")
# what the app shows for each (a URL and a lesson keep the value itself)
NORM_LABELS = {"batch": "BatchNorm", "group": "GroupNorm", "layer": "LayerNorm",
               "none": "none"}
ACT_LABELS = {"relu": "ReLU", "relu6": "ReLU6", "leaky_relu": "Leaky ReLU (slope 0.1)",
              "silu": "SiLU (swish)", "gelu": "GELU"}


class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over channels of an (N, C, H, W) map, as in ConvNeXt."""

    def __init__(self, num_channels: int, eps: float = 1e-6):
        super().__init__(num_channels, eps=eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.permute(0, 2, 3, 1)  # (N, C, H, W) -> (N, H, W, C)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)  # back to (N, C, H, W)


def group_count(channels: int) -> int:
    """Largest group count <= 32 dividing `channels` (Wu & He use 32)."""
    return next(g for g in range(min(32, channels), 0, -1) if channels % g == 0)


def make_norm(kind: str, channels: int) -> nn.Module:
    """One of NORMS; "none" is nn.Identity() (an absent part keeps its place, as in timm)."""
    factories: dict[str, Callable[[], nn.Module]] = {
        "batch": lambda: nn.BatchNorm2d(channels),
        "group": lambda: nn.GroupNorm(group_count(channels), channels),
        "layer": lambda: LayerNorm2d(channels), "none": nn.Identity,
    }
    return _made("normalization", factories, kind)


def make_act(kind: str | None) -> nn.Module:
    """One of ACTS, or sigmoid (a gate); None is nn.Identity()."""
    factories: dict[str | None, Callable[[], nn.Module]] = {
        "relu": nn.ReLU, "relu6": nn.ReLU6, "silu": nn.SiLU, "gelu": nn.GELU,
        "leaky_relu": lambda: nn.LeakyReLU(0.1), "sigmoid": nn.Sigmoid, None: nn.Identity,
    }
    return _made("activation", factories, kind)


def _made(what: str, factories: dict, kind: str | None) -> nn.Module:
    if kind not in factories:
        raise SpecError(f"Unknown {what} {kind!r}; use one of "
                        f"{', '.join(str(k) for k in factories if k is not None)}.")
    return factories[kind]()


class ConvNormAct(nn.Sequential):
    """conv -> norm -> activation; bias only when no norm follows."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 1,
                 stride: int = 1, padding: int | None = None, dilation: int = 1,
                 groups: int = 1, bias: bool | None = None, norm: str = "batch",
                 act: str | None = "relu"):
        if padding is None:
            padding = dilation * (kernel_size - 1) // 2
        if bias is None:
            bias = norm == "none"
        grouped_conv(in_channels, out_channels, groups)
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding,
                              dilation, groups, bias=bias)
        self.norm = make_norm(norm, out_channels)
        self.act = make_act(act)


class NormActConv(nn.Sequential):
    """norm -> activation -> conv: the pre-activation ordering (He et al. 2016b)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 1,
                 stride: int = 1, padding: int | None = None, dilation: int = 1,
                 groups: int = 1, bias: bool = False, norm: str = "batch",
                 act: str | None = "relu"):
        if padding is None:
            padding = dilation * (kernel_size - 1) // 2
        grouped_conv(in_channels, out_channels, groups)
        super().__init__()
        self.norm = make_norm(norm, in_channels)
        self.act = make_act(act)
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding,
                              dilation, groups, bias=bias)


# --- merges ------------------------------------------------------------------

class Residual(nn.Module):
    """body(x) + shortcut(x); the shortcut is the identity unless shapes change."""

    def __init__(self, body: nn.Module, shortcut: nn.Module | None = None):
        super().__init__()
        self.body = body
        self.shortcut = shortcut if shortcut is not None else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = self.shortcut(x)
        return self.body(x) + identity


class Concat(nn.Module):
    """Run every branch on the same input and concatenate along channels."""

    def __init__(self, *branches: nn.Module):
        super().__init__()
        self.branches = nn.ModuleList(branches)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([branch(x) for branch in self.branches], dim=1)


class Gate(nn.Module):
    """x * gate(x): channel attention (SE) rescales the map it reads."""

    def __init__(self, gate: nn.Module):
        super().__init__()
        self.gate = gate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gate(x)


# --- leaves with no torch.nn equivalent ----------------------------------------

class ChannelSlice(nn.Module):
    """Channels [start, stop) of the input (a view, no copy)."""

    def __init__(self, start: int, stop: int):
        super().__init__()
        self.start, self.stop = start, stop

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, self.start:self.stop]

    def extra_repr(self) -> str:
        return f"start={self.start}, stop={self.stop}"


class ChannelShuffle(nn.Module):
    """Interleave channel groups so information crosses them (ShuffleNet)."""

    def __init__(self, groups: int):
        super().__init__()
        self.groups = groups

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        x = x.view(n, self.groups, c // self.groups, h, w)  # (N, g, C/g, H, W)
        return x.transpose(1, 2).reshape(n, c, h, w)

    def extra_repr(self) -> str:
        return f"groups={self.groups}"


class LayerScale(nn.Module):
    """Per-channel learnable scale, started small (Touvron et al. 2021)."""

    def __init__(self, channels: int, init_value: float = 1e-6):
        super().__init__()
        self.init_value = init_value  # kept: the code export restates it without the weights
        self.gamma = nn.Parameter(torch.full((channels, 1, 1), init_value))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gamma


class MaskedConv2d(nn.Conv2d):
    """A convolution that sees only pixels above and to the left (PixelCNN).

    Mask 'A' also hides the centre pixel (first layer: a pixel may not see
    itself); mask 'B' lets it through (later layers).
    """

    mask: torch.Tensor  # a buffer (declared: Module.__getattr__ gives Tensor | Module)

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int,
                 mask_type: str = "B", padding: int = 0, dilation: int = 1,
                 bias: bool = True):
        super().__init__(in_channels, out_channels, kernel_size, 1, padding, dilation,
                         bias=bias)
        self.mask_type = mask_type
        mask = torch.ones(kernel_size, kernel_size)
        centre = kernel_size // 2
        mask[centre, centre + (mask_type == "B"):] = 0
        mask[centre + 1:] = 0
        self.register_buffer("mask", mask)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._conv_forward(x, self.weight * self.mask, self.bias)

    def extra_repr(self) -> str:
        return super().extra_repr() + f", mask_type={self.mask_type}"


class InvertibleConv1x1(nn.Module):
    """Glow's invertible 1x1 convolution with an LU-decomposed weight.

    W = P · L · (U + diag(sign · exp(log_s))): P is a fixed permutation, so
    log|det W| = sum(log_s) costs O(C) instead of O(C^3) (Kingma & Dhariwal 2018).
    """

    # buffers (declared: Module.__getattr__ gives Tensor | Module)
    perm: torch.Tensor
    sign_s: torch.Tensor
    lower_mask: torch.Tensor
    eye: torch.Tensor

    def __init__(self, channels: int, generator: torch.Generator | None = None):
        super().__init__()
        self.register_buffer("sign_s", torch.ones(channels))
        if self.sign_s.is_meta:  # a structure alone (the budget's count): shapes suffice,
            # and eye or tril on the meta device import torch's compiler (about 2 s, once)
            eye, lower = torch.empty(channels, channels), torch.empty(channels, channels)
        else:
            eye, lower = torch.eye(channels), torch.tril(torch.ones(channels, channels), -1)
        self.register_buffer("perm", eye.clone())
        self.register_buffer("lower_mask", lower)
        self.register_buffer("eye", eye)
        self.lower = nn.Parameter(torch.zeros(channels, channels))
        self.upper = nn.Parameter(torch.zeros(channels, channels))
        self.log_s = nn.Parameter(torch.zeros(channels))
        self.reset_parameters(generator)

    @torch.no_grad()
    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Start from a random rotation, as Glow does, factored as P·L·U."""
        if self.log_s.is_meta:  # structure only (the budget's count): nothing to factor
            return
        n = self.log_s.numel()
        q, _ = torch.linalg.qr(torch.randn(n, n, generator=generator))
        p, lower, upper = torch.linalg.lu(q)
        diag = torch.diagonal(upper)
        self.perm.copy_(p)
        self.sign_s.copy_(torch.sign(diag))
        self.lower.copy_(lower)
        self.upper.copy_(torch.triu(upper, 1))
        self.log_s.copy_(torch.log(diag.abs()))

    def weight(self) -> torch.Tensor:
        lower = self.lower * self.lower_mask + self.eye
        upper = self.upper * self.lower_mask.T + torch.diag(self.sign_s * self.log_s.exp())
        return (self.perm @ lower @ upper)[:, :, None, None]

    def log_det(self, height: int, width: int) -> torch.Tensor:
        return height * width * self.log_s.sum()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight())

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        return F.conv2d(y, torch.linalg.inv(self.weight()[:, :, 0, 0])[:, :, None, None])

    @property
    def channels(self) -> int:
        return self.log_s.numel()


class AttentionPool(nn.Module):
    """Global context of GCNet: a softmax-weighted average over all pixels."""

    def __init__(self, channels: int):
        super().__init__()
        self.channels = channels
        self.score = nn.Conv2d(channels, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        weights = self.score(x).view(n, 1, h * w).softmax(dim=-1)  # (N, 1, HW)
        context = torch.bmm(x.view(n, c, h * w), weights.transpose(1, 2))  # (N, C, 1)
        return context.view(n, c, 1, 1)

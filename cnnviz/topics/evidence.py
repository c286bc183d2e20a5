"""Where a trained classifier's evidence is: Grad-CAM and occlusion sensitivity.

* Grad-CAM (Selvaraju et al. 2017, §3): the last block's maps A_k, weighted by the mean
  gradient of the class score over each map (α_k), summed and rectified:
  ReLU(Σ_k α_k A_k), then resized to the input.
* Occlusion (Zeiler & Fergus 2014, §4.2): a blank square slid over the input; at each
  place, how much the class's probability drops. A pixel's value is the mean drop of the
  squares that cover it.

Both work on a shared model in eval mode without changing it: no hooks, no `.grad`
written (the gradient is taken with respect to the maps only).
"""
from __future__ import annotations

import functools

import numpy as np
import torch
import torch.nn.functional as F

from cnnviz.topics.training import Classifier


def grad_cam(model: Classifier, x: torch.Tensor, target: int,
             last_maps: torch.Tensor | None = None) -> np.ndarray:
    """(1, 1, S, S) input -> (S, S) map in [0, 1] (all zero when no map speaks for the
    class). `last_maps`: the last block's output for x, when the caller has it already."""
    if last_maps is None:
        with torch.no_grad():
            last_maps = model.block_outputs(x)[-1]
    with torch.enable_grad():
        maps = last_maps.detach().requires_grad_(True)  # (1, C, h, w)
        score = model.classify(maps)[0, target]
        (grads,) = torch.autograd.grad(score, maps)
    weights = grads.mean(dim=(2, 3), keepdim=True)  # α_k: (1, C, 1, 1)
    cam = F.relu((weights * maps.detach()).sum(dim=1, keepdim=True))  # (1, 1, h, w)
    cam = F.interpolate(cam, size=x.shape[-2:], mode="bilinear", align_corners=False)[0, 0]
    top = float(cam.max())
    return (cam / top if top > 0 else cam).cpu().numpy()


def occlusion_windows(size: int) -> tuple[int, int]:
    """(patch, stride) for a size×size input: a quarter of the side, moved by an eighth."""
    return max(1, size // 4), max(1, size // 8)


def occlusion_corners(size: int, patch: int, stride: int) -> list[tuple[int, int]]:
    """The top-left corners of the squares: every `stride` pixels, and one at the far
    border when the stride does not land there."""
    starts = list(range(0, size - patch + 1, stride))
    if starts[-1] != size - patch:
        starts.append(size - patch)
    return [(r, c) for r in starts for c in starts]


@functools.lru_cache(maxsize=16)
def occluders(size: int, patch: int, stride: int) -> torch.Tensor:
    """(P, 1, S, S): 1 under each square, 0 elsewhere (one per corner; read-only)."""
    corners = occlusion_corners(size, patch, stride)
    masks = torch.zeros(len(corners), 1, size, size)
    for i, (r, c) in enumerate(corners):
        masks[i, :, r: r + patch, c: c + patch] = 1
    return masks


@torch.no_grad()
def occlusion(model: Classifier, x: torch.Tensor, target: int, fill: float,
              patch: int | None = None, stride: int | None = None,
              base: float | None = None) -> np.ndarray:
    """(1, 1, S, S) input -> (S, S) mean drop of the target's probability when a
    patch×patch square of `fill` (the value of a blank pixel) covers each pixel. `base`:
    the target's probability for x, when the caller has it already.

    Every occluded copy runs in one batch."""
    size = x.shape[-1]
    default_patch, default_stride = occlusion_windows(size)
    masks = occluders(size, patch or default_patch, stride or default_stride).to(x.device)
    batch = x * (1 - masks) + fill * masks  # (P, 1, S, S)
    if base is None:
        base = float(F.softmax(model(x), dim=1)[0, target])
    drops = base - F.softmax(model(batch), dim=1)[:, target]  # (P,)
    total = (drops[:, None, None] * masks[:, 0]).sum(dim=0)
    return (total / masks[:, 0].sum(dim=0)).cpu().numpy()

"""Small images of what a trained network sees and learned, as RGB arrays (plain numpy in).

Pictures, not charts: a page shows dozens of little maps, and a PNG is drawn by the
browser at once where a chart of each would cost a plotting library's time. Every
colour map is perceptually uniform and readable by colour-blind viewers (viridis for
activations and evidence, a blue-white-orange diverging map for signed filters); the
sign of a filter is also its lightness, so nothing depends on hue alone.
"""
from __future__ import annotations

from functools import cache

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import Colormap

SEQUENTIAL = "viridis"
DIVERGING = "PuOr_r"   # negative purple, zero white, positive orange (colour-blind safe)
PAD = 0.0              # gaps between tiles are white


def _upscale(a: np.ndarray, scale: int) -> np.ndarray:
    """Each pixel becomes a scale×scale block (nearest neighbour: pixels stay visible)."""
    return a.repeat(scale, axis=0).repeat(scale, axis=1) if scale > 1 else a


@cache
def colormap(name: str) -> Colormap:
    """One colour map per name, its lookup table built once: matplotlib's registry hands
    out a fresh copy on every lookup, which builds its table again on first use (a fifth
    of a stroke's picture-making, measured)."""
    cmap = colormaps[name]
    cmap(0.0)  # builds the table now, before threads share it (read-only from here on)
    return cmap


def _rgb(values: np.ndarray, cmap: str) -> np.ndarray:
    return colormap(cmap)(np.clip(values, 0, 1))[..., :3]


def normalise(a: np.ndarray) -> np.ndarray:
    """To [0, 1] by the array's own range (a constant array becomes 0)."""
    lo, hi = float(a.min()), float(a.max())
    return (a - lo) / (hi - lo) if hi > lo else np.zeros_like(a, dtype=np.float64)


def to_uint8(rgb: np.ndarray) -> np.ndarray:
    return (np.clip(rgb, 0, 1) * 255).round().astype(np.uint8)


def ink(image: np.ndarray, scale: int = 16, top: float | None = None) -> np.ndarray:
    """A digit as on paper: 0 (no ink) white, `top` (default its maximum) black."""
    top = top or float(image.max()) or 1.0
    grey = 1 - np.clip(image / top, 0, 1)
    return _upscale(to_uint8(np.repeat(grey[..., None], 3, axis=2)), scale)


def overlay(image: np.ndarray, heat: np.ndarray, scale: int = 12,
            alpha: float = 0.6) -> np.ndarray:
    """`heat` (0-1, same shape) in viridis over the digit's ink in grey."""
    base = 1 - 0.6 * normalise(image)
    paper = np.repeat(base[..., None], 3, axis=2)
    colour = _rgb(heat, SEQUENTIAL)
    weight = alpha * np.clip(heat, 0, 1)[..., None]
    return _upscale(to_uint8(paper * (1 - weight) + colour * weight), scale)


def heat(values: np.ndarray, scale: int = 12, signed: bool = False) -> np.ndarray:
    """One map in colour: signed maps (occlusion drops) centred on white at zero."""
    if signed:
        top = float(np.abs(values).max()) or 1.0
        return _upscale(to_uint8(_rgb(0.5 + 0.5 * values / top, DIVERGING)), scale)
    return _upscale(to_uint8(_rgb(normalise(values), SEQUENTIAL)), scale)


def tiles(maps: np.ndarray, size: int = 48, cols: int | None = None, signed: bool = False,
          gap: int = 2) -> np.ndarray:
    """(n, h, w) maps side by side, each on its own scale, each about `size` pixels."""
    n, h, w = maps.shape
    cols = cols or n
    rows = -(-n // cols)
    scale = max(1, size // max(h, w))
    th, tw = h * scale, w * scale
    if signed:  # every map coloured at once: one colour-map call, not one per map
        top = np.abs(maps).max(axis=(1, 2), keepdims=True)
        rgb = _rgb(0.5 + 0.5 * maps / np.where(top > 0, top, 1.0), DIVERGING)
    else:
        lo = maps.min(axis=(1, 2), keepdims=True)
        span = maps.max(axis=(1, 2), keepdims=True) - lo
        rgb = _rgb(np.where(span > 0, (maps - lo) / np.where(span > 0, span, 1.0), 0.0),
                   SEQUENTIAL)
    pixels = to_uint8(rgb).repeat(scale, axis=1).repeat(scale, axis=2)  # (n, th, tw, 3)
    out = np.full((rows * th + (rows - 1) * gap, cols * tw + (cols - 1) * gap, 3), 255,
                  dtype=np.uint8)
    for i, tile in enumerate(pixels):
        r, c = divmod(i, cols)
        out[r * (th + gap): r * (th + gap) + th, c * (tw + gap): c * (tw + gap) + tw] = tile
    return out


def mosaic(images: list[np.ndarray], cols: int = 1, gap: int = 10) -> np.ndarray:
    """RGB images in a grid of `cols` columns (row by row), each cell as large as the
    largest image, on white, `gap` pixels apart."""
    h = max(i.shape[0] for i in images)
    w = max(i.shape[1] for i in images)
    rows = -(-len(images) // cols)
    out = np.full((rows * h + (rows - 1) * gap, cols * w + (cols - 1) * gap, 3), 255,
                  dtype=np.uint8)
    for k, image in enumerate(images):
        r, c = divmod(k, cols)
        top, left = r * (h + gap), c * (w + gap)
        out[top: top + image.shape[0], left: left + image.shape[1]] = image
    return out

"""A handwritten digit from a drawing, a scan or a photo, made the way the digits data set was.

The data set's digits (scikit-learn's copy of UCI's optical digits) began as 32×32
black-and-white bitmaps, each digit scaled to fill the box's height, and every 4×4 block
became one pixel counting its inked pixels (0-16). `digit_counts` does the same to any
picture of one digit:

1. grey levels; the background is the border's median, so dark ink on light paper and
   light ink on a dark screen both work;
2. ink = how far a pixel is from the background, as a share of the strongest contrast;
   pixels more than halfway are ink;
3. the ink's bounding box, scaled (keeping its shape) to 32 pixels high, or 32 wide when
   it is wider than high, and centred in a 32×32 box;
4. the inked pixels of each 4×4 block counted: an 8×8 image of 0-16.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from PIL import Image

from cnnviz.core import images
from cnnviz.core.errors import ImageError

BOX = 32        # the bitmap side the data set's digits were cut to
BLOCK = 4       # each 4×4 block of it became one pixel: 8×8 counts of 0-16
MIN_CONTRAST = 0.15  # of the 0-1 grey range: less than this is a blank picture
MIN_INK = 4     # inked pixels; fewer is a speck, not a digit


def grey_of(pixels: np.ndarray) -> np.ndarray:
    """(H, W), (H, W, 3) or (H, W, 4) in 0-255 -> (H, W) grey in [0, 1]. Transparent
    pixels (a canvas never drawn on) count as the background."""
    a = np.asarray(pixels, dtype=np.float32)
    if a.ndim == 2:
        return a / 255
    if a.ndim != 3 or a.shape[2] not in (3, 4):
        raise ImageError(f"Expected a grey, RGB or RGBA image, got an array of shape "
                         f"{a.shape}.")
    grey = a[..., :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32) / 255
    if a.shape[2] == 4:  # composite over white: an unpainted canvas pixel is paper
        alpha = a[..., 3] / 255
        grey = grey * alpha + (1 - alpha)
    return grey


def ink_of(grey: np.ndarray) -> np.ndarray:
    """How much each pixel is ink, in [0, 1], whichever way round the picture is."""
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    background = float(np.median(border))
    contrast = np.abs(grey - background)
    strongest = float(contrast.max()) if contrast.size else 0.0
    if strongest < MIN_CONTRAST:
        raise ImageError("No digit found: the picture is blank (no ink differs from the "
                         "background by more than 15% of the grey range).")
    return contrast / strongest


def digit_counts(pixels: np.ndarray) -> np.ndarray:
    """The 8×8 counts (0-16, float32) of the one digit in `pixels`; ImageError when the
    picture holds no digit."""
    ink = ink_of(grey_of(pixels)) > 0.5
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if ink.sum() < MIN_INK:
        raise ImageError("No digit found: only a few specks of ink. Write a digit large "
                         "enough to fill most of the box.")
    crop = ink[rows[0]: rows[-1] + 1, cols[0]: cols[-1] + 1]
    h, w = crop.shape
    scale = BOX / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))  # PIL wants (width, height)
    # area-average the crop to its new size, then the half-inked pixels are ink again
    small = np.asarray(Image.fromarray(crop.astype(np.uint8) * 255).resize(
        size, Image.Resampling.BOX if scale < 1 else Image.Resampling.BILINEAR)) >= 128
    box = np.zeros((BOX, BOX), dtype=bool)
    top, left = (BOX - size[1]) // 2, (BOX - size[0]) // 2
    box[top: top + size[1], left: left + size[0]] = small
    side = BOX // BLOCK
    return box.reshape(side, BLOCK, side, BLOCK).sum(axis=(1, 3)).astype(np.float32)


def counts_from_file(data: bytes, limits: images.Limits = images.LIMITS) -> np.ndarray:
    """An image file's digit as 8×8 counts. The file is checked before it is decoded
    (size, format, pixel count), as every upload is."""
    return digit_counts(np.asarray(images.decode_image(data, limits)))


# What a drawing canvas may send: the upload's byte and pixel limits, as a PNG (what a
# browser's canvas encodes). A larger picture than READ_SIDE is shrunk before it becomes an
# array: the digit ends as 32×32 anyway, and a canvas is a few hundred pixels wide.
CANVAS_LIMITS = images.Limits(formats=("PNG",))
READ_SIDE = 1024


def canvas_pixels(state: object, limits: images.Limits = CANVAS_LIMITS
                  ) -> np.ndarray | None:
    """The picture a drawing canvas component sent, as an (H, W, 3) uint8 array, or None
    when nothing was drawn. `state` is the component's value as the browser sent it
    (`{"drawing": {"data": "data:image/png;base64,...", ...}, ...}`), user input of any
    shape: it is checked before anything is decoded (types, the data URL's length against
    the byte limit, the PNG header's size against the pixel limit), and anything else is a
    ImageError with a sentence."""
    if state is None:
        return None
    if not isinstance(state, Mapping):
        raise ImageError("The drawing arrived in a form this page does not read.")
    drawing = state.get("drawing")
    if drawing is None:
        return None
    if not isinstance(drawing, Mapping):
        raise ImageError("The drawing arrived in a form this page does not read.")
    url = drawing.get("data")
    if url is None:
        return None
    im = images.decode_image(images.data_url_bytes(url, limits), limits)
    if max(im.size) > READ_SIDE:
        im.thumbnail((READ_SIDE, READ_SIDE), Image.Resampling.BOX)
    return np.asarray(im)


def is_blank(pixels: np.ndarray | None) -> bool:
    """True for a canvas with nothing drawn on it (no pixel differs from its background)."""
    if pixels is None:
        return True
    grey = grey_of(pixels)
    return float(grey.max() - grey.min()) < MIN_CONTRAST

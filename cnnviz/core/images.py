"""Images for the feature-map and receptive-field pages: samples, uploads, transforms.

An upload is checked before it is decoded (size in bytes, format, pixel count
read from the header), so a bad file ends as an ImageError with a sentence a
person understands, never a crash or a hang. The tensor transform is
torchvision's classic ImageNet evaluation pipeline (Resize, CenterCrop,
ToTensor, Normalize) written with Pillow and torch.
"""
from __future__ import annotations

import base64
import binascii
import io
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from cnnviz.core.errors import ImageError

ASSETS = Path(__file__).resolve().parents[2] / "assets"

# name -> (file, what it shows); all public domain or CC0, see assets/README.md
SAMPLES = {
    "astronaut": ("astronaut.jpg", "a face and a space suit (NASA, public domain)"),
    "cat": ("cat.jpg", "fur texture and eyes (CC0)"),
    "coffee": ("coffee.jpg", "ellipses and wood grain (CC0)"),
    "brick": ("brick.jpg", "a regular grid of edges (CC0)"),
}

FORMATS = ("PNG", "JPEG", "WEBP")
UPLOAD_TYPES = ("png", "jpg", "jpeg", "webp")  # for st.file_uploader(type=...)
# 5 MB: plenty for a photograph, small for a shared server. Streamlit's uploader counts a
# megabyte as 10**6 bytes (server.maxUploadSize = 5), so the page promises what it enforces.
MAX_UPLOAD_MB = 5
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 10**6
MAX_PIXELS = 4096 * 4096  # ~16.8 megapixels; larger images are refused before decoding
MAX_ASPECT = 16  # a 1 x 200000 strip has no square centre worth showing
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class Limits:
    """What an upload may be, as the page states it."""

    max_bytes: int = MAX_UPLOAD_BYTES
    max_pixels: int = MAX_PIXELS
    max_aspect: int = MAX_ASPECT
    formats: tuple[str, ...] = FORMATS

    def describe(self) -> str:
        side = int(self.max_pixels ** 0.5)
        return (f"{', '.join(self.formats)}; at most {self.max_bytes / 1e6:g} MB "
                f"({self.max_bytes:,} bytes), "
                f"{self.max_pixels / 1e6:.1f} megapixels (e.g. {side}x{side}) and a "
                f"{self.max_aspect}:1 aspect ratio.")


LIMITS = Limits()


def sample_path(name: str) -> Path:
    if name not in SAMPLES:
        raise ImageError(f"Unknown sample image {name!r}; choose one of "
                         f"{', '.join(SAMPLES)}.")
    return ASSETS / SAMPLES[name][0]


def load_sample(name: str) -> Image.Image:
    """A shipped sample image as RGB."""
    return decode_image(sample_path(name).read_bytes())


def decode_image(data: bytes, limits: Limits = LIMITS) -> Image.Image:
    """Decode uploaded bytes to an RGB image; ImageError with the reason if that is unsafe.

    Checks, in order: the byte count, the format (from the file's header, not its
    name), the pixel count from the header (before any pixel is decoded), then a full
    decode that fails on truncated data.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ImageError("No image data was given.")
    data = bytes(data)
    if not data:
        raise ImageError("The file is empty.")
    if len(data) > limits.max_bytes:
        raise ImageError(f"The file is {len(data):,} bytes; the limit is "
                         f"{limits.max_bytes / 1e6:g} MB ({limits.max_bytes:,} bytes). Use a "
                         f"smaller image.")
    with warnings.catch_warnings():
        # Pillow's own bomb guard warns first and raises only at twice its limit:
        # treat the warning as the error it is here.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data), formats=list(limits.formats)) as im:
                width, height = im.size  # from the header; nothing decoded yet
                if width < 1 or height < 1:
                    raise ImageError(f"The image claims a size of {width}x{height} pixels.")
                if width * height > limits.max_pixels:
                    raise ImageError(
                        f"The image is {width}x{height} = {width * height / 1e6:.1f} "
                        f"megapixels; the limit is {limits.max_pixels / 1e6:.1f}. Decoding "
                        f"it could exhaust memory (a 'decompression bomb'); use a smaller "
                        f"image.")
                if max(width, height) > limits.max_aspect * min(width, height):
                    raise ImageError(
                        f"The image is {width}x{height} pixels, an aspect ratio of "
                        f"{max(width, height) / min(width, height):,.0f}:1; the limit is "
                        f"{limits.max_aspect}:1, since only a square from its centre is "
                        f"used. Crop it closer to a square.")
                im.seek(0)  # the first frame of an animated WebP/PNG
                im.load()
                # phone photos: honour the rotation tag
                return _to_rgb(ImageOps.exif_transpose(im))
        except ImageError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ImageError(f"The image has more pixels than is safe to decode (a "
                             f"'decompression bomb'); the limit is "
                             f"{limits.max_pixels / 1e6:.1f} megapixels. Use a smaller "
                             f"image.") from None
        except UnidentifiedImageError:
            kinds = "PNG, JPEG or WebP" if limits.formats == FORMATS else \
                " or ".join(limits.formats)
            raise ImageError(f"This file is not a {kinds} image (or it is damaged "
                             "beyond reading).") from None
        except _DECODE_FAILURES as e:
            raise ImageError(f"The image could not be decoded ({_failure(e)}). Is the file "
                             f"complete?") from None


# What Pillow raises on data it cannot decode, by type (never by its message's wording):
# OSError for a file that ends early ("image file is truncated") or a stream its decoder
# refuses, EOFError for data that stops inside a structure, SyntaxError for a malformed
# header or chunk; IndexError, TypeError and ValueError from a plugin reading nonsense.
_DECODE_FAILURES = (OSError, EOFError, SyntaxError, IndexError, TypeError, ValueError,
                    MemoryError)


def _failure(e: BaseException) -> str:
    """What went wrong while decoding, from the type of Pillow's error."""
    if isinstance(e, MemoryError):
        return "it needs more memory than is safe"
    if isinstance(e, (OSError, EOFError)):
        return "the file is truncated or its data is damaged"
    if isinstance(e, SyntaxError):
        return "its structure is not valid for its format"
    return "the decoder could not read its contents"


def data_url_bytes(url: object, limits: Limits = LIMITS) -> bytes:
    """The bytes of an image's base64 data URL (what a browser component sends), checked
    before anything is decoded: a string, an image media type, and a length whose decoded
    size is within the byte limit (refused on the text's length, so a huge message costs
    no copy). ImageError with a sentence otherwise."""
    if not isinstance(url, str):
        raise ImageError(f"The drawing arrived as {type(url).__name__}, not as an image.")
    head, sep, _ = url[:200].partition(",")
    if not sep or not head.lower().startswith("data:image/") or not head.endswith(";base64"):
        raise ImageError("The drawing did not arrive as an image (a base64 data URL of "
                         "an image was expected).")
    encoded = len(url) - len(head) - 1
    if encoded * 3 // 4 > limits.max_bytes:
        raise ImageError(f"The drawing is about {encoded * 3 // 4:,} bytes; the limit is "
                         f"{limits.max_bytes / 1e6:g} MB ({limits.max_bytes:,} bytes).")
    try:
        return base64.b64decode(url[len(head) + 1:], validate=True)
    except (binascii.Error, ValueError):
        raise ImageError("The drawing's image data is not valid base64.") from None


def _to_rgb(im: Image.Image) -> Image.Image:
    """Any mode (L, P, RGBA, CMYK, 16-bit) as 8-bit RGB; transparency over white."""
    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(im, dtype=np.float64)
        top = arr.max() or 1.0
        im = Image.fromarray((arr / top * 255).astype(np.uint8), "L")
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        im = im.convert("RGBA")
        background = Image.new("RGBA", im.size, (255, 255, 255, 255))
        im = Image.alpha_composite(background, im)
    return im.convert("RGB")


# --- transforms (torchvision's Resize + CenterCrop + ToTensor + Normalize) -----------

def resize_crop(im: Image.Image, height: int, width: int) -> Image.Image:
    """Scale so the image covers height x width (the shorter side matches for a square),
    then cut the centre, as Resize(size) followed by CenterCrop((height, width))."""
    if height < 1 or width < 1:
        raise ImageError(f"The target size must be positive, not {height}x{width}.")
    w, h = im.size
    scale = max(height / h, width / w)
    new_w, new_h = max(width, int(w * scale)), max(height, int(h * scale))
    top = int(round((new_h - height) / 2.0))   # torchvision's center_crop rounding
    left = int(round((new_w - width) / 2.0))
    if (new_w, new_h) == (w, h):
        return im.crop((left, top, left + width, top + height))
    # Resample only the source box that lands in the crop: the pixels of resizing
    # the whole image and then cropping (up to rounding), without allocating the whole (a long,
    # thin image scaled up by its short side would be gigabytes).
    sx, sy = w / new_w, h / new_h
    box = (left * sx, top * sy, (left + width) * sx, (top + height) * sy)
    return im.resize((width, height), Image.Resampling.BILINEAR, box=box,
                     reducing_gap=None)


def to_tensor(im: Image.Image, height: int, width: int, normalize: bool = True
              ) -> torch.Tensor:
    """(3, height, width) float tensor; ImageNet mean/std normalized unless told not to."""
    im = resize_crop(im.convert("RGB"), height, width)
    x = torch.from_numpy(np.array(im, dtype=np.uint8)).permute(2, 0, 1).float() / 255.0
    if normalize:  # (3, H, W): per-channel (x - mean) / std
        mean = torch.tensor(IMAGENET_MEAN).view(3, 1, 1)
        std = torch.tensor(IMAGENET_STD).view(3, 1, 1)
        x = (x - mean) / std
    return x


def to_display(x: torch.Tensor, normalized: bool = True) -> np.ndarray:
    """(3, H, W) tensor -> (H, W, 3) uint8 array, undoing the normalization."""
    x = x.detach().cpu().float()
    if normalized:
        x = x * torch.tensor(IMAGENET_STD).view(3, 1, 1) + torch.tensor(IMAGENET_MEAN).view(3, 1, 1)
    return (x.clamp(0, 1) * 255).round().byte().permute(1, 2, 0).numpy()


def image_array(im: Image.Image, height: int, width: int) -> np.ndarray:
    """The (H, W, 3) uint8 pixels the network sees, for drawing under overlays."""
    return np.array(resize_crop(im.convert("RGB"), height, width), dtype=np.uint8)

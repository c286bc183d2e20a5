"""Upload decoding (every bad input ends as a ValueError) and the ImageNet transform."""
import io
import time

import conftest
import numpy as np
import pytest
import torch
from PIL import Image

from cnnviz.core import images


def encode(im: Image.Image, fmt: str) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt)
    return buf.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    return conftest.png_header_only(width, height, colour_type=2)  # RGB


PHOTO = Image.fromarray(np.random.default_rng(0).integers(0, 255, (48, 64, 3), np.uint8))


@pytest.mark.parametrize("name", list(images.SAMPLES))
def test_samples_load_small_rgb(name):
    path = images.sample_path(name)
    assert path.stat().st_size <= 200 * 1024
    im = images.load_sample(name)
    assert im.mode == "RGB" and min(im.size) >= 128


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_valid_formats_decode(fmt):
    im = images.decode_image(encode(PHOTO, fmt))
    assert im.mode == "RGB" and im.size == (64, 48)


def test_transparent_webp_and_greyscale_become_rgb():
    rgba = Image.new("RGBA", (20, 10), (255, 0, 0, 0))
    assert images.decode_image(encode(rgba, "WEBP")).getpixel((0, 0)) == (255, 255, 255)
    assert images.decode_image(encode(PHOTO.convert("L"), "PNG")).mode == "RGB"


@pytest.mark.parametrize("data, words", [
    (b"", "empty"),
    (b"this is not an image at all" * 4, "not a PNG, JPEG or WebP"),
    (encode(PHOTO, "GIF"), "not a PNG, JPEG or WebP"),
    (encode(PHOTO, "PNG")[:200], "truncated"),
    (encode(PHOTO, "JPEG")[:300], "could not be decoded"),
    (png_header_only(100_000, 100_000), "decompression bomb"),
    (png_header_only(5000, 5000), "megapixels"),
    (b"\x89PNG" + b"\0" * (images.MAX_UPLOAD_BYTES + 1), "limit is 5 MB"),
])
def test_bad_uploads_raise_clear_value_errors(data, words):
    start = time.monotonic()
    with pytest.raises(ValueError, match=words):
        images.decode_image(data)
    assert time.monotonic() - start < 5  # refused, not decoded


def test_pixel_limit_is_checked_before_decoding():
    # 5000 x 5000 is under Pillow's own limit but over ours: refused from the header.
    with pytest.raises(ValueError, match="25.0 megapixels"):
        images.decode_image(png_header_only(5000, 5000))
    described = images.LIMITS.describe()
    assert "5 MB (5,000,000 bytes)" in described and "megapixels" in described


def test_unknown_sample():
    with pytest.raises(ValueError, match="Unknown sample"):
        images.sample_path("../etc/passwd")


def test_resize_crop_matches_torchvision_semantics():
    im = Image.new("RGB", (300, 200))
    out = images.resize_crop(im, 100, 100)  # shorter side 200 -> 100, width 150 -> crop 100
    assert out.size == (100, 100)
    # the crop is centred: a marker column in the middle of the original stays in the middle
    marked = np.zeros((200, 300, 3), np.uint8)
    marked[:, 148:152] = 255
    centre = np.array(images.resize_crop(Image.fromarray(marked), 100, 100))
    assert centre[:, 49:51].mean() > 200 and centre[:, :40].max() == 0
    assert images.resize_crop(im, 64, 32).size == (32, 64)


def test_to_tensor_normalizes_with_imagenet_statistics():
    grey = Image.new("RGB", (40, 40), (124, 116, 104))  # ~ the ImageNet mean
    x = images.to_tensor(grey, 32, 32)
    assert x.shape == (3, 32, 32) and x.dtype == torch.float32
    assert x.abs().max() < 0.02
    white = images.to_tensor(Image.new("RGB", (8, 8), (255, 255, 255)), 8, 8)
    expected = (1 - torch.tensor(images.IMAGENET_MEAN)) / torch.tensor(images.IMAGENET_STD)
    assert torch.allclose(white[:, 0, 0], expected)
    assert (images.to_display(white) == 255).all()


@pytest.mark.parametrize("size", [(1, 200_000), (20_000, 1), (17 * 50, 50)])
def test_long_thin_images_are_refused_before_decoding(size):
    """An 860-byte 1x200000 PNG once took the server to 8.4 GB (its short side scaled up)."""
    data = encode(Image.new("L", size), "PNG")
    with pytest.raises(ValueError, match=r"aspect ratio of [\d,]+:1; the limit is 16:1"):
        images.decode_image(data)


def test_resize_never_builds_the_whole_scaled_image():
    """16:1 is allowed: scaled by its short side to 224 the whole would be 224 x 3584; only
    the 224 x 224 crop is ever made, and it is the centre of the scaled image."""
    strip = np.zeros((50, 800, 3), np.uint8)
    strip[:, 396:404] = 255  # a bright bar in the middle
    x = images.to_tensor(Image.fromarray(strip), 224, 224, normalize=False)
    assert x.shape == (3, 224, 224)
    bright = (x[0, 112] > 0.5).nonzero().flatten()
    assert 100 < bright.float().mean() < 124  # still in the middle of the crop


def test_the_upload_limit_is_the_one_streamlit_enforces():
    """The uploader counts a megabyte as 10**6 bytes: the page must promise that number."""
    import tomllib
    config = tomllib.loads((images.ASSETS.parent / ".streamlit" / "config.toml").read_text())
    assert images.MAX_UPLOAD_BYTES == config["server"]["maxUploadSize"] * 10**6
    images.decode_image(encode(PHOTO, "PNG"), images.Limits(max_bytes=5_000_000))
    with pytest.raises(ValueError, match="5,000,001 bytes; the limit is 5 MB"):
        images.decode_image(b"\x89PNG" + b"\0" * 4_999_997)

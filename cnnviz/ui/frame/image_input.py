"""The image chooser of the image pages: a sample photograph or an upload."""
from __future__ import annotations

import streamlit as st

from cnnviz.core import images
from cnnviz.core.errors import ImageError
from cnnviz.ui.frame.widgets import show_error

UPLOAD = "upload"
SIZES = (32, 64, 96, 128, 160, 224)
DEFAULT_SIZE = 96


def check_upload(data: bytes, name: str = "the file") -> bool:
    """Decode `data`; on a bad file show why (st.error) and return False."""
    try:
        images.decode_image(data)
    except ImageError as e:
        show_error(e, f"Cannot use {name}")
        return False
    return True


def image_input(key: str, size: bool = True, default_size: int = DEFAULT_SIZE
                ) -> tuple[str, bytes, int] | None:
    """Sample or upload widgets; (label, bytes, size) of a usable image, or None."""
    options = list(images.SAMPLES) + [UPLOAD]
    cols = st.columns([2, 1]) if size else [st.container()]
    with cols[0]:
        choice = st.selectbox(
            "Image", options, key=f"{key}_image",
            format_func=lambda n: "your own image (upload)" if n == UPLOAD
            else f"{n}: {images.SAMPLES[n][1]}")
    side = default_size
    if size:
        with cols[1]:
            side = st.selectbox("Image size (pixels)", SIZES, index=SIZES.index(default_size),
                                key=f"{key}_size",
                                help="the image is resized (shorter side) and centre-cropped to "
                                     "this square, then normalized with the ImageNet mean/std")
    if choice != UPLOAD:
        return choice, images.sample_path(choice).read_bytes(), side
    upload = st.file_uploader("Your image", type=list(images.UPLOAD_TYPES), key=f"{key}_upload",
                              max_upload_size=images.MAX_UPLOAD_MB)
    st.caption(f"Accepted: {images.LIMITS.describe()} The file is checked before it is "
               f"decoded and is not stored.")
    if upload is None:
        st.info("Choose a PNG, JPEG or WebP file to continue.", icon="🖼️")
        return None
    data = upload.getvalue()
    if not check_upload(data, upload.name):
        return None
    return upload.name, data, side

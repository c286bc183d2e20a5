"""The Trained Networks page's live part: what the networks make of one input, redrawn on
every stroke.

Every inspection and picture is computed first (`look`), then drawn in one go (`show`):
the new answer, evidence and maps reach the browser together rather than one by one over
the computation, and the drawing code computes nothing.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from streamlit.delta_generator import DeltaGenerator

from dataclasses import dataclass

import numpy as np
import streamlit as st

from cnnviz.core.datasets import class_names
from cnnviz.lessons.glossary import link
from cnnviz.render import digit_images as img
from cnnviz.topics import learned
from cnnviz.ui.frame import cache
from cnnviz.ui.frame.text import safe_text
from cnnviz.ui.frame.widgets import picture, png_data_url
from cnnviz.ui.trained.views import Net, counts_key


@dataclass(frozen=True)
class Seen:
    """One network's view of the input, ready to draw (pictures as PNG data URLs)."""

    net: Net
    inspection: learned.Inspection
    picture: str  # Grad-CAM and occlusion side by side, every block's maps below them
    sides: str    # the maps' sizes, e.g. "16×16, 8×8"


@dataclass(frozen=True)
class Look:
    """Every network's view of one input, and the input as they read it."""

    what: str     # "your drawing", or which test image
    inputs: str   # the 8×8 counts and the image of each input size, side by side
    inputs_caption: str
    seen: list[Seen]
    showing: str = ""  # beside each prediction: "Showing test image 1", "Showing your drawing"


def inspections(nets: list[Net], counts: np.ndarray) -> list[learned.Inspection]:
    return cache.trained_inspections(tuple(net.key for net in nets), counts_key(counts),
                                     [(net.model, net.data) for net in nets])


def look(counts: np.ndarray, what: str, nets: list[Net], showing: str = "") -> Look:
    """Run the input through every network and make every picture; draws nothing.

    Pictures that belong together are one picture (the inputs; each network's evidence
    and maps): every element costs the browser a share of each stroke's redraw."""
    inputs = [img.ink(counts, 12, top=16)]
    parts = ["8×8: the inked pixels of each 4×4 block of a 32×32 bitmap (0-16)"]
    for size in sorted({net.data.size for net in nets}):
        data = next(net.data for net in nets if net.data.size == size)
        factor = f"enlarged ×{data.factor:g} (bilinear)" if data.factor != 1 else "as it is"
        inputs.append(img.ink(learned.prepared(data, counts), max(1, 96 // size), top=1.0))
        parts.append(f"{size}×{size}: {factor}, the network's input")
    # each network's picture is small (a map's value per pixel, the evidence four times
    # as large): the page has the browser enlarge it without smoothing (ui.pixel_pictures)
    seen = []
    for net, found in zip(nets, inspections(nets, counts)):
        data = net.data
        scale = max(1, 64 // data.size)
        evidence = [img.overlay(learned.prepared(data, counts), found.grad_cam, scale),
                    img.heat(found.occlusion, scale, signed=True)]
        maps = img.mosaic([img.tiles(block, size=data.size, gap=1) for block in found.maps],
                          gap=2)
        seen.append(Seen(
            net, found, png_data_url(img.mosaic([img.mosaic(evidence, cols=2, gap=4), maps],
                                                gap=6)),
            ", ".join(dict.fromkeys(f"{m.shape[1]}×{m.shape[2]}" for m in found.maps))))
    return Look(what, png_data_url(img.mosaic(inputs, cols=len(inputs), gap=12)),
                "Left to right: " + "; ".join(parts) + ".", seen, showing)


def show(view: Look, left: DeltaGenerator, right: list) -> None:
    """The input (in `left`); in each network's column (in `right`), its answer, its
    evidence and its maps: everything of one network in one column, drawn with as few
    elements as it takes (each one costs every stroke's redraw)."""
    names = class_names("digits")
    with left:
        # `what` is ours (a test image's number and class), and the caption is also the
        # picture's alternative text: plain words, no Markdown
        picture(st, view.inputs, caption=f"What the networks read: {view.what}. "
                                         f"{view.inputs_caption}")
    for col, seen in zip(right, view.seen):
        found = seen.inspection
        with col:
            st.markdown(f"**{safe_text(seen.net.title)}**")
            st.metric("Prediction", names[found.prediction],  # its probability: the table
                      help="The class this network gives the highest probability. "
                           + link("prediction"))
            if view.showing:
                st.caption(view.showing)
            st.markdown(probability_table(names, found.probabilities, found.prediction))
            picture(st, seen.picture, width="stretch",
                    caption=f"Evidence for {found.prediction}: Grad-CAM of the last block "
                            f"(left) and occlusion, the drop in probability (right). Below: "
                            f"the feature maps of blocks 1 to {len(found.maps)}, top to "
                            f"bottom ({seen.sides} pixels).")


# under the live part, outside it: the same on every stroke, so no stroke redraws it
HOW_TO_READ = (
    "**Under each answer, where the evidence is** for the predicted class: **Grad-CAM** "
    "(Selvaraju et al. 2017, §3, Eqs. 1-2) weights the last block's maps by how much the "
    "class score grows with each; **occlusion** (Zeiler & Fergus 2014, §4.2) covers the "
    "image with a blank square at every place and measures how far the class's probability "
    "falls (orange: it falls, purple: it rises). Below them, every block's output for this "
    f"input, its first {learned.SHOWN_CHANNELS} channels, each on its own colour scale "
    "(yellow high, purple low).")


EIGHTHS = " ▏▎▍▌▋▊▉"


def bar(share: float, width: int = 4) -> str:
    """`share` (0-1) as a bar of `width` block characters, to an eighth of one."""
    eighths = round(max(0.0, min(1.0, share)) * width * 8)
    full, rest = divmod(eighths, 8)
    return ("█" * full + (EIGHTHS[rest] if rest else "")) or "▏"


def probability_table(names: tuple[str, ...], probabilities: np.ndarray, top: int) -> str:
    """A Markdown table of every class's probability with a bar of block characters: a
    table a screen reader reads, drawn at once (a data grid costs a stroke's time)."""
    rows = ["| class | probability | |", "|:-:|--:|:--|"]
    for i, (name, p) in enumerate(zip(names, probabilities)):
        bar_text = bar(float(p))
        cells = (name, f"{p:.1%}") if i != top else (f"**{name}**", f"**{p:.1%}**")
        rows.append(f"| {cells[0]} | {cells[1]} | {bar_text} |")
    return "\n".join(rows)

"""Caching at one boundary: every cache of the app, each bounded.

Every cached computation is also `heavy`: on a miss it waits for one of a few slots, so a
classroom's misses do not all run torch at once (see cnnviz.deploy.heavy).
"""
from __future__ import annotations

import streamlit as st
import torch

from cnnviz.core import images
from cnnviz.core.report import Report, make_report
from cnnviz.core.spec import StackSpec, build
from cnnviz.deploy.heavy import heavy
from cnnviz.topics import costs, features, gradflow, receptive_field


@st.cache_resource(max_entries=16, show_spinner="Building the stack and measuring it with "
                                                "torch…")
@heavy
def cached_report(spec: StackSpec, device: str = "cpu") -> Report:
    """make_report, shared by every session: treat the Report as read-only.

    Once measured, the model keeps only its structure (moved to the meta device): the
    diagram and the charts need no weights, and sixteen cached 50 M-parameter stacks
    would otherwise hold 3 GB.
    """
    report = make_report(spec, device)
    report.model = report.model.to("meta")
    return report


@st.cache_data(max_entries=64, show_spinner="Summarising with torchinfo…")
@heavy
def cached_summary(spec: StackSpec, device: str = "cpu") -> str:
    """torchinfo's table for a fresh copy of the stack (its forward must not touch the
    shared model's BatchNorm statistics)."""
    import torchinfo

    model = build(spec, device).eval()
    with torch.no_grad():
        stats = torchinfo.summary(model, input_size=spec.input_shape, verbose=0, device=device,
                                  depth=4, col_names=("output_size", "num_params"))
    return str(stats)


# --- the image pages -------------------------------------------------------------------

@st.cache_data(max_entries=32, ttl=15 * 60, show_spinner="Running the image through a fresh stack…")
@heavy
def feature_maps(spec: StackSpec, data: bytes, block: int, filter: str, device: str
                 ) -> features.FeatureMaps:
    image = images.to_tensor(images.decode_image(data), spec.height, spec.width)
    return features.feature_maps(spec, image, block, filter, device)


@st.cache_data(max_entries=32, show_spinner=False)
@heavy
def rf_theory(spec: StackSpec):
    return receptive_field.rf_theory(spec)


@st.cache_data(max_entries=32, ttl=15 * 60, show_spinner="Back-propagating from the centre "
                                                       "pixel…")
@heavy
def effective_rf(spec: StackSpec, data: bytes, device: str) -> receptive_field.EffectiveRF:
    image = images.to_tensor(images.decode_image(data), spec.height, spec.width)
    return receptive_field.effective_rf(spec, image, device=device, seed=spec.seed)


@st.cache_data(max_entries=16, show_spinner=False)
@heavy
def blind_spot(depth: int, kernel: int) -> receptive_field.BlindSpot:
    spec = receptive_field.masked_spec(depth, kernel, size=4 * depth + 7)
    return receptive_field.blind_spot(spec)


@st.cache_data(max_entries=4, show_spinner=False)
@heavy
def shortcut_support(kind: str):
    return receptive_field.shortcut_support(kind, stride=2, size=8, pixel=(1, 1))


# --- Plain vs Residual --------------------------------------------------------------------

@st.cache_data(max_entries=128, show_spinner="Forward + backward through both stacks…")
@heavy
def gradient_probe(spec: StackSpec, loss: str, device: str) -> gradflow.Comparison:
    return gradflow.compare(spec, loss, device)


# --- Cost & Bottlenecks -------------------------------------------------------------------

@st.cache_data(max_entries=128, show_spinner="Building the designs and counting with torch…")
@heavy
def cost_comparison(topic: str, **values: int) -> costs.Comparison:
    return costs.compare(topic, **values)

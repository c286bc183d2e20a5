"""Caching at one boundary: every cache of the app, each bounded.

Every cached computation is also `heavy`: on a miss it waits for one of a few slots, so a
classroom's misses do not all run torch at once (see cnnviz.deploy.heavy).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, cast

import numpy as np
import streamlit as st
import torch

from cnnviz.core import images
from cnnviz.core.datasets import DataSet
from cnnviz.core.report import Report, make_report
from cnnviz.core.spec import StackSpec, build
from cnnviz.deploy.heavy import heavy
from cnnviz.topics import costs, features, gradflow, learned, receptive_field
from cnnviz.topics.training import Classifier, TrainRun

if TYPE_CHECKING:  # imported when first used: the Explorer's cold start does not wait
    import plotly.graph_objects as go

    from cnnviz.core.network import NetworkSpec
    from cnnviz.core.network.report import NetworkReport
    from cnnviz.topics.gradflow import StackFlow
    from cnnviz.topics.networks import PresetPoint
    from cnnviz.topics.sliding import Animation, Checkerboard, HandSum


def cached_report(spec: StackSpec, device: str = "cpu") -> Report:
    """make_report, shared by every session: treat the Report as read-only.

    The seed only draws the weights, and nothing a report shows reads a weight: the shapes,
    counts and fields come from the structure, and torch measures with every path opened
    (positive constants for every weight, see core.measure.opened_tensors). So every seed
    of one architecture shares one entry, and a student's new seed costs no rebuild.
    """
    report = _architecture_report(replace(spec, seed=0), device)
    return report if spec.seed == 0 else replace(report, spec=spec)


@st.cache_resource(max_entries=64, show_spinner="Building the stack and measuring it with "
                                                "torch…")
@heavy
def _architecture_report(spec: StackSpec, device: str) -> Report:
    """Once measured, the model keeps only its structure (moved to the meta device): the
    diagram and the charts need no weights, and 64 cached 50 M-parameter stacks would
    otherwise hold 13 GB (a report without weights is well under a megabyte)."""
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
def rf_theory(spec: StackSpec) -> tuple[receptive_field.RFGeometry,
                                        list[receptive_field.RFStep], list[str]]:
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


@st.cache_data(max_entries=16, show_spinner=False)
@heavy
def gridding(dilations: tuple[int, ...]) -> receptive_field.Gridding:
    return receptive_field.gridding(dilations)


@st.cache_data(max_entries=4, show_spinner=False)
@heavy
def shortcut_support(kind: str) -> np.ndarray:
    return receptive_field.shortcut_support(kind, stride=2, size=8, pixel=(1, 1))


# --- Convolution Arithmetic ---------------------------------------------------------------
# The same geometry draws the same figures for every student: each is drawn once (a slide's
# frames are a few hundred plotly objects), then shared read-only.

@st.cache_resource(max_entries=64, show_spinner=False)
@heavy
def arith_slide(mode: str, geometry: tuple[tuple[str, int], ...]
                ) -> tuple[Animation, go.Figure]:
    """The sliding window for an operation and its geometry, and its animated figure."""
    from cnnviz.render import arith_plots
    from cnnviz.topics import sliding

    anim = sliding.animation(mode, **dict(geometry))
    return anim, arith_plots.fig_slide(anim)


@st.cache_resource(max_entries=64, show_spinner=False)
@heavy
def arith_hand(seed: int, row: int, col: int) -> tuple[HandSum, go.Figure]:
    """A convolution worked by hand (row and column from 1) and its figure."""
    from cnnviz.render import arith_plots
    from cnnviz.topics import sliding

    hand = sliding.hand_sum(seed)
    return hand, arith_plots.fig_hand_sum(hand, row - 1, col - 1)


@st.cache_resource(max_entries=8, show_spinner=False)
@heavy
def arith_checkerboard(kernel_size: int, weights: str
                       ) -> tuple[Checkerboard, go.Figure]:
    """The three upsamplers on a constant image (real torch modules) and their figure."""
    from cnnviz.render import arith_plots
    from cnnviz.topics import sliding

    cb = sliding.checkerboard(kernel_size=kernel_size, stride=2, weights=weights)
    return cb, arith_plots.fig_checkerboard(cb)


# --- Plain vs Residual --------------------------------------------------------------------

@st.cache_data(max_entries=128, show_spinner="Forward + backward through both stacks…")
@heavy
def gradient_probe(spec: StackSpec, loss: str, device: str) -> gradflow.Comparison:
    return gradflow.compare(spec, loss, device)


@st.cache_resource(max_entries=64, show_spinner=False)
def gradient_figures(spec: StackSpec, loss: str, device: str
                     ) -> tuple[go.Figure, go.Figure, go.Figure]:
    """The probe's three charts (weight gradients, input gradients, activations), drawn
    once per probe and shared read-only: about 20 ms of plotly on every rerun otherwise."""
    from cnnviz.render import gradflow_plots as plots

    result = gradient_probe(spec, loss, device)
    p, r = result.plain, result.residual
    return (plots.fig_weight_grads(p.grad_norms, r.grad_norms),
            plots.fig_input_grads(p.input_grad_norms, r.input_grad_norms),
            plots.fig_activations(p.activation_mean, p.activation_std, r.activation_mean,
                                  r.activation_std))


# --- Cost & Bottlenecks -------------------------------------------------------------------

@st.cache_data(max_entries=128, show_spinner="Building the designs and counting with torch…")
@heavy
def cost_comparison(topic: str, **values: int) -> costs.Comparison:
    return costs.compare(topic, **values)


# --- Networks -----------------------------------------------------------------------------

@st.cache_resource(max_entries=64, show_spinner=False)
@heavy
def network_predicted(spec: NetworkSpec, device: str = "cpu") -> NetworkReport:
    """The predicted report (a walk on the meta device: no weights, cheap to keep), shared
    by every session: treat it as read-only."""
    from cnnviz.core.network.report import make_network_report
    return make_network_report(spec, device, measured=False)


@st.cache_resource(max_entries=8, show_spinner="Building the network and measuring it with "
                                               "torch…")
@heavy
def network_measured(spec: NetworkSpec, device: str = "cpu") -> NetworkReport:
    """The report confirmed by torch (one forward and backward); its model stays on meta."""
    from cnnviz.core.network.report import make_network_report
    return make_network_report(spec, device, measured=True)


@st.cache_data(max_entries=2, show_spinner=False)
@heavy
def preset_points() -> list[PresetPoint]:
    from cnnviz.topics import networks
    return networks.preset_points()


@st.cache_data(max_entries=2, show_spinner="Forward + backward through plain-34 and "
                                           "ResNet-34…")
@heavy
def network_probe(device: str = "cpu") -> tuple[StackFlow, StackFlow]:
    from cnnviz.topics import networks
    return networks.compare_networks(*networks.probe_specs(), device=device)


@st.cache_data(max_entries=8, show_spinner="Forward + backward through the network and its "
                                           "plain twin…")
@heavy
def twin_probe(plain: NetworkSpec, network: NetworkSpec, device: str = "cpu"
               ) -> tuple[StackFlow, StackFlow]:
    """The gradient probe of a network's plain twin and of the network (the Networks page's
    plain-twin comparison); BudgetError when the two are over the live budget."""
    from cnnviz.topics import networks
    return networks.compare_networks(plain, network, device=device)


# --- Trained networks -------------------------------------------------------------------
# Keys name the network: a shipped stack's name, or a session's own run id (unique), so
# entries of different sessions never meet; the model itself is not hashed (`_model`).

@st.cache_resource(max_entries=16, show_spinner="Loading the trained stack…")
def shipped_run(name: str, device: str = "cpu") -> tuple[TrainRun, Classifier]:
    """A shipped stack and its model in eval mode, shared by every session: read-only."""
    from cnnviz.topics.learned import shipped_run as load
    run = load(name)
    return run, run.model(device)


@st.cache_resource(max_entries=8, ttl=15 * 60, show_spinner="Loading the design's weights…")
def challenge_entry(code: str, id: int, _load: Callable[[str, int], tuple[TrainRun, str]]
                    ) -> tuple[TrainRun, str]:
    """A design challenge's entry, trained (its weights from the challenge's database, by
    `_load`) and in words, shared by every session that opens it: read-only."""
    return _load(code, id)


@st.cache_resource(max_entries=8, ttl=15 * 60, show_spinner=False)
def entry_model(key: str, _run: TrainRun, device: str = "cpu") -> Classifier:
    """The model of a challenge entry (`key` names it), in eval mode, as Trained Networks
    reads a classifier (a network's text through NetworkClassifier): read-only."""
    from cnnviz.topics.challenge_entries import NetworkClassifier
    model = _run.model(device)
    if _run.config.network is None:
        return model
    return cast("Classifier", NetworkClassifier(model))  # the same methods the views call


@st.cache_data(max_entries=256, ttl=15 * 60, show_spinner=False)
def trained_inspections(keys: tuple[str, ...], counts: bytes,
                        _nets: list[tuple[Classifier, DataSet]]) -> list[learned.Inspection]:
    """One image through each trained network, side by side: tens of milliseconds (models
    admitted by the training budget, one image and its occluded copies), so it takes no
    heavy slot. `keys` name the networks."""
    image = np.frombuffer(counts, dtype=np.float32).reshape(8, 8)
    return learned.inspect_all(_nets, image)


@st.cache_data(max_entries=16, ttl=60 * 60, show_spinner="Running the test split…")
@heavy
def trained_test_results(key: str, _model: Classifier, _data: DataSet) -> learned.TestResults:
    return learned.test_results(_model, _data)


@st.cache_data(max_entries=16, ttl=60 * 60, show_spinner="Measuring every channel on the "
                                                         "test split…")
@heavy
def trained_channel_means(key: str, _model: Classifier, _data: DataSet) -> list[np.ndarray]:
    return learned.channel_means(_model, _data)

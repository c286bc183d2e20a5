"""What a first visit to a page shows, computed at server start into the shared caches.

A class opens the app at the same moment: without this, the first dozen sessions would
all miss the same cache entries and compute them side by side.
"""
from __future__ import annotations

import time

from cnnviz.core import images
from cnnviz.core.network import PRESETS, NetworkSpec
from cnnviz.core.spec import StackSpec
from cnnviz.deploy import heavy
from cnnviz.lessons import load_lessons
from cnnviz.pages import PLAIN_VS_RESIDUAL
from cnnviz.topics import costs, features, gradflow, learned
from cnnviz.ui.frame import cache, startup
from cnnviz.ui.frame.image_input import DEFAULT_SIZE
from cnnviz.ui.frame.picker import DEFAULT_BLOCK, problem
from cnnviz.ui.frame.shell import FIRST_PAGE
from cnnviz.ui.trained.views import counts_key

REST_AFTER_S = 3.0


def warm_server() -> None:
    """The server's start: import the first page's modules, read the lessons (Start here
    links the first), compute the Explorer's default view with every core (the first
    students are waiting for it), import the rest, then share the cores among the heavy
    slots and compute the other pages' default views."""
    startup.prepare(FIRST_PAGE)
    load_lessons()  # Start here names the first lesson: each step's stack checked once
    explorer_view()
    # Leave the first visitors' first page the CPU and the GIL for a moment: the rest is
    # for when they move on (a run that needs it sooner waits for it, never races it).
    time.sleep(REST_AFTER_S)
    startup.prepare()
    heavy.share_cores()
    other_views()


def explorer_view(device: str = "cpu") -> None:
    """The default page first: it is what every student opens."""
    spec = StackSpec.create(DEFAULT_BLOCK)
    problem(spec)
    cache.cached_report(spec, device)


def other_views(device: str = "cpu") -> None:
    network_views(device)
    spec = StackSpec.create(DEFAULT_BLOCK)
    c = PLAIN_VS_RESIDUAL.starting_values(spec)  # Plain vs Residual
    cache.gradient_probe(gradflow.probe_for(spec, c), c["loss"], device)
    data = images.sample_path(next(iter(images.SAMPLES))).read_bytes()  # Feature Maps
    base = features.image_spec(spec, DEFAULT_SIZE, DEFAULT_SIZE)
    for _, variant in features.plain_and_residual(base):
        cache.feature_maps(variant, data, spec.depth, "random", device)
    topic, (_, knobs) = next(iter(costs.TOPICS.items()))  # Cost & Bottlenecks
    cache.cost_comparison(topic, **{k.name: k.default for k in knobs})
    trained_views()


def trained_views() -> None:
    """The Trained Networks page: the shipped stacks loaded, the digits read, and each
    pair's answer for the first test image (its first view)."""
    for pair in learned.PAIRS.values():
        nets = [(model, learned.run_data(run))
                for run, model in (cache.shipped_run(name) for name in pair)]
        first_image = nets[0][1].raw_test[0]
        cache.trained_inspections(pair, counts_key(first_image), nets)


def network_views(device: str = "cpu") -> None:
    """The Network page: every preset's predicted report (its first view of any preset)
    and the chart across presets; about a second, no weights (walks on the meta device)."""
    for name, preset in PRESETS.items():
        cache.network_predicted(NetworkSpec.create(preset.text, name), device)
    cache.preset_points()

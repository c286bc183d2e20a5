"""Every page of the app, defined once: its file, URL path, title, icon, whether it shows
the sidebar picker, its views, its value controls and the figures a lesson can ask about.

No streamlit here, and nothing above it: the shell's navigation and picker rule
(cnnviz.ui.frame.shell), the lesson checker and player (cnnviz.lessons, cnnviz.ui.lessons.player),
the room's join link, the warm-up, the benches and README.md's page table (a test holds it
equal to `markdown_table()`) all read PAGES. Adding a page is its file under pages/ and one
PageSpec in PAGES.

A control names the page's widget key (the lesson player sets it in the session) and the
values the page accepts, so a lesson is checked before any widget sees it. The tests open
every page and compare these names, keys and defaults with what the page really draws.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import Enum
from typing import Any

from cnnviz.core.blocks.registry import INITS
from cnnviz.core.images import SAMPLES
from cnnviz.core.layers import ACTS, NORMS
from cnnviz.core.network import PRESETS
from cnnviz.pages.spec import Control, PageSpec, Picker, check_divisors, one_of
from cnnviz.topics import costs
from cnnviz.topics import degradation as dg
from cnnviz.topics.features import FILTER_LABELS, FILTERS
from cnnviz.topics.gradflow import LOSSES
from cnnviz.topics.learned import PAIRS, SOURCES, TEST_IMAGES, opening_pair
from cnnviz.topics.sliding import HAND_OUTPUT, HAND_SEEDS

# --- the views: each by name, its value the label the page shows ------------------------

class ExplorerView(Enum):
    """The Explorer's tabs, in the page's order (the first is open by default)."""

    SHAPE = "Shape and receptive field"
    COST = "Cost and memory"
    CHECKS = "Predicted vs measured"
    DIAGRAM = "Diagram"
    SUMMARY = "torchinfo"
    CODE = "Code"


class NetworkView(Enum):
    KINDS = "Cost by layer kind"
    ACROSS = "Across networks"
    SCALING = "Scaling"
    PROBE = "Plain vs residual"
    DIAGRAM = "Diagram"
    CHECKS = "Predicted vs measured"
    CODE = "Code"


class TrainedView(Enum):
    INSIDE = "Look inside"
    WEIGHTS = "Filters and channels"
    SPLIT = "Test split"
    YOURS = "Train your own"


def labels(views: type[Enum]) -> tuple[str, ...]:
    return tuple(v.value for v in views)


# --- the controls -------------------------------------------------------------------------

EXPLORER_VIEWS = labels(ExplorerView)
ARITH_MODES = ("conv", "transposed", "max pool", "avg pool")
IMAGE = Control("image", "", tuple(SAMPLES), default=next(iter(SAMPLES)), label="Image")
ERF_IMAGE_SIZE = 64  # the Receptive Field page's default image side


def _image(prefix: str) -> Control:
    return Control(IMAGE.name, f"{prefix}image", IMAGE.choices, default=IMAGE.default,
                   label=IMAGE.label)


def _view(views: type[Enum], key: str = "view") -> Control:
    return Control("view", key, labels(views), default=labels(views)[0], label="View")


def cost_key(comparison: Callable[..., Any], knob: str) -> str:
    """The widget key of a number of the cost lab's comparison (keyed by its function)."""
    return f"cost_{comparison.__name__}_{knob}"


def _cost_knobs(values: Mapping[str, Any]) -> tuple[Control, ...]:
    """The numbers of the comparison chosen (the page keys them by its function's name).

    No numbers for a topic that names no comparison: this runs before the topic is checked,
    so it may be anything a file holds (a list, which is no dict key)."""
    topic = values.get("topic", next(iter(costs.TOPICS)))
    if not isinstance(topic, str) or topic not in costs.TOPICS:
        return ()
    fn, knobs = costs.TOPICS[topic]
    return tuple(Control(k.name, cost_key(fn, k.name), low=k.low, high=k.high,
                         default=k.default, divides=k.of if k.kind == "divisors" else "",
                         label=k.label)
                 for k in knobs)


# --- the pages, in the navigation's order -------------------------------------------------

# The first visit's page, served at /: three ways in (a first lesson, presenting to a
# class, the Explorer). A URL at / that carries a query (an older link to the Explorer,
# ?block=..., ?view=...) opens the Explorer instead (cnnviz.ui.frame.shell).
START = PageSpec("start", "Start here", "👋", "start_", picker_rule="none", lesson=False,
                 default=True)
EXPLORER = PageSpec("explorer", "Block Explorer", "🔎", "explorer_", (
    _view(ExplorerView),), views=ExplorerView)
# Plain vs Residual's stories: each sets the page's toggles to one effect the page explains.
STORIES = {
    "Vanishing gradient: no norm, torch's default init": dict(norm="none", init="torch",
                                                              zero_init_last=False),
    "Exploding forward signal: no norm, Kaiming init": dict(norm="none", init="kaiming_out",
                                                            zero_init_last=False),
    "Batch normalization: the forward scale fixed, the plain gradient grows":
        dict(norm="batch", init="kaiming_out", zero_init_last=False),
    "Each residual branch started at zero": dict(norm="none", init="kaiming_out",
                                                  zero_init_last=True),
    "A smaller (Xavier) init: slower growth, not none": dict(norm="none", init="xavier",
                                                             zero_init_last=False),
}
_FIRST_DATA = next(iter(dg.PRESETS.values()))
# The page's degradation run: a learner's (a data set starts from its own preset).
DEGRADATION_CONTROLS = (
    Control("story", "gf_story", tuple(STORIES), default=next(iter(STORIES)), label="Story"),
    Control("data", "gf_t_data", tuple(dg.PRESETS), default=_FIRST_DATA.data, label="Data",
            words=(("patterns", "synthetic patterns"), ("digits", "handwritten digits"))),
    Control("deep", "gf_t_depth", low=2, high=60, default=_FIRST_DATA.depth, label="Deep"),
    Control("shallow", "gf_t_shallow", low=1, high=30, default=_FIRST_DATA.shallow_depth,
            label="Shallow"),
    Control("steps", "gf_t_steps", low=5, high=1000, default=_FIRST_DATA.steps, label="Steps"),
    Control("lr", "gf_t_lr", low=0.001, high=1.0, default=_FIRST_DATA.lr, label="Learning rate"),
    Control("train_norm", "gf_t_norm", NORMS, default=_FIRST_DATA.norm, label="Norm"))
PLAIN_VS_RESIDUAL = PageSpec("plain_vs_residual", "Plain vs Residual", "📉", "gf_", (
    Control("depth", "gf_depth", low=1, high=200, default=30, label="Depth (blocks)"),
    Control("norm", "gf_norm", NORMS, default="none", label="Normalization"),
    Control("init", "gf_init", INITS, default="torch", label="Init"),
    Control("act", "gf_act", ACTS, derive=lambda s: s.values.get("act", ACTS[0]),
            label="Activation"),
    Control("preact", "gf_preact", (False, True),  # the block's own ordering
            derive=lambda s: s.block.startswith("preact_"), label="Pre-activation",
            words=((False, "off (post-activation, the block's own order)"), (True, "on"))),
    Control("zero_init_last", "gf_zero_init_last", (False, True), default=False,
            label="Start each branch at zero"),
    Control("loss", "gf_loss", LOSSES, default="ce", label="Loss",
            words=(("ce", "cross-entropy"), ("mse", "mean square of the output, mean(y²)")))),
    own_controls=DEGRADATION_CONTROLS,
    tools=(Control("sweep", "gf_sweep", label="Run the depth sweep"),
           Control("train", "gf_train", label="Train the three stacks")),
    sections=(("sweep", ("sweep",)),
              ("degradation", ("train", *(c.name for c in DEGRADATION_CONTROLS[1:])))))
FEATURE_MAPS = PageSpec("feature_maps", "Feature Maps", "🖼️", "fm_", (
    _image("fm_"),
    Control("filter", "fm_filter", ("random", *FILTERS), default="random",
            label="First convolution's kernel", words=tuple(FILTER_LABELS.items())),
    Control("block", "fm_block", low=1, high=200, label="Block shown")),  # default: the last
    figures=("fm_kernel", "fm_first", "fm_grid", "fm_att"))
RECEPTIVE_FIELD = PageSpec("receptive_field", "Receptive Field", "🎯", "rf_", (
    _image("rf_"),
    Control("mask_depth", "rf_mask_depth", low=1, high=8, default=4, label="Masked layers"),
    Control("mask_kernel", "rf_mask_kernel", (3, 5), default=3,
            label="Kernel of the masked layers"),
    Control("dilation", "rf_dilation", low=1, high=4, default=2,
            label="Dilation of each of the three 3×3 layers (left chart)")),
    figures=("rf_box", "rf_erf", "rf_blind", "rf_grid", "rf_short"),
    headings=(("theoretical-field", "1 · Theoretical receptive field"),
              ("effective-field", "2 · Effective receptive field"),
              ("blind-spot", "3 · The blind spot of a masked (PixelCNN) stack"),
              ("gridding", "4 · Dilated convolutions and gridding"),
              ("downsampling-shortcut", "5 · The downsampling shortcut")),
    tools=(Control("row", "rf_row", label="Output row"),
           Control("col", "rf_col", label="Output column")))
# The arithmetic page's geometry: started from the picked block's where it fits the grid
# (cnnviz.ui.analysis.presets.page_defaults), a step sets it through the picker's stack.
ARITH_GEOMETRY = tuple(Control(name, f"arith_{name}", low=low, high=high, default=default,
                               label=label)
                       for name, low, high, default, label in (
    ("height", 1, 12, 5, "input H"), ("width", 1, 12, 7, "input W"),
    ("kernel_size", 1, 7, 3, "kernel k"), ("stride", 1, 4, 2, "stride s"),
    ("padding", 0, 4, 1, "padding p"), ("dilation", 1, 3, 1, "dilation d"),
    ("output_padding", 0, 3, 0, "output padding")))
CONV_ARITHMETIC = PageSpec("conv_arithmetic", "Convolution Arithmetic", "🧮", "arith_", (
    Control("mode", "arith_mode", ARITH_MODES, default="conv", label="Operation",
            words=(("conv", "convolution"), ("transposed", "transposed convolution"))),
    Control("cb_kernel", "arith_cb_k", (3, 4), default=3, label="Transposed kernel (stride 2)"),
    Control("cb_weights", "arith_cb_w", ("uniform", "random"), default="uniform",
            label="Weights", words=(("uniform", "all ones"), ("random", "random"))),
    Control("ws_seed", "arith_ws_seed", low=1, high=HAND_SEEDS, default=2, label="Numbers"),
    Control("ws_row", "arith_ws_row", low=1, high=HAND_OUTPUT, default=1, label="Output row"),
    Control("ws_col", "arith_ws_col", low=1, high=HAND_OUTPUT, default=1, label="Output column")),
    figures=("arith_slide", "arith_hand", "arith_cb"), question_figures=("arith_hand",),
    headings=(("by-hand", "One output value by hand"), ("checkerboard", "Checkerboard artifacts")),
    own_controls=ARITH_GEOMETRY)
COST_LAB = PageSpec("cost_lab", "Cost & Bottlenecks", "⚖️", "cost_", (
    Control("topic", "cost_topic", tuple(costs.TOPICS), default=next(iter(costs.TOPICS)),
            label="Comparison"),),
    figures=("cost_bars",), more_controls=_cost_knobs, picker_rule="none")
# The Networks page: the network lives in the URL (cnnviz.ui.network.builder); ResNet-18 by
# default.
NETWORK = PageSpec("network", "Networks", "🏛️", "net_", (
    Control("net", "net", tuple(PRESETS), default="resnet18", in_url=True, label="Network"),),
    picker_rule="none", views=NetworkView, view_key="net_view",
    url_names=("net", "arch", "input", "classes"))
# Trained Networks draws the picker only in the view that trains the picker's stack: on the
# others it would be a score of widgets unrelated to what is shown, redrawn with every stroke.
TRAINED = PageSpec("trained", "Trained Networks", "🎓", "tr_", (
    # opens on the shipped pair where the shortcuts make the largest difference (records)
    Control("pair", "tr_pair", tuple(PAIRS), default=opening_pair(), label="Networks"),
    Control("source", "tr_source", SOURCES, default=SOURCES[0], label="Input",
            words=(("draw", "A digit drawn on the page"), ("test", "A test image"))),
    Control("image", "tr_image", low=1, high=TEST_IMAGES, default=1, label="Test image"),
    _view(TrainedView),
    Control("block", "tr_block", low=1, high=200, label="Block shown"),  # default: the last
    Control("channel", "tr_channel", low=1, high=4096, label="Channel")),  # default: the first
    picker_rule="own", views=TrainedView)
LESSONS = PageSpec("lessons", "Lessons", "📚", "lessons_", picker_rule="none", lesson=False)
JOIN = PageSpec("join", "Join a room", "🙋", "room_", picker_rule="none", lesson=False)
CHALLENGE = PageSpec("challenge", "Design challenge", "🏁", "ch_", picker_rule="none",
                     lesson=False, url_names=("challenge",))
# The words the pages' metrics use, one sentence each (cnnviz.lessons.glossary), by anchor.
GLOSSARY = PageSpec("glossary", "Glossary", "📖", "glossary_", picker_rule="none",
                    lesson=False)

# What the lesson player draws on every step's page, which a step's text may name.
PLAYER_TOOLS = (Control("peek", "", label="Show the page before the answer"),)

PAGES: dict[str, PageSpec] = {p.name: p for p in (
    START, EXPLORER, PLAIN_VS_RESIDUAL, FEATURE_MAPS, RECEPTIVE_FIELD, CONV_ARITHMETIC,
    COST_LAB, NETWORK, TRAINED, LESSONS, GLOSSARY, JOIN, CHALLENGE)}


def default_page() -> PageSpec:
    """The page served at /."""
    return next(p for p in PAGES.values() if p.default)


def lesson_pages() -> dict[str, PageSpec]:
    """The pages a lesson step may open, by name."""
    return {name: p for name, p in PAGES.items() if p.lesson}


_SIDEBAR = {"sidebar": "the picker", "own": "its own; the picker in one view",
            "none": "no picker (its values kept)"}


def markdown_table() -> str:
    """README.md's table of the pages (a test holds the README's copy equal to this)."""
    rows = ["| page | path | file | sidebar | controls a lesson step sets | figures |",
            "|---|---|---|---|---|---|"]
    for p in PAGES.values():
        names = ", ".join(f"`{c.name}`" for c in p.controls)
        if p.more_controls is not None:
            names += ", and the numbers of the comparison chosen"
        controls = (names or "none") if p.lesson else "no step opens it"
        figures = ", ".join(f"`{f}`" for f in p.figures)
        rows.append(f"| {p.icon} {p.title} | `/{p.url_path}` | `{p.file}` | "
                    f"{_SIDEBAR[p.picker_rule]} | {controls} | {figures} |")
    return "\n".join(rows)


__all__ = ["ARITH_MODES", "ERF_IMAGE_SIZE", "EXPLORER_VIEWS", "PAGES", "PLAYER_TOOLS", "STORIES",
           "Control", "ExplorerView", "NetworkView", "PageSpec", "Picker", "TrainedView",
           "check_divisors", "cost_key", "default_page", "lesson_pages", "markdown_table", "one_of"]

"""The Trained Networks page's pieces: which networks, which input, and each view of them.

The page shows a pair of networks side by side (plain and residual of the same depth):
two shipped pairs, or the picker's stack trained here ("yours", kept in the session).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from streamlit.delta_generator import DeltaGenerator

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import streamlit as st

from cnnviz.core.datasets import DataSet
from cnnviz.core.errors import InputError
from cnnviz.core.handwriting import canvas_pixels, digit_counts, is_blank
from cnnviz.core.spec import StackSpec
from cnnviz.deploy.heavy import TRAINING_SLOTS, hold_slot
from cnnviz.lessons.glossary import link
from cnnviz.pages import CHALLENGE, TRAINED, TrainedView
from cnnviz.render import digit_images as img
from cnnviz.topics import learned
from cnnviz.topics.training import (
    Classifier,
    TrainConfig,
    TrainRun,
    check_training,
    train_epochs,
)
from cnnviz.ui.frame import cache, controls, startup
from cnnviz.ui.frame.text import safe_text
from cnnviz.ui.frame.widgets import picture, show_error
from cnnviz.ui.trained import entries

PREFIX = "tr_"
YOURS = "yours"
DRAWING = "your drawing"  # what read_input calls the canvas's digit
CANVAS_SIDE, STROKE = 224, 30  # strokes as thick, for the height, as the data set's pens
_OWN = "trained__own"     # {"id": run id, "nets": [Net, ...]} of the session's training
_SHOW_OWN = "trained__show_own"  # select "yours" on the next run (after training)
_STOPPED = "trained__stopped"    # what a Stop (or a page change) cut short


@dataclass(frozen=True)
class Net:
    """One trained network the page shows."""

    title: str
    key: str  # names it in the caches
    run: TrainRun
    model: Classifier

    @property
    def data(self) -> DataSet:
        return learned.run_data(self.run)


def pair_label(pair: str) -> str:
    if pair == YOURS:
        return "yours (trained here)"
    return f"shipped, {pair}: plain and residual"


def choose_pair(device: str = "cpu") -> list[Net]:
    """The pair selector; the networks it names."""
    state = st.session_state
    own = state.get(_OWN)
    entry = state.get(entries.ENTRY)
    options = list(learned.PAIRS) + ([YOURS] if own else []) + \
        ([entries.OPTION] if entry else [])
    if state.pop(_SHOW_OWN, False) and own:  # just trained: look inside them
        state[PREFIX + "pair"] = YOURS
        state[TRAINED.view_key] = TrainedView.INSIDE.value  # view_choice's
    if state.pop(entries.SHOW, False) and entry:  # opened from a challenge's leaderboard
        state[PREFIX + "pair"] = entries.OPTION
        state[TRAINED.view_key] = TrainedView.INSIDE.value
    if state.get(PREFIX + "pair") not in options:  # the pair where shortcuts matter most
        state[PREFIX + "pair"] = learned.opening_pair()
    entry_label = entries.entry_label()  # read now: the label must not read the state later
    pair = st.selectbox("Networks", options, key=PREFIX + "pair",
                        format_func=lambda p: entry_label if p == entries.OPTION
                        else pair_label(p),
                        on_change=lambda: state.pop(PREFIX + "block", None),  # the last block
                        help="two stacks of the same depth trained the same way, one without "
                             "shortcuts (plain) and one with (residual)")
    if pair == YOURS and own:
        nets = list(own["nets"])
    elif pair == entries.OPTION:
        nets = [entry_net(device)] if _entry_opens(device) else \
            [shipped_net(name, device) for name in learned.PAIRS[learned.opening_pair()]]
    else:
        nets = [shipped_net(name, device) for name in learned.PAIRS[pair]]
    st.caption(accuracy_words(nets, learned.opening_pair()))
    return nets


def entry_net(device: str = "cpu") -> Net:
    """The challenge entry this session opened (entries.entry_run_of), as a Net."""
    run, words, key = entries.entry_run_of()
    title = f"{entries.entry_label().removeprefix('design challenge: ')} ({words})"
    return Net(title, cache_key(key, device), run, cache.entry_model(key, run, device))



def _entry_opens(device: str) -> bool:
    """Whether the opened entry loads; if not, its sentence (the shipped pair instead)."""
    try:
        entries.entry_run_of()
    except InputError as e:  # dropped, expired, the store unavailable
        show_error(e)
        return False
    return True


def accuracy_words(nets: list[Net], telling: str) -> str:
    """The pair's test accuracies in a sentence; where they are equal, that the shortcuts
    do not change the accuracy here, and which shipped pair (`telling`, see
    learned.opening_pair) shows a difference."""
    scores = [f"{net.run.test_accuracy:.2%}" for net in nets]
    if len(nets) == 2 and scores[0] == scores[1]:
        plain, residual = (record_accuracy(name) for name in learned.PAIRS[telling])
        other = (f" The {telling} pair does: {plain:.2%} plain, {residual:.2%} residual."
                 if plain != residual else "")
        return (f"Both score {scores[0]} on the test split: here the shortcuts do not change "
                f"the accuracy (the two may still miss different digits).{other}")
    return "Test accuracy: " + " · ".join(f"{net.title}: {score}"
                                          for net, score in zip(nets, scores))


def record_accuracy(name: str) -> float:
    """A shipped stack's test accuracy, from its record."""
    return float(learned.shipped()[name]["test_accuracy"])


def shipped_net(name: str, device: str = "cpu") -> Net:
    run, model = cache.shipped_run(name, device)
    kind = "residual" if run.config.spec.values.get("skip", True) else "plain"
    return Net(f"{kind}, depth {run.config.spec.depth}", cache_key(name, device), run, model)


def cache_key(name: str, device: str) -> str:
    """A network's name in the caches: its results on another device are its own."""
    return name if device == "cpu" else f"{name}@{device}"


def choose_source(test: DataSet) -> tuple[str, int]:
    """Draw or a test image, and which (drawn above the live part: changing them is rare
    and reruns the page, while a stroke reruns only the live part)."""
    ctl = controls.of(TRAINED)
    controls.start(TRAINED, None)
    c = st.columns([1.2, 2])
    source = controls.draw(ctl["source"], c[0].radio, horizontal=True,
                           format_func=ctl["source"].text)
    number = controls.draw(ctl["image"], c[1].number_input,
                           f"{ctl['image'].label} (1-{len(test.y_test)})", high=len(test.y_test),
                           disabled=source == "draw",
                           help="the test images were never seen in training")
    if source == "draw":
        st.caption("Write one digit large, filling most of the box; the bin icon (reset "
                   "canvas) clears it.")
        st.space("small")  # the canvas's toolbar floats above its top edge
    return source, number


def read_input(test: DataSet, source: str, number: int) -> tuple[np.ndarray, str]:
    """The canvas (when drawing) or the test image: the 8×8 counts the networks read and
    what they are."""
    index = number - 1
    fallback = (test.raw_test[index], f"test image #{number}, a "
                f"{int(test.y_test[index])} written by hand")
    if source != "draw":
        return fallback
    try:
        pixels = drawn_pixels()
        if pixels is None or is_blank(pixels):
            st.caption(f"Nothing drawn yet: the networks look at {fallback[1]}.")
            return fallback
        return digit_counts(pixels), DRAWING
    except InputError as e:
        show_error(e)
        st.caption(f"Meanwhile the networks look at {fallback[1]}.")
        return fallback


def showing_words(what: str, number: int) -> str:
    """What the prediction beside it is of: the drawing, or the test image (also while the
    canvas is empty)."""
    return "Showing your drawing" if what == DRAWING else f"Showing test image {number}"


def drawn_pixels() -> np.ndarray | None:
    """The canvas, and what its browser side sent, checked before it is decoded
    (handwriting.canvas_pixels); ImageError with a sentence when it is not a picture."""
    from streamlit_drawable_canvas import st_canvas  # registers its component on first use

    key = PREFIX + "canvas"
    try:
        st_canvas(stroke_width=STROKE, stroke_color="#000000", background_color="#ffffff",
                  height=CANVAS_SIDE, width=CANVAS_SIDE, drawing_mode="freedraw", key=key,
                  return_image_data=True)
    except (AttributeError, KeyError, TypeError):
        pass  # the library's own reading of a message of the wrong shape: checked below
    return canvas_pixels(st.session_state.get(key))


def counts_key(counts: np.ndarray) -> bytes:
    return np.ascontiguousarray(counts, dtype=np.float32).tobytes()


def show_filters(nets: list[Net]) -> None:
    st.markdown("The first layer's filters (the stem convolution reading the image) after "
                "training, as they started (the same seed draws the same random start), and "
                "what training changed. Orange weights add the pixel under them, purple ones "
                "subtract it; each filter has its own scale.")
    for col, net in zip(st.columns(len(nets)), nets):
        end, start = learned.first_filters(net.run, net.model)
        change = end - start
        moved = float(np.linalg.norm(change) / (np.linalg.norm(start) or 1))
        k = end.shape[-1]
        with col:
            st.markdown(f"**{safe_text(net.title)}**")
            for filters, caption in ((end, f"learned: {len(end)} filters of {k}×{k}"),
                                     (start, "at initialisation (random)"),
                                     (change, f"learned − initial: training moved them by "
                                              f"{moved:.0%} of their starting size")):
                picture(st, img.tiles(filters, size=36, cols=8, signed=True, gap=6),
                         width="stretch", caption=caption)


def show_channels(nets: list[Net]) -> None:
    depth = min(len(net.model.stack) for net in nets)  # a stack's blocks; a text's layers
    c = st.columns(2)
    block = c[0].number_input("Block", 1, depth, depth, key=PREFIX + "block") if depth > 1 \
        else 1
    channel = c[1].number_input("Channel", 1, None, 1, key=PREFIX + "channel",
                                help="a channel of that block's output")
    st.markdown(f"The {learned.TOP} test images that excite channel {channel} of block "
                f"{block} most (its mean activation over the image).")
    for col, net in zip(st.columns(len(nets)), nets):
        means = cache.trained_channel_means(net.key, net.model, net.data)[block - 1]
        with col:
            st.markdown(f"**{safe_text(net.title)}**")
            try:
                top = learned.top_images(means, channel - 1)
            except InputError as e:
                show_error(e)
                continue
            raw, labels = net.data.raw_test, net.data.y_test.numpy()
            picture(st, img.mosaic([img.ink(raw[i], 8, top=16) for i in top], cols=3, gap=8),
                     width=216, caption="row by row: " + ", ".join(
                         f"test image #{i + 1} (a {labels[i]})" for i in top))


def show_test_split(nets: list[Net]) -> None:
    from cnnviz.render import trained_charts as charts

    for col, net in zip(st.columns(len(nets)), nets):
        results = cache.trained_test_results(net.key, net.model, net.data)
        run = net.run
        with col:
            st.markdown(f"**{safe_text(net.title)}**")
            m = st.columns(2)
            m[0].metric("Test accuracy", f"{results.accuracy:.2%}",
                        help=f"The share of the test images, never seen in training, that "
                             f"the network classifies right: "
                             f"{int(round(results.accuracy * len(results.labels)))} of "
                             f"{len(results.labels)}. {link('accuracy')} {link('test-split')}")
            m[1].metric("Training accuracy", f"{run.train_accuracy:.2%}",
                        help="The share of its 1,347 training images that the final network "
                             "classifies right. " + link("accuracy"))
            st.plotly_chart(charts.fig_confusion(results.confusion), width="stretch",
                            key=f"{PREFIX}cm_{net.key}")
            wrong = results.mistakes
            shown = wrong[:40]
            st.markdown(f"{len(wrong)} misclassified test images"
                        + (f" (the first {len(shown)})" if len(shown) < len(wrong) else "")
                        + ":")
            if len(shown):
                picture(st, img.mosaic([img.ink(net.data.raw_test[i], 6, top=16) for i in shown],
                                    cols=8, gap=8), width="stretch",
                         caption="row by row, true → predicted: " + ", ".join(
                             f"#{i + 1} {results.labels[i]}→{results.predictions[i]}"
                             for i in shown))
            st.plotly_chart(charts.fig_curves(run), width="stretch",
                            key=f"{PREFIX}curves_{net.key}")
            st.plotly_chart(charts.fig_grad_norms(run), width="stretch",
                            key=f"{PREFIX}grads_{net.key}")
            st.caption(f"Trained with {run.config.describe()}.")


def train_panel(spec: StackSpec | None, device: str) -> None:
    """Train the picker's stack on the digits (plain and residual when it has a shortcut)."""
    st.markdown("The block, depth and channels chosen in the sidebar, trained here on the "
                "digits' 1,347 training images: a stem convolution, your stack, global "
                "average pooling and a linear layer, with AdamW (Loshchilov & Hutter 2019) and a "
                "cosine schedule (Loshchilov & Hutter 2017).")
    st.page_link(str(startup.page_path(CHALLENGE)), icon="🏁",
                 label="A design challenge for the class: a budget, everyone's design "
                       "trained by the server, a live leaderboard")
    if spec is None:
        st.info("Fix the picker in the sidebar first: its message says what to change.")
        return
    c = st.columns(3)
    size = c[0].selectbox("Image size", (8, 16, 32), index=1, key=PREFIX + "size",
                          help="the 8×8 digits enlarged bilinearly to this side")
    epochs = c[1].number_input("Epochs", 1, 30, 10, key=PREFIX + "epochs")
    twins = [("plain", spec.replace(skip=False)), ("residual", spec.replace(skip=True))] \
        if spec.entry.has_skip else [(spec.block, spec)]
    try:
        configs = [(title, TrainConfig.create(s, size=size, epochs=epochs))
                   for title, s in twins]
        for _, config in configs:
            check_training(config)
    except InputError as e:
        show_error(e)
        return
    names = " and ".join(f"{t} {s.entry.title} ×{s.depth}" for t, s in twins)
    c[2].caption(f"{names}, {spec.in_channels} channels; {configs[0][1].describe()}.")
    stopped = st.session_state.pop(_STOPPED, None)
    if stopped:
        st.info(stopped, icon="⏹️")
    if st.button("Train", key=PREFIX + "train", type="primary"):
        _train(configs, device)
    own = st.session_state.get(_OWN)
    if own:
        _show_own(own["nets"])


def _show_own(nets: list[Net]) -> None:
    from cnnviz.render import trained_charts as charts

    st.markdown("**Your last training** (choose *yours* under *Networks*, then *Look inside*, "
                "to see what they answer):")
    for col, net in zip(st.columns(len(nets)), nets):
        with col:
            st.metric(f"{net.title}: test accuracy", f"{net.run.test_accuracy:.2%}",
                      help=f"The share of the test images it classifies right, after "
                           f"{len(net.run.epochs)} epochs ({net.run.seconds:.1f} s). "
                           f"{link('accuracy')}")
            st.plotly_chart(charts.fig_curves(net.run), width="stretch",
                            key=f"{PREFIX}own_{net.key}")


def _progress(bar: DeltaGenerator, part: int, parts: int, title: str
              ) -> Callable[[int, int], None]:
    """The bar's update for one of `parts` trainings, drawn at most every 0.2 s: each draw
    is also where a Stop, or a closed tab (Streamlit asks a disconnected session's run to
    stop), ends the run: Streamlit raises there."""
    last = [0.0]

    def update(step: int, steps: int) -> None:
        now = time.monotonic()
        if now - last[0] > 0.2 or step == steps:
            last[0] = now
            bar.progress((part + step / steps) / parts, f"Training {title}: step {step} of "
                                                        f"{steps}")
    return update


def _train(configs: list[tuple[str, TrainConfig]], device: str) -> None:
    from cnnviz.render import trained_charts as charts

    state = st.session_state
    st.button("Stop", key=PREFIX + "stop",
              help="stops the training; so does changing anything on this page")
    bar, note, chart = st.progress(0.0, "Waiting for a training slot…"), st.empty(), st.empty()

    def queued(place: int) -> None:
        note.info(f"Other students are training: you are number {place} in the queue.",
                  icon="⏳")

    run_id, nets = uuid.uuid4().hex[:12], []
    state[_STOPPED] = "Training stopped before it finished; nothing was kept."
    with hold_slot(queued, TRAINING_SLOTS):
        note.empty()
        for i, (title, config) in enumerate(configs):
            for run in train_epochs(config, device, _progress(bar, i, len(configs), title)):
                e = run.epochs[-1]
                note.caption(f"{title}: epoch {e.epoch} of {config.epochs}, test accuracy "
                             f"{e.test_accuracy:.1%}")
                chart.plotly_chart(charts.fig_curves(run), width="stretch")
            name = f"yours: {title} {config.spec.entry.title} ×{config.spec.depth}"
            nets.append(Net(name, f"{run_id}/{title}", run, run.model(device)))
    del state[_STOPPED]
    state[_OWN] = {"id": run_id, "nets": nets}
    state[_SHOW_OWN] = True
    seconds = sum(net.run.seconds for net in nets)
    st.toast(f"Trained in {seconds:.0f} s: showing your networks.", icon="✅")
    st.rerun()

"""What a room question reads, in words: a student's phone shows it under the question.

The step's settings as a short list of (label, value) pairs: the picker's stack where the
question reads it, and the page's controls the step sets. Nothing here computes an
answer, and a setting that is the answer itself is left out. Plain text: the page
escapes it.
"""
from __future__ import annotations

from collections.abc import Collection
from typing import Any

from cnnviz.core.blocks.registry import option_label
from cnnviz.core.network import PRESETS
from cnnviz.core.spec import StackSpec
from cnnviz.lessons.answers import QUANTITIES
from cnnviz.lessons.grading import number_text
from cnnviz.lessons.model import Step, StepState
from cnnviz.pages import COST_LAB, ERF_IMAGE_SIZE, PAGES, PLAIN_VS_RESIDUAL, RECEPTIVE_FIELD
from cnnviz.topics import features, gradflow

# A page control's label and the words for its values are the control's own (cnnviz.pages);
# a block's own parameters and values use the registry's labels (Param.label, option_label),
# as the picker does.
# controls that move the page around rather than set what a question reads
_NOT_FACTS = {"view", "ws_seed"}
# quantities that read the picker's stack as well as their page's controls
_STACK_TOO = {"gradient_orders", "signal_growth_orders", "erf_share50"}
_NO_STATE = {"shortcut_pixels"}  # a fixed 8×8 experiment: the step's text says it all
# settings at a value that changes nothing, left out to keep the list short
_QUIET = {"dilation": 1, "groups": 1, "output_padding": 0, "se_ratio": 0.0,
          "zero_init_last": False}
# what a list must leave out because it would be the answer itself
_IS_ANSWER = {"output_channels": {"out_channels"}}


def value_text(name: str, value: Any) -> str:
    """A setting's value in words (plain text: the caller escapes it); a block parameter's
    by the registry's option labels."""
    if isinstance(value, (bool, str)) and not (name == "padding" and value == "same"):
        return option_label(value)
    if name in ("kernel_size", "mask_kernel", "cb_kernel", "b3_kernel") and \
            isinstance(value, int):
        return f"{value}×{value}"
    if name == "padding" and value == "same":
        return "same (keeps the size at stride 1)"
    if isinstance(value, float):
        return number_text(value)
    return str(value)


def stack_facts(spec: StackSpec, leave_out: Collection[str] = (), image: str = ""
                ) -> list[tuple[str, str]]:
    """The stack as the sidebar's picker sets it: block, depth, input and every setting
    of the block, in words."""
    c, h, w = spec.in_channels, spec.height, spec.width
    out = [("Block", f"{spec.entry.family} · {spec.entry.title}")]
    if spec.depth > 1:
        out.append(("Depth", f"{spec.depth} blocks, one after another"))
    out.append(("Input", (f"an RGB image ({image}), " if image else "")
                + f"{c}×{h}×{w} (channels × height × width)"))
    first_only = dict(spec.entry.first_only)
    for name, value in spec.params:
        if name in ("in_channels", *leave_out) or (name in _QUIET and value == _QUIET[name]
                                                    and type(value) is type(_QUIET[name])):
            continue
        text = value_text(name, value)
        if spec.depth > 1 and name in first_only and value != first_only[name]:
            text += f" (the first block; the others {value_text(name, first_only[name])})"
        label = spec.entry.param(name).label
        out.append((label[:1].upper() + label[1:], text))
    return out


def control_facts(state: StepState, names: list[str]) -> list[tuple[str, str]]:
    """The page's controls `names` with the step's values, in words."""
    page = PAGES[state.page]
    given = dict(state.controls)
    values = {**page.starting_values(state.spec, given), **given}
    controls = {c.name: c for c in page.own_controls}
    controls.update(page.all_controls(values))
    out = []
    for name in names:
        if name not in values or name in _NOT_FACTS:
            continue
        value = values[name]
        if name == "net" and value in PRESETS:
            text = f"{PRESETS[value].title} ({PRESETS[value].year}), on a 3×224×224 image"
        elif name == "pair":
            text = f"{value}: a plain stack and a residual one, trained on digits"
        else:
            words = controls[name].text(value) if name in controls else None
            text = words if words is not None else value_text(name, value)
        label = controls[name].label if name in controls else name.replace("_", " ")
        out.append((label[:1].upper() + label[1:], text))
    return out


def question_facts(step: Step) -> list[tuple[str, str]]:
    """What the step's question reads, as (label, value) pairs in words: the picker's stack
    where the question reads it, and the page's controls the step sets (all the cost
    lab's numbers, since its comparison reads them all). Never the answer: nothing is
    computed, and a setting that is the answer itself is left out."""
    state, question = step.state, step.question
    name = question.compute if question is not None else ""
    if name in _NO_STATE:
        return []
    quantity = QUANTITIES.get(name)
    reads_stack = quantity is not None and (not quantity.pages or name in _STACK_TOO)
    page = PAGES[state.page]
    given = [n for n, _ in state.controls]
    if state.page == COST_LAB.name:
        given = list(page.all_controls(dict(state.controls)))
    out: list[tuple[str, str]] = []
    if reads_stack and state.spec is not None:
        spec, image = state.spec, ""
        # the initialization matters only to what runs the random weights
        leave_out = set(_IS_ANSWER.get(name, ())) | (set() if name in _STACK_TOO
                                                      else {"init"})
        if state.page == PLAIN_VS_RESIDUAL.name:  # the stack the page probes, with its toggles
            values = {**page.starting_values(spec, dict(state.controls)),
                      **dict(state.controls)}
            spec = gradflow.probe_for(spec, values)
            given = ["loss"]
            out.append(("Compared", "the stack with its shortcuts and without (plain)"))
        elif state.page == RECEPTIVE_FIELD.name:  # the page draws the field on an RGB image
            spec = features.image_spec(spec, ERF_IMAGE_SIZE, ERF_IMAGE_SIZE)
            image = str(state.resolved().get("image", ""))
            given = [n for n in given if n != "image"]
        out = stack_facts(spec, leave_out, image) + out
    return out + control_facts(state, given)


# figure key -> the figure a room's students see (one per PageSpec.question_figures)

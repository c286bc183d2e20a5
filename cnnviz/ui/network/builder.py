"""The Network page's state: the network in the URL, the sidebar's preset and input, and
the stage builder.

The URL holds the whole network, validated on every run::

    net=<preset>           an unchanged preset (cnnviz.core.network.PRESETS)
    arch=<network text>    any other network, in NetworkSpec's text form
    input=C,H,W            when not 3,224,224
    classes=K              when not 1000

A URL value that does not validate is replaced (the preset ResNet-18, or the default
input or classes) with an escaped warning. Every change the page offers is validated
(the spec, the budget and the predicted walk) before it reaches the URL, so a change that
cannot run leaves the network as it was and says why.
"""
from __future__ import annotations

import functools
import zlib
from collections.abc import Mapping
from typing import Any

import streamlit as st

from cnnviz.core.blocks import REGISTRY
from cnnviz.core.blocks.registry import value_text
from cnnviz.core.checks import FieldError
from cnnviz.core.errors import InputError, NetworkTextError
from cnnviz.core.fields import CHANNELS, DEPTH, HEIGHT, IMAGE_CHANNELS, WIDTH
from cnnviz.core.names import part_words
from cnnviz.core.network import PRESETS, NetworkSpec, Preset, parse_input
from cnnviz.core.network.layers import LAYERS
from cnnviz.core.network.spec import (
    MAX_CLASSES,
    MAX_PARTS,
    Part,
    Stage,
    make_stage,
    parse_part,
    parse_stages,
)
from cnnviz.pages import NETWORK
from cnnviz.ui.frame import cache, url
from cnnviz.ui.frame.shell import current_device, require_shell
from cnnviz.ui.frame.text import clause, safe_text

NET = NETWORK.control("net")  # a preset, by name, in the URL
DEFAULT = NET.default
DEFAULT_INPUT = "3,224,224"
DEFAULT_CLASSES = 1000
CUSTOM = "custom"
NONE = "—"  # the kind of a part row that is left out (or not added)
OURS = NETWORK.url_names
_SPEC = "net__spec"  # the network of this session's last run (kept across pages)
_MESSAGE = "net__message"  # why the last change was refused, shown once
_WARNINGS = "net__url_warnings"  # (warnings, the spec they led to)
BUILDER = "net_build"  # whether the builder's expander is open


# --- the URL ----------------------------------------------------------------------------

@functools.cache
def _preset_texts() -> dict[str, str]:
    """Each preset's canonical text -> its name (a custom text equal to one is that one)."""
    return {NetworkSpec.create(p.text).text(): name for name, p in PRESETS.items()}


def preset_of(spec: NetworkSpec) -> Preset | None:
    return PRESETS.get(spec.name)


def _named(spec: NetworkSpec) -> NetworkSpec:
    """`spec` named after the preset its stages equal, or custom."""
    name = _preset_texts().get(spec.text(), CUSTOM)
    return spec if spec.name == name else NetworkSpec.create(
        spec.stages, name, spec.channels, spec.height, spec.width, spec.batch, spec.classes)


def read_network(q: Mapping[str, str]) -> tuple[NetworkSpec, list[str]]:
    """The network a link's query parameters name, and a warning for each value that had to
    be replaced (an unusable value falls back to ResNet-18's)."""
    warnings: list[str] = []
    stages: Any = PRESETS[DEFAULT].text
    if "arch" in q:
        try:
            stages = parse_stages(q["arch"])
        except InputError as e:
            warnings.append(f"URL value arch={safe_text(q['arch'], quoted=True)} is not a network "
                            f"({clause(e)}); showing ResNet-18.")
    elif NET.key in q and q[NET.key] in PRESETS:
        stages = PRESETS[q[NET.key]].text
    elif NET.key in q:
        warnings.append(f"Unknown network {safe_text(q[NET.key], quoted=True)} in the URL; showing "
                        f"ResNet-18. The presets: {', '.join(PRESETS)}.")
    values: dict[str, Any] = {"classes": q.get("classes", DEFAULT_CLASSES)}
    try:
        values.update(zip(("channels", "height", "width"), parse_input(q.get("input",
                                                                             DEFAULT_INPUT))))
    except InputError as e:
        warnings.append(url.ignored("input", q["input"], e, DEFAULT_INPUT))
    # the values as given; then the default classes, the default stages, or both, each
    # replaced once, whichever the error names first (a URL may have both wrong)
    replaced: set[str] = set()
    for _ in range(3):
        try:
            return _named(NetworkSpec.create(stages, **values)), warnings
        except InputError as e:
            if isinstance(e, FieldError) and e.field == "classes" and "classes" not in replaced:
                warnings.append(url.ignored("classes", values["classes"], e,
                                            DEFAULT_CLASSES))
                values["classes"] = DEFAULT_CLASSES
                replaced.add("classes")
            elif "stages" not in replaced:
                warnings.append(f"The network in the URL cannot be built ({clause(e)}); "
                                f"showing ResNet-18.")
                stages = PRESETS[DEFAULT].text
                replaced.add("stages")
    raise AssertionError("the default network does not validate")  # pragma: no cover


def network_from_query(q: Mapping[str, str]) -> NetworkSpec:
    """The network a link's query names, exactly: NetworkTextError (its first warning) for any
    value that read_network would have to replace."""
    spec, warnings = read_network(q)
    if warnings:
        raise NetworkTextError(warnings[0])
    return spec


def url_values(spec: NetworkSpec) -> dict[str, str]:
    """The query parameters of a network: a link to it."""
    out = {NET.key: spec.name} if spec.name in PRESETS else {"arch": spec.text()}
    if (text := f"{spec.channels},{spec.height},{spec.width}") != DEFAULT_INPUT:
        out["input"] = text
    if spec.classes != DEFAULT_CLASSES:
        out["classes"] = str(spec.classes)
    return out


def _write_url(spec: NetworkSpec) -> None:
    url.write(url_values(spec), OURS.__contains__)


def current_network() -> NetworkSpec:
    """The network of this run: from the URL, or (a URL without one, as after moving between
    pages) the session's last; the URL is then rewritten in its canonical form."""
    require_shell()
    state = st.session_state
    if _SPEC in state and not any(name in st.query_params for name in OURS):
        spec, warnings = state[_SPEC], list[str]()
    else:
        spec, warnings = read_network(st.query_params)
    state[_SPEC] = spec
    _write_url(spec)
    url.show_warnings(_WARNINGS, warnings, spec)  # until the learner changes the network
    message = state.pop(_MESSAGE, None)  # why the last change was refused, once
    if message:
        st.error(f"That change was not made: {safe_text(message, limit=600)}", icon="🚫")
    return spec


def _change(spec: NetworkSpec, **changes: Any) -> bool:
    """Make `spec` with `changes` the network if it can run (its predicted report: the spec,
    the budget and the walk); else keep the network and say why."""
    try:
        new = _named(spec.replace(**changes))
        cache.network_predicted(new, current_device())
    except InputError as e:
        st.session_state[_MESSAGE] = str(e)
        return False
    st.session_state[_SPEC] = new
    _write_url(new)
    return True


# --- the sidebar ------------------------------------------------------------------------

def _choose_preset(spec: NetworkSpec) -> None:
    name = st.session_state["net_preset"]
    if name in PRESETS:
        _change(spec, stages=parse_stages(PRESETS[name].text), name=name)
    else:  # "your own network": start from this one, with the builder open
        st.session_state[BUILDER] = True
        st.toast("Change any stage in the builder below: the network becomes your own.",
                 icon="🛠️")


def _change_input(spec: NetworkSpec) -> None:
    s = st.session_state
    _change(spec, channels=s["net_channels"], height=s["net_height"], width=s["net_width"],
            classes=s["net_classes"])


def sidebar(spec: NetworkSpec) -> None:
    """The network's preset, input size and classes."""
    state = st.session_state
    state["net_preset"] = spec.name if spec.name in PRESETS else CUSTOM
    for key, value in (("net_channels", spec.channels), ("net_height", spec.height),
                       ("net_width", spec.width), ("net_classes", spec.classes)):
        state[key] = value
    with st.sidebar:
        st.selectbox("Network", [*PRESETS, CUSTOM], key="net_preset", args=(spec,),
                     on_change=_choose_preset,
                     format_func=lambda n: f"{PRESETS[n].title} ({PRESETS[n].year})"
                     if n in PRESETS else "Your own network",
                     help="a classic network, or your own (change its stages on the page)")
        st.caption("Input (C × H × W) and classes")
        cols = st.columns(3)
        for col, key, label, field in ((cols[0], "net_channels", "C", IMAGE_CHANNELS),
                                       (cols[1], "net_height", "H", HEIGHT),
                                       (cols[2], "net_width", "W", WIDTH)):
            col.number_input(label, field.low, field.high, step=1, key=key,
                             on_change=_change_input, args=(spec,))
        st.number_input("Classes", 1, MAX_CLASSES, step=1, key="net_classes",
                        on_change=_change_input, args=(spec,),
                        help="outputs of the last linear layer")


# --- the stage builder --------------------------------------------------------------------

def _stages_with(spec: NetworkSpec, i: int, new: list[Stage]) -> tuple[Stage, ...]:
    """The stages with stage i replaced by `new` (nothing: removed)."""
    return (*spec.stages[:i], *new, *spec.stages[i + 1:])


def _move(spec: NetworkSpec, i: int, by: int) -> None:
    stages = list(spec.stages)
    stages[i], stages[i + by] = stages[i + by], stages[i]
    _change(spec, stages=tuple(stages))


def _remove(spec: NetworkSpec, i: int) -> None:
    if _change(spec, stages=_stages_with(spec, i, [])):
        st.session_state["net_stage"] = spec.stages[max(0, i - 1)].name


def _add(spec: NetworkSpec, i: int, shape: tuple[int, ...]) -> None:
    """A stage after stage i that keeps the shape there: a residual block on a feature map,
    a linear layer on a vector."""
    names = {s.name for s in spec.stages}
    name = next(f"new{n}" for n in range(1, len(names) + 2) if f"new{n}" not in names)
    part = (f"resnet_basic:out_channels={shape[0]}" if len(shape) == 3
            else f"linear:out_features={shape[0]}")
    stage = make_stage(name, [parse_part(part)])
    if _change(spec, stages=_stages_with(spec, i, [spec.stages[i], stage])):
        st.session_state["net_stage"] = name


def _part_text(kind: str, depth: int, width: int | None, stride: int | None,
               other: str) -> str:
    args = [a for a in (other.strip(), width and f"out_channels={width}",
                        stride and f"stride={stride}") if a]
    return f"{kind}*{depth}" + (":" + ",".join(args) if args else "")


def _edit(spec: NetworkSpec, i: int, key: str) -> None:
    """Apply the edit form of stage i (its name and one row per part)."""
    s = st.session_state
    parts = []
    for j in range(MAX_PARTS):
        kind = s.get(f"{key}_{j}_kind", NONE)
        if kind == NONE:
            continue
        text = _part_text(kind, s[f"{key}_{j}_depth"], s[f"{key}_{j}_width"],
                          s[f"{key}_{j}_stride"], s[f"{key}_{j}_other"])
        try:
            parts.append(parse_part(text))
        except InputError as e:
            s[_MESSAGE] = f"Part {j + 1} of the stage: {e}"
            return
    try:
        stage = make_stage(s[f"{key}_name"], parts)
    except InputError as e:
        s[_MESSAGE] = str(e)
        return
    if _change(spec, stages=_stages_with(spec, i, [stage])):
        s["net_stage"] = stage.name


def _apply_text(spec: NetworkSpec, key: str) -> None:
    try:
        stages = parse_stages(st.session_state[key])
    except InputError as e:
        st.session_state[_MESSAGE] = str(e)
        return
    _change(spec, stages=stages)


KINDS = [NONE, *sorted(REGISTRY), *LAYERS]


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _part_row(key: str, part: Part | None, labels: bool) -> None:
    """One part's widgets: kind, depth, width, first stride, the other arguments (labelled
    on the first row only)."""
    values = dict(part.args) if part else {}
    width, stride = values.pop("out_channels", None), values.pop("stride", None)
    shown: Any = "visible" if labels else "collapsed"
    cols = st.columns([3, 1, 1.3, 1, 4])
    cols[0].selectbox("kind", KINDS, index=KINDS.index(part.kind) if part else 0,
                      key=f"{key}_kind", label_visibility=shown,
                      format_func=lambda k: k if k == NONE else part_words(k),
                      help=f"a block of the registry or a layer; {NONE} leaves the row out")
    cols[1].number_input("depth", DEPTH.low, DEPTH.high, part.depth if part else 1,
                         key=f"{key}_depth", label_visibility=shown,
                         help="copies of a block (a layer is one)")
    cols[2].number_input("width", CHANNELS.low, CHANNELS.high, width, key=f"{key}_width",
                         label_visibility=shown, help="output channels; empty: the kind's default")
    cols[3].number_input("stride", 1, 8, stride, key=f"{key}_stride", label_visibility=shown,
                         help="the first block's stride; empty: the kind's default")
    other = ",".join(f"{k}={value_text(v)}" for k, v in values.items())
    cols[4].text_input("other arguments", other, key=f"{key}_other", label_visibility=shown,
                       help="name=value, separated by commas")


def builder_panel(spec: NetworkSpec, shapes: list[tuple[int, ...]]) -> None:
    """The builder in an expander that draws it only while open (open at first for a network
    of one's own): its dozens of widgets cost every preset's first view about 0.15 s."""
    # Its state, not `expanded=`, sets the first look: a changing default would make it a
    # new widget, which snaps shut when the learner's network becomes a preset again.
    st.session_state.setdefault(BUILDER, preset_of(spec) is None)
    panel = st.expander("🛠️ Build your own: add, remove, move and change stages",
                        key=BUILDER, on_change="rerun")
    if panel.open:
        with panel:
            builder(spec, shapes)


def builder(spec: NetworkSpec, shapes: list[tuple[int, ...]] | None = None) -> None:
    """Add, remove, move and change the stages; or edit the network's text.

    `shapes`: each stage's output (C, H, W) or (F,), where a new stage keeps it.
    """
    state, names = st.session_state, [s.name for s in spec.stages]
    if state.get("net_stage") not in names:
        state["net_stage"] = names[0]
    cols = st.columns([3, 1, 1, 1, 1], vertical_alignment="bottom")
    cols[0].selectbox("Stage", names, key="net_stage",
                      format_func=lambda n: _cut(spec.stages[names.index(n)].text(), 70))
    i = names.index(state["net_stage"])
    cols[1].button("⬆️ Up", key="net_up", on_click=_move, args=(spec, i, -1), disabled=i == 0,
                   width="stretch")
    cols[2].button("⬇️ Down", key="net_down", on_click=_move, args=(spec, i, 1),
                   disabled=i == len(names) - 1, width="stretch")
    cols[3].button("🗑️ Remove", key="net_remove", on_click=_remove, args=(spec, i),
                   disabled=len(names) == 1, width="stretch")
    cols[4].button("➕ Add after", key="net_add", on_click=_add, disabled=shapes is None,
                   args=(spec, i, shapes[i] if shapes else ()), width="stretch",
                   help="a new stage after this one that keeps its output's shape")
    stage = spec.stages[i]
    key = f"net_e{zlib.crc32(f'{i}:{stage.text()}'.encode())}"  # fresh widgets per stage
    with st.form(key=f"{key}_form", border=True):
        st.text_input("Stage name", stage.name, key=f"{key}_name")
        rows = [*stage.parts, None][:MAX_PARTS]
        for j, part in enumerate(rows):
            _part_row(f"{key}_{j}", part, labels=j == 0)
        st.form_submit_button("Apply to the stage", on_click=_edit, args=(spec, i, key),
                              type="primary")
    text_key = f"net_text{zlib.crc32(spec.text().encode())}"
    st.text_area("The whole network as text (the URL's arch=)", spec.text(), key=text_key,
                 height=120, help="stages separated by |, each name=part;part, a part "
                 "kind[*depth][:name=value,...]")
    st.button("Apply the text", key="net_apply_text", on_click=_apply_text,
              args=(spec, text_key))

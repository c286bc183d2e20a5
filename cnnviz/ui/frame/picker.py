"""The shared sidebar picker and its URL state.

The picker is generated from
the registry schema (`Param`), so a new block or parameter needs no UI code.

Widget keys (st.session_state) and URL query parameters, one pair per value::

    pick_block         block         registry name, e.g. resnet_basic
    pick_depth         depth         blocks in the stack
    pick_height        height        input H
    pick_width         width         input W
    pick_batch         batch
    pick_seed          seed          weight initialisation
    pick_device        device        cpu, cuda or mps (only those that exist)
    pick_p_<name>      p_<name>      every parameter of the chosen block, e.g.
                                     pick_p_in_channels, pick_p_kernel_size,
                                     pick_p_padding (an int or "same")
    pick_reset                       button: the chosen block's defaults

The URL holds only values that differ from the defaults, so a copied address
reproduces the configuration. A URL value that does not validate (unknown
block, out-of-range number, junk text, unknown parameter) is replaced by the
default with a visible warning. When changing the block in a test, run once
before setting that block's parameters: choosing a block resets them.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import streamlit as st
from streamlit.runtime.state import SessionStateProxy

from cnnviz.core.blocks import REGISTRY, Param, get_block
from cnnviz.core.blocks.registry import value_text
from cnnviz.core.budget import FORWARD_BACKWARD, check, stack_work
from cnnviz.core.errors import InputError, SpecError
from cnnviz.core.fields import BATCH, CHANNELS, DEPTH, HEIGHT, SEED, STACK_FIELDS, WIDTH, Field
from cnnviz.core.spec import StackSpec, available_devices
from cnnviz.ui.frame import url
from cnnviz.ui.frame.text import safe_text

DEFAULT_BLOCK = "resnet_basic"
PREFIX = "pick_"
# the stack's fields (cnnviz.core.fields: label, limits, help) by their query name
STACK_DEFAULTS = {field.name: field.default for field in STACK_FIELDS}
_SPEC = "pick__spec"          # the validated StackSpec of this run, or None
_ERROR = "pick__error"        # why the combination cannot run
_LOADED = "pick__url_loaded"  # the URL was read once for this session
_WARNINGS = "pick__url_warnings"
_UNSHOWN = "pick__url_unshown"  # warnings of a URL read on a run that did not draw the picker
# under every refusal (the message itself says what is wrong and what to change)
FIX_HINT = ("Change the values above as the message says, or press *Reset block parameters* "
            "for the block's defaults.")


def _key(query_name: str) -> str:
    return PREFIX + query_name


def _pkey(param: str) -> str:
    return _key("p_" + param)


def block_label(name: str) -> str:
    """A block as the picker shows it: its family and its title ("ResNet · basic block")."""
    return f"{REGISTRY[name].family} · {REGISTRY[name].title}"


# families in teaching order; one missing here goes last
FAMILIES = ("Plain", "ResNet", "RegNet", "Inception", "DenseNet", "MobileNet", "EfficientNet",
            "ShuffleNet", "ConvNeXt", "ConvMixer", "Attention", "Upsampling", "Encoder-decoder",
            "Generative")


def _block_names() -> list[str]:
    """Registry names grouped by family."""
    def order(name: str) -> tuple:
        family = REGISTRY[name].family
        return (FAMILIES.index(family) if family in FAMILIES else len(FAMILIES), family, name)
    return sorted(REGISTRY, key=order)


# --- the URL --------------------------------------------------------------------

def stack_from_query(q: Mapping[str, str]) -> StackSpec:
    """The stack a link's query parameters name (url_values' inverse); SpecError with a
    sentence for anything that is not one."""
    unknown = [k for k in q if k not in ("block", *STACK_DEFAULTS) and not k.startswith("p_")]
    if unknown:
        raise SpecError(f"{safe_text(unknown[0], quoted=True)} is not a setting of a stack")
    return StackSpec.create(q.get("block", DEFAULT_BLOCK),
                            {k[2:]: v for k, v in q.items() if k.startswith("p_")},
                            **{name: q[name] for name in STACK_DEFAULTS if name in q})


def _read_url(state: SessionStateProxy) -> list[str]:
    """Validate the query parameters into widget state; one warning per bad value."""
    q, warnings = st.query_params, []
    block = q.get("block", DEFAULT_BLOCK)
    if block not in REGISTRY:
        warnings.append(f"Unknown block {safe_text(block, quoted=True)} in the URL; showing "
                        f"{block_label(DEFAULT_BLOCK)} instead.")
        block = DEFAULT_BLOCK
    state[_key("block")] = block
    for name, default in STACK_DEFAULTS.items():
        state[_key(name)] = default
        if name in q:
            try:
                state[_key(name)] = getattr(StackSpec.create(block, None, **{name: q[name]}), name)
            except InputError as e:
                warnings.append(url.ignored(name, q[name], e, default))
    entry = get_block(block)
    values = entry.defaults()
    for qname in q:
        if not qname.startswith("p_"):
            continue  # other pages may keep their own values in the URL
        name = qname[2:]
        try:
            param = entry.param(name)
        except KeyError:
            warnings.append(f"URL parameter {safe_text(qname)}={safe_text(q[qname], quoted=True)} "
                            f"ignored: the {block_label(block)} has no parameter "
                            f"{safe_text(name, quoted=True)}.")
            continue
        try:
            values[name] = param.parse(q[qname])
        except InputError as e:
            warnings.append(url.ignored(qname, q[qname], e, param.default))
    for name, value in values.items():
        state[_pkey(name)] = value
    devices = available_devices()
    device = q.get("device", "cpu")
    if device not in devices:
        warnings.append(f"Device {safe_text(device, quoted=True)} from the URL is not available "
                        f"here; using cpu.")
        device = "cpu"
    state[_key("device")] = device
    return warnings


def url_values(spec: StackSpec, device: str = "cpu") -> dict[str, str]:
    """The query parameters of a spec (those that differ from the defaults): a link to it."""
    out = {}
    if spec.block != DEFAULT_BLOCK:
        out["block"] = spec.block
    for name, default in STACK_DEFAULTS.items():
        if getattr(spec, name) != default:
            out[name] = str(getattr(spec, name))
    for name, value in spec.params:
        if value != spec.entry.param(name).default:
            out["p_" + name] = value_text(value)
    if device != "cpu":
        out["device"] = device
    return out


def load(spec: StackSpec, device: str | None = None) -> None:
    """Show `spec` (and `device`, else the current one) from the picker's next draw on.

    A widget already drawn in this run cannot be set, so the values go to the URL in the
    picker's own format and the picker reads them again, with its usual checks."""
    _write_url(url_values(spec, device or chosen_device()))
    st.session_state[_LOADED] = False


def chosen() -> tuple[StackSpec | None, str | None]:
    """The picker's validated spec of this run (None when it cannot run) and why not."""
    return st.session_state.get(_SPEC), st.session_state.get(_ERROR)


def keep() -> None:
    """Keep the picker's values through a run that does not draw it (a page with its own
    controls): Streamlit forgets a widget's value when a run does not draw the widget, but
    not a value written back to the session state. Reads the URL first on a session's
    first run, so a link's stack (and device) is the one kept."""
    state = st.session_state
    if not state.get(_LOADED):
        state[_UNSHOWN] = _read_url(state)
        state[_LOADED] = True
    for key in [k for k in state if _is_value(str(k))]:
        state[key] = state[key]


def _is_value(key: str) -> bool:
    """A widget key of the picker that holds a value (not a button, not internal state)."""
    return key.startswith(PREFIX) and not key.startswith(PREFIX + "_") and key != _key("reset")


def chosen_device() -> str:
    device = st.session_state.get(_key("device"), "cpu")
    return device if device in available_devices() else "cpu"


def _ours(name: str) -> bool:
    return name in ("block", "device") or name in STACK_DEFAULTS or name.startswith("p_")


def _write_url(wanted: dict[str, str]) -> None:
    url.write(wanted, _ours)


# --- the picker ----------------------------------------------------------------------

def _reset_params() -> None:
    """Give every parameter of the chosen block its default (on a block change or reset)."""
    state = st.session_state
    for key in [k for k in state if str(k).startswith(_key("p_"))]:
        del state[key]
    for name, value in get_block(state[_key("block")]).defaults().items():
        state[_pkey(name)] = value


def _param_widget(param: Param, label: str | None = None) -> None:
    key, label = _pkey(param.name), label or param.label
    if param.name == "padding":
        options: list[str | int] = ["same", *range(int(param.low or 0), int(param.high or 0) + 1)]
        st.selectbox(label, options, key=key, help=param.help + ' ("same" keeps H×W at '
                     'stride 1; it needs an odd kernel)')
    elif param.choices:
        st.selectbox(label, list(param.choices), key=key, help=param.help,
                     format_func=param.option_label)
    elif param.type is bool:
        st.toggle(label, key=key, help=param.help)
    elif param.type is int:
        st.number_input(label, min_value=int(param.low or 0), max_value=_int_or_none(param.high),
                        step=1,
                        key=key, help=param.help)
    elif param.type is float:
        st.number_input(label, min_value=float(param.low or 0.0),
                        max_value=None if param.high is None else float(param.high),
                        step=0.05, format="%.6g", key=key, help=param.help)
    else:
        st.text_input(label, key=key, help=param.help)


def _int_or_none(value: float | None) -> int | None:
    return None if value is None else int(value)


def _field_widget(field: Field) -> None:
    st.number_input(field.label, min_value=field.low, max_value=field.high, step=1,
                    key=_key(field.name), help=field.help)


def problem(spec: StackSpec) -> str | None:
    """Why this combination cannot run (the predicted walk on the meta device and the
    budget of a measured report), or None. The seed draws only weights, which neither
    counts: every seed of a stack shares one answer."""
    return _problem(replace(spec, seed=0))


# The spinner only on a miss: st.spinner around the call would start a thread every run.
@st.cache_data(max_entries=512, show_spinner="Checking the configuration…")
def _problem(spec: StackSpec) -> str | None:
    try:
        check(stack_work(spec, passes=FORWARD_BACKWARD))
    except InputError as e:
        return str(e)
    return None


def picker() -> StackSpec | None:
    """Draw the sidebar picker (app.py does, every run); return the validated spec, or
    None if the combination cannot run."""
    state = st.session_state
    warnings: list[str] = state.pop(_UNSHOWN, [])
    if not state.get(_LOADED):
        warnings = _read_url(state)
        state[_LOADED] = True
    if state.get(_key("block")) not in REGISTRY:
        state[_key("block")] = DEFAULT_BLOCK
    for name, default in STACK_DEFAULTS.items():
        state.setdefault(_key(name), default)
    if state.get(_key("device")) not in available_devices():
        state[_key("device")] = "cpu"
    entry = get_block(state[_key("block")])
    for p in entry.params:
        if _pkey(p.name) not in state:
            state[_pkey(p.name)] = p.default

    with st.sidebar:
        st.selectbox("Block", _block_names(), key=_key("block"), format_func=block_label,
                     on_change=_reset_params, help=entry.summary)
        st.caption(entry.summary)
        _field_widget(DEPTH)
        with st.expander("Input", expanded=True):
            _param_widget(entry.param(CHANNELS.name), CHANNELS.label)
            cols = st.columns(2)
            with cols[0]:
                _field_widget(HEIGHT)
            with cols[1]:
                _field_widget(WIDTH)
            _field_widget(BATCH)
        with st.expander("Block parameters", expanded=True):
            for p in entry.params:
                if p.name not in ("in_channels", "init"):
                    _param_widget(p)
        with st.expander("Initialisation and device", expanded=False):
            _param_widget(entry.param("init"))
            _field_widget(SEED)
            st.selectbox("Device", available_devices(), key=_key("device"),
                         help="where torch builds and measures the stack")
        st.button("Reset block parameters", key=_key("reset"), on_click=_reset_params,
                  help="the chosen block's defaults")

        spec, error = None, None
        try:
            spec = StackSpec.create(
                state[_key("block")], {p.name: state[_pkey(p.name)] for p in entry.params},
                **{name: state[_key(name)] for name in STACK_DEFAULTS})
        except InputError as e:
            error = str(e)
        if spec is not None:
            _write_url(url_values(spec, state[_key("device")]))
            error = problem(spec)
        if error:
            st.error(f"{safe_text(error, limit=600)}\n\n{FIX_HINT}", icon="🚫")
            spec = None
    url.show_warnings(_WARNINGS, warnings, spec)  # above the page, until a value changes
    state[_SPEC], state[_ERROR] = spec, error
    return spec


def show_overrides(picked: StackSpec, used: StackSpec) -> None:
    """Under the picker: the values a page runs with in place of the sidebar's (its own
    controls or its probe's size), so that the two never disagree in silence."""
    changes = [f"{f.label} {getattr(picked, f.name)} → {getattr(used, f.name)}"
               for f in STACK_FIELDS if getattr(picked, f.name) != getattr(used, f.name)]
    if used.block != picked.block:
        changes.insert(0, f"block {block_label(picked.block)} → {block_label(used.block)}")
    else:
        entry = used.entry
        changes += [f"{entry.param(k).label} {entry.param(k).option_label(picked.values[k])} "
                    f"→ {entry.param(k).option_label(v)}" for k, v in used.values.items()
                    if k in picked.values and picked.values[k] != v]
    if changes:
        st.sidebar.info(safe_text("This page runs with its own values: " + "; ".join(changes)
                                  + ".", limit=600), icon="ℹ️")

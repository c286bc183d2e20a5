"""Hostile values for every widget kind, as raw WidgetStates a client may send.

The protocol fuzzer (tests/app/test_fuzz.py) asks `battery` for a few cases per widget id it
finds in the deltas. A case is what a careless or malicious client can put on the wire and
Streamlit's frontend never would: the wrong value field for the widget (a string to a
slider, an int to a selectbox), an empty or cleared value, numbers at float64's edges,
option labels that are no option, strings with NUL, RTL, markup or a megabyte of text,
component JSON with fields missing, of the wrong type or huge, and images whose header
promises more than any limit. Each widget gets a few cases from its kind's pool, rotated by
a seeded generator so that across the widgets of a kind every case of the pool is sent.
"""
from __future__ import annotations

import base64
import io
import json
import random
import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from PIL import Image
from streamlit.proto.WidgetStates_pb2 import WidgetState
from support_protocol import Widget

MB = 10**6
# Streamlit refuses a client message over server.maxWidgetStateSize (25 MB): every case
# stays well under it, so the message itself is delivered and the app has to answer it.
MAX_CASE_BYTES = 10 * MB


@dataclass(frozen=True)
class Case:
    """One hostile value: what it is (for the report) and the state that carries it."""
    what: str
    state: WidgetState


def state(wid: str, field: str | None, value: Any = None) -> WidgetState:
    """A WidgetState for `wid` with `value` in `field` (None: a cleared value, no field)."""
    s = WidgetState(id=wid)
    if field is None:
        return s
    if field.endswith("_array_value"):
        getattr(s, field).data.extend(value)
    elif field == "string_trigger_value":
        s.string_trigger_value.data = value
    elif field == "file_uploader_state_value":
        s.file_uploader_state_value.uploaded_file_info.add(**value)
    elif field == "chat_input_value":
        s.chat_input_value.data = value
    elif field == "arrow_value":
        s.arrow_value.data = value
    else:
        setattr(s, field, value)
    return s


# --- the values ----------------------------------------------------------------------------

STRINGS: list[tuple[str, str]] = [
    ("empty string", ""),
    ("NUL bytes", "a\x00b\x00"),
    ("RTL override", "\u202egnp.exe\u202c \u0627\u0644\u0639\u0631\u0628\u064a\u0629"),
    ("astral and combining", "\U0001d54f\u0301\u0301\u0301 \U0001f600" * 3),
    ("script tag", "<script>alert(1)</script><img src=x onerror=alert(1)>"),
    ("markdown and LaTeX", "**b** [x](javascript:alert(1)) $\\frac{1}{0}$ :red[x] ```"),
    ("format strings", "{0} %s %n {{7*7}} ${7*7} \\N{BELL}"),
    ("numeric text", "1e308"),
    ("NaN text", "nan"),
    ("negative index text", "-1"),
    ("newlines and tabs", "\r\n\t=cmd|' /C calc'!A0\n" * 4),
    ("1 MB string", "A" * MB),
]

NUMBERS: list[tuple[str, float]] = [
    ("NaN", float("nan")), ("+inf", float("inf")), ("-inf", float("-inf")),
    ("1e308", 1e308), ("-1e308", -1e308), ("denormal 5e-324", 5e-324), ("-0.0", -0.0),
    ("2**53 + 1", float(2**53 + 1)),
]

INTS: list[tuple[str, int]] = [
    ("int64 max", 2**63 - 1), ("int64 min", -(2**63)), ("-1", -1), ("0", 0),
]


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height but carries almost no data (a bomb)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


def _png(width: int, height: int, mode: str = "RGBA") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, (width, height)).save(buf, "PNG")
    return buf.getvalue()


def data_url(data: bytes, media: str = "image/png") -> str:
    return f"data:{media};base64," + base64.b64encode(data).decode("ascii")


def _drawing(data: Any) -> str:
    return json.dumps({"drawing": {"data": data, "raw": {"objects": []}},
                       "backgroundFit": None})


# What a component may send as its JSON value: the drawing canvas's shape with every field
# wrong in turn, and shapes that are no component's.
COMPONENT_JSON: list[tuple[str, str]] = [
    ("not JSON", "{'drawing': "),
    ("JSON nested 50,000 deep", "[" * 50_000),
    ("a list", "[1, 2, 3]"),
    ("null", "null"),
    ("a string", json.dumps("<script>alert(1)</script>")),
    ("NaN and Infinity", '{"drawing": NaN, "backgroundFit": Infinity, "id": -Infinity}'),
    ("drawing of the wrong type", json.dumps({"drawing": 7, "backgroundFit": "x"})),
    ("data of the wrong type", json.dumps({"drawing": {"data": {"a": [1]}}})),
    ("fields missing", json.dumps({"drawing": {}})),
    ("not an image data URL", _drawing("data:text/html;base64,PGI+")),
    ("data URL not base64", _drawing("data:image/png;base64,!!!%%%")),
    ("PNG header 60000x60000", _drawing(data_url(png_header_only(60000, 60000)))),
    ("PNG 1x4000 strip", _drawing(data_url(_png(1, 4000)))),
    ("PNG 1x1 palette", _drawing(data_url(_png(1, 1, "P")))),
    ("PNG 16-bit grey", _drawing(data_url(_png(32, 32, "I;16")))),
    ("GIF as a PNG", _drawing(data_url(_png(8, 8), "image/gif"))),
    ("7 MB of base64", _drawing("data:image/png;base64," + "A" * 7 * MB)),
    ("9 MB of JSON", json.dumps({"drawing": {"data": "x", "pad": "A" * 9 * MB}})),
    ("many keys", json.dumps({f"k{i}": i for i in range(100_000)})),
    ("a student id of the wrong shape", json.dumps({"id": "../../" + "f" * 1000})),
]

TRIGGER_JSON: list[tuple[str, str]] = [
    ("trigger not JSON", "[{"),
    ("trigger of the wrong shape", json.dumps([1, "x", None, {"event": 5}])),
    ("trigger with a huge value", json.dumps([{"event": "change", "value": "A" * MB}])),
]

FAKE_FILE = {"name": "../../../etc/passwd\x00.png", "size": 2**62,
             "file_id": "no-such-file", "file_urls": None}


def _wrong_types(wid: str) -> list[Case]:
    """A value in every field of the wire, each wrong for most widgets."""
    s = "<script>alert(1)</script>"
    return [
        Case("cleared (no value field)", state(wid, None)),
        Case("string_value", state(wid, "string_value", s)),
        Case("int_value -1", state(wid, "int_value", -1)),
        Case("double_value NaN", state(wid, "double_value", float("nan"))),
        Case("bool_value", state(wid, "bool_value", True)),
        Case("trigger_value", state(wid, "trigger_value", True)),
        Case("double_array_value [inf]", state(wid, "double_array_value", [float("inf")])),
        Case("int_array_value", state(wid, "int_array_value", [-1, 2**63 - 1])),
        Case("string_array_value", state(wid, "string_array_value", [s, ""])),
        Case("json_value not JSON", state(wid, "json_value", "{'a': ")),
        Case("json_value a list", state(wid, "json_value", "[1, {}]")),
        Case("bytes_value", state(wid, "bytes_value", b"\xff\xfe\x00" * 100)),
        Case("arrow_value garbage", state(wid, "arrow_value", b"ARROW1\x00\xff" * 50)),
        Case("file_uploader_state_value", state(wid, "file_uploader_state_value", FAKE_FILE)),
        Case("string_trigger_value", state(wid, "string_trigger_value", s)),
        Case("chat_input_value", state(wid, "chat_input_value", s)),
        Case("json_trigger_value", state(wid, "json_trigger_value", "[{\"event\": 1}]")),
    ]


# --- per kind --------------------------------------------------------------------------------

def _strings(wid: str, field: str = "string_value") -> list[Case]:
    return [Case(what, state(wid, field, value)) for what, value in STRINGS]


def _options(w: Widget) -> list[str]:
    options = getattr(w.element, "options", None)
    if options is None:
        return list(w.labels)
    return [o if isinstance(o, str) else o.content for o in options]


def _choice(w: Widget) -> list[Case]:
    """A selectbox, radio or tab bar: labels that are no option, and index-like values."""
    wid, options = w.id, _options(w)
    near = [Case("an option with a trailing space", state(wid, "string_value",
                                                           options[0] + " ")),
            Case("an option in upper case", state(wid, "string_value", options[-1].upper()))
            ] if options else []
    return near + _strings(wid) + [
        Case("negative option index (int)", state(wid, "int_value", -1)),
        Case("option index past the end (int)", state(wid, "int_value", len(options) + 5)),
        Case("option index as a double", state(wid, "double_value", 0.0)),
    ]


def _number(w: Widget) -> list[Case]:
    e, wid = w.element, w.id
    cases = [Case(f"double {what}", state(wid, "double_value", x)) for what, x in NUMBERS]
    cases += [Case(f"int {what}", state(wid, "int_value", x)) for what, x in INTS]
    if e.has_max:
        cases.append(Case("max + 1", state(wid, "double_value", e.max + 1)))
    if e.has_min:
        cases.append(Case("min - 1", state(wid, "double_value", e.min - 1)))
    if e.data_type == 0:  # INT: a fraction
        cases.append(Case("a fraction for a whole number", state(wid, "double_value", 2.5)))
    return cases


def _slider(w: Widget) -> list[Case]:
    e, wid = w.element, w.id
    if e.options:  # select_slider: labels
        return [Case("no value", state(wid, "string_array_value", [])),
                Case("a label that is no option", state(wid, "string_array_value", ["<b>"])),
                Case("three values for one thumb",
                     state(wid, "string_array_value", list(e.options[:1]) * 3)),
                Case("1 MB label", state(wid, "string_array_value", ["A" * MB]))]
    arrays: list[tuple[str, list[float]]] = [
        ("no value", []), ("[NaN]", [float("nan")]), ("[+inf, -inf]", [float("inf"),
                                                                       float("-inf")]),
        ("[1e308]", [1e308]), ("[-1e308]", [-1e308]), ("[denormal]", [5e-324]),
        ("[max + 1]", [e.max + 1]), ("[min - 1]", [e.min - 1]),
        ("100,000 values", [float(e.min)] * 100_000), ("[2.5] (a fraction)", [2.5]),
    ]
    return [Case(what, state(wid, "double_array_value", a)) for what, a in arrays]


def _array(w: Widget) -> list[Case]:
    """A multiselect, a button group (segmented control, pills) or a date: string arrays."""
    wid, options = w.id, _options(w)
    arrays: list[tuple[str, list[str]]] = [
        ("no value", []), ("an empty label", [""]), ("a label that is no option", ["<b>x</b>"]),
        ("every option twice", options * 2), ("10,000 labels", ["x"] * 10_000),
        ("1 MB label", ["A" * MB]), ("a date that is none", ["2024-02-30", "99999-01-01"]),
    ]
    return [Case(what, state(wid, "string_array_value", a)) for what, a in arrays]


def _button(w: Widget) -> list[Case]:
    """A button is pressed once at most (it may start work); the rest are wrong types."""
    wrong = [Case("a press as a string", state(w.id, "string_value", "true")),
             Case("a press as a JSON trigger", state(w.id, "json_trigger_value", "[{}]"))]
    return [Case("a press", state(w.id, "trigger_value", True)), wrong[len(w.id) % 2]]


def _component(w: Widget) -> list[Case]:
    """A custom component: its JSON value, its bytes and Arrow values, and its events."""
    from streamlit.components.v2.bidi_component.main import _make_trigger_id

    wid = w.id
    cases = [Case(what, state(wid, "json_value", text)) for what, text in COMPONENT_JSON]
    cases += [Case("bytes_value", state(wid, "bytes_value", b"\x89PNG" + b"\x00" * 1000)),
              Case("arrow_value garbage", state(wid, "arrow_value", b"\xff" * 1000))]
    if w.kind == "bidi_component":  # its events arrive on a second widget id
        events = _make_trigger_id(wid, "events")
        cases += [Case(what, state(events, "json_trigger_value", text))
                  for what, text in TRIGGER_JSON]
    return cases


def _upload(w: Widget) -> list[Case]:
    return [Case("an upload that never happened",
                 state(w.id, "file_uploader_state_value", FAKE_FILE)),
            Case("an upload with no file", state(w.id, "file_uploader_state_value",
                                                 {"name": "", "size": -1, "file_id": ""}))]


def _chat(w: Widget) -> list[Case]:
    return [Case("1 MB chat message", state(w.id, "chat_input_value", "A" * MB)),
            Case("script chat message", state(w.id, "chat_input_value", STRINGS[4][1]))]


def _selection(w: Widget) -> list[Case]:
    """A chart's or table's selection (JSON text in a string value)."""
    texts = ["not json {", json.dumps({"selection": 5}),
             json.dumps({"selection": {"rows": [-1, 2**63], "points": "x"}}),
             "[" * 50_000]
    return [Case(f"selection {t[:20]!r}", state(w.id, "string_value", t)) for t in texts]


POOLS: dict[str, Callable[[Widget], list[Case]]] = {
    "selectbox": _choice, "radio": _choice, "tabs": _choice,
    "text_input": lambda w: _strings(w.id), "text_area": lambda w: _strings(w.id),
    "color_picker": lambda w: _strings(w.id), "time_input": lambda w: _strings(w.id),
    "number_input": _number, "slider": _slider,
    "multiselect": _array, "button_group": _array, "date_input": _array,
    "date_time_input": _array,
    "button": _button, "download_button": _button, "menu_button": _button,
    "bidi_component": _component, "component_instance": _component,
    "file_uploader": _upload, "camera_input": _upload, "audio_input": _upload,
    "chat_input": _chat,
    "dataframe": _selection, "plotly_chart": _selection, "vega_lite_chart": _selection,
    "echarts_chart": _selection, "deck_gl_json_chart": _selection,
}
# kinds whose every case is sent (a component is where a message carries a payload);
# the others get `per_widget` cases of their pool and `wrong_types` of the wire's others
EXHAUSTIVE = ("bidi_component", "component_instance", "button", "download_button",
              "menu_button")


def selectable(w: Widget) -> bool:
    """Whether a chart or table is a widget (a selection the app reads), not only an id."""
    if w.kind not in ("dataframe", "plotly_chart", "vega_lite_chart", "echarts_chart",
                      "deck_gl_json_chart"):
        return True
    return bool(getattr(w.element, "selection_mode", None)
                or getattr(w.element, "selection_activated", False)
                or getattr(w.element, "editing_mode", 0))


def battery(w: Widget, rng: random.Random, per_widget: int = 3,
            wrong_types: int = 1) -> list[Case]:
    """The hostile cases for one widget: all of them for a component or a button, else
    `per_widget` of its kind's pool and `wrong_types` values in other wire fields."""
    pool = POOLS.get(w.kind, lambda w: [])(w)
    if w.kind in EXHAUSTIVE:
        chosen = pool
    else:  # a checkbox's pool is only the wire's other fields
        n = per_widget if pool else 0
        chosen = _rotated(pool, rng, n) + _rotated(_wrong_types(w.id), rng,
                                                   wrong_types + per_widget - n)
    for case in chosen:
        assert case.state.ByteSize() < MAX_CASE_BYTES, case.what
    return chosen


def _rotated(pool: list[Case], rng: random.Random, n: int) -> list[Case]:
    """`n` consecutive cases of `pool` from a random start: over many widgets, all of it."""
    if not pool:
        return []
    start = rng.randrange(len(pool))
    return [pool[(start + i) % len(pool)] for i in range(min(n, len(pool)))]


# --- the URL ---------------------------------------------------------------------------------

QUERY_VALUES: list[tuple[str, str]] = [
    ("empty", ""), ("NUL", "\x00"), ("script tag", STRINGS[4][1]),
    ("markdown", STRINGS[5][1]), ("RTL", STRINGS[2][1]), ("1e308", "1e308"),
    ("NaN", "NaN"), ("-1", "-1"), ("int64 overflow", str(2**64)),
    ("16 kB", "9" * 16_000),
]


def query_cases(names: list[str], rng: random.Random, count: int
                ) -> Iterator[tuple[str, dict[str, str]]]:
    """`count` query strings setting every name in `names` at once, each name a different
    hostile value (rotated, so each value reaches each name over the cases)."""
    for i in range(count):
        offset = rng.randrange(len(QUERY_VALUES))
        yield (f"query case {i}",
               {n: QUERY_VALUES[(offset + j) % len(QUERY_VALUES)][1]
                for j, n in enumerate(names)})

"""One browser tab at Streamlit's WebSocket level, with no browser behind it.

Shared by the benches (bench/classroom_load.py, bench/action_cost.py) and the protocol fuzzer
(tests/app/test_fuzz.py). A `Tab` opens `/_stcore/stream` the way the frontend does (the page,
the XSRF cookie, the host config, then the socket), sends `rerun_script` BackMsgs with every
widget state it holds and reads the ForwardMsgs back, keeping widget states as the frontend
does: values the server sets win, widgets that leave the page are dropped.
"""
from __future__ import annotations

import asyncio
import http.cookiejar
import re
import time
import urllib.parse
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException

TIMEOUT_S = 60.0
FINISHED = ForwardMsg.ScriptFinishedStatus
ALERT_ERROR = 1  # Alert.Format.ERROR
EXCEPTION_NAME = re.compile(r"\b[A-Z][A-Za-z]*(Error|Exception)\b")
WRONG_RESULT = "differ from what torch measures"
WIDGET_ID = re.compile(r"^\$\$ID-[0-9a-f]+-(.+)$")

class ActionError(Exception):
    """The action failed at the protocol level: timeout, closed socket, bad page."""


# what a failing connection raises (URLError, ConnectionResetError, TimeoutError: OSErrors)
NETWORK_ERRORS = (OSError, WebSocketException)


# --- one browser tab -----------------------------------------------------------------

@dataclass
class Widget:
    """A widget as the frontend holds it: its id, the element that drew it, its value."""
    id: str
    kind: str           # element type: selectbox, number_input, ..., or "tabs"
    element: Any        # the element's proto (options, bounds); a TabContainer for tabs
    value: Any = None   # in wire form: the option label, the number, the list, ...
    labels: list[str] = field(default_factory=list)  # tabs only
    set_value: bool = False  # the server set the value in this run (it wins)

    @property
    def key(self) -> str | None:
        m = WIDGET_ID.match(self.id)
        return m.group(1) if m and m.group(1) != "None" else None

    def state(self) -> WidgetState | None:
        """The WidgetState the frontend sends for this widget, or None (no value yet)."""
        if self.value is None:
            return None
        s = WidgetState(id=self.id)
        if self.kind in STRING_KINDS:
            s.string_value = self.value
        elif self.kind == "number_input":
            if self.element.data_type == 0:  # INT
                s.int_value = int(self.value)
            else:
                s.double_value = float(self.value)
        elif self.kind == "checkbox":
            s.bool_value = bool(self.value)
        elif self.kind == "slider" and self.element.options:  # st.select_slider
            s.string_array_value.data.extend(self.value)
        elif self.kind == "slider":
            s.double_array_value.data.extend(self.value)
        elif self.kind in STRING_ARRAY_KINDS:
            s.string_array_value.data.extend(self.value)
        else:
            return None
        return s


# the kinds whose value the frontend keeps and sends on every rerun, by wire type
STRING_KINDS = ("selectbox", "radio", "text_input", "text_area", "color_picker",
                "time_input", "tabs")
STRING_ARRAY_KINDS = ("multiselect", "button_group", "date_input", "date_time_input")
WIDGET_KINDS = ("selectbox", "radio", "text_input", "number_input", "checkbox", "slider",
                "text_area", "color_picker", "time_input", "multiselect", "button_group",
                "date_input", "date_time_input")
# Elements with an id whose value the frontend sends only on an event (a press, an upload, a
# selection, a component's message): kept in Tab.widgets with no value, so a test can send
# them one (Tab.rerun's `raw`). Charts and tables have an id even when nothing is selectable.
EVENT_KINDS = ("button", "download_button", "file_uploader", "camera_input", "audio_input",
               "chat_input", "feedback", "pagination", "menu_button", "bidi_component",
               "component_instance", "dataframe", "plotly_chart", "vega_lite_chart",
               "echarts_chart", "deck_gl_json_chart")


def _server_value(kind: str, e: Any) -> Any:
    """The value the element tells the frontend to show: its set value, else its default."""
    if kind in ("selectbox", "radio"):
        if e.set_value and e.HasField("raw_value"):
            return e.raw_value
        return e.options[e.default] if e.HasField("default") and e.options else None
    if kind in ("number_input", "text_input", "text_area", "color_picker", "time_input"):
        if e.set_value and e.HasField("value"):
            return e.value
        return e.default if e.HasField("default") else None
    if kind == "checkbox":
        return e.value if e.set_value else e.default
    if kind == "slider":
        picked = list(e.value) if e.set_value else list(e.default)
        return [e.options[int(i)] for i in picked] if e.options else picked
    if kind in ("multiselect", "button_group"):
        if e.set_value:
            return list(e.raw_values)
        return [_option_text(e.options[int(i)]) for i in e.default if int(i) < len(e.options)]
    if kind in ("date_input", "date_time_input"):
        return list(e.value) if e.set_value else list(e.default)
    return None


def _option_text(option: Any) -> str:
    """An option as the wire names it: a string, or a button group's option's content."""
    return option if isinstance(option, str) else option.content


@dataclass
class RunResult:
    """What one rerun sent back."""
    ms: float = 0.0
    metrics: dict[str, str] = field(default_factory=dict)
    kinds: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _page_url(base: str, path: str, query: str) -> str:
    return f"{base}/{path}" + (f"?{query}" if query else "")


class Tab:
    """One browser tab: a WebSocket session and the state the frontend keeps for it."""

    def __init__(self, base: str, timeout: float = TIMEOUT_S,
                 jar: http.cookiejar.CookieJar | None = None) -> None:
        self.base = base.rstrip("/")
        self.timeout = timeout
        self.ws: ClientConnection | None = None
        # the browser's cookies: the XSRF cookie, and a proxy's stickiness cookie if any
        self.jar = jar if jar is not None else http.cookiejar.CookieJar()
        self.widgets: dict[str, Widget] = {}
        self.query = ""
        self.page_hash = ""
        self.pages: list[tuple[str, str, str]] = []  # (title, url path, script hash)
        self.cache: dict[str, ForwardMsg] = {}  # cacheable messages by hash, as the frontend
        self.connect_ms = 0.0

    # -- opening --------------------------------------------------------------------

    def _http_get(self, url: str) -> None:
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        with opener.open(url, timeout=self.timeout) as r:
            r.read()

    async def open(self, path: str = "", query: str = "") -> RunResult:
        """Load a page in a fresh tab, as a browser does: GET it, get the XSRF cookie and
        the host config, open the WebSocket, ask for the first run."""
        await self.close()
        self.widgets, self.cache, self.query, self.page_hash = {}, {}, query, ""
        t0 = time.perf_counter()
        try:
            await self._connect(path, query)
        except NETWORK_ERRORS as e:
            raise ActionError(f"connecting: {type(e).__name__}: {e}") from None
        self.connect_ms = (time.perf_counter() - t0) * 1000
        return await self.rerun(page_name=path)

    async def _connect(self, path: str, query: str) -> None:
        for url in (_page_url(self.base, path, query), f"{self.base}/_stcore/health",
                    f"{self.base}/_stcore/host-config"):
            # urllib blocks: run it off the event loop so other students go on
            await asyncio.to_thread(self._http_get, url)
        cookies = {c.name: c.value for c in self.jar}
        xsrf = cookies.get("_streamlit_xsrf", "")
        parts = urllib.parse.urlsplit(self.base)
        scheme = "wss" if parts.scheme == "https" else "ws"
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())} \
            if cookies else {}
        # The frontend passes the XSRF token as the second "subprotocol"; the server
        # answers with the first. Without it the socket works but ignores auth cookies.
        self.ws = await asyncio.wait_for(connect(
            f"{scheme}://{parts.netloc}{parts.path}/_stcore/stream",
            subprotocols=["streamlit", xsrf] if xsrf else ["streamlit"],
            origin=f"{parts.scheme}://{parts.netloc}", additional_headers=headers,
            max_size=None, ping_interval=None, compression=None, open_timeout=self.timeout),
            self.timeout)

    async def close(self) -> None:
        if self.ws is not None:
            ws, self.ws = self.ws, None
            try:
                await asyncio.wait_for(ws.close(), 5)
            except (TimeoutError, OSError):
                pass

    # -- what the frontend holds --------------------------------------------------------

    def widget(self, key: str) -> Widget | None:
        return next((w for w in self.widgets.values() if w.key == key), None)

    def page_path(self) -> str | None:
        return next((p for _, p, h in self.pages if h == self.page_hash), None)

    def page_hash_of(self, path: str) -> str:
        for _, p, h in self.pages:
            if p == path:
                return h
        raise ActionError(f"the server's navigation has no page {path!r}")

    # -- a run ----------------------------------------------------------------------------

    async def rerun(self, changes: dict[str, Any] | None = None, page_hash: str = "",
                    page_name: str = "", raw: list[WidgetState] | None = None) -> RunResult:
        """Send a rerun with every widget state (after `changes`, widget id -> value) and
        wait for the run to finish. `raw` states are sent as they are, in place of the
        tab's own state for the same id, for this one rerun (the tab keeps its values):
        what a client that is not Streamlit's frontend may send."""
        if self.ws is None:
            raise ActionError("no open tab")
        for wid, value in (changes or {}).items():
            self.widgets[wid].value = value
        if page_hash and page_hash != self.page_hash:
            self.query = ""  # the frontend clears the query string on a page change
        msg = BackMsg()
        cs: ClientState = msg.rerun_script
        # the frontend names the page it shows on every rerun; without a hash (and no
        # page_name) the server runs the main page
        cs.query_string, cs.page_name = self.query, page_name
        cs.page_script_hash = page_hash or ("" if page_name else self.page_hash)
        injected = {s.id for s in raw or ()}
        cs.widget_states.widgets.extend(s for w in self.widgets.values()
                                        if w.id not in injected and (s := w.state()))
        cs.widget_states.widgets.extend(raw or ())
        cs.cached_message_hashes.extend(self.cache)
        info = cs.context_info
        info.timezone, info.timezone_offset, info.locale = "UTC", 0, "en-US"
        info.url = _page_url(self.base, self.page_path() or page_name, self.query)
        info.is_embedded, info.color_scheme = False, "light"
        t0 = time.perf_counter()
        try:
            await self.ws.send(msg.SerializeToString())
            result = await asyncio.wait_for(self._read_run(), self.timeout)
        except TimeoutError:
            raise ActionError(f"no script_finished within {self.timeout:.0f} s") from None
        except ConnectionClosed as e:
            raise ActionError(f"WebSocket closed ({e.rcvd.code if e.rcvd else 'no code'})"
                              ) from None
        except NETWORK_ERRORS as e:
            raise ActionError(f"{type(e).__name__}: {e}") from None
        result.ms = (time.perf_counter() - t0) * 1000
        return result

    async def _read_run(self) -> RunResult:
        result, seen, tabs = RunResult(), {}, {}
        while True:
            msg = ForwardMsg()
            msg.ParseFromString(await self.ws.recv())
            kind = msg.WhichOneof("type")
            if kind == "ref_hash":  # the frontend has it: read it from our cache
                if msg.ref_hash not in self.cache:
                    result.errors.append(f"ref_hash {msg.ref_hash} not in the client cache")
                    continue
                path = list(msg.metadata.delta_path)
                msg = self.cache[msg.ref_hash]
                msg.metadata.delta_path[:] = path
                kind = "delta"
            elif msg.metadata.cacheable:
                self.cache[msg.hash] = msg
            if kind == "new_session":  # each run starts with one; a st.rerun starts anew
                result, seen, tabs = RunResult(), {}, {}
            elif kind == "navigation":
                self.pages = [(p.page_name, p.url_pathname, p.page_script_hash)
                              for p in msg.navigation.app_pages]
                self.page_hash = msg.navigation.page_script_hash
            elif kind == "page_info_changed":
                self.query = msg.page_info_changed.query_string
            elif kind == "page_not_found":
                result.errors.append(f"page not found: {msg.page_not_found.page_name!r}")
            elif kind == "session_event" and msg.session_event.HasField(
                    "script_compilation_exception"):
                exc = msg.session_event.script_compilation_exception
                result.errors.append(f"compile error: {exc.type}: {exc.message}")
            elif kind == "delta":
                self._on_delta(msg, result, seen, tabs)
            elif kind == "script_finished":
                status = msg.script_finished
                if status == FINISHED.Value("FINISHED_SUCCESSFULLY"):
                    self._keep_widgets(seen, tabs)
                    return result
                if status == FINISHED.Value("FINISHED_WITH_COMPILE_ERROR"):
                    result.errors.append("script finished with a compile error")
                    return result
                # FINISHED_EARLY_FOR_RERUN (st.rerun) or a fragment: the run goes on

    def _on_delta(self, msg: ForwardMsg, result: RunResult, seen: dict[str, Widget],
                  tabs: dict[tuple, Widget]) -> None:
        delta, path = msg.delta, tuple(msg.metadata.delta_path)
        if delta.WhichOneof("type") == "add_block":
            block = delta.add_block
            if block.WhichOneof("type") == "tab_container" and block.tab_container.id:
                tc = block.tab_container
                w = Widget(tc.id, "tabs", tc)
                seen[tc.id], tabs[path] = w, w
            elif block.WhichOneof("type") == "tab" and path[:-1] in tabs:
                tabs[path[:-1]].labels.append(block.tab.label)
            return
        if delta.WhichOneof("type") != "new_element":
            return
        element = delta.new_element
        kind = element.WhichOneof("type")
        result.kinds[kind] += 1
        e = getattr(element, kind)
        if kind in WIDGET_KINDS and e.id:
            seen[e.id] = Widget(e.id, kind, e, _server_value(kind, e),
                                set_value=bool(e.set_value))
        elif kind in EVENT_KINDS and e.id:
            seen[e.id] = Widget(e.id, kind, e)
        elif kind == "metric":
            result.metrics[e.label] = e.body
        elif kind == "exception":
            message = e.message
            if message.startswith("This app has encountered an error"):
                message = "(details redacted by client.showErrorDetails: see the server log)"
            text = f"{e.type}: {message}"[:300]
            (result.warnings if e.is_warning else result.errors).append(text)
        elif kind == "alert" and e.format == ALERT_ERROR:
            text = e.body[:300]
            if (text.startswith("Something went wrong") or EXCEPTION_NAME.search(text)
                    or WRONG_RESULT in text):
                result.errors.append(f"st.error: {text}")
            else:
                result.refusals.append(text)

    def _keep_widgets(self, seen: dict[str, Widget], tabs: dict[tuple, Widget]) -> None:
        """After a full run the frontend keeps exactly the widgets drawn in it: the value
        the server set, else the value it already had, else the element's default."""
        for w in tabs.values():  # the server's default_tab_index is the open tab
            i = w.element.default_tab_index
            w.value = w.labels[i] if 0 <= i < len(w.labels) else None
        for wid, w in seen.items():
            old = self.widgets.get(wid)
            if w.kind != "tabs" and old is not None and not w.set_value:
                w.value = old.value
        self.widgets = seen

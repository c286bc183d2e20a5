"""The protocol fuzzer (issue 29 §2): every page, every widget and component id, hostile
values for each, against one real `streamlit run app.py`, with no browser.

The pages are the ones the server's navigation lists and the widgets the ones its deltas
draw, so a new page or a new component is fuzzed without touching this file. Each widget
gets a few hostile values for its kind (tests/support_fuzz.py), one rerun each, on a tab
that otherwise holds ordinary values; a few choices that show other widgets (tabs, view
buttons, short radios) are also visited once with each of their real options, so the
widgets behind them are found and fuzzed too. Every page is then opened with a hostile
value in every URL parameter the app reads. After each rerun: no exception element, the
script finished, no error that names a Python exception; across the run the server's
memory stays bounded; at the end a fresh tab gets a healthy Explorer.
"""
from __future__ import annotations

import asyncio
import logging
import random
import re
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import own_server
from streamlit.proto.BackMsg_pb2 import BackMsg
from support_fuzz import Case, battery, query_cases, selectable, state
from support_protocol import ActionError, RunResult, Tab, Widget
from websockets.exceptions import ConnectionClosed

from cnnviz.pages import EXPLORER

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SEED = 29
RERUN_TIMEOUT_S = 30.0      # "the script finished": no hostile rerun may take longer
PRESS_WAIT_S = 3.0          # a button's run (a training) is interrupted after this long
PER_WIDGET, WRONG_TYPES = 1, 1
# Hostile values for BATCH different widgets go in one rerun (each is read, and each
# callback runs, before the page); a failing rerun is repeated one value at a time.
BATCH, BATCH_BYTES = 4, 12 * 10**6
QUERY_CASES = 2             # hostile query strings per page, every URL name in each
MAX_VISITED_OPTIONS = 6     # a choice with more options is a value, not a view to explore
VIEW_KINDS = ("tabs", "button_group", "radio")
MAX_ACTION_ERRORS = 5       # after this many timeouts or closed sockets, stop and report
HEADLINE = "Parameters"     # the Explorer's metric a healthy first view shows
# The server's memory: a classroom server has a few GB; the canvas audit found one message
# costing +2.7 GB. Growth is measured from the server's RSS once every page has been drawn
# with ordinary values (its caches warm): hostile values get a sentence, not new caches,
# so what they may add is small; 400 MB leaves room for what a refused or accepted value
# legitimately computes (a bigger stack the picker accepts) and catches the audit's class.
MAX_RSS_BYTES = 2_500 * 2**20
MAX_GROWTH_BYTES = 400 * 2**20


def memory(pid: int) -> tuple[int, int]:
    """(RSS, peak RSS) of a process in bytes, from /proc."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) * 1024
    return fields["VmRSS"], fields["VmHWM"]


def url_names(widgets: list[Widget], queries: list[str]) -> list[str]:
    """Every query parameter the app reads: the picker's, the lesson player's, the pages'
    own (cnnviz/pages/), the names the code reads as literals, the widgets bound
    to the URL (their query_param_key) and every name the server wrote to a URL."""
    logging.getLogger("streamlit").setLevel(logging.ERROR)  # no runtime here: no warnings
    from cnnviz.core.blocks.registry import REGISTRY
    from cnnviz.pages import PAGES
    from cnnviz.ui.analysis import compare
    from cnnviz.ui.frame import picker
    from cnnviz.ui.lessons import player as lesson_player

    names = {"block", "device", *picker.STACK_DEFAULTS, lesson_player.LESSON,
             lesson_player.STEP, lesson_player.PRESENT, compare.PIN}
    names |= {"p_" + n for block in REGISTRY for n in picker.get_block(block).defaults()}
    for info in PAGES.values():
        names |= set(info.url_names) | {c.key for c in info.controls if c.in_url}
    literal = re.compile(r"query_params(?:\.get\(|\.pop\(|\[)\s*[\"']([A-Za-z_]\w*)[\"']")
    for path in (ROOT / "cnnviz").rglob("*.py"):
        names |= set(literal.findall(path.read_text()))
    names |= {w.element.query_param_key for w in widgets
              if getattr(w.element, "query_param_key", "")}
    for q in queries:
        names |= {k for k, _ in urllib.parse.parse_qsl(q, keep_blank_values=True)}
    return sorted(names)


def batches(cases: list[tuple[Widget, Case]]) -> list[list[tuple[Widget, Case]]]:
    """The cases in reruns of up to BATCH values for different ids, under BATCH_BYTES."""
    out: list[list[tuple[Widget, Case]]] = []
    for w, case in cases:
        size = case.state.ByteSize()
        for batch in out:
            if (len(batch) < BATCH and case.state.id not in {c.state.id for _, c in batch}
                    and size + sum(c.state.ByteSize() for _, c in batch) < BATCH_BYTES):
                batch.append((w, case))
                break
        else:
            out.append([(w, case)])
    return out


@dataclass
class Fuzzer:
    base: str
    pid: int
    rng: random.Random = field(default_factory=lambda: random.Random(SEED))
    failures: list[str] = field(default_factory=list)
    action_errors: int = 0
    done: set[str] = field(default_factory=set)     # widget ids fuzzed (on any page)
    seen: dict[str, Widget] = field(default_factory=dict)
    queries: list[str] = field(default_factory=list)
    runs: int = 0
    times: list[tuple[float, str]] = field(default_factory=list)

    def note(self, where: str, result: RunResult) -> None:
        self.runs += 1
        self.times.append((result.ms, where))
        for error in result.errors:
            self.failures.append(f"{where}: {error}")

    async def run(self, where: str, action) -> RunResult | None:
        """One rerun (or page load); its failures noted. None when it never finished."""
        if self.action_errors >= MAX_ACTION_ERRORS:
            return None
        try:
            result = await action
        except ActionError as e:
            self.action_errors += 1
            self.failures.append(f"{where}: {e}")
            return None
        self.note(where, result)
        return result

    def _saw(self, tab: Tab) -> None:
        self.seen.update(tab.widgets)
        if tab.query:
            self.queries.append(tab.query)

    # -- one page ----------------------------------------------------------------------

    async def page(self, path: str, query: str = "") -> None:
        tab = Tab(self.base, RERUN_TIMEOUT_S)
        try:
            if await self.run(f"/{path}?{query}: first run", tab.open(path, query)) is None:
                return
            page_hash = tab.page_hash
            self._saw(tab)
            await self.widgets(tab, path, page_hash)
            await self.all_at_once(tab, path, page_hash)
            await self.garbage_frame(tab, path)
        finally:
            await tab.close()

    async def back(self, tab: Tab, path: str, page_hash: str) -> bool:
        """Back on the page being fuzzed (a pressed button may switch pages); a tab that
        died is opened again. False when the page cannot be reached."""
        if tab.ws is None:
            return await self.run(f"/{path}: reopening", tab.open(path)) is not None
        if tab.page_hash != page_hash:
            return await self.run(f"/{path}: back from /{tab.page_path()}",
                                  tab.rerun(page_hash=page_hash)) is not None
        return True

    async def widgets(self, tab: Tab, path: str, page_hash: str) -> None:
        """Fuzz every widget the page shows that no page fuzzed yet, then visit each option
        of a view-like choice and fuzz what it shows (depth first: a view's widgets are
        fuzzed while the view is open)."""
        while self.action_errors < MAX_ACTION_ERRORS:
            new = [w for w in tab.widgets.values() if w.id not in self.done]
            if not new:
                return
            self.done.update(w.id for w in new)
            new = [w for w in new if selectable(w)]  # a chart with nothing: all_at_once
            before = set(tab.widgets)
            cases = [(w, c) for w in new for c in battery(w, self.rng, PER_WIDGET, WRONG_TYPES)]
            for batch in batches([(w, c) for w, c in cases if not c.state.trigger_value]):
                if not await self.back(tab, path, page_hash):
                    return
                await self.send(tab, path, batch)
            for w, case in [(w, c) for w, c in cases if c.state.trigger_value]:
                if not await self.back(tab, path, page_hash):
                    return
                await self.press(tab, f"/{path}: {w.kind} {w.key or w.id} <- {case.what}",
                                 case)
                self._saw(tab)
            if not before <= set(tab.widgets):  # the last case's run stopped early
                await self.run(f"/{path}: a plain rerun after the cases", tab.rerun())
            for w in new:
                if w.kind in VIEW_KINDS:
                    await self.views(tab, path, page_hash, w)

    async def send(self, tab: Tab, path: str, batch: list[tuple[Widget, Case]]) -> None:
        """One rerun with the batch's hostile values; if it fails, each value alone, so the
        report names the widget and the value."""
        def where(part: list[tuple[Widget, Case]]) -> str:
            return f"/{path}: " + "; ".join(f"{w.kind} {w.key or w.id} <- {c.what}"
                                            for w, c in part)
        result = await self.run(where(batch), tab.rerun(raw=[c.state for _, c in batch]))
        self._saw(tab)
        if len(batch) > 1 and (result is None or result.errors):
            for one in batch:
                if await self.back(tab, path, tab.page_hash or ""):
                    await self.run(where([one]) + " (alone)", tab.rerun(raw=[one[1].state]))

    async def press(self, tab: Tab, where: str, case: Case) -> None:
        """A button's press, once: a press that starts a long run (a training) is
        interrupted after PRESS_WAIT_S by a plain rerun, as a student who changes a value
        meanwhile does, and that rerun must finish."""
        tab.timeout = PRESS_WAIT_S
        try:
            result = await tab.rerun(raw=[case.state])
        except ActionError:  # still running: interrupt it
            result = None
        finally:
            tab.timeout = RERUN_TIMEOUT_S
        if result is not None:
            self.note(where, result)
        else:
            await self.run(f"{where}, interrupted by a rerun", tab.rerun())

    async def views(self, tab: Tab, path: str, page_hash: str, w: Widget) -> None:
        options = list(w.labels) if w.kind == "tabs" else [
            o if isinstance(o, str) else o.content for o in w.element.options]
        if len(options) > MAX_VISITED_OPTIONS:
            return
        for option in options:
            if not await self.back(tab, path, page_hash) or w.id not in tab.widgets:
                return
            value = [option] if w.kind == "button_group" else option
            if await self.run(f"/{path}: {w.key} = {option!r}",
                              tab.rerun({w.id: value})) is None:
                return
            self._saw(tab)
            await self.widgets(tab, path, page_hash)

    async def all_at_once(self, tab: Tab, path: str, page_hash: str) -> None:
        """One rerun with a hostile value in every id the page drew (charts included)."""
        if not await self.back(tab, path, page_hash):
            return
        raw = []
        for w in tab.widgets.values():
            if w.kind in ("button", "download_button", "menu_button"):
                raw.append(state(w.id, "string_value", "\x00<b>"))  # no second press
            else:
                cases = battery(w, self.rng, 1, 0) or battery(w, self.rng, 0, 1)
                small = [c for c in cases if c.state.ByteSize() < 100_000]
                if small:
                    raw.append(small[0].state)
        await self.run(f"/{path}: a hostile value in all {len(raw)} ids at once",
                       tab.rerun(raw=raw))

    async def garbage_frame(self, tab: Tab, path: str) -> None:
        """A frame that is no BackMsg, then a BackMsg of no known kind: the server may
        close that socket (Streamlit answers a corrupt frame with a protocol error, as a
        browser's reconnect expects), and a new tab on the page works."""
        if tab.ws is None:
            return
        try:
            await tab.ws.send(BackMsg().SerializeToString() + b"\xfa\x3f\x03abc")
            await tab.ws.send(b"\xff\x00 not a protobuf \x80" * 10)
            await asyncio.wait_for(tab.ws.wait_closed(), 2)
        except (OSError, TimeoutError, ConnectionClosed):
            pass  # closed while sending, or still open: either is an answer
        await tab.close()
        await self.run(f"/{path}: a new tab after garbage frames", tab.open(path))

    # -- the URL -------------------------------------------------------------------------

    async def urls(self, paths: list[str]) -> None:
        names = url_names(list(self.seen.values()), self.queries)
        for path in paths:
            for what, params in query_cases(names, self.rng, QUERY_CASES):
                query = urllib.parse.urlencode(params, quote_via=urllib.parse.quote)
                tab = Tab(self.base, RERUN_TIMEOUT_S)
                try:
                    await self.run(f"/{path}?<{what}: {len(names)} names>",
                                   tab.open(path, query))
                finally:
                    await tab.close()
            # a name that is no parameter, and a parameter's name made hostile
            tab = Tab(self.base, RERUN_TIMEOUT_S)
            try:
                query = urllib.parse.urlencode({"p_<script>": "1", "\u202e": "\x00",
                                                "view": "<b>", "a" * 2000: "b"})
                await self.run(f"/{path}?<hostile names>", tab.open(path, query))
            finally:
                await tab.close()


@pytest.fixture(scope="module")
def server():
    """A server of its own: its memory is this test's to measure."""
    yield from own_server()


async def _fuzz(url: str, pid: int) -> tuple[Fuzzer, dict[str, float]]:
    fuzzer, mb = Fuzzer(url, pid), {}
    # every page once with ordinary values: the pages come from the server's navigation,
    # and the memory the app needs for them is the baseline of what hostile values add
    tab = Tab(url, RERUN_TIMEOUT_S)
    try:
        first = await fuzzer.run("/: first run", tab.open(""))
        assert first is not None, fuzzer.failures
        paths = [p for _, p, _ in tab.pages]
        assert len(paths) > 1, f"the navigation lists no pages: {tab.pages}"
        for path in paths[1:]:
            await fuzzer.run(f"/{path}: first run",
                             tab.rerun(page_hash=tab.page_hash_of(path)))
    finally:
        await tab.close()
    mb["baseline"], _ = memory(pid)
    try:  # reset the peak: what follows is the hostile part
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        mb["baseline"] = memory(pid)[1]  # the peak so far, then
    for path in paths:
        await fuzzer.page(path)
    await fuzzer.urls(paths)
    mb["after"], mb["peak"] = memory(pid)
    # a fresh tab after all that: the Explorer's first view, healthy
    fresh = await fuzzer.run("fresh tab after the battery",
                            Tab(url, RERUN_TIMEOUT_S).open(EXPLORER.url_path))
    if fresh is not None and HEADLINE not in fresh.metrics:
        fuzzer.failures.append(f"a fresh tab's Explorer has no {HEADLINE} metric: "
                               f"{sorted(fresh.metrics)} {fresh.refusals[:2]}")
    return fuzzer, mb


def test_every_widget_and_url_parameter_of_every_page_survives_hostile_values(server):
    proc, url, log = server
    t0 = time.perf_counter()
    fuzzer, mem = asyncio.run(_fuzz(url, proc.pid))
    took = time.perf_counter() - t0
    mib = {k: round(v / 2**20) for k, v in mem.items()}
    slowest = max(fuzzer.times, default=(0.0, ""))
    print(f"\nfuzzer: {fuzzer.runs} runs, {len(fuzzer.done)} ids, {took:.1f} s; slowest "
          f"{slowest[0]:.0f} ms ({slowest[1][:100]}); server MiB {mib}")
    tail = Path(log).read_text(errors="replace")[-3000:]
    assert not fuzzer.failures, (f"{len(fuzzer.failures)} failures:\n"
                                 + "\n".join(f[:400] for f in fuzzer.failures[:40])
                                 + f"\n--- server log (tail) ---\n{tail}")
    assert proc.poll() is None, f"the server died:\n{tail}"
    assert mem["peak"] < MAX_RSS_BYTES, f"the server's peak RSS reached {mib['peak']} MiB"
    assert mem["peak"] - mem["baseline"] < MAX_GROWTH_BYTES, (
        f"hostile values grew the server from {mib['baseline']} MiB to a peak of "
        f"{mib['peak']} MiB (at most {MAX_GROWTH_BYTES // 2**20} MiB more)")
    assert fuzzer.runs > 200 and len(fuzzer.done) > 50, "the fuzzer found too little to fuzz"


# --- the classes the fuzzer found, each on its own (no server) -----------------------------

def _widgets_script():
    import streamlit as st

    from cnnviz.ui.frame import messages

    messages.install()
    options = ["a", "b"]
    st.selectbox("s", options, key="s", on_change=lambda: options.index(st.session_state.s))
    st.number_input("n", 0, 10, 3, key="n")
    st.caption(f"{st.session_state.s} {st.session_state.n}")


@pytest.mark.parametrize("key, field_name, value", [
    ("s", "string_value", "<b>no option</b>"),   # reached the on_change callback
    ("s", "int_value", -1),                      # a choice in another field
    ("n", "double_value", float("nan")),         # int(NaN) in Streamlit's deserializer
    ("n", "double_value", float("inf")),         # OverflowError there
    ("n", "string_value", "3"),                  # another field than the widget's
])
def test_a_value_no_browser_sends_reads_as_the_widgets_default(key, field_name, value):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_widgets_script, default_timeout=30).run()
    wid = next(w.id for w in at._tree.get_widget_states().widgets if w.id.endswith(f"-{key}"))
    for _ in range(2):  # and the run after it
        states = at._tree.get_widget_states()
        kept = [w for w in states.widgets if w.id != wid]
        del states.widgets[:]
        states.widgets.extend([*kept, state(wid, field_name, value)])
        at._run(states)
        assert not at.exception, [e.value for e in at.exception]
        assert at.caption[0].value == "a 3"


def test_a_network_url_with_every_value_wrong_shows_resnet18():
    from cnnviz.ui.network.builder import read_network

    spec, warnings = read_network({"arch": "", "classes": "", "input": "\x00"})
    assert spec.name == "resnet18" and len(warnings) == 3, warnings

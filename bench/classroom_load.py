"""A classroom of students against a running cnnviz server, at Streamlit's WebSocket level.

Not a test. Each simulated student is one browser tab with no browser behind it: it opens
`/_stcore/stream`, sends the protobuf BackMsgs the frontend sends (`rerun_script` with the
query string, the page and every widget state it holds) and reads the ForwardMsgs back,
keeping the widget states the way the frontend does (values the server sets win, widgets
that leave the page are dropped). The clients are a few asyncio tasks, so nearly all of
the machine's cores stay with the server. The WebSocket client is `websockets`, which
Streamlit itself depends on (Streamlit 1.67 serves with uvicorn; tornado is not installed).

    python bench/classroom_load.py --start                       # spawn, measure, stop
    python bench/classroom_load.py --hall 2                      # 2 processes behind nginx
    python bench/classroom_load.py --url http://127.0.0.1:8501 --students 30 --think 5
    python bench/classroom_load.py --url http://proxy:8080 --match "streamlit run" --json

Each student repeats: pick an action, do it, think (exponential, mean --think seconds).
Weights of the action mix (a student with no tab yet always starts with a page load):

    page_load       0.15  a new tab (new WebSocket) on a page: the Explorer (40 % of loads,
                          with a random ?block=&depth=&p_kernel_size=&view= query) or Plain
                          vs Residual, Feature Maps, Receptive Field, Convolution
                          Arithmetic, Cost & Bottlenecks (12 % each; half with ?block=&depth=)
    widget_change   0.35  on the Explorer: change the sidebar's depth, block or kernel size
    tab_switch      0.20  on the Explorer: open another tab (bound to ?view=)
    gradflow_visit  0.15  go to Plain vs Residual in the same tab; half the time then move
                          its Blocks slider (gf_depth) to 1..60, reported as gradflow_depth
    new_seed        0.15  on the Explorer: a new pick_seed (a new model: a cache miss)

An Explorer action on a tab that shows another page first switches the tab to the Explorer
through the app's navigation, reported as `navigate`. A page load also reports `connect`:
the HTTP requests a browser makes (the page, /_stcore/health for the XSRF cookie,
/_stcore/host-config) and the WebSocket handshake.

Latency of an action: from sending its `rerun_script` to the ForwardMsg `script_finished`
with FINISHED_SUCCESSFULLY. Errors: an exception element, an `st.error` that starts with
"Something went wrong", names a Python exception class or says torch disagrees with the
prediction, a script_finished with an error status, a page that arrives without its
content (the Explorer's Parameters metric, a chart on the other pages), a closed WebSocket,
a timeout. Any other `st.error` is a refusal (the app refusing a configuration too large
for a live demo): counted and shown, not an error. Actions that start in the warm-up are
left out of the latencies and the throughput (reruns per minute), not of the errors.

Before the load, one tab checks that the server really follows the states this client
sends: a depth change must change the Parameters metric and the URL, the Diagram tab must
draw a graph, and the Blocks slider of Plain vs Residual must change its metrics (skip
with --no-verify). Server RSS is summed over --pids, the processes matching --match, or
else those listening on the URL's port: at start, idle (after the check, before the
students) and peak (sampled every 0.25 s). Exit status: 0, or 1 if any error occurred.
"""
from __future__ import annotations

import argparse
import asyncio
import http.cookiejar
import json
import os
import random
import re
import resource
import signal
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

try:
    import psutil
except ImportError:  # RSS and CPU then come from /proc
    psutil = None

import _harness  # noqa: F401  (the repository root on the import path)

from cnnviz.deploy.hall import start_hall
from cnnviz.pages import (  # noqa: E402
    CHALLENGE,
    EXPLORER,
    GLOSSARY,
    JOIN,
    LESSONS,
    NETWORK,
    PLAIN_VS_RESIDUAL,
    START,
    TRAINED,
    ExplorerView,
)
from tests.support_protocol import (
    NETWORK_ERRORS,
    TIMEOUT_S,
    ActionError,
    RunResult,
    Tab,
)
from tests.support_server import start_server, stop_server

# the Plain vs Residual Blocks slider, as the page draws it (its contract)
DEPTH = PLAIN_VS_RESIDUAL.control("depth")

WEIGHTS = {"page_load": 0.15, "widget_change": 0.35, "tab_switch": 0.20,
           "gradflow_visit": 0.15, "new_seed": 0.15}
EXPLORER_SHARE = 0.4         # of page loads; the other pages share the rest
GRADFLOW_PAGE = PLAIN_VS_RESIDUAL.url_path
DIAGRAM = ExplorerView.DIAGRAM.value
DEPTHS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32)
RSS_EVERY_S = 0.25
SERVER_START_S = 90.0
REPORT_ORDER = ("page_load", "connect", "navigate", "widget_change", "tab_switch",
                "gradflow_visit", "gradflow_depth", "new_seed")

# What a page must send when it does not refuse: the Explorer and the Network page their
# Parameters metric, the Lessons page its links to the lessons, the Join page its room-code
# box, the Trained Networks page its Prediction metrics, every other page a chart.
CHARTS = ("plotly_chart", "echarts_chart", "vega_lite_chart", "graphviz_chart", "imgs")
LINKS = ("page_link",)
HEADLINE_METRIC = "Parameters"


# --- what the students do -----------------------------------------------------------

@dataclass
class Record:
    kind: str
    start: float        # time.monotonic() when the action began
    ms: float
    page: str = ""


@dataclass
class Catalog:
    """What the server offers, learned from its messages: pages, blocks, kernel bounds."""
    pages: list[tuple[str, str, str]] = field(default_factory=list)
    blocks: list[str] = field(default_factory=list)       # option labels of pick_block
    tabs: list[str] = field(default_factory=list)         # the Explorer's tab labels
    kernels: dict[str, tuple[int, int]] = field(default_factory=dict)  # block -> bounds

    def learn(self, tab: Tab) -> None:
        self.pages = tab.pages or self.pages
        block = tab.widget("pick_block")
        if block is None:
            return
        self.blocks = list(block.element.options) or self.blocks
        kernel = tab.widget("pick_p_kernel_size")
        if kernel is not None and kernel.kind == "number_input":
            self.kernels[_block_name(block.value)] = (int(kernel.element.min),
                                                      int(kernel.element.max))
        view = tab.widget(EXPLORER.view_key)
        if view is not None and tab.page_path() == EXPLORER.url_path:
            self.tabs = view.labels


def _block_name(label: str) -> str:
    return label.split(" · ")[-1]  # pick_block's options read "Family · name"


class Load:
    """The shared bookkeeping of one load run."""

    def __init__(self, base: str, timeout: float, measure_from: float, end: float) -> None:
        self.base, self.timeout = base, timeout
        self.measure_from, self.end = measure_from, end
        self.catalog = Catalog()
        self.records: list[Record] = []
        self.scheduled: Counter = Counter()
        self.errors: Counter = Counter()  # error texts, with how often each occurred
        self.errors_by_backend: Counter = Counter()  # behind a hall: its app process's name
        self.first_url: dict[str, str] = {}
        self.refusals: Counter = Counter()
        self.warnings: Counter = Counter()
        self.content: Counter = Counter()  # page loads that brought their content, by page
        self.refused_loads = 0  # page loads that showed a refusal instead

    def note(self, kind: str, start: float, result: RunResult, page: str,
             query: str = "") -> None:
        self.records.append(Record(kind, start, result.ms, page))
        for text in result.errors:
            self.error(kind, page, text, query)
        self.refusals.update(t.split("\n")[0] for t in result.refusals)  # not the hint
        self.warnings.update(result.warnings)

    def error(self, kind: str, page: str, text: str, query: str = "") -> None:
        key = f"{kind} on /{page}: {text}"
        self.errors[key] += 1
        # where it happened first: the URL holds the whole configuration, to reproduce it
        self.first_url.setdefault(key, f"/{page}" + (f"?{query}" if query else ""))


class Student:
    def __init__(self, load: Load, rng: random.Random) -> None:
        self.load, self.rng = load, rng
        self.tab: Tab | None = None
        self.jar = http.cookiejar.CookieJar()  # one browser: its tabs share the cookies

    async def live(self, think: float) -> None:
        rng = self.rng
        await asyncio.sleep(rng.uniform(0, min(think, 5.0) if think > 0 else 1.0))
        try:
            while time.monotonic() < self.load.end:
                kind = "page_load" if self.tab is None else rng.choices(
                    list(WEIGHTS), weights=list(WEIGHTS.values()))[0]
                self.load.scheduled[kind] += 1
                try:
                    await getattr(self, kind)()
                except (ActionError, *NETWORK_ERRORS) as e:
                    page = (self.tab.page_path() or "") if self.tab else ""
                    query = self.tab.query if self.tab else ""
                    text = str(e) if isinstance(e, ActionError) else f"{type(e).__name__}: {e}"
                    self.load.error(kind, page, text, query)
                    self.load.errors_by_backend[self.backend()] += 1
                    await self._drop_tab()  # a broken tab is reloaded by its student
                if think > 0:
                    await asyncio.sleep(rng.expovariate(1 / think))
                else:
                    await asyncio.sleep(0)
        finally:
            await self._drop_tab()

    def backend(self) -> str:
        """The hall's app process this browser is pinned to (its nginx cookie), if any."""
        return next((c.value for c in self.jar if c.name == "cnnviz_backend"), "")

    async def _drop_tab(self) -> None:
        if self.tab is not None:
            await self.tab.close()
            self.tab = None

    async def _run(self, kind: str, coro) -> RunResult:
        start = time.monotonic()
        result = await coro
        page = (self.tab.page_path() or "") if self.tab else ""
        self.load.note(kind, start, result, page, self.tab.query if self.tab else "")
        self.load.catalog.learn(self.tab)
        return result

    # -- the actions ----------------------------------------------------------------------

    async def page_load(self) -> None:
        rng, cat = self.rng, self.load.catalog
        paths = [p for _, p, _ in cat.pages] or [EXPLORER.url_path]
        others = [p for p in paths if p != EXPLORER.url_path]
        path = (EXPLORER.url_path if rng.random() < EXPLORER_SHARE or not others
                else rng.choice(others))
        query = self._random_query(path)
        if self.tab is not None:
            await self.tab.close()
        self.tab = Tab(self.load.base, self.load.timeout, self.jar)
        start = time.monotonic()
        result = await self._run("page_load", self.tab.open(path, query))
        self.load.records.append(Record("connect", start, self.tab.connect_ms, path))
        self._check_content(path, query, result)

    def _random_query(self, path: str) -> str:
        rng, cat = self.rng, self.load.catalog
        q: dict[str, str] = {}
        if cat.blocks and rng.random() < (0.7 if path == EXPLORER.url_path else 0.5):
            q["block"] = _block_name(rng.choice(cat.blocks))
            q["depth"] = str(rng.choice(DEPTHS[:7]))
            bounds = cat.kernels.get(q["block"])
            if path == EXPLORER.url_path and bounds and rng.random() < 0.3:
                q["p_kernel_size"] = str(rng.choice(_odd(*bounds)))
        if path == EXPLORER.url_path and cat.tabs and rng.random() < 0.2:
            q[EXPLORER.view_key] = rng.choice(cat.tabs)
        return urllib.parse.urlencode(q, quote_via=urllib.parse.quote)

    def _check_content(self, path: str, query: str, result: RunResult) -> None:
        # an old link to / with a block in its query opens the Explorer (Start here came later)
        explorer = path == START.url_path and "block=" in query
        if path in (EXPLORER.url_path, NETWORK.url_path) or explorer:
            found, what = HEADLINE_METRIC in result.metrics, f"its {HEADLINE_METRIC} metric"
        elif path in (LESSONS.url_path, START.url_path):
            found, what = any(result.kinds[k] for k in LINKS), "its links"
        elif path == GLOSSARY.url_path:
            found, what = result.kinds["heading"] > 1, "its words' headings"
        elif path in (JOIN.url_path, CHALLENGE.url_path):  # the box for the code
            found, what = result.kinds["text_input"] > 0, "its room-code box"
        elif path == TRAINED.url_path:
            found, what = "Prediction" in result.metrics, "its Prediction metrics"
        else:
            found, what = any(result.kinds[k] for k in CHARTS), "a chart"
        if found:
            self.load.content[path or "/"] += 1
        elif result.refusals:
            self.load.refused_loads += 1
        elif not result.errors:
            self.load.error("page_load", path, f"?{query}: the page came without {what}")

    async def _to_explorer(self) -> Tab:
        tab = self.tab
        if tab.page_path() != EXPLORER.url_path:
            await self._run("navigate", tab.rerun(page_hash=tab.page_hash_of(EXPLORER.url_path)))
        return tab

    async def widget_change(self) -> None:
        tab = await self._to_explorer()
        rng = self.rng
        options = [w for k in ("pick_depth", "pick_block", "pick_p_kernel_size")
                   if (w := tab.widget(k)) is not None]
        if not options:
            raise ActionError("the Explorer sent no depth, block or kernel size widget")
        w = rng.choice(options)
        if w.key == "pick_depth":
            value = rng.choice([d for d in DEPTHS if d <= w.element.max and d != w.value])
        elif w.kind == "number_input":  # the kernel size
            value = rng.choice([k for k in _odd(int(w.element.min), int(w.element.max))
                                if k != w.value] or [w.value])
        else:  # a selectbox: the block
            value = rng.choice([o for o in w.element.options if o != w.value])
        await self._run("widget_change", tab.rerun({w.id: value}))

    async def tab_switch(self) -> None:
        tab = await self._to_explorer()
        view = tab.widget(EXPLORER.view_key)
        if view is None:  # the picker refused this configuration: no tabs to switch
            self.load.refusals["tab switch skipped: the Explorer shows a refusal"] += 1
            return
        label = self.rng.choice([t for t in view.labels if t != view.value])
        # the frontend puts a bound tab into the URL (and drops it for the default tab)
        q = dict(urllib.parse.parse_qsl(tab.query))
        q.pop(EXPLORER.view_key, None)
        if label != view.element.default_tab_label:
            q[EXPLORER.view_key] = label
        tab.query = urllib.parse.urlencode(q, quote_via=urllib.parse.quote)
        await self._run("tab_switch", tab.rerun({view.id: label}))

    async def gradflow_visit(self) -> None:
        tab = self.tab
        slider = tab.widget(DEPTH.key)
        if tab.page_path() != GRADFLOW_PAGE or slider is None:
            await self._run("gradflow_visit",
                            tab.rerun(page_hash=tab.page_hash_of(GRADFLOW_PAGE)))
            slider = tab.widget(DEPTH.key)
            if slider is None or self.rng.random() < 0.5:
                return  # no slider: the page refused the picker's configuration
        await self._run("gradflow_depth", tab.rerun({slider.id: [self.rng.randint(DEPTH.low, 60)]}))

    async def new_seed(self) -> None:
        tab = await self._to_explorer()
        seed = tab.widget("pick_seed")
        if seed is None:
            raise ActionError("the Explorer sent no pick_seed widget")
        await self._run("new_seed", tab.rerun({seed.id: self.rng.randrange(1, 1_000_000)}))


def _odd(low: int, high: int) -> list[int]:
    """Odd kernel sizes a student would try, within the widget's bounds."""
    return [k for k in range(max(low, 1), min(high, 7) + 1) if k % 2] or [low]


# --- checking that the server follows us ------------------------------------------------

async def verify(base: str, timeout: float = TIMEOUT_S) -> dict:
    """Drive one tab: on the Explorer a depth change must change the Parameters metric and
    the URL, and the Diagram tab must draw a graph; on Plain vs Residual (reached through
    the navigation) moving the Blocks slider must change its metrics. Raises ActionError
    if the server ignores the states sent. Returns what it saw."""
    tab = Tab(base, timeout)
    try:
        first = await tab.open(EXPLORER.url_path, "")
        params = first.metrics.get(HEADLINE_METRIC)
        depth = tab.widget("pick_depth")
        if params is None or depth is None:
            raise ActionError(f"the Explorer sent no Parameters metric or depth widget "
                              f"(metrics: {sorted(first.metrics)})")
        old_depth = int(depth.value)
        new_depth = old_depth + 3
        second = await tab.rerun({depth.id: new_depth})
        if second.metrics.get(HEADLINE_METRIC) in (None, params):
            raise ActionError(f"depth {old_depth} -> {new_depth} left Parameters at "
                              f"{params!r}: the server ignored the widget state")
        if f"depth={new_depth}" not in tab.query:
            raise ActionError(f"the URL did not follow the depth change: ?{tab.query}")
        view = tab.widget(EXPLORER.view_key)
        if view is None or DIAGRAM not in view.labels:
            raise ActionError("the Explorer sent no Diagram tab")
        third = await tab.rerun({view.id: DIAGRAM})
        if not third.kinds["graphviz_chart"] or tab.widget(EXPLORER.view_key).value != DIAGRAM:
            raise ActionError("switching to the Diagram tab drew no graph")
        query, widgets = tab.query, sorted(w.key or w.id for w in tab.widgets.values())
        fourth = await tab.rerun(page_hash=tab.page_hash_of(GRADFLOW_PAGE))
        slider = tab.widget(DEPTH.key)
        if tab.page_path() != GRADFLOW_PAGE or slider is None or not fourth.metrics:
            raise ActionError("navigating to Plain vs Residual showed no Blocks slider")
        blocks = 1 if slider.value != [1] else 2
        fifth = await tab.rerun({slider.id: [blocks]})
        if fifth.metrics == fourth.metrics:
            raise ActionError(f"Blocks {slider.value} -> {blocks} left the metrics of Plain "
                              f"vs Residual as they were: the server ignored the slider")
        errors = [e for r in (first, second, third, fourth, fifth) for e in r.errors]
        if errors:
            raise ActionError("; ".join(errors))
        return {"parameters": [params, second.metrics[HEADLINE_METRIC]],
                "depth": [old_depth, new_depth], "query": query, "widgets": widgets,
                "gradflow_metrics": [fourth.metrics, fifth.metrics]}
    finally:
        await tab.close()


# --- the server's memory and CPU -------------------------------------------------------

def _rss_bytes(pid: int) -> int:
    if psutil is not None:
        return psutil.Process(pid).memory_info().rss
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def _cpu_seconds(pid: int) -> float:
    if psutil is not None:
        t = psutil.Process(pid).cpu_times()
        return t.user + t.system
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


_GONE = (OSError, ValueError) + ((psutil.Error,) if psutil is not None else ())


def _sum(fn, pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            total += fn(pid)
        except _GONE:
            pass  # a process that ended no longer counts
    return total


def find_pids(base: str, match: str | None = None) -> list[int]:
    """Server processes: those whose command line contains `match`, else those listening
    on the URL's port (needs psutil; behind a proxy that finds the proxy: pass --pids)."""
    me = os.getpid()
    if match:
        found = []
        if psutil is not None:
            for p in psutil.process_iter(["pid", "cmdline"]):
                if p.info["pid"] != me and match in " ".join(p.info["cmdline"] or []):
                    found.append(p.info["pid"])
        else:
            for d in Path("/proc").iterdir():
                if d.name.isdigit() and int(d.name) != me:
                    try:
                        cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                    except OSError:
                        continue
                    if match in cmd:
                        found.append(int(d.name))
        return sorted(found)
    parts = urllib.parse.urlsplit(base)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if psutil is None:
        return []
    try:
        conns = psutil.net_connections(kind="tcp")
    except (psutil.AccessDenied, OSError):
        return []
    return sorted({c.pid for c in conns if c.pid and c.status == psutil.CONN_LISTEN
                   and c.laddr and c.laddr.port == port})


class Monitor:
    """Samples the summed RSS of the server processes every RSS_EVERY_S."""

    def __init__(self, pids: list[int]) -> None:
        self.pids = pids
        self.start = _sum(_rss_bytes, pids) if pids else 0.0  # before any request of ours
        self.idle = self.peak = self.start

    def mark_idle(self) -> None:
        """The idle server: warmed by the check and the probe, before the students."""
        self.idle = _sum(_rss_bytes, self.pids) if self.pids else 0.0
        self.peak = max(self.peak, self.idle)

    def rss_now(self) -> float:
        return _sum(_rss_bytes, self.pids) if self.pids else 0.0

    async def sample(self) -> None:
        while self.pids:
            self.peak = max(self.peak, _sum(_rss_bytes, self.pids))
            await asyncio.sleep(RSS_EVERY_S)


# --- the run ----------------------------------------------------------------------------

def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    k = (len(xs) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


async def run_async(url: str, students: int = 30, duration: float = 60, think: float = 5,
                    seed: int = 0, warmup: float = 0, pids: list[int] | None = None,
                    timeout: float = TIMEOUT_S, check: bool = True) -> dict:
    """Run the classroom against `url`; return the figures (see the module docstring)."""
    base = url.rstrip("/")
    monitor = Monitor(pids or [])
    cpu0 = _sum(_cpu_seconds, monitor.pids)
    verified = await verify(base, timeout) if check else None
    load = Load(base, timeout, 0.0, 0.0)
    probe = Tab(base, timeout)  # learn the pages and blocks before the students arrive
    try:
        await probe.open(EXPLORER.url_path, "")  # its tabs and blocks too
        load.catalog.learn(probe)
    finally:
        await probe.close()
    monitor.mark_idle()
    sampler = asyncio.create_task(monitor.sample())
    t0 = time.monotonic()
    load.measure_from, load.end = t0 + warmup, t0 + warmup + duration
    rngs = [random.Random(f"{seed}-{i}") for i in range(students)]
    cpu_start = None

    async def mark_measure() -> None:  # the server's CPU over the measured window only
        nonlocal cpu_start
        await asyncio.sleep(warmup)
        cpu_start = (_sum(_cpu_seconds, monitor.pids), time.monotonic())

    marker = asyncio.create_task(mark_measure())
    me0 = resource.getrusage(resource.RUSAGE_SELF)
    await asyncio.gather(*(Student(load, rng).live(think) for rng in rngs))
    me1 = resource.getrusage(resource.RUSAGE_SELF)
    t_end = time.monotonic()
    sampler.cancel()
    marker.cancel()
    cpu_end = _sum(_cpu_seconds, monitor.pids)

    counted = [r for r in load.records if r.start >= load.measure_from]
    kinds = {}
    for kind in REPORT_ORDER + tuple(sorted({r.kind for r in counted} - set(REPORT_ORDER))):
        xs = [r.ms for r in counted if r.kind == kind]
        if xs:
            kinds[kind] = {"n": len(xs), "p50_ms": round(_pct(xs, 0.5), 1),
                           "p95_ms": round(_pct(xs, 0.95), 1), "max_ms": round(max(xs), 1)}
    actions = [r for r in counted if r.kind != "connect"]
    by_page: dict[str, list[float]] = {}
    for r in counted:
        if r.kind == "page_load":
            by_page.setdefault(r.page or "/", []).append(r.ms)
    window = t_end - load.measure_from
    return {
        "url": base, "students": students, "duration_s": duration, "think_s": think,
        "seed": seed, "warmup_s": warmup, "verified": verified,
        "kinds": kinds,
        "page_load_by_page": {p: {"n": len(xs), "p50_ms": round(_pct(xs, 0.5), 1),
                                  "max_ms": round(max(xs), 1)}
                              for p, xs in sorted(by_page.items())},
        "scheduled": dict(load.scheduled),
        "actions": len(actions),
        "throughput_per_min": round(len(actions) / (duration / 60), 1) if duration else 0.0,
        "errors": sum(load.errors.values()),
        "errors_by_backend": dict(load.errors_by_backend),
        "error_samples": [f"{n}x {t} (first at {load.first_url[t]})"
                          for t, n in load.errors.most_common(8)],
        "refusals": sum(load.refusals.values()),
        "refusal_samples": [f"{n}x {t}" for t, n in load.refusals.most_common(5)],
        "warnings": sum(load.warnings.values()),
        "warning_samples": [f"{n}x {t}" for t, n in load.warnings.most_common(3)],
        "content_by_page": dict(load.content), "refused_page_loads": load.refused_loads,
        "server_pids": monitor.pids,
        "rss_start_mb": round(monitor.start / 2**20, 1) if monitor.pids else None,
        "rss_idle_mb": round(monitor.idle / 2**20, 1) if monitor.pids else None,
        "rss_peak_mb": round(monitor.peak / 2**20, 1) if monitor.pids else None,
        "server_cpu_cores": (round((cpu_end - cpu_start[0]) / (t_end - cpu_start[1]), 2)
                             if monitor.pids and cpu_start else None),
        "client_cpu_cores": round((me1.ru_utime + me1.ru_stime - me0.ru_utime - me0.ru_stime)
                                  / max(t_end - t0, 1e-9), 2),
        "wall_s": round(t_end - t0, 1), "measured_s": round(window, 1),
        "host_loadavg_1min": round(os.getloadavg()[0], 2),  # others' work skews the figures
        "server_cpu_total_s": round(cpu_end - cpu0, 1) if monitor.pids else None,
    }


def run(url: str, students: int = 30, duration: float = 60, think: float = 5, seed: int = 0,
        warmup: float = 0, pids: list[int] | None = None, timeout: float = TIMEOUT_S,
        check: bool = True) -> dict:
    """Synchronous run_async, for tests and scripts."""
    return asyncio.run(run_async(url, students, duration, think, seed, warmup, pids, timeout,
                                 check))


# --- a server of our own (--start) ---------------------------------------------------

@contextmanager
def served(timeout: float = SERVER_START_S) -> Iterator[tuple[str, int]]:
    """`streamlit run app.py` from the repository root on a free port, with the repo's
    config; yields (url, pid) once /_stcore/health answers, and stops it afterwards."""
    proc, url, _ = start_server(timeout=timeout)
    try:
        yield url, proc.pid
    finally:
        stop_server(proc)


class Killer(threading.Thread):
    """SIGKILL the hall's first app process `after` seconds, then time until a new one
    answers its health check (the hall starts it again; its students reload onto a live
    process meanwhile)."""

    def __init__(self, hall, after: float) -> None:
        super().__init__(name="classroom-load-killer", daemon=True)
        self.hall, self.after = hall, after
        self.report: dict = {}

    def run(self) -> None:
        time.sleep(self.after)
        dead = self.hall.pids()[0]
        os.kill(dead, signal.SIGKILL)
        t0 = time.monotonic()
        health = f"http://127.0.0.1:{self.hall.backends[0]}/_stcore/health"
        while time.monotonic() - t0 < 120:
            if self.hall.pids()[0] != dead:
                try:
                    with urllib.request.urlopen(health, timeout=2) as r:
                        if r.status == 200:
                            break
                except OSError:
                    pass
            time.sleep(0.2)
        self.report = {"pid": dead, "process": "app1", "at_s": self.after,
                       "answering_again_after_s": round(time.monotonic() - t0, 2)}


# --- the command line -------------------------------------------------------------------

def format_table(r: dict) -> str:
    lines = [f"classroom load: {r['students']} students, think {r['think_s']:g} s, "
             f"{r['duration_s']:g} s measured (+{r['warmup_s']:g} s warm-up), {r['url']}",
             "",
             f"{'action':<16}{'count':>7}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}"]
    for kind, s in r["kinds"].items():
        lines.append(f"{kind:<16}{s['n']:>7}{s['p50_ms']:>10.0f}{s['p95_ms']:>10.0f}"
                     f"{s['max_ms']:>10.0f}")
    if r["page_load_by_page"]:
        lines.append("")
        lines.append("page_load by page: " + ", ".join(
            f"{p} {s['n']}x p50 {s['p50_ms']:.0f} ms" for p, s in r["page_load_by_page"].items()))
    lines += ["",
              f"throughput: {r['throughput_per_min']} actions/min "
              f"({r['actions']} actions; connect rows not counted)",
              f"errors: {r['errors']}   refusals: {r['refusals']}   "
              f"warnings: {r['warnings']}   page loads with their content: "
              f"{sum(r['content_by_page'].values())}, refused: {r['refused_page_loads']}"]
    for what in ("error", "refusal", "warning"):
        for t in r[f"{what}_samples"]:
            text = re.sub(r"\\(.)", r"\1", t.splitlines()[0])  # undo markdown escapes
            lines.append(f"  {what}: {text[:250 if what == 'error' else 150]}")
    if r["server_pids"]:
        lines.append(f"server RSS (pids {', '.join(map(str, r['server_pids']))}): at start "
                     f"{r['rss_start_mb']:.0f} MB, idle before the students "
                     f"{r['rss_idle_mb']:.0f} MB, peak {r['rss_peak_mb']:.0f} MB; server CPU "
                     f"{r['server_cpu_cores']} cores busy over the measured window")
    else:
        lines.append("server RSS: no server process found (pass --pids or --match)")
    if r.get("killed"):
        k = r["killed"]
        lines.append(f"killed app process {k['process']} (pid {k['pid']}, SIGKILL) "
                     f"{k['at_s']:g} s after the start: a new one answered after "
                     f"{k['answering_again_after_s']} s")
    if any(r["errors_by_backend"]):
        lines.append("errors by app process (the students' nginx cookie): " + ", ".join(
            f"{name} {n}" for name, n in sorted(r["errors_by_backend"].items())))
    lines.append(f"load generator CPU: {r['client_cpu_cores']} cores; host load average "
                 f"{r['host_loadavg_1min']} at the end")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", default="http://127.0.0.1:8501",
                    help="the server, or a reverse proxy in front of several")
    ap.add_argument("--students", type=int, default=30)
    ap.add_argument("--duration", type=float, default=60, help="measured seconds")
    ap.add_argument("--think", type=float, default=5,
                    help="mean think time in seconds (exponential); 0: back to back")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--warmup", type=float, default=0,
                    help="seconds before the measured window (actions in it not counted)")
    ap.add_argument("--timeout", type=float, default=TIMEOUT_S, help="per run, in seconds")
    ap.add_argument("--pids", type=lambda s: [int(p) for p in s.split(",") if p],
                    help="server PIDs (comma-separated) whose RSS and CPU are summed")
    ap.add_argument("--match", help="sum over processes whose command line contains this, "
                                    "e.g. 'streamlit run' (besides --pids)")
    ap.add_argument("--start", action="store_true",
                    help="spawn `streamlit run app.py` on a free port, run, stop it")
    ap.add_argument("--hall", type=int, metavar="N",
                    help="spawn N app processes behind nginx (cnnviz hall), run, stop them")
    ap.add_argument("--kill-after", type=float, metavar="S",
                    help="with --hall: SIGKILL the first app process S seconds after the "
                         "start (the hall starts it again) and report its return")
    ap.add_argument("--no-verify", action="store_true",
                    help="skip the check that the server follows the widget states sent")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args(argv)

    def go(url: str, pids: list[int]) -> dict:
        return run(url, args.students, args.duration, args.think, args.seed, args.warmup,
                   pids, args.timeout, not args.no_verify)

    try:
        if args.hall:
            with start_hall(args.hall, port=0) as hall:
                killer = None
                if args.kill_after is not None:
                    threading.Thread(target=hall.wait, daemon=True).start()  # revives, as
                    killer = Killer(hall, args.kill_after)  # `cnnviz hall` does
                    killer.start()
                result = go(hall.url, hall.pids())
                if killer is not None:
                    killer.join(timeout=130)
                    result["killed"] = killer.report
        elif args.start:
            with served() as (url, pid):
                result = go(url, [pid])
        else:
            pids = list(args.pids or [])
            if args.match or not pids:
                pids += [p for p in find_pids(args.url, args.match) if p not in pids]
            result = go(args.url, pids)
    except (ActionError, RuntimeError, OSError, ValueError) as e:
        print(f"classroom_load: {e}", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2, ensure_ascii=False) if args.json
          else format_table(result))
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())

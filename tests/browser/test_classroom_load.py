"""bench/classroom_load.py against a real `streamlit run app.py`: a short classroom.

The load generator talks Streamlit's WebSocket protocol itself, so these tests check two
things: that the server really follows the widget states it sends (otherwise the bench
measures nothing), and that a short run of three students ends without an error.
No timing is asserted.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import classroom_load  # noqa: E402

pytestmark = pytest.mark.slow


def in_a_thread(fn, *args, **kwargs):
    """Run `fn` on a thread of its own: playwright's sync API (other tests of this session)
    keeps an event loop running on the main thread, where asyncio.run() refuses to start."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(fn, *args, **kwargs).result()


@pytest.fixture(scope="module")
def server():
    """(url, pid) of a server the bench's own --start mode spawns."""
    with classroom_load.served() as (url, pid):
        yield url, pid


def test_the_server_follows_the_states_the_bench_sends(server):
    url, _ = server
    seen = in_a_thread(asyncio.run, classroom_load.verify(url))
    before, after = seen["parameters"]
    assert before != after, "a depth change must change the Parameters metric"
    assert f"depth={seen['depth'][1]}" in seen["query"]
    assert {"pick_block", "pick_depth", "pick_seed", "view"} <= set(seen["widgets"])
    before, after = seen["gradflow_metrics"]
    assert before and before != after, "the Blocks slider must change Plain vs Residual"


def test_a_short_classroom_runs_without_errors(server):
    url, pid = server
    r = in_a_thread(classroom_load.run, url, students=3, duration=8, think=1, seed=1,
                    pids=[pid])

    assert r["errors"] == 0, "\n".join(r["error_samples"])
    done = {kind for kind, s in r["kinds"].items() if s["n"]}
    for kind in r["scheduled"]:
        # a visit to a page the tab already shows moves the slider instead
        also = {"gradflow_visit": {"gradflow_depth"}}.get(kind, set())
        assert done & ({kind} | also), f"{kind} was scheduled but never completed"
    loads = r["kinds"]["page_load"]["n"]
    assert sum(r["content_by_page"].values()) + r["refused_page_loads"] == loads
    assert r["rss_peak_mb"] >= r["rss_idle_mb"] > 0

"""Shared fixtures for the browser tests: a real `streamlit run` and a real Chromium.

Browser-marked tests skip (with the reason) when Chromium or playwright is
missing, except under CI=true, where a missing browser is a failure.
"""
from __future__ import annotations

import os
import re
import struct
import sys
import tempfile
import zlib
from pathlib import Path
from typing import Any

import pytest
from support_server import (
    APP_IDLE,
    APP_RUNNING,
    CHROMIUM,
    CHROMIUM_ARGS,
    VIEWPORT,
    goto_page,
    start_server,
    stop_server,
    wait_rerun,
)

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
# Opened directly at a page's path (e.g. /feature_maps), Streamlit's frontend first probes
# <path>/_stcore/health and <path>/_stcore/host-config to find its base path; the 404s it
# gets there are expected and it falls back to /. Only those two are ignored.
_BASE_PATH_PROBE = re.compile(r"^https?://[^/]+/[^?#]+/_stcore/(health|host-config)$")


APP_SCRIPT = "from cnnviz import ui\nui.main()\n"  # what app.py runs


@pytest.fixture
def fresh_caches():
    """Empty caches around a test: it sees what a new session on a new server would."""
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


def app_test(timeout: float = 90, **query: str):
    """The app under AppTest: ui.main(), exactly what app.py runs, with URL query params.

    The script lives outside the repository on purpose: beside a pages/ folder, AppTest
    re-enters Streamlit's legacy pages-folder mode before every run and would run each
    page without the app around it (no picker), which a real server does not do.
    """
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_string(APP_SCRIPT, default_timeout=timeout)
    for name, value in query.items():
        at.query_params[name] = str(value)
    return at


def page_file(path: str) -> str:
    """A page's absolute path, as the app's navigation and AppTest.switch_page know it."""
    return str(ROOT / path)


def pytest_configure(config):
    """Rooms the tests open go to a throwaway database, never the user's data directory
    (every server a test starts inherits this)."""
    os.environ["CNNVIZ_DATA_DIR"] = tempfile.mkdtemp(prefix="cnnviz-test-data-")
    os.environ.pop("CNNVIZ_DATABASE_URL", None)


def _in_ci() -> bool:
    return os.environ.get("CI") == "true"


def _missing_browser() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if not os.path.exists(CHROMIUM):
        return f"chromium not found at {CHROMIUM}; install it with apt-get install chromium"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed; pip install -r requirements-dev.txt"
    return None


def pytest_runtest_setup(item):
    if "browser" not in item.keywords:
        return
    reason = _missing_browser()
    if reason is None:
        return
    if _in_ci():  # under CI a missing browser must not pass quietly as a skip
        pytest.fail(f"CI=true and the browser tests cannot run: {reason}", pytrace=False)
    pytest.skip(reason)


# --- the server ------------------------------------------------------------------

@pytest.fixture(scope="session")
def streamlit_server():
    """URL of a `streamlit run app.py` on a free loopback port, for the whole session."""
    try:
        proc, url, log = start_server()
    except RuntimeError as e:
        pytest.fail(str(e), pytrace=False)
    yield url
    stop_server(proc)
    if proc.returncode not in (0, -15, None):
        print(f"streamlit exited with {proc.returncode}; log: {log}", file=sys.stderr)


def own_server(**start: Any):
    """A server of a test's own (its memory or its database is the test's), for a fixture
    to yield from: (process, url, log); a server that does not start fails under CI and
    skips elsewhere."""
    try:
        proc, url, log = start_server(**start)
    except RuntimeError as e:
        if _in_ci():
            pytest.fail(str(e), pytrace=False)
        pytest.skip(f"the server did not start: {e}")
    yield proc, url, log
    stop_server(proc)


# --- the browser -----------------------------------------------------------------

@pytest.fixture(scope="session")
def browser():
    reason = _missing_browser()
    if reason:
        if _in_ci():
            pytest.fail(f"CI=true and the browser tests cannot run: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def watched_page(context):
    """A new page of `context` whose console errors and page errors land in `page.errors`."""
    page = context.new_page()
    page.errors = []

    def on_console(m):
        url = m.location.get("url", "")
        if m.type == "error" and not ("404" in m.text and _BASE_PATH_PROBE.search(url)):
            page.errors.append(f"console: {m.text} ({url})")

    page.on("console", on_console)
    page.on("pageerror", lambda e: page.errors.append(f"pageerror: {e}"))
    return page


@pytest.fixture
def browser_page(browser):
    """A fresh page (own context, 1400x2600) whose console errors land in `page.errors`."""
    context = browser.new_context(viewport=VIEWPORT)
    yield watched_page(context)
    context.close()


def save_screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def assert_clean(page) -> None:
    """No console error, no page error, no Streamlit exception box."""
    errors = list(page.errors)
    exceptions = page.locator('[data-testid="stException"]')
    texts = [exceptions.nth(i).inner_text() for i in range(exceptions.count())]
    assert not errors, "browser errors:\n" + "\n".join(errors)
    assert not texts, "st.exception on the page:\n" + "\n---\n".join(texts)


# Re-export for tests that `from conftest import ...`.
__all__ = ["APP_IDLE", "APP_RUNNING", "CHROMIUM", "CHROMIUM_ARGS", "ROOT", "SCREENSHOTS",
           "VIEWPORT", "assert_clean", "goto_page", "save_screenshot", "start_server",
           "stop_server", "wait_rerun", "watched_page"]


def shown(markdown: str) -> str:
    """What a reader sees of escaped Markdown (cnnviz.ui.safe_text): the backslashes dropped."""
    return re.sub(r"\\(.)", r"\1", markdown).replace("\u2060", "")


def png_header_only(width: int, height: int, colour_type: int = 6) -> bytes:
    """A PNG whose header claims width × height but carries almost no data (a bomb):
    colour type 6 is RGBA, 2 is RGB."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))

"""Shared fixtures for the browser tests: a real `streamlit run` and a real Chromium.

Browser-marked tests skip (with the reason) when Chromium or playwright is
missing, except under CI=true, where a missing browser is a failure.
"""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
VIEWPORT = {"width": 1400, "height": 2600}  # tall: Streamlit scrolls inside its own container
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
APP_IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
APP_RUNNING = '[data-testid="stApp"][data-test-script-state="running"]'
SKELETON = '[data-testid="stSkeleton"]'
SERVER_START_S = 60
# Opened directly at a page's path (e.g. /feature_maps), Streamlit's frontend first probes
# <path>/_stcore/health and <path>/_stcore/host-config to find its base path; the 404s it
# gets there are expected and it falls back to /. Only those two are ignored.
_BASE_PATH_PROBE = re.compile(r"^https?://[^/]+/[^?#]+/_stcore/(health|host-config)$")


APP_SCRIPT = "from cnnviz import ui\nui.main()\n"  # what app.py runs


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

def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int | None = None, timeout: float = SERVER_START_S):
    """Start `streamlit run app.py` on loopback; return (process, url, log path).

    Raises RuntimeError with the server's output if it dies or never gets healthy.
    """
    port = port or _free_port()
    log = tempfile.NamedTemporaryFile(prefix="streamlit-", suffix=".log", delete=False)
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py",
           "--server.headless", "true", "--server.port", str(port),
           "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {proc.returncode}:\n"
                               + Path(log.name).read_text(errors="replace"))
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return proc, url, log.name
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        if time.monotonic() > deadline:
            stop_server(proc)
            raise RuntimeError(f"streamlit not healthy after {timeout:.0f} s:\n"
                               + Path(log.name).read_text(errors="replace"))
        time.sleep(0.2)


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


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


@pytest.fixture
def browser_page(browser):
    """A fresh page (own context, 1400x2600) whose console errors land in `page.errors`."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.errors = []

    def on_console(m):
        url = m.location.get("url", "")
        if m.type == "error" and not ("404" in m.text and _BASE_PATH_PROBE.search(url)):
            page.errors.append(f"console: {m.text} ({url})")

    page.on("console", on_console)
    page.on("pageerror", lambda e: page.errors.append(f"pageerror: {e}"))
    yield page
    context.close()


def goto_page(page, url: str, timeout: float = 60_000) -> None:
    """Open `url` and wait until the script has finished and no skeleton is left."""
    page.goto(url, wait_until="domcontentloaded", timeout=timeout)
    page.wait_for_selector(APP_IDLE, timeout=timeout)
    page.wait_for_selector(SKELETON, state="detached", timeout=timeout)


def wait_rerun(page, timeout: float = 60_000) -> None:
    """Wait for the rerun a widget change triggers: running (if we see it), then idle."""
    try:
        page.wait_for_selector(APP_RUNNING, timeout=2_000)
    except Exception:  # the rerun was too fast to catch in the running state
        pass
    page.wait_for_selector(APP_IDLE, timeout=timeout)
    page.wait_for_selector(SKELETON, state="detached", timeout=timeout)


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
__all__ = ["goto_page", "wait_rerun", "save_screenshot", "assert_clean", "start_server",
           "stop_server", "ROOT", "SCREENSHOTS"]


def shown(markdown: str) -> str:
    """What a reader sees of escaped Markdown (cnnviz.ui.safe): the backslashes dropped."""
    return re.sub(r"\\(.)", r"\1", markdown).replace("\u2060", "")

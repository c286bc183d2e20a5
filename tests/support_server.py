"""One app server on this machine and the browser that drives it, for a test or a benchmark.

`start_server` runs `streamlit run app.py` on a free loopback port and returns once it
answers its health check. The headless Chromium flags are the ones that work on a machine
with no display and a closed network (the tests and the benchmarks drive the same browser).
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"  # Debian's package; playwright cannot download its own here
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
START_TIMEOUT_S = 60
VIEWPORT = {"width": 1400, "height": 2600}  # tall: Streamlit scrolls inside its own container
APP_IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
APP_RUNNING = '[data-testid="stApp"][data-test-script-state="running"]'
SKELETON = '[data-testid="stSkeleton"]'


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthy(url: str, timeout: float = 2) -> bool:
    try:
        with urllib.request.urlopen(url + "/_stcore/health", timeout=timeout) as r:
            return r.status == 200
    except (urllib.error.URLError, ConnectionError, OSError):
        return False


def start_server(port: int | None = None, timeout: float = START_TIMEOUT_S,
                 extra_args: tuple[str, ...] = (), address: str = "127.0.0.1",
                 env: dict[str, str] | None = None, script: str = "app.py",
                 poll_s: float = 0.2) -> tuple[subprocess.Popen, str, str]:
    """Start `streamlit run app.py` (or another `script` of the repository) on a loopback
    `address`; return (process, url, log path). `env` adds to (or replaces) this process's
    environment variables.

    Raises RuntimeError with the server's output if it dies or never gets healthy.
    """
    port = port or free_port()
    log = tempfile.NamedTemporaryFile(prefix="streamlit-", suffix=".log", delete=False)
    cmd = [sys.executable, "-m", "streamlit", "run", script,
           "--server.headless", "true", "--server.port", str(port),
           "--server.address", address, "--browser.gatherUsageStats", "false",
           *extra_args]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, **(env or {})})
    url = f"http://{address}:{port}"
    deadline = time.monotonic() + timeout
    while not healthy(url):
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_server(proc)
            raise RuntimeError(f"streamlit did not start (exit code {proc.returncode}):\n"
                               + Path(log.name).read_text(errors="replace"))
        time.sleep(poll_s)
    return proc, url, log.name


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- a page in a browser (playwright's Page) -------------------------------------------

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


Strokes = list[list[tuple[float, float]]]


def draw_strokes(page, strokes: Strokes, release_last: bool = True) -> None:
    """Draw with the mouse on the Trained Networks page's canvas: each stroke a list of
    points in fractions of its side. With `release_last=False` the last stroke's button
    stays down, so the caller can start a clock before releasing it."""
    canvas = page.locator("canvas.upper-canvas").first
    canvas.scroll_into_view_if_needed()  # the mouse draws only where the window shows it
    box = canvas.bounding_box()
    for i, stroke in enumerate(strokes):
        for j, (x, y) in enumerate(stroke):
            page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"],
                            steps=1 if j == 0 else 6)
            if j == 0:
                page.mouse.down()
        if i < len(strokes) - 1 or release_last:
            page.mouse.up()

"""The lecture hall: 2 app processes behind nginx, with students in Chromium.

Each browser context is one student (its own cookie jar). They must all get a clean
Explorer under the hall's Content-Security-Policy, land on both processes and stay on
theirs, upload an image through the proxy (Streamlit's XSRF check passes), and leave no
process behind when the hall stops. Without nginx the tests skip, except under CI=true.
"""
from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from pathlib import Path

import numpy as np
import pytest
from conftest import (
    APP_IDLE,
    ROOT,
    VIEWPORT,
    assert_clean,
    goto_page,
    save_screenshot,
    wait_rerun,
    watched_page,
)
from PIL import Image
from support_server import SKELETON

from cnnviz.deploy import nginx as nginx_mod
from cnnviz.deploy.hall import start_hall
from cnnviz.deploy.nginx import COOKIE, find_nginx, render_nginx_conf
from cnnviz.pages import EXPLORER

STUDENTS = 4
PAGE_TIMEOUT = 120_000  # ms: two cold processes and four browsers share two cores
EXPLORER_READY = '[data-testid="stMetricValue"]'
# Collects CSP violations in the page itself: a blocked resource does not always log.
CSP_HOOK = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => window.__cspViolations.push(
    `${e.violatedDirective} blocked ${e.blockedURI || "(inline)"} at `
    + `${e.sourceFile}:${e.lineNumber}`
));
"""
SECURITY_HEADERS = {
    "x-frame-options": "SAMEORIGIN",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}


def _need_nginx() -> None:
    try:
        find_nginx()
    except ValueError as e:
        if os.environ.get("CI") == "true":  # as conftest does for Chromium
            pytest.fail(f"CI=true and the hall tests cannot run: {e}", pytrace=False)
        pytest.skip(str(e))


@pytest.fixture(scope="module")
def hall():
    _need_nginx()
    with start_hall(processes=2, port=0, repo=ROOT) as h:
        yield h


def _student(browser):
    """A new student: own context (cookies), console errors and CSP violations recorded."""
    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script(CSP_HOOK)
    return watched_page(context)


def _csp_violations(page) -> list[str]:
    return page.evaluate("window.__cspViolations || []")


def _backend_cookie(page) -> str | None:
    return next((c["value"] for c in page.context.cookies() if c["name"] == COOKIE), None)


def _log_lines(hall) -> list[tuple[str, str, str]]:
    """(request, cookie, upstream port) for each proxied request in nginx's access log."""
    pattern = re.compile(r'"(?P<req>[^"]*)" \d+ \d+ cookie=(?P<cookie>\S+) '
                         r"upstream=(?:.*:)?(?P<port>\d+)$")
    return [(m["req"], m["cookie"], m["port"]) for line in
            hall.access_log.read_text().splitlines() if (m := pattern.search(line))]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie has exited; only its parent has not collected it yet
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().rsplit(")", 1)[-1].split()[0] == "Z")


def _webp(path: Path) -> Path:
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (40, 60, 3), np.uint8)).save(path, "WEBP")
    return path


# --- the configuration, without starting anything ---------------------------------------------

def test_rendered_config_is_valid_nginx(tmp_path):
    _need_nginx()
    conf = render_nginx_conf("0.0.0.0", 8080, [40001, 40002, 40003], tmp_path)
    (tmp_path / "nginx.conf").write_text(conf)
    checked = subprocess.run([find_nginx(), "-t", "-p", f"{tmp_path}/", "-c",
                              str(tmp_path / "nginx.conf")], capture_output=True, text=True,
                             check=False)
    assert checked.returncode == 0, checked.stderr
    assert "client_max_body_size 6m;" in conf  # maxUploadSize 5 MB + slack
    assert "proxy_set_header Host $http_host;" in conf  # Streamlit's WebSocket origin check
    paths = re.findall(r"^\s*(?:pid|error_log|access_log|\w+_temp_path) (\S+?)[; ]", conf,
                       re.MULTILINE)
    assert len(paths) == 8, paths
    for path in paths:
        assert path.startswith(str(tmp_path.resolve())), path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _raw_answer(port: int, request: bytes) -> tuple[int, dict[str, str]]:
    """nginx's status and headers for a request sent byte for byte (http.client would
    refuse to send a malformed one)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(request)
        answer = b""
        while b"\r\n\r\n" not in answer and (chunk := s.recv(65536)):
            answer += chunk
    status, *lines = answer.split(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines)
    return int(status.split()[1]), {k.lower(): v for k, v in headers.items()}


def test_nginx_own_error_answers_carry_the_security_headers(tmp_path):
    """What nginx refuses itself, before or without an app process (a path that climbs
    above the root, a malformed request, a URI too long, an unknown host, no app
    listening), carries the same security headers as the app's pages (issue 29 §1)."""
    _need_nginx()
    port = _free_port()
    (tmp_path / "nginx.conf").write_text(
        render_nginx_conf("127.0.0.1", port, [_free_port()], tmp_path))  # no app behind it
    nginx = subprocess.Popen([find_nginx(), "-p", f"{tmp_path}/", "-c",
                              str(tmp_path / "nginx.conf")], stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        host = f"Host: 127.0.0.1:{port}\r\nConnection: close\r\n"
        requests = {
            400: [f"GET /../etc/passwd HTTP/1.1\r\n{host}\r\n",
                  f"GET /a/../../b HTTP/1.1\r\n{host}\r\n", "NONSENSE\r\n\r\n",
                  f"GET / HTTP/1.1\r\n{host}X-Big: {'a' * 20_000}\r\n\r\n"],
            414: [f"GET /{'a' * 10_000} HTTP/1.1\r\n{host}\r\n"],
            421: ["GET / HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n"],
            502: [f"GET /_stcore/health HTTP/1.1\r\n{host}\r\n"],
        }
        for expected, sent in requests.items():
            for request in sent:
                status, headers = _raw_answer(port, request.encode())
                assert status == expected, (request[:40], status)
                for name, value in SECURITY_HEADERS.items():
                    assert headers.get(name) == value, (request[:40], name, headers)
                assert "default-src 'self'" in headers.get("content-security-policy", ""), \
                    (request[:40], headers)
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)


@pytest.mark.parametrize("kwargs, words", [
    ({"processes": 0}, "number of app processes"),
    ({"processes": 2, "port": 70000}, "port must be"),
    ({"processes": 2, "address": "everyone"}, "must be an IP address"),
])
def test_start_hall_refuses_bad_settings(kwargs, words):
    _need_nginx()
    with pytest.raises(ValueError, match=words):
        start_hall(**{"port": 0, **kwargs})


def test_start_hall_says_when_the_port_is_taken():
    _need_nginx()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        with pytest.raises(ValueError, match="already in use"):
            start_hall(processes=1, port=s.getsockname()[1])


def test_start_hall_says_when_nginx_is_missing(monkeypatch):
    monkeypatch.setattr(nginx_mod.shutil, "which", lambda name: None)
    monkeypatch.setattr(nginx_mod, "NGINX_PATHS", ())
    with pytest.raises(ValueError, match="nginx not found: apt-get install nginx"):
        start_hall(processes=2, port=0)


# --- students in a browser ---------------------------------------------------------------------

@pytest.mark.browser
@pytest.mark.slow
def test_students_get_a_clean_app_on_both_processes_and_stay_there(hall, browser):
    students = [_student(browser) for _ in range(STUDENTS)]
    try:
        responses = [s.goto(f"{hall.url}/{EXPLORER.url_path}", wait_until="domcontentloaded",
                            timeout=PAGE_TIMEOUT)
                     for s in students]  # all load at once, as a class does
        for page in students:
            page.wait_for_selector(APP_IDLE, timeout=PAGE_TIMEOUT)
            page.wait_for_selector(SKELETON, state="detached", timeout=PAGE_TIMEOUT)
            page.locator(EXPLORER_READY).first.wait_for(timeout=PAGE_TIMEOUT)
            assert_clean(page)
            assert not _csp_violations(page), _csp_violations(page)

        # (d) security headers on the page itself
        headers = responses[0].all_headers()
        for name, value in SECURITY_HEADERS.items():
            assert headers.get(name) == value, (name, headers)
        csp = headers.get("content-security-policy", "")
        assert "default-src 'self'" in csp and "frame-ancestors 'self'" in csp, csp
        assert "'unsafe-eval'" not in csp and "script-src 'self'" in csp, csp

        # (b) the stickiness cookie spreads the students over both processes
        cookies = [_backend_cookie(s) for s in students]
        assert set(cookies) == {"app1", "app2"}, cookies

        # the Diagram tab (Graphviz, WebAssembly) also works under the CSP
        page = students[0]
        page.get_by_role("tab", name="Diagram", exact=True).click()
        wait_rerun(page, PAGE_TIMEOUT)
        page.locator('[data-testid="stGraphVizChart"] svg').first.wait_for(timeout=PAGE_TIMEOUT)
        save_screenshot(page, "hall-explorer-diagram")
        assert_clean(page)
        assert not _csp_violations(page), _csp_violations(page)
    finally:
        for s in students:
            s.context.close()  # closes the WebSockets, which nginx then logs

    # every request that carried the cookie reached the process the cookie names,
    # WebSockets included (logged once closed)
    port_of = {f"app{i}": str(p) for i, p in enumerate(hall.backends, start=1)}
    deadline = time.monotonic() + 15
    while True:
        lines = _log_lines(hall)
        streams = [line for line in lines if "/_stcore/stream" in line[0]]
        if len(streams) >= STUDENTS or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert len(streams) >= STUDENTS, f"{len(streams)} WebSockets logged for {STUDENTS} students"
    pinned = [(req, cookie, port) for req, cookie, port in lines if cookie != "-"]
    wrong = [line for line in pinned if port_of.get(line[1]) != line[2]]
    assert pinned and not wrong, f"requests that missed their process: {wrong[:5]}"
    assert {c for _, c, _ in streams} == {"app1", "app2"}, streams


@pytest.mark.browser
@pytest.mark.slow
def test_a_student_uploads_an_image_through_the_proxy(hall, browser, tmp_path):
    page = _student(browser)
    uploads = []
    page.on("response", lambda r: uploads.append((r.request.method, r.status))
            if "/_stcore/upload_file/" in r.url else None)
    try:
        goto_page(page, f"{hall.url}/{EXPLORER.url_path}", PAGE_TIMEOUT)
        page.get_by_role("link", name="Feature Maps").first.click()
        wait_rerun(page, PAGE_TIMEOUT)
        page.locator('[data-testid="stSelectbox"]').filter(has_text="Image").first.click()
        page.get_by_role("option", name="your own image (upload)").click()
        wait_rerun(page, PAGE_TIMEOUT)
        page.locator('input[type="file"]').set_input_files(str(_webp(tmp_path / "photo.webp")))
        wait_rerun(page, PAGE_TIMEOUT)
        page.get_by_text("photo.webp").first.wait_for(timeout=PAGE_TIMEOUT)
        page.get_by_text("residual (skip on)").wait_for(timeout=PAGE_TIMEOUT)
        save_screenshot(page, "hall-feature-maps-upload")
        # the PUT needs the XSRF cookie and header, and the session's own process
        assert ("PUT", 204) in uploads or ("PUT", 200) in uploads, uploads
        assert all(status < 400 for _, status in uploads), uploads
        assert_clean(page)
        assert not _csp_violations(page), _csp_violations(page)
    finally:
        page.context.close()


@pytest.mark.slow
def test_security_headers_and_upload_limit_on_nginx_own_answers(hall):
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(hall.url + "/_stcore/health", timeout=10) as r:
        answers = [("health", r.status, r.headers)]
    # a body over maxUploadSize + slack: nginx refuses it from the headers alone
    connection = http.client.HTTPConnection(hall.url.removeprefix("http://"), timeout=10)
    connection.putrequest("PUT", "/_stcore/upload_file/session/file")
    connection.putheader("Content-Length", str(7 * 2**20))
    connection.endheaders()
    r = connection.getresponse()
    answers.append(("too big", r.status, r.headers))
    connection.close()
    assert [status for _, status, _ in answers] == [200, 413]
    for what, _, headers in answers:
        for name, value in SECURITY_HEADERS.items():
            assert headers.get(name) == value, (what, name, dict(headers))
        assert "default-src 'self'" in headers.get("Content-Security-Policy", ""), what


@pytest.mark.slow
def test_stop_and_ctrl_c_leave_no_process():
    _need_nginx()
    with start_hall(processes=2, port=0, repo=ROOT) as h:
        pids = h.pids() + h.nginx_pids()
        run_dir = h.run_dir
        assert len(h.pids()) == 2 and len(h.nginx_pids()) >= 2  # master and a worker
    assert not [p for p in pids if _alive(p)], "processes left after stop()"
    assert not run_dir.exists()

    with pytest.raises(KeyboardInterrupt), start_hall(processes=2, port=0, repo=ROOT) as h:
        pids = h.pids() + h.nginx_pids()
        raise KeyboardInterrupt  # what Ctrl-C raises in the teacher's terminal
    assert not [p for p in pids if _alive(p)], "processes left after Ctrl-C"


@pytest.mark.slow
def test_a_stopped_process_hands_its_students_to_another():
    _need_nginx()
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def health(h, cookie: str) -> tuple[str, str]:
        """(the Set-Cookie nginx sends, the port that answered) for a pinned request."""
        # A query of its own marks this request's log line: the newest line may be another
        # request's (nginx writes each one just after answering it).
        path = f"/_stcore/health?probe={uuid.uuid4().hex}"
        request = urllib.request.Request(h.url + path, headers={"Cookie": f"{COOKIE}={cookie}"})
        with opener.open(request, timeout=10) as r:
            sticky = [c for c in r.headers.get_all("Set-Cookie") or [] if c.startswith(COOKIE)]
        deadline = time.monotonic() + 10
        while not (ours := [port for req, _, port in _log_lines(h) if path in req]):
            assert time.monotonic() < deadline, f"nginx logged no line for {path}"
            time.sleep(0.05)
        return ";".join(sticky), ours[0]

    with start_hall(processes=2, port=0, repo=ROOT) as h:
        first, second = (str(p) for p in h.backends)
        assert health(h, "app1") == ("", first)  # pinned: no new cookie
        assert health(h, "app2") == ("", second)
        os.kill(h.pids()[0], signal.SIGTERM)
        deadline = time.monotonic() + 30
        while _alive(h.pids()[0]) and time.monotonic() < deadline:
            time.sleep(0.2)
        sticky, port = health(h, "app1")
        assert port == second and sticky.startswith(f"{COOKIE}=app2;"), (sticky, port)


def _get(h, path: str = "/_stcore/health", host: str | None = None,
         cookie: str | None = None) -> int:
    """The status nginx gives a request (with this Host header and stickiness cookie)."""
    port = int(h.url.rsplit(":", 1)[1])
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Host": host or f"127.0.0.1:{port}"}
    if cookie:
        headers["Cookie"] = f"{COOKIE}={cookie}"
    try:
        c.request("GET", path, headers=headers)
        return c.getresponse().status
    finally:
        c.close()


def test_only_its_own_names_reach_the_hall():
    """DNS rebinding: a page on evil.example cannot reach a laptop's hall through a name of
    its own resolving to the laptop; IP addresses, localhost and --host names can."""
    _need_nginx()
    with start_hall(processes=1, port=0, repo=ROOT, hosts=("cnnviz.test",)) as h:
        port = h.url.rsplit(":", 1)[1]
        assert _get(h) == 200
        assert _get(h, host=f"localhost:{port}") == 200
        assert _get(h, host=f"CNNVIZ.test:{port}") == 200
        for foreign in (f"evil.example:{port}", "evil.example", f"cnnviz.test.evil:{port}"):
            assert _get(h, host=foreign) == 421, foreign


@pytest.mark.slow
def test_a_killed_process_comes_back_and_the_others_students_notice_nothing():
    _need_nginx()
    with start_hall(processes=2, port=0, repo=ROOT) as h:
        keeper = threading.Thread(target=h.wait, daemon=True)  # what `cnnviz hall` runs
        keeper.start()
        dead = h.pids()[0]
        os.kill(dead, signal.SIGKILL)
        failures, served, deadline = 0, 0, time.monotonic() + 30
        while time.monotonic() < deadline:
            failures += _get(h, cookie="app2") != 200  # the other process's students
            served += _get(h, cookie="app1") == 200  # app1's: on app2 meanwhile
            if h.pids()[0] != dead and _healthy_backend(h, 0):
                break
            time.sleep(0.2)
        assert h.pids()[0] != dead, "the dead process was not started again"
        assert _healthy_backend(h, 0), "the new process does not answer"
        assert time.monotonic() < deadline, "not back within 30 s"
        assert failures == 0 and served > 0
        assert "nginx" in h.running() and len(h.running()) == 3
    keeper.join(timeout=15)
    assert not keeper.is_alive()  # stop() ended nginx, so wait() returned


def _healthy_backend(h, i: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{h.backends[i]}/_stcore/health",
                                    timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


@pytest.mark.slow
def test_sigterm_to_cnnviz_hall_leaves_no_process_behind():
    _need_nginx()
    cli = subprocess.Popen([sys.executable, "-m", "cnnviz", "hall", "--processes", "2",
                            "--port", "0"], cwd=ROOT, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
    try:
        line = cli.stdout.readline()
        assert line.startswith("Serving 2 app processes"), line
        family = _descendants(cli.pid)
        assert len(family) >= 4  # two apps, nginx's master and a worker
        cli.send_signal(signal.SIGTERM)
        assert cli.wait(timeout=30) == 0
        time.sleep(0.5)
        assert not [p for p in family if _alive(p)], "processes left after SIGTERM"
    finally:
        if cli.poll() is None:
            cli.kill()


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found

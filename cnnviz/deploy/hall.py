"""A lecture hall: N Streamlit app processes behind one nginx, on this machine.

One Streamlit process runs every session's script under one GIL, so a room of students
shares about one core however many the machine has. `start_hall` starts N processes of
`streamlit run app.py` on loopback ports and an nginx (Debian's, run by us in the
foreground, not the system service) that listens on the announced address and keeps each
browser on one process with a cookie (see nginx.conf). An app process that dies is started
again (with a growing pause if it keeps dying); meanwhile nginx sends its students to a
live one. `Hall.stop` ends all of them.

    with start_hall(processes=2, port=8080, address="0.0.0.0") as hall:
        hall.wait()  # until Ctrl-C, SIGTERM or nginx itself stops
"""
from __future__ import annotations

import atexit
import io
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Self

from cnnviz.deploy.address import PUBLIC_URL_ENV  # the room's join link
from cnnviz.deploy.nginx import (
    check_hosts,
    check_port,
    find_nginx,
    max_upload_mb,
    parse_ip,
    render_nginx_conf,
)
from cnnviz.deploy.own_model import without_model

REPO = Path(__file__).resolve().parents[2]
MAX_PROCESSES = 32
START_TIMEOUT_S = 120.0  # a cold start imports torch in every process at once
STOP_TIMEOUT_S = 10.0
LOG_TAIL_LINES = 30
DATABASE_ENV = "CNNVIZ_DATABASE_URL"  # read by cnnviz.store in every app process
RESTART_PAUSES_S = (1.0, 2.0, 4.0, 8.0, 16.0, 30.0)  # before the 1st, 2nd, ... restart in a row
STABLE_AFTER_S = 60.0  # a process up this long starts its count of restarts again

LOG = logging.getLogger("cnnviz.hall")

# Probes go straight to loopback, never through an http_proxy from the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


# --- the processes ---------------------------------------------------------------------------

def _free_loopback_ports(count: int, avoid: int = 0) -> list[int]:
    """`count` distinct free ports on 127.0.0.1 (all sockets open at once: no repeats), none
    of them `avoid` (nginx's, released a moment ago: the kernel may hand it out again)."""
    sockets: list[socket.socket] = []
    try:
        while len([s for s in sockets if s.getsockname()[1] != avoid]) < count:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets if s.getsockname()[1] != avoid][:count]
    finally:
        for s in sockets:
            s.close()


def _claim_port(address: str, port: int) -> int:
    """`port` if it is free on `address` (a free one if 0); ValueError if it is taken."""
    family = socket.AF_INET6 if parse_ip(address).version == 6 else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as nginx does
        try:
            s.bind((address, port))
        except OSError:
            raise ValueError(f"port {port} on {address} is already in use (another server?):"
                             " choose another port or stop the program using it") from None
        return s.getsockname()[1]


def _probe_host(address: str) -> str:
    """Where this machine reaches a server listening on `address`."""
    ip = parse_ip(address)
    if ip.is_unspecified:  # 0.0.0.0 or ::, every interface: loopback is one of them
        return "[::1]" if ip.version == 6 else "127.0.0.1"
    return f"[{ip}]" if ip.version == 6 else str(ip)


def _healthy(url: str, through_nginx: bool = False) -> bool:
    """The app answers its health check at `url` (and, if asked, nginx passed the answer
    on: something else listening on nginx's port would answer too)."""
    try:
        with _OPENER.open(url + "/_stcore/health", timeout=2) as r:
            return r.status == 200 and (not through_nginx
                                        or r.headers.get("Server", "").startswith("nginx"))
    except (urllib.error.URLError, OSError):
        return False


def _tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _child_pids(pid: int) -> list[int]:
    """Direct children of `pid` (Linux /proc), e.g. the nginx master's workers."""
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


class Hall:
    """N app processes and the nginx in front of them. Use `start_hall` to make one.

    `url` is where this machine reaches the hall; students use the announced address and
    the same port. `stop()` (or leaving a `with` block) ends every process.
    """

    def __init__(self, address: str, port: int, backends: list[int], run_dir: Path,
                 own_run_dir: bool) -> None:
        self.address = address
        self.port = port
        self.backends = list(backends)
        self.run_dir = run_dir
        self.url = f"http://{_probe_host(address)}:{port}"
        self._own_run_dir = own_run_dir
        self._apps: list[subprocess.Popen] = []
        self._app_cmds: list[tuple[list[str], dict[str, str], Path]] = []
        self._restarts: list[tuple[int, float]] = []  # per app: (restarts in a row, next at)
        self._started: list[float] = []
        self._nginx: subprocess.Popen | None = None
        self._logs: list[io.BufferedWriter] = []
        self._lock = threading.Lock()
        self._stopped = False

    @property
    def conf_path(self) -> Path:
        return self.run_dir / "nginx.conf"

    @property
    def access_log(self) -> Path:
        """nginx's access log: each line has cookie=appK and upstream=127.0.0.1:PORT."""
        return self.run_dir / "access.log"

    def app_log(self, i: int) -> Path:
        """The output of app process i (from 1)."""
        return self.run_dir / f"app{i}.log"

    def pids(self) -> list[int]:
        """The app processes' pids (one Python process each: sum their RSS for memory)."""
        return [p.pid for p in self._apps]

    def nginx_pids(self) -> list[int]:
        """nginx's master and worker pids while it runs."""
        if self._nginx is None or self._nginx.poll() is not None:
            return []
        return [self._nginx.pid, *_child_pids(self._nginx.pid)]

    def _spawn(self, cmd: list[str], log_name: str, cwd: Path | None = None,
               env: dict[str, str] | None = None) -> subprocess.Popen:
        log = (self.run_dir / log_name).open("ab")  # a restart adds to the same log
        self._logs.append(log)
        # A session of its own: a Ctrl-C in the terminal reaches only us, and stop() ends
        # the processes in order (nginx first) instead of all of them racing.
        return subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)

    def _start_apps(self, repo: Path, torch_threads: int, database: str | None,
                    public_url: str | None = None) -> None:
        env = without_model(os.environ)  # a classroom runs no model file it did not ship
        if database:  # every process answers rooms from the same database
            env[DATABASE_ENV] = database
        if public_url:  # the address students open, for the room's link and QR code
            env[PUBLIC_URL_ENV] = public_url
        # N processes each using every core for torch would fight over the cores.
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env.setdefault(var, str(torch_threads))
        for i, port in enumerate(self.backends, start=1):
            cmd = [sys.executable, "-m", "streamlit", "run", "app.py",
                   "--server.port", str(port), "--server.address", "127.0.0.1",
                   "--server.headless", "true", "--browser.gatherUsageStats", "false",
                   "--server.fileWatcherType", "none"]  # nothing to reload in a lecture
            self._app_cmds.append((cmd, env, repo))
            self._apps.append(self._spawn(cmd, f"app{i}.log", cwd=repo, env=env))
            self._restarts.append((0, 0.0))
            self._started.append(time.monotonic())

    def _wait_apps(self, deadline: float) -> None:
        waiting = dict(enumerate(self._apps, start=1))
        while waiting:
            for i, proc in list(waiting.items()):
                if proc.poll() is not None:
                    raise RuntimeError(f"app process {i} stopped while starting (exit code "
                                       f"{proc.returncode}); its output:\n"
                                       + _tail(self.app_log(i)))
                if _healthy(f"http://127.0.0.1:{self.backends[i - 1]}"):
                    del waiting[i]
            if waiting and time.monotonic() > deadline:
                i = min(waiting)
                raise RuntimeError(f"app process {i} did not answer within the start-up time;"
                                   " its output:\n" + _tail(self.app_log(i)))
            time.sleep(0.2)

    def _start_nginx(self, nginx: str, conf: str, deadline: float) -> None:
        self.conf_path.write_text(conf, encoding="utf-8")
        self._nginx = self._spawn([nginx, "-p", f"{self.run_dir}/", "-c", str(self.conf_path)],
                                  "nginx.log")
        while not _healthy(self.url, through_nginx=True):
            if self._nginx.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("nginx did not start; its messages:\n"
                                   + _tail(self.run_dir / "nginx.log") + "\n"
                                   + _tail(self.run_dir / "error.log"))
            time.sleep(0.1)

    def running(self) -> list[str]:
        """Names of the processes still running, e.g. ['nginx', 'app1', 'app2']."""
        names = ["nginx"] if self._nginx and self._nginx.poll() is None else []
        return names + [f"app{i}" for i, p in enumerate(self._apps, 1) if p.poll() is None]

    def wait(self) -> str:
        """Keep the hall up until nginx stops (say why); an app process that dies is
        started again. Ctrl-C or SIGTERM raise KeyboardInterrupt here, so a `with` block
        around it stops everything."""
        def interrupt(signum, frame):
            raise KeyboardInterrupt

        main = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGTERM, interrupt) if main else None
        try:
            while True:
                if self._nginx is not None and self._nginx.poll() is not None:
                    return f"nginx stopped (exit code {self._nginx.returncode})"
                self.revive()
                time.sleep(0.5)
        finally:
            if main:
                signal.signal(signal.SIGTERM, previous)

    def revive(self) -> list[int]:
        """Start again every app process that has died, once its pause is over (1 s, then
        2, 4, ... up to 30 s if it keeps dying); the numbers (from 1) started now."""
        now, started = time.monotonic(), []
        with self._lock:
            if self._stopped:
                return []
            for i, proc in enumerate(self._apps):
                if proc.poll() is None:
                    if now - self._started[i] > STABLE_AFTER_S:
                        self._restarts[i] = (0, 0.0)
                    continue
                count, due = self._restarts[i]
                if due == 0.0:  # just found dead: wait its pause
                    pause = RESTART_PAUSES_S[min(count, len(RESTART_PAUSES_S) - 1)]
                    LOG.warning("app process %d (port %d) exited with code %s; starting it "
                                "again in %.0f s", i + 1, self.backends[i], proc.returncode,
                                pause)
                    self._restarts[i] = (count, now + pause)
                    continue
                if now < due:
                    continue
                cmd, env, repo = self._app_cmds[i]
                self._apps[i] = self._spawn(cmd, f"app{i + 1}.log", cwd=repo, env=env)
                self._restarts[i] = (count + 1, 0.0)
                self._started[i] = now
                started.append(i + 1)
                LOG.warning("app process %d started again (pid %d)", i + 1,
                            self._apps[i].pid)
        return started

    def stop(self) -> None:
        """End nginx, then every app process (SIGTERM, then SIGKILL after a wait). Safe to
        call twice; removes the run folder if start_hall made it."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        atexit.unregister(self.stop)
        if self._nginx is not None:  # first, so no request reaches a stopping app
            _end([self._nginx])
        _end(self._apps)
        for log in self._logs:
            log.close()
        if self._own_run_dir:
            shutil.rmtree(self.run_dir, ignore_errors=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _end(procs: list[subprocess.Popen]) -> None:
    """SIGTERM each process, wait, then SIGKILL its whole process group (each process leads
    its own: start_new_session), which also takes nginx's workers."""
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    deadline = time.monotonic() + STOP_TIMEOUT_S
    for proc in procs:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            # Not yet reaped, so the group id is still ours to kill.
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                proc.kill()
            proc.wait()


def start_hall(processes: int, port: int, address: str = "127.0.0.1", repo: Path = REPO,
               *, run_dir: Path | None = None, torch_threads: int | None = None,
               timeout: float = START_TIMEOUT_S, database: str | None = None,
               hosts: tuple[str, ...] = (), public_url: str | None = None) -> Hall:
    """Start `processes` app processes and nginx on `address`:`port` (0: a free port).

    The app processes listen on free loopback ports only; nginx is the one door. Returns
    once every process answers its health check. `run_dir` holds the config, pid and logs
    (default: a temporary folder, removed by stop()). `torch_threads` per process defaults
    to the cores divided among the processes. `database` (a URL) is the room database every
    process uses (CNNVIZ_DATABASE_URL); with PostgreSQL, any process serves any room.
    `hosts` are the names students may use besides an IP address and localhost (nginx
    refuses any other, against DNS rebinding). `public_url` (checked by
    cnnviz.deploy.address.checked_public_url) is the address students open, which the
    room's link and QR code carry (CNNVIZ_PUBLIC_URL). Raises ValueError for a setting to change
    (nginx missing, port taken, ...) and RuntimeError, with the log, if a process fails.
    """
    if isinstance(processes, bool) or not isinstance(processes, int) \
            or not 1 <= processes <= MAX_PROCESSES:
        raise ValueError(f"the number of app processes must be from 1 to {MAX_PROCESSES} "
                         f"(about one per CPU core), not {processes!r}")
    check_port(port, "the port", allow_zero=True)
    nginx = find_nginx()
    repo = Path(repo).resolve()
    if not (repo / "app.py").is_file():
        raise ValueError(f"no app.py in {repo}: give the cnnviz repository's folder")
    check_hosts(hosts)
    port = _claim_port(address, port)
    upload_mb = max_upload_mb(repo)
    threads = torch_threads or max(1, (os.cpu_count() or 1) // processes)

    own_run_dir = run_dir is None
    run_dir = (Path(tempfile.mkdtemp(prefix="cnnviz-hall-")) if run_dir is None
               else Path(run_dir)).resolve()
    run_dir.mkdir(parents=True, exist_ok=True)
    hall = Hall(address, port, _free_loopback_ports(processes, avoid=port), run_dir,
                own_run_dir)
    atexit.register(hall.stop)  # no orphans if the caller forgets stop()
    try:
        conf = render_nginx_conf(address, port, hall.backends, run_dir, upload_mb, hosts)
        deadline = time.monotonic() + timeout
        hall._start_apps(repo, threads, database, public_url)
        hall._wait_apps(deadline)
        hall._start_nginx(nginx, conf, deadline)
    except BaseException:  # including Ctrl-C during the start: end what did start
        hall.stop()
        raise
    return hall

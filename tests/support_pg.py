"""A real PostgreSQL server for a test: Debian's binaries, a throwaway cluster, loopback.

The server refuses to run as root, so when the tests run as root the cluster belongs to
the `postgres` user the package creates and its commands run as that user. Without the
binaries the tests that need it skip, except under CI=true (.ci/run installs them).
`frozen(url)` stops the server's processes (SIGSTOP) for a while: a server that stalls with
its connections open, which only the client's own deadline can end.
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_DATA: dict[str, Path] = {}  # each running server's URL -> its data directory


def pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


def missing() -> str | None:
    if pg_bin() is None:
        return "PostgreSQL is not installed (apt-get install postgresql)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no postgres user to run the server as"
    return None


def require() -> None:
    """Skip the test without PostgreSQL, except under CI=true, where that is a failure."""
    import pytest

    reason = missing()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and PostgreSQL cannot run: {reason}")
        pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_owner(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@contextmanager
def postgres_server() -> Iterator[str]:
    """Start a fresh PostgreSQL on a free loopback port; yield its URL; stop and delete."""
    bin_dir = pg_bin()
    assert bin_dir is not None, missing()
    root = Path(tempfile.mkdtemp(prefix="cnnviz-pg-"))
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(root, owner.pw_uid, owner.pw_gid)
    port = _free_port()
    data, log = root / "data", root / "log"
    subprocess.run(_as_owner([str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U",
                              "cnnviz", "--no-sync"]), check=True, capture_output=True)
    subprocess.run(_as_owner([str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log),
                              "-o", f"-k {root} -p {port} -c listen_addresses=127.0.0.1 "
                                    f"-c fsync=on -c max_connections=200",
                              "-w", "start"]), check=True, capture_output=True)
    try:
        subprocess.run(_as_owner([str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p",
                                  str(port), "-U", "cnnviz", "cnnviz"]), check=True,
                       capture_output=True)
        url = f"postgresql://cnnviz@127.0.0.1:{port}/cnnviz"
        _DATA[url] = data
        yield url
    finally:
        _DATA.pop(f"postgresql://cnnviz@127.0.0.1:{port}/cnnviz", None)
        subprocess.run(_as_owner([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast",
                                  "-w", "stop"]), capture_output=True)
        time.sleep(0.1)
        shutil.rmtree(root, ignore_errors=True)


def _children(parent: int) -> list[int]:
    """The processes whose parent is `parent` (read from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # a process that ended while we looked
        if int(fields[1]) == parent:
            found.append(int(stat.parent.name))
    return found


@contextmanager
def frozen(url: str) -> Iterator[None]:
    """The server at `url` stopped (SIGSTOP) for the block: its postmaster (the first line
    of postmaster.pid) first, so that it starts no new process, then its children.
    Connections stay open and nothing answers. Always continued (SIGCONT) afterwards, so
    that the server can be stopped."""
    postmaster = int((_DATA[url] / "postmaster.pid").read_text().split()[0])
    stopped: list[int] = []
    try:
        os.kill(postmaster, signal.SIGSTOP)
        stopped.append(postmaster)
        for pid in _children(postmaster):
            os.kill(pid, signal.SIGSTOP)
            stopped.append(pid)
        yield
    finally:
        for pid in reversed(stopped):
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass

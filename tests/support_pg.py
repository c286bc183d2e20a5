"""A real PostgreSQL server for a test: Debian's binaries, a throwaway cluster, loopback.

The server refuses to run as root, so when the tests run as root the cluster belongs to
the `postgres` user the package creates and its commands run as that user. Without the
binaries the tests that need it skip, except under CI=true (.ci/run installs them).
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


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
        yield f"postgresql://cnnviz@127.0.0.1:{port}/cnnviz"
    finally:
        subprocess.run(_as_owner([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast",
                                  "-w", "stop"]), capture_output=True)
        time.sleep(0.1)
        shutil.rmtree(root, ignore_errors=True)

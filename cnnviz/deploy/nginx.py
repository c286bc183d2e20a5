"""The nginx side of a lecture hall: the configuration, its security headers, the binary.

nginx.conf beside this file is the template; `render_nginx_conf` fills it for N app
processes on loopback ports (see hall.py, which starts them).
"""
from __future__ import annotations

import base64
import hashlib
import importlib.util
import ipaddress
import os
import re
import shutil
import tomllib
from collections.abc import Sequence
from pathlib import Path
from string import Template

TEMPLATE = Path(__file__).with_name("nginx.conf")
COOKIE = "cnnviz_backend"  # the stickiness cookie; its value names a process: app1..appN
NGINX_PATHS = ("/usr/sbin/nginx", "/usr/local/sbin/nginx")  # /usr/sbin is not always on PATH
UPLOAD_SLACK_MB = 1  # multipart boundaries and headers on top of the file itself
STREAMLIT_DEFAULT_UPLOAD_MB = 200  # server.maxUploadSize when config.toml does not set it


class _ConfTemplate(Template):
    delimiter = "@"  # nginx uses $ for its own variables and braces for blocks


def find_nginx() -> str:
    """The nginx executable's path; ValueError if it is not installed."""
    found = shutil.which("nginx") or next((p for p in NGINX_PATHS if os.access(p, os.X_OK)), None)
    if not found:
        raise ValueError("nginx not found: apt-get install nginx")
    return found


def inline_script_hashes() -> list[str]:
    """sha256 sources for the inline <script>s of the installed Streamlit's index.html.

    Streamlit's page has one tiny inline script; allowing exactly it by hash keeps
    'unsafe-inline' out of script-src, and reading the installed file keeps the hash right
    when Streamlit is upgraded. Found via its import spec, without importing Streamlit.
    """
    spec = importlib.util.find_spec("streamlit")
    if spec is None or not spec.submodule_search_locations:
        return []
    index = Path(next(iter(spec.submodule_search_locations))) / "static" / "index.html"
    if not index.is_file():
        return []
    html = index.read_text(encoding="utf-8")
    bodies = re.findall(r"<script\b(?![^>]*\bsrc=)[^>]*>(.*?)</script>", html, re.DOTALL)
    return ["'sha256-" + base64.b64encode(hashlib.sha256(b.encode()).digest()).decode() + "'"
            for b in bodies if b.strip()]


def content_security_policy() -> str:
    """The CSP nginx sends: what Streamlit's frontend and this app's pages need, no more.

    Checked in Chromium on every page, every Explorer tab and an upload, with a
    securitypolicyviolation listener: emotion and plotly write <style> elements and style
    attributes at run time ('unsafe-inline' for styles only); the Diagram tab's Graphviz
    and protobuf.js compile WebAssembly ('wasm-unsafe-eval', which allows no JS eval);
    images and exports use data: and blob: URLs; the WebSocket is same-origin ('self'
    covers ws: on the same host and port). No 'unsafe-eval', no inline scripts but one.
    """
    scripts = " ".join(["'self'", "'wasm-unsafe-eval'", *inline_script_hashes()])
    return "; ".join([
        "default-src 'self'",
        f"script-src {scripts}",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "media-src 'self' data: blob:",
        "frame-ancestors 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
    ])


def check_port(port: int, what: str, allow_zero: bool = False) -> None:
    low = 0 if allow_zero else 1
    if isinstance(port, bool) or not isinstance(port, int) or not low <= port <= 65535:
        raise ValueError(f"{what} must be a whole number from {low} to 65535, not {port!r}")


def parse_ip(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    try:
        return ipaddress.ip_address(address)
    except ValueError:
        raise ValueError(f"address must be an IP address such as 127.0.0.1 (this machine only)"
                         f" or 0.0.0.0 (every network), not {address!r}") from None


def _listen(address: str, port: int) -> str:
    ip = parse_ip(address)
    return f"[{ip}]:{port}" if ip.version == 6 else f"{ip}:{port}"


_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
HOST = re.compile(rf"(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*")
# answered always: localhost and any IP address (nobody else's DNS names)
ALWAYS_SERVED = ("localhost", r"~^[0-9.]+$", r"~^\[[0-9A-Fa-f:.]+\]$")


def check_hosts(hosts: Sequence[str]) -> list[str]:
    """Host names as nginx's server_name takes them; ValueError for one that is not."""
    for host in hosts:
        if not HOST.fullmatch(host):
            raise ValueError(f"{host[:60]!r} is not a host name (letters, digits, '-' and "
                             f"dots, such as cnnviz.school.example)")
    return [h.lower() for h in hosts]


def security_headers() -> list[str]:
    """The headers every response of the hall carries, nginx's own error pages included
    (`always`: on every status, not only 2xx and 3xx)."""
    return [f'add_header Content-Security-Policy "{content_security_policy()}" always;',
            "add_header X-Frame-Options SAMEORIGIN always;",
            "add_header X-Content-Type-Options nosniff always;",
            "add_header Referrer-Policy same-origin always;"]


def render_nginx_conf(listen: str, port: int, backends: list[int], run_dir: Path,
                      upload_mb: int = 5, hosts: Sequence[str] = ()) -> str:
    """A complete nginx.conf: listen on `listen`:`port`, proxy to 127.0.0.1:`backends`.

    Backend i (from 1) is named appi in the stickiness cookie. pid, logs and temp files go
    into `run_dir`, so nginx runs without root-owned directories. `upload_mb` is
    Streamlit's server.maxUploadSize. Requests for any name but `hosts`, localhost and an
    IP address are refused (421).
    """
    check_port(port, "the port")
    if not backends:
        raise ValueError("the hall needs at least one app process")
    for backend in backends:
        check_port(backend, "an app process's port")
    if len(set(backends)) != len(backends):
        raise ValueError(f"two app processes cannot share a port: {backends}")
    run_dir = Path(run_dir).resolve()
    if re.search(r'["$\\\s;{}]', str(run_dir)):
        raise ValueError(f"the run folder {run_dir} has a character nginx cannot take in a "
                         "path (space, quote, $, ;, braces or backslash): choose another")
    if isinstance(upload_mb, bool) or not isinstance(upload_mb, int) or upload_mb < 1:
        raise ValueError(f"the upload limit must be a whole number of MB, not {upload_mb!r}")

    names = [f"app{i}" for i in range(1, len(backends) + 1)]
    indent = " " * 8

    def lines(rows: list[str]) -> str:
        return "\n".join(indent + row for row in rows)

    upstreams = ["    upstream cnnviz_new {  # first request: round robin over every process"]
    upstreams += [f"        server 127.0.0.1:{p};" for p in backends]
    upstreams += ["    }"]
    for name, p in zip(names, backends):
        # backup: if this process is down, another one takes the browser (a new session)
        upstreams += [f"    upstream cnnviz_{name} {{", f"        server 127.0.0.1:{p};"]
        upstreams += [f"        server 127.0.0.1:{q} backup;" for q in backends if q != p]
        upstreams += ["    }"]

    cookie = f"{COOKIE}={{name}}; Path=/; HttpOnly; SameSite=Lax"
    set_cookie = [f'"{n} {n}" "";' for n in names]  # exact matches win over the regexes
    set_cookie += [f'"~ {n}$" "{cookie.format(name=n)}";' for n in names]
    return _ConfTemplate(TEMPLATE.read_text(encoding="utf-8")).substitute(
        count=len(backends),
        run_dir=run_dir,
        listen=_listen(listen, port),
        pinned_map=lines([f"{n} cnnviz_{n};" for n in names]),
        answered_map=lines([f'"~:{p}$" {n};' for n, p in zip(names, backends)]),
        set_cookie_map=lines(set_cookie),
        upstreams="\n".join(upstreams),
        upload_mb=upload_mb,
        body_mb=upload_mb + UPLOAD_SLACK_MB,
        security_headers=lines(security_headers()),
        server_names=" ".join([*ALWAYS_SERVED, *check_hosts(hosts)]),
    )


def max_upload_mb(repo: Path) -> int:
    """server.maxUploadSize from the repository's .streamlit/config.toml, in MB."""
    config = Path(repo) / ".streamlit" / "config.toml"
    if not config.is_file():
        return STREAMLIT_DEFAULT_UPLOAD_MB
    with config.open("rb") as f:
        value = tomllib.load(f).get("server", {}).get("maxUploadSize")
    return int(value) if value else STREAMLIT_DEFAULT_UPLOAD_MB

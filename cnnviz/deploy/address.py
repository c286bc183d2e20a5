"""The address students open to join a room: never the teacher's loopback name.

The teacher's laptop often runs the server and opens it as 127.0.0.1 or localhost; a phone
that scans a QR code of that address reaches itself, not the laptop. So the join link's
origin is, in order:

1. the public URL set for the server (CNNVIZ_PUBLIC_URL, which `cnnviz hall --public-url`
   sets for its processes): the address behind a proxy or a name students can type;
2. the address the teacher's browser used, when it is not a loopback name;
3. this machine's addresses on its networks, with the browser's port and scheme (the
   teacher is warned and may pick one); found from the machine's own sockets: nothing is
   sent anywhere (a UDP socket's connect only asks the kernel which address a route
   leaves from);
4. the loopback address itself, with the warning, when the machine has no network.
"""
from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

PUBLIC_URL_ENV = "CNNVIZ_PUBLIC_URL"
LOOPBACK_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")
ROUTE_PROBE = ("10.255.255.255", 9)  # any address off this machine; connect sends nothing

__all__ = ["JoinAddress", "PUBLIC_URL_ENV", "checked_public_url", "is_loopback",
           "join_address", "lan_addresses", "public_url", "usable"]


def is_loopback(host: str) -> bool:
    """Whether `host` (a name or an IP address, IPv6 with or without brackets) names this
    machine only."""
    host = host.strip().strip("[]").lower().rstrip(".")
    if host in LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return ip.is_loopback or (mapped is not None and mapped.is_loopback)


def checked_public_url(text: str) -> str:
    """A public URL as the join link's origin (http or https, a host, maybe a path prefix;
    no query, fragment or password), without its trailing slash; ValueError with a
    sentence otherwise."""
    parts = urlsplit(str(text).strip())
    try:
        port_ok = parts.port is None or 0 < parts.port < 65536
    except ValueError:
        port_ok = False
    if parts.scheme not in ("http", "https") or not parts.hostname or not port_ok \
            or parts.query or parts.fragment or parts.username or parts.password \
            or any(c.isspace() for c in str(text).strip()) or len(str(text)) > 300:
        raise ValueError(f"the public URL must look like https://cnnviz.school.example or "
                         f"http://192.168.1.20:8501 (no query, fragment or password), not "
                         f"{str(text)[:60]!r}")
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def public_url(environ: dict[str, str] | None = None) -> tuple[str | None, str | None]:
    """The public URL set in the environment, checked: (URL, None), (None, why it is not
    used) or (None, None) when none is set."""
    text = (os.environ if environ is None else environ).get(PUBLIC_URL_ENV, "").strip()
    if not text:
        return None, None
    try:
        return checked_public_url(text), None
    except ValueError as e:
        return None, f"{PUBLIC_URL_ENV} is not used: {e}."


def usable(addresses: Iterable[str]) -> tuple[str, ...]:
    """The addresses a phone on the same network could reach, in order, each once: no
    loopback, link-local, unspecified or multicast address (IPv4 first)."""
    out: list[str] = []
    for text in addresses:
        try:
            ip = ipaddress.ip_address(str(text).split("%", 1)[0])
        except ValueError:
            continue
        if ip.is_loopback or ip.is_link_local or ip.is_unspecified or ip.is_multicast:
            continue
        if str(ip) not in out:
            out.append(str(ip))
    return tuple(sorted(out, key=lambda a: ipaddress.ip_address(a).version))


def lan_addresses() -> tuple[str, ...]:
    """This machine's addresses on its networks, the one its default route leaves from
    first; nothing is sent (see the module's docstring)."""
    found: list[str] = []
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(ROUTE_PROBE)
            found.append(s.getsockname()[0])
    except OSError:
        pass
    try:
        for *_, where in socket.getaddrinfo(socket.gethostname(), None,
                                            proto=socket.IPPROTO_TCP):
            found.append(str(where[0]))
    except OSError:
        pass
    return usable(found)


@dataclass(frozen=True)
class JoinAddress:
    """Where students join: `origin` + "/join?room=CODE". `loopback`: the teacher's browser
    used a loopback name (say so); `choices`: the origins the teacher may pick from (the
    machine's network addresses), `origin` among them."""

    origin: str
    loopback: bool
    choices: tuple[str, ...]
    source: str  # "public", "browser", "network" or "loopback"

    def link(self, path: str, code: str, origin: str | None = None, name: str = "room"
             ) -> str:
        """The page at `path` with `code` in its query as `name` (a room's, a challenge's)."""
        base = origin if origin in self.choices else self.origin
        return f"{base}/{path}?{name}={code}"


def join_address(browser_url: str, public: str | None, lan: Sequence[str]) -> JoinAddress:
    """The join link's origin for a teacher whose browser shows `browser_url` (see the
    module's docstring for the order); `public` is a checked public URL or None, `lan`
    this machine's usable addresses."""
    parts = urlsplit(browser_url or "")
    scheme = parts.scheme if parts.scheme in ("http", "https") else "http"
    origin = f"{scheme}://{parts.netloc}" if parts.netloc else ""
    host = parts.hostname or ""
    loopback = bool(host) and is_loopback(host)
    if public:
        return JoinAddress(public, False, (public,), "public")
    if not loopback:
        return JoinAddress(origin, False, (origin,), "browser")
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    found = tuple(f"{scheme}://{f'[{ip}]' if ':' in ip else ip}{port}" for ip in usable(lan))
    if found:
        return JoinAddress(found[0], True, found, "network")
    return JoinAddress(origin, True, (origin,), "loopback")

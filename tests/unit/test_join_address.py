"""The address students open to join a room (cnnviz.deploy.address): never the teacher's
loopback name; the public URL first, then the browser's own address, then this machine's
network addresses with a warning."""
from __future__ import annotations

import pytest

from cnnviz.deploy.address import (
    PUBLIC_URL_ENV,
    checked_public_url,
    is_loopback,
    join_address,
    lan_addresses,
    public_url,
    usable,
)

LAN = ("192.168.1.20", "10.0.0.5")


@pytest.mark.parametrize("host", ["127.0.0.1", "127.3.2.1", "localhost", "LOCALHOST.",
                                  "::1", "[::1]", "app.localhost", "::ffff:127.0.0.1"])
def test_loopback_names(host):
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["192.168.1.20", "10.0.0.5", "cnnviz.school.example",
                                  "localhostile.example", "0.0.0.0", "2001:db8::1", ""])
def test_names_others_reach(host):
    assert not is_loopback(host)


def test_a_loopback_page_offers_the_network_addresses_with_the_browsers_port():
    where = join_address("http://127.0.0.1:8501/conv_arithmetic?lesson=x&step=1", None, LAN)
    assert where.loopback and where.source == "network"
    assert where.origin == "http://192.168.1.20:8501"
    assert where.choices == ("http://192.168.1.20:8501", "http://10.0.0.5:8501")
    assert where.link("join", "K7QX2M") == "http://192.168.1.20:8501/join?room=K7QX2M"
    # the teacher's pick, if it is one of the choices; anything else is ignored
    assert where.link("join", "K7QX2M", "http://10.0.0.5:8501") == \
        "http://10.0.0.5:8501/join?room=K7QX2M"
    assert where.link("join", "K7QX2M", "http://evil.example") == \
        "http://192.168.1.20:8501/join?room=K7QX2M"
    # a challenge's link: the same reachable origin, its own page and query name
    assert where.link("challenge", "K7QX2M", None, "challenge") == \
        "http://192.168.1.20:8501/challenge?challenge=K7QX2M"


def test_localhost_and_ipv6_loopback_too():
    assert join_address("http://localhost:8080/", None, LAN).origin == \
        "http://192.168.1.20:8080"
    where = join_address("http://[::1]:8501/x", None, ["2001:db8::7", "fe80::1", "::1"])
    assert where.choices == ("http://[2001:db8::7]:8501",)  # no link-local, no loopback


def test_an_address_others_reach_is_kept_as_the_browser_used_it():
    where = join_address("https://cnnviz.school.example/lessons?x=1", None, LAN)
    assert (where.origin, where.loopback, where.source) == (
        "https://cnnviz.school.example", False, "browser")
    where = join_address("http://192.168.1.20:8501/", None, ())
    assert where.origin == "http://192.168.1.20:8501" and not where.loopback


def test_the_public_url_wins_even_on_loopback():
    public = checked_public_url("https://cnnviz.school.example/class/")
    assert public == "https://cnnviz.school.example/class"
    where = join_address("http://127.0.0.1:8501/", public, LAN)
    assert (where.origin, where.loopback, where.source) == (public, False, "public")
    assert where.link("join", "ABCDEF") == \
        "https://cnnviz.school.example/class/join?room=ABCDEF"


def test_no_network_keeps_the_loopback_link_and_says_so():
    where = join_address("http://127.0.0.1:8501/", None, ())
    assert (where.origin, where.loopback, where.source) == (
        "http://127.0.0.1:8501", True, "loopback")


def test_no_browser_url_gives_a_relative_link():  # AppTest, or an old browser
    assert join_address("", None, LAN).link("join", "ABCDEF") == "/join?room=ABCDEF"


@pytest.mark.parametrize("bad", ["ftp://x.example", "cnnviz.school.example", "http://",
                                 "https://x.example/?a=1", "https://x.example/#f",
                                 "https://user:pw@x.example", "http://x.example:99999",
                                 "http://x .example", "javascript:alert(1)",
                                 "https://" + "a" * 300 + ".example"])
def test_a_bad_public_url_is_a_sentence(bad):
    with pytest.raises(ValueError, match="the public URL must look like"):
        checked_public_url(bad)
    url, problem = public_url({PUBLIC_URL_ENV: bad})
    assert url is None and problem is not None and PUBLIC_URL_ENV in problem


def test_the_public_url_from_the_environment():
    assert public_url({}) == (None, None)
    assert public_url({PUBLIC_URL_ENV: " http://10.0.0.5:8501/ "}) == (
        "http://10.0.0.5:8501", None)


def test_usable_addresses_are_ordered_and_once_each():
    assert usable(["127.0.0.1", "192.168.1.20", "fe80::1%eth0", "2001:db8::7",
                   "192.168.1.20", "169.254.1.1", "0.0.0.0", "224.0.0.1", "10.0.0.5",
                   "not an address"]) == ("192.168.1.20", "10.0.0.5", "2001:db8::7")


def test_this_machines_addresses_are_usable_ones():
    found = lan_addresses()  # from the machine's own sockets; whatever this machine has
    assert found == usable(found)


def test_the_hall_refuses_a_bad_public_url_in_one_line():
    import subprocess
    import sys
    from pathlib import Path

    out = subprocess.run([sys.executable, "-m", "cnnviz", "hall", "--public-url", "ftp://x"],
                         cwd=Path(__file__).resolve().parents[2], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 2 and out.stderr.count("\n") == 1
    assert "the public URL must look like" in out.stderr

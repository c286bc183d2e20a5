"""How the class reaches the room, and how the teacher gets back to it.

The join link students can open (never the teacher's loopback name: the choice is
cnnviz.deploy.address's), its QR code, and the room's code and secret kept in the
teacher's browser (its local storage, as a student's anonymous id is kept), so a reload of
the projector's page can resume the room instead of losing it; a design challenge's
teacher keeps theirs the same way (`slot`).
"""
from __future__ import annotations

import functools
import io
import time
from collections.abc import Callable
from typing import TypeVar

import streamlit as st

from cnnviz.deploy.address import JoinAddress, join_address, lan_addresses, public_url
from cnnviz.pages import JOIN, PageSpec
from cnnviz.store import CODE_LENGTH, RoomError, StoreUnavailable
from cnnviz.ui.frame.text import safe_text

ADDRESS = "room_address"  # the teacher's pick among the machine's network addresses
KEEPER = "room_keeper"    # the element that reads (and writes) the browser's storage
SECRET_MAX = 64
LOOPBACK_WARNING = (
    "This page was opened at a name that means *this computer* ({host}): a phone that scans "
    "it reaches itself, not this server. The link and the QR code below use this machine's "
    "network address instead; students reach it only when the server listens on the "
    "network (`streamlit run app.py --server.address 0.0.0.0`, or `cnnviz hall --address "
    "0.0.0.0`) and they are on the same network. Behind a proxy, set the address students "
    "open with `cnnviz hall --public-url URL` (or CNNVIZ_PUBLIC_URL).")
NO_NETWORK = (
    "This page was opened at a name that means *this computer* ({host}), and this machine "
    "has no network address: students cannot reach this link. Connect it to the class's "
    "network, or set the address students open with `cnnviz hall --public-url URL` (or "
    "CNNVIZ_PUBLIC_URL).")

__all__ = ["address_notes", "browser_room", "enter_code", "join_link", "qr_png"]
MAX_WRONG, WRONG_WINDOW_S = 5, 60.0  # codes of nothing a session may type a minute

_KEEP_JS = """
export default function (component) {
    const { setStateValue, data } = component;
    const KEY = "cnnviz-teacher-" + ((data && data.slot) || "room");
    const read = () => {
        try { return JSON.parse(window.localStorage.getItem(KEY) || "null"); }
        catch (e) { return null; }
    };
    try {
        if (data && data.keep) window.localStorage.setItem(KEY, JSON.stringify(data.keep));
        const kept = read();
        if (data && data.forget && kept && kept.code === data.forget)
            window.localStorage.removeItem(KEY);
    } catch (e) {}
    const kept = read();
    const ok = kept && typeof kept.code === "string" && typeof kept.secret === "string";
    setStateValue("room", ok ? { code: kept.code, secret: kept.secret } : null);
}
"""


@functools.cache
def _keeper():
    return st.components.v2.component("cnnviz_teacher_room", js=_KEEP_JS)


def _mount(data: dict, key: str) -> tuple[str, str] | None:
    result = _keeper()(key=key, data=data, on_room_change=lambda: None)
    room = getattr(result, "room", None)
    if not isinstance(room, dict):
        return None
    code, secret = room.get("code"), room.get("secret")
    if isinstance(code, str) and isinstance(secret, str) and \
            0 < len(code) <= 2 * CODE_LENGTH and 0 < len(secret) <= SECRET_MAX:
        return code, secret
    return None  # whatever else a browser sends: nothing kept


def browser_room(keep: tuple[str, str] | None = None, forget: str | None = None,
                 slot: str = "room") -> tuple[str, str] | None:
    """The code and teacher's secret of the room (or, with `slot` "challenge", of the
    design challenge) this browser keeps (untrusted: the store checks the secret before
    anything is resumed), or None. `keep`: this session's, kept for a reload to resume it;
    `forget`: one that ended. Drawn once per run (an invisible element)."""
    keeper = KEEPER if slot == "room" else f"{slot}_keeper"
    if keep is not None:  # keyed by the code: its script runs when the element appears
        return _mount({"slot": slot, "keep": {"code": keep[0], "secret": keep[1]}},
                      f"{keeper}_{keep[0]}")
    return _mount({"slot": slot, **({} if forget is None else {"forget": forget})}, keeper)


_found: list[tuple[float, tuple[str, ...]]] = []  # (when, addresses): looked at again after
NETWORK_TTL_S = 30.0                               # a while (a laptop joins the Wi-Fi late)


def _network() -> tuple[str, ...]:
    now = time.monotonic()
    if not _found or now - _found[0][0] > NETWORK_TTL_S:
        _found[:] = [(now, lan_addresses())]
    return _found[0][1]


def join_link(code: str, page: PageSpec = JOIN) -> tuple[str, JoinAddress]:
    """The link students open for room `code` (or, with `page`, that page's code: a
    challenge's) and how its origin was chosen; where the teacher's browser used a loopback
    name, a warning and (with several network addresses) the teacher's pick among them."""
    public, problem = public_url()
    if problem:
        st.warning(problem, icon="⚠️")
    where = join_address(st.context.url or "", public,
                         _network() if public is None else ())
    picked = st.session_state.get(ADDRESS)
    link = where.link(page.url_path, code, picked if isinstance(picked, str) else None,
                      *page.url_names[:1])
    return link, where


def address_notes(where: JoinAddress) -> None:
    """Under the room's row: why the link is not the address this page was opened at."""
    if not where.loopback:
        return
    from urllib.parse import urlsplit

    host = urlsplit(st.context.url or "").hostname or "localhost"
    text = NO_NETWORK if where.source == "loopback" else LOOPBACK_WARNING
    st.warning(text.format(host=safe_text(host, limit=80)), icon="⚠️")
    if len(where.choices) > 1:
        st.selectbox("The address students open", where.choices, key=ADDRESS,
                     help="this machine's addresses on its networks: pick the class's")


@functools.lru_cache(maxsize=64)
def qr_png(text: str) -> bytes:
    import segno

    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="png", scale=8, border=2)
    return buffer.getvalue()


T = TypeVar("T")


def enter_code(lookup: Callable[[str], T], what: str, param: str, key: str, icon: str
               ) -> T | None:
    """The code a student types (or the link carries, in the query parameter `param`) and
    what `lookup` finds for it (a room, a challenge: `what`), or None after saying why not.
    Codes that open nothing are limited per session (MAX_WRONG a minute), so nobody can try
    codes until one opens something; the same wrong code again (a rerun) is the same
    sentence. `lookup` raises RoomError with the sentence (StoreUnavailable: not counted)."""
    wrong_key, last_key = f"{key}__wrong", f"{key}__last_wrong"
    too_many = f"Too many codes that open no {what}: wait a minute, then try again."
    given = st.query_params.get(param, "")
    typed = st.text_input(f"{what.capitalize()} code", value=given[:12], key=key,
                          max_chars=12, placeholder="e.g. K7QX2M",
                          help="the six characters on the projector (no 0, O, 1, I or L)")
    if not typed.strip():
        st.info(f"Type the {what} code from the projector, or open the link your teacher "
                f"shows.", icon=icon)
        return None
    refused = st.session_state.get(last_key)
    if refused and refused[0] == typed:
        st.warning(refused[1], icon="⚠️")
        return None
    now = time.monotonic()
    wrong = [t for t in st.session_state.get(wrong_key, []) if now - t < WRONG_WINDOW_S]
    st.session_state[wrong_key] = wrong
    if len(wrong) >= MAX_WRONG:
        st.error(too_many, icon="⏳")
        return None
    try:
        found = lookup(typed)
    except StoreUnavailable as e:
        st.error(safe_text(e, limit=300), icon="🚫")
        return None
    except RoomError as e:  # malformed, or nothing has this code: counts towards the limit
        wrong.append(now)
        message = too_many if len(wrong) >= MAX_WRONG else safe_text(e, limit=200)
        st.session_state[last_key] = (typed, message)
        st.warning(message, icon="⚠️")
        return None
    st.session_state.pop(last_key, None)
    return found

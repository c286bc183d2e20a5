"""The app shell: navigation (from cnnviz.pages), and what pages ask of the shared picker."""
from __future__ import annotations

import threading
from contextlib import contextmanager

import streamlit as st

# Streamlit's own interrupt machinery (pinned version: see requirements.txt)
from streamlit.runtime.scriptrunner_utils.exceptions import RerunException, StopException
from streamlit.runtime.scriptrunner_utils.script_requests import ScriptRequestType
from streamlit.runtime.scriptrunner_utils.script_run_context import (
    get_script_run_ctx,
    in_cached_function,
)

from cnnviz.core.spec import StackSpec
from cnnviz.deploy.heavy import set_wait_display, set_yield_point
from cnnviz.pages import EXPLORER, PAGES, PageSpec, default_page
from cnnviz.ui.frame import picker as picker_widget
from cnnviz.ui.frame import startup
from cnnviz.ui.frame.picker import STACK_DEFAULTS
from cnnviz.ui.frame.text import safe_text
from cnnviz.ui.frame.widgets import SCREEN_STYLE
from cnnviz.ui.lessons import player as lesson_player

FIRST_PAGE = startup.page_path(default_page())
# pages whose run needs only what their file imports at its top (a first visit's pages)
QUICK_PAGES = {p.url_path: startup.page_path(p) for p in (default_page(), EXPLORER)}

_RUN = threading.local()  # one script thread per session run


def yield_to_streamlit() -> None:
    """Streamlit's interrupt point, for heavy work between two layers: when this session's
    run was stopped (its tab closed) or superseded (a newer rerun), raise what Streamlit
    raises at its own interrupt points, so the work ends and the run stops or reruns. A
    thread that runs no script (the warm-up) goes on."""
    ctx = get_script_run_ctx(suppress_warning=True)
    requests = getattr(ctx, "script_requests", None)
    if requests is None:
        return
    request = requests.on_scriptrunner_yield()
    if request is None:
        return
    if request.type is ScriptRequestType.RERUN:
        raise RerunException(request.rerun_data)
    raise StopException()


def show_queue_place(place: int | None) -> None:
    """heavy's wait display: a note where the waiting result will appear, saying this
    student's place in the queue; cleared (place None) when their turn comes. The note
    belongs to this run, not to the cached result being computed, so it is written with
    Streamlit's cache recording off (else a later cache hit would replay it)."""
    if get_script_run_ctx(suppress_warning=True) is None:
        return  # the warm-up thread: nobody to tell
    recording = in_cached_function.set(False)
    try:
        note = getattr(_RUN, "queue_note", None)
        if place is None:
            if note is not None:
                note.empty()
            _RUN.queue_note = None
            return
        if note is None:
            note = _RUN.queue_note = st.empty()
        with note.container():
            st.space("medium")  # the cached call's spinner lies over the next element
            st.info(f"The server is busy with other students' work: you are number {place} "
                    "in the queue. This page goes on by itself when your turn comes.",
                    icon="⏳")
    finally:
        in_cached_function.reset(recording)


set_yield_point(yield_to_streamlit)  # heavy work in a script thread stops when abandoned
set_wait_display(show_queue_place)  # ... and a student who waits for a slot is told so


@contextmanager
def shell():
    """Mark a run of app.py, so pages know the navigation and the picker ran first."""
    _RUN.in_shell, _RUN.queue_note = True, None
    try:
        yield
    finally:
        _RUN.in_shell = False


def page_list() -> list[st.Page]:
    """Every page of cnnviz.pages.PAGES, in its order, as st.navigation takes them."""
    return [st.Page(str(startup.page_path(p)), title=p.title, icon=p.icon, url_path=p.name,
                    default=p.default) for p in PAGES.values()]


def navigation():
    """The app's pages (st.navigation); returns the page to run."""
    return st.navigation(page_list())


def spec_of(url_path: str) -> PageSpec:
    """The PageSpec of the page Streamlit serves at `url_path` ("" for the default)."""
    return next(p for p in PAGES.values() if p.url_path == url_path)


def main() -> None:
    """The whole app (app.py calls this): page config, navigation, picker, the page."""
    st.set_page_config(page_title="cnnviz", page_icon="🧱", layout="wide")
    st.html(SCREEN_STYLE)
    with shell():
        page = navigation()
        # the first pages' first views draw no table: the rest can follow in the background
        startup.prepare(QUICK_PAGES.get(page.url_path))
        playing = lesson_player.follow(page)  # a lesson step sets the picker's values
        if playing is None and not page.url_path and _explorer_query():
            # a link to / from before Start here was the first page (?block=...,
            # ?view=...): it still opens the Explorer, with its query
            st.switch_page(str(startup.page_path(EXPLORER)),
                           query_params=st.query_params.to_dict())
        if spec_of(page.url_path).draws_picker:
            picker_widget.picker()
        else:  # a page with controls of its own: the picker's values are kept
            picker_widget.keep()
        if playing:
            lesson_player.panel(*playing, current_device())
        page.run()


def _explorer_query() -> bool:
    """Whether the URL's query names something the Explorer reads: the picker's stack or
    device, its view, or a design pinned to compare."""
    return any(name in (EXPLORER.view_key, "a", "block", "device") or name in STACK_DEFAULTS
               or name.startswith("p_") for name in st.query_params)


def require_shell() -> None:
    """Run a page only inside app.py.

    With a pages/ folder beside app.py, Streamlit starts in its legacy mode and runs a
    page file alone when a fresh server's first request names that page (a shared URL,
    or AppTest). Registering the app's navigation ends that mode for the process; the
    rerun then goes through app.py with the same page.
    """
    if not getattr(_RUN, "in_shell", False):
        navigation()
        st.rerun()


# --- what pages call -----------------------------------------------------------------

def current_spec() -> StackSpec | None:
    """The spec chosen in the sidebar, or None when the combination cannot run."""
    require_shell()
    return picker_widget.chosen()[0]


def sidebar_picker() -> StackSpec | None:
    """Draw the picker in the sidebar on a page with controls of its own, where part of it
    uses the picker's stack; return the validated spec, as current_spec() does."""
    require_shell()
    return picker_widget.picker()


def current_error() -> str | None:
    """Why current_spec() is None (the validation message), if it is."""
    return picker_widget.chosen()[1]


def current_device() -> str:
    return picker_widget.chosen_device()


def spec_or_stop() -> StackSpec:
    """The current spec; without one, tell the user to fix the picker and stop the page."""
    spec = current_spec()
    if spec is None:
        st.error(safe_text(current_error() or "This configuration cannot run."), icon="🚫")
        st.info("Fix the picker in the sidebar to see this page: the message above says what "
                "to change.", icon="👈")
        st.stop()
    return spec

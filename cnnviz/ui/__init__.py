"""The only importer of streamlit: the frame every page uses (frame/: shell, picker, URL
state, widgets, caches) and the feature parts (lessons/, rooms/, network/, trained/,
analysis/), plus the server's warm-up (prewarm.py).

Pages import what they need from here (`from cnnviz import ui`) or from a feature part;
nothing below `ui` knows about streamlit.
"""
from cnnviz.deploy.heavy import release_memory
from cnnviz.ui.analysis import compare
from cnnviz.ui.frame import cache, messages
from cnnviz.ui.frame.cache import cached_report, cached_summary
from cnnviz.ui.frame.image_input import check_upload, image_input
from cnnviz.ui.frame.picker import show_overrides, stack_from_query, url_values
from cnnviz.ui.frame.shell import (
                             current_device,
                             current_error,
                             current_spec,
                             main,
                             require_shell,
                             sidebar_picker,
                             spec_or_stop,
)
from cnnviz.ui.frame.text import safe_text
from cnnviz.ui.frame.widgets import (
                             pixel_pictures,
                             python_code,
                             show_error,
                             show_grade,
                             stop_on_error,
                             table,
                             view_choice,
                             view_tabs,
)
from cnnviz.ui.lessons import player as lesson_player

__all__ = ["cache", "cached_report", "cached_summary", "check_upload", "compare",
           "current_device", "current_error", "current_spec", "image_input",
           "lesson_player", "main", "pixel_pictures", "python_code", "release_memory",
           "require_shell", "safe_text", "show_error", "show_grade", "show_overrides",
           "sidebar_picker",
           "spec_or_stop", "stop_on_error", "table", "stack_from_query", "url_values",
           "view_choice", "view_tabs"]

messages.install()  # before any run reads what a browser sent

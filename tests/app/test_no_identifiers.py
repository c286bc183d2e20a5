"""No Python identifier on any page or lesson step: what a learner reads names things in
words ("Kaiming (fan-in)", "block 1 · conv 2"), never as code (`kaiming_in`,
`0.0.body.0.conv`).

Every page is opened with its default state and each of its views (one AppTest per page),
and every step of every lesson on its page; the text a learner sees is collected from the
rendered elements (Markdown, captions, alerts, headings, widget labels, their help and the
options they show, metrics, table headers and cells, chart titles, axes, legends and
hovers) and searched for a snake_case word or a dotted module path. A code box (st.code)
may hold identifiers: it is code; so may a table cell that is all one code span (what
table() makes of a value marked Code: a name from a person's own model, which has no words
of its own). The failure lists every offending (where, text).
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from conftest import app_test, page_file, shown
from streamlit.testing.v1 import AppTest

from cnnviz.lessons import load_lessons
from cnnviz.pages import ARITH_MODES, PAGES, ExplorerView, NetworkView, TrainedView, labels
from cnnviz.topics import costs

SNAKE = re.compile(r"\b[a-z][a-z0-9]*_[a-z0-9_]+\b")
# a dotted path of three parts or more, one of them a word: 0.0.body, torch.nn.functional
DOTTED = re.compile(r"\b(?=[\w.]*[a-z])\w+(?:\.\w+){2,}\b")
URL = re.compile(r"https?://\S+")
FILE = re.compile(r"[\w/.-]+\.(?:toml|py|pt|json|csv|png)\b")  # a file's name is its name
MATH = re.compile(r"\$\$.*?\$\$|\$[^$]+\$", re.S)
# real names a learner may read as they are, outside code boxes too
# real names a learner may look up: PyTorch's and scikit-learn's own API, in sources and code
ALLOWED = {"F.conv2d", "torch.nn.Conv2d", "torch.nn.ConvTranspose2d",
           "torch.nn.CrossEntropyLoss", "output_padding", "load_digits"}
# elements whose text is code or page styling, not words to read
NOT_TEXT = {"code", "html", "json", "empty", "divider", "space", "graphviz_chart"}
# chart keys whose strings are styling, not text
CHART_STYLE = {"template", "color", "colorscale", "font", "family", "type", "mode",
               "hoverinfo", "xref", "yref", "anchor", "textposition"}


def identifiers(text: str, math: bool = False) -> list[str]:
    """The identifiers in `text` (unescaped Markdown or plain text); in LaTeX (`math`, or
    between dollars) only dotted paths and the words of \\text{...}, since a subscript
    is written with an underscore there."""
    text = FILE.sub(" ", URL.sub(" ", shown(text)))
    found: list[str] = []
    pieces = [text] if math else MATH.split(text)
    formulas = [text] if math else MATH.findall(text)
    for piece in pieces:
        found += SNAKE.findall(piece)
        found += [m.group(0) for m in DOTTED.finditer(piece)]
    for formula in formulas:
        found += [m.group(0) for m in DOTTED.finditer(formula)]
        for words in re.findall(r"\\(?:text|mathrm|operatorname)\{([^}]*)\}", formula):
            found += SNAKE.findall(words.replace("\\_", "_"))
    return [f for f in found if f not in ALLOWED]


def code_span(cell: str) -> bool:
    """A cell that is one Markdown code span and nothing else: `name`, ``a`b``."""
    fence = re.match(r"`+", cell)
    if fence is None or len(cell) <= 2 * len(fence.group(0)):
        return False
    inner = cell[len(fence.group(0)):-len(fence.group(0))]
    return cell.endswith(fence.group(0)) and fence.group(0) not in inner and \
        not inner.startswith("`") and not inner.endswith("`")


def _chart_strings(value, key: str = "") -> Iterator[str]:
    if key in CHART_STYLE:
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _chart_strings(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _chart_strings(v, key)


def texts(node) -> Iterator[tuple[str, str, bool]]:
    """(element type, text, is LaTeX) of every element under `node` a learner reads."""
    kind = getattr(node, "type", "")
    children = getattr(node, "children", None)
    if children is not None:
        label = getattr(node, "label", None) if kind in ("tab", "expander", "popover") else None
        if label:
            yield kind, label, False
        for child in children.values():
            yield from texts(child)
        return
    if kind in NOT_TEXT:
        return
    proto = getattr(node, "proto", None)
    if proto is None:
        return
    if kind in ("plotly_chart", "echarts_chart", "vega_lite_chart", "arrow_vega_lite_chart"):
        spec = getattr(proto, "spec", "") or getattr(proto, "figure", None)
        try:
            parsed = json.loads(spec if isinstance(spec, str) else spec.spec)
        except (TypeError, ValueError, AttributeError):
            return
        for s in _chart_strings(parsed):
            yield kind, s, False
        return
    if kind in ("arrow_data_frame", "dataframe", "table"):
        frame = node.value
        for column in frame.columns:
            yield kind, str(column), False
        for column in frame.columns:
            for cell in frame[column]:
                if isinstance(cell, str) and not code_span(cell):
                    yield kind, cell, False
        return
    if kind == "imgs" or kind == "image":
        for img in getattr(proto, "imgs", []):
            if img.caption:
                yield kind, img.caption, False
        return
    for field in ("body", "label", "help", "placeholder", "caption", "delta"):
        value = getattr(proto, field, None)
        if isinstance(value, str) and value:
            yield kind, value, kind == "latex" or (kind == "markdown" and
                                                   getattr(proto, "element_type", 0) == 2)
    for option in getattr(proto, "options", []) or []:
        if isinstance(option, str):
            yield kind, option, False


def offences(at: AppTest, where: str) -> list[tuple[str, str]]:
    """(where, text) for every element text of `at` that holds an identifier."""
    assert not at.exception, (where, [e.value for e in at.exception])
    found = []
    for kind, text, math in texts(at._tree):
        names = identifiers(text, math)
        if names:
            found.append((f"{where} [{kind}: {', '.join(sorted(set(names)))}]",
                          text[:300]))
    return found


def report(found: list[tuple[str, str]]) -> str:
    """One line per offending text (the first place it was seen, and how many more)."""
    places: dict[str, list[str]] = {}
    for where, text in found:
        places.setdefault(text, []).append(where)
    return f"{len(places)} texts show Python identifiers:\n" + "\n".join(
        f"- {where[0]}{f' (and {len(where) - 1} more places)' if len(where) > 1 else ''}: "
        f"{text!r}" for text, where in places.items())


# --- the pages ---------------------------------------------------------------------------

# (page file, the session key of its views, the views beyond the first); every page opens
# first at its defaults
VIEWS = {
    "pages/start.py": ("", ()),
    "pages/explorer.py": ("view", labels(ExplorerView)[1:]),
    "pages/plain_vs_residual.py": ("", ()),
    "pages/feature_maps.py": ("", ()),
    "pages/receptive_field.py": ("", ()),
    "pages/conv_arithmetic.py": ("arith_mode", ARITH_MODES[1:]),
    "pages/cost_lab.py": ("cost_topic", tuple(costs.TOPICS)[1:]),
    "pages/network.py": ("net_view", labels(NetworkView)[1:]),
    "pages/trained.py": ("view", labels(TrainedView)[1:]),
    "pages/lessons.py": ("", ()),
    "pages/glossary.py": ("", ()),
    "pages/join.py": ("", ()),
    "pages/challenge.py": ("", ()),
}


def test_every_page_is_listed():
    assert set(VIEWS) == {p.file for p in PAGES.values()}


@pytest.mark.slow  # the pages' own caches, shared with the other app tests, make it faster
def test_every_page_and_view_names_things_in_words():
    found: list[tuple[str, str]] = []
    for path, (key, views) in VIEWS.items():
        at = app_test(180).run()  # one session a page, so a page's views share its state
        at.switch_page(page_file(path)).run()
        found += offences(at, path)
        for view in views:
            at.session_state[key] = view
            found += offences(at.run(), f"{path} · {view}")
    assert not found, report(found)


def test_every_cost_comparison_has_a_caption():
    assert set(costs.CAPTIONS) == set(costs.TOPICS)


# --- the lessons -------------------------------------------------------------------------

CATALOG = load_lessons()
LESSONS = CATALOG.lessons


@pytest.mark.slow
def test_every_lesson_step_names_things_in_words():
    """Each step of each lesson, on its page with its state, its text shown and a question
    revealed (its explanation and sources then shown too); one session a lesson, stepping
    on with Next."""
    assert LESSONS and not CATALOG.problems, (  # else this test would walk no step
        f"{len(CATALOG.problems)} problems in the lesson files: "
        + "; ".join(f"{p.file} {p.where}: {p.what}" for p in CATALOG.problems[:5]))
    found: list[tuple[str, str]] = []
    for lesson in LESSONS:
        at = app_test(180, lesson=lesson.name, step=1).run()
        for step in lesson.steps:
            if step.question is not None:
                at.button(key=f"lesson_{lesson.name}_{step.number}_reveal").click().run()
            found += offences(at, f"lesson {lesson.name}, step {step.number}")
            if step.number < len(lesson.steps):
                at.button(key="lesson_next").click().run()
    assert not found, report(found)

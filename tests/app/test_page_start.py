"""The way in (AppTest): Start here at / with its three paths, an older link to / that opens
the Explorer, and the Glossary that every metric's tooltip links to."""
from __future__ import annotations

import re

import pytest
from conftest import app_test, page_file
from streamlit.testing.v1 import AppTest

from cnnviz.lessons import load_lessons
from cnnviz.lessons.glossary import BY_ANCHOR, ENTRIES
from cnnviz.pages import EXPLORER, GLOSSARY, PLAIN_VS_RESIDUAL, ExplorerView

TIMEOUT = 120
LINK = re.compile(r"\]\(" + GLOSSARY.name + r"#([^)\s]*)\)")

pytestmark = pytest.mark.usefixtures("fresh_caches")


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def links(at: AppTest) -> list[str]:
    """The page links drawn, each as "page?query"."""
    return [f"{link.proto.page}?{link.proto.query_string}" for link in at.get("page_link")]


def test_a_first_visit_shows_the_three_ways_in():
    at = app_test(TIMEOUT).run()
    assert_clean(at)
    assert at.title[0].value == "👋 Start here"
    assert [s.value for s in at.subheader] == ["🧑‍🎓 Learn on your own", "🧑‍🏫 Teach a class",
                                               "🔎 Explore freely"]
    first = load_lessons().lessons[0]
    drawn = links(at)
    queries = [d.split("?", 1)[1] for d in drawn]
    assert f"lesson={first.name}&step=1" in queries  # learn alone: the first lesson
    assert f"lesson={first.name}&step=1&present=1" in queries  # teach: presenter mode
    for name in ("join", "explorer", "glossary", "lessons"):  # the room; explore; the words
        assert any(d.split("?")[0].rstrip("/").endswith(name) for d in drawn), (name, drawn)
    assert not at.sidebar.selectbox  # no picker on a page that reads none


@pytest.mark.parametrize("query", [{"block": "inception"}, {"view": "Diagram"}])
def test_an_older_link_to_the_root_still_opens_the_explorer(query):
    at = app_test(TIMEOUT, **query).run()
    assert_clean(at)
    assert at.title[0].value.endswith("Block Explorer")
    name, value = next(iter(query.items()))
    assert at.query_params[name] == [value] or at.query_params[name] == value


def _glossary_links(at: AppTest) -> list[tuple[str, str]]:
    """(metric label, anchor) of every glossary link in a metric's tooltip."""
    return [(m.label, anchor) for m in at.metric for anchor in LINK.findall(m.help or "")]


def test_every_metric_links_to_a_glossary_entry_that_exists():
    seen: list[tuple[str, str]] = []
    at = app_test(TIMEOUT).run()
    at.switch_page(page_file(EXPLORER.file)).run()
    assert_clean(at)
    headline = [m for m in at.metric]
    assert len(headline) >= 6
    for m in headline:  # each says what the quantity is, and links to the word
        assert LINK.search(m.help), m.label
    seen += _glossary_links(at)
    for view in ExplorerView:
        at.session_state["view"] = view.value
        at.run()
        seen += _glossary_links(at)
    at.switch_page(page_file(PLAIN_VS_RESIDUAL.file)).run()
    assert_clean(at)
    gradients = _glossary_links(at)
    assert {label for label, _ in gradients} == {m.label for m in at.metric}
    seen += gradients
    anchors = {anchor for _, anchor in seen}
    assert {"mac", "flop", "parameter", "activation-memory", "receptive-field", "jump",
            "gradient-norm", "shortcut", "normalization", "initialization"} <= anchors
    at.switch_page(page_file(GLOSSARY.file)).run()
    assert_clean(at)
    drawn = {h.proto.anchor for h in at.subheader}
    missing = sorted(a for a in anchors if a not in drawn or a not in BY_ANCHOR)
    assert not missing, missing


def test_the_glossary_has_the_words_the_pages_use():
    words = {e.anchor for e in ENTRIES}
    assert {"receptive-field", "mac", "flop", "stride", "padding", "jump", "activation-memory",
            "gradient-norm", "normalization", "initialization", "shortcut", "bottleneck",
            "grouped-convolution", "parameter"} <= words
    for e in ENTRIES:
        assert e.text.endswith(".") and len(e.text) < 400, e.anchor
        # a claim about a paper names its source next to it
        assert ("et al." not in e.text and "20" not in e.text) or e.sources, e.anchor

"""The way in (AppTest): Start here at / with its three paths, an older link to / that opens
the Explorer, and the Glossary's words (that every metric's tooltip links to them is
test_glossary_links.py's)."""
from __future__ import annotations

import pytest
from conftest import app_test
from streamlit.testing.v1 import AppTest

from cnnviz.lessons import load_lessons
from cnnviz.lessons.glossary import ENTRIES

TIMEOUT = 120

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


def test_the_glossary_has_the_words_the_pages_use():
    words = {e.anchor for e in ENTRIES}
    assert {"receptive-field", "mac", "flop", "stride", "padding", "jump", "activation-memory",
            "gradient-norm", "normalization", "initialization", "shortcut", "bottleneck",
            "grouped-convolution", "parameter", "shape", "prediction", "accuracy",
            "test-split"} <= words
    for e in ENTRIES:
        assert e.text.endswith(".") and len(e.text) < 400, e.anchor
        # a claim about a paper names its source next to it
        assert ("et al." not in e.text and "20" not in e.text) or e.sources, e.anchor

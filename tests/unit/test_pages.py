"""The pages are defined once, in cnnviz/pages/: everything else reads PageSpec.

The README's table is generated from it, no other module writes a page's title, path, file
or a control's widget key, and a page added in a temporary copy of the app (its file and one
PageSpec, nothing else) is in the navigation, the lesson checker and the warm-up's list.
"""
from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

from cnnviz.core.errors import InputError
from cnnviz.lessons import read_lesson
from cnnviz.pages import PAGES, Control, PageSpec, lesson_pages, markdown_table

ROOT = Path(__file__).resolve().parents[2]
BEGIN = "<!-- pages table: generated from cnnviz/pages/ -->"
END = "<!-- end of the pages table -->"


def test_the_readme_table_is_the_one_generated_from_the_spec():
    readme = (ROOT / "README.md").read_text()
    assert BEGIN in readme and END in readme
    table = readme.split(BEGIN, 1)[1].split(END, 1)[0].strip()
    assert table == markdown_table(), (
        "README.md's table of pages differs from cnnviz/pages/: paste the output of "
        '`python -c "from cnnviz.pages import markdown_table; print(markdown_table())"`')


def _spec_words() -> dict[str, str]:
    """Every title, URL path, file and widget key the spec defines -> what it is."""
    words: dict[str, str] = {}
    for p in PAGES.values():
        words[p.title] = f"{p.name}'s title"
        words[p.file] = f"{p.name}'s file"
        if p.url_path:
            words[p.url_path] = f"{p.name}'s path"
        for c in (*p.controls, *p.own_controls):
            if c.key:
                words[c.key] = f"{p.name}'s control {c.name}"
        if p.views is not None:
            words.update({v.value: f"{p.name}'s view {v.name}" for v in p.views})
    return words


def _scanned() -> list[Path]:
    return sorted([*(ROOT / "pages").glob("*.py"), *(ROOT / "cnnviz" / "ui").rglob("*.py"),
                   *(ROOT / "bench").glob("*.py")])


# the same words meaning something else: (file, word) -> what it is there
ELSEWHERE = {("cnnviz/ui/trained/views.py", "Networks"): "the label of the pair selector",
             ("pages/plain_vs_residual.py", "Plain vs residual"): "the page's heading"}


def test_titles_paths_files_keys_and_views_are_written_only_in_the_spec():
    """Pages, the ui package and the benches name a page or a control through PageSpec,
    never by a string of their own (a renamed page or key would leave it behind). A page's
    path is a word ("trained", "network"): as a key of a dict it names something else."""
    words, found = _spec_words(), []
    paths = {p.url_path for p in PAGES.values()}
    for path in _scanned():
        tree, where = ast.parse(path.read_text()), str(path.relative_to(ROOT))
        as_keys = {id(k) for n in ast.walk(tree) if isinstance(n, ast.Dict) for k in n.keys}
        as_keys |= {id(n.slice) for n in ast.walk(tree) if isinstance(n, ast.Subscript)}
        names = {id(a) for n in ast.walk(tree) if isinstance(n, ast.Call)  # PAGE.control(name)
                 and isinstance(n.func, ast.Attribute) and n.func.attr == "control"
                 for a in n.args}
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Constant) and isinstance(node.value, str)
                    and node.value in words) or (where, node.value) in ELSEWHERE:
                continue
            if (node.value in paths and id(node) in as_keys) or id(node) in names:
                continue
            found.append(f"{where}:{node.lineno} writes {node.value!r} ({words[node.value]})")
    assert found == []


def test_the_scan_finds_what_it_looks_for(tmp_path):
    """The check above would pass on a scan that found nothing."""
    words = _spec_words()
    assert {"Block Explorer", "pages/join.py", "join", "gf_depth", "Diagram"} <= set(words)


def test_the_picker_rule_is_one_rule():
    """The shell draws the picker where the spec says, and a page with controls of its own
    whose step's stack applies draws the picker itself."""
    for p in PAGES.values():
        assert p.draws_picker == (p.picker_rule == "sidebar")
        assert p.takes_stack == (p.picker_rule != "none")
        if p.picker_rule == "own":
            assert "sidebar_picker" in (ROOT / p.file).read_text(), p.name
        if p.picker_rule == "none" and p.lesson:
            assert all(c.derive is None for c in p.controls), p.name


def test_every_page_has_its_file_and_a_unique_path():
    assert sum(p.default for p in PAGES.values()) == 1
    assert len({p.url_path for p in PAGES.values()}) == len(PAGES)
    assert {p.file for p in PAGES.values()} == {
        str(f.relative_to(ROOT)) for f in (ROOT / "pages").glob("*.py")}
    for p in PAGES.values():
        assert all(c.key.startswith(p.prefix) or c.in_url or c.key == p.view_key
                   for c in p.controls), p.name


# --- adding a page ------------------------------------------------------------------------

NEW_PAGE = '''import streamlit as st

from cnnviz import ui
from cnnviz.cli import formatting  # nothing else in the app imports it

ui.require_shell()
st.title("A throw-away page")
st.write(st.session_state.get("tmp_count"))
'''
NEW_SPEC = PageSpec("tmp_page", "Throw-away", "🧪", "tmp_", (
    Control("count", "tmp_count", low=1, high=3, default=1),), figures=("tmp_chart",))
LESSON = '''title = "On the new page"
audience = "a test"
duration = 1
concepts = ["a new page"]

[[steps]]
title = "There"
page = "tmp_page"
block = "conv_bn_act"
controls = {{ count = {count} }}
figure = "tmp_chart"
sources = ["computed"]
text = "The new page, with its control set."
'''


@pytest.fixture
def app_with_a_new_page(tmp_path, monkeypatch):
    """A copy of the app's pages in a temporary tree, plus one new page file and its
    PageSpec: nothing else is edited."""
    from cnnviz.ui.frame import startup

    tree = tmp_path / "app"
    shutil.copytree(ROOT / "pages", tree / "pages")
    (tree / NEW_SPEC.file).write_text(NEW_PAGE)
    monkeypatch.setitem(PAGES, NEW_SPEC.name, NEW_SPEC)
    monkeypatch.setattr(startup, "ROOT", tree)
    startup.every_module.cache_clear()
    yield tree
    startup.every_module.cache_clear()  # the real app's again


def test_a_new_page_is_in_the_warm_up_and_the_lesson_checker(app_with_a_new_page, tmp_path):
    from cnnviz.ui.frame import startup

    tree = app_with_a_new_page
    assert tree / NEW_SPEC.file in startup.page_files()
    assert "cnnviz.cli.formatting" in startup.every_module()
    assert NEW_SPEC.name in lesson_pages()
    good, bad = tmp_path / "good.toml", tmp_path / "bad.toml"
    good.write_text(LESSON.format(count=2))
    bad.write_text(LESSON.format(count=7))
    lesson, problems = read_lesson(good)
    assert problems == [] and lesson is not None
    step = lesson.steps[0]
    assert (step.page, dict(step.state.controls)) == (NEW_SPEC.name, {"count": 2})
    lesson, problems = read_lesson(bad)
    assert lesson is None and "out of range" in str(problems)


def test_a_new_page_is_in_the_navigation(app_with_a_new_page):
    from conftest import app_test

    at = app_test().run()
    assert not at.exception
    at.switch_page(str(app_with_a_new_page / NEW_SPEC.file)).run()
    assert not at.exception, at.exception
    assert [t.value for t in at.title] == ["A throw-away page"]
    assert any(w.key == "pick_block" for w in at.sidebar.selectbox)  # "sidebar": the picker


@pytest.mark.parametrize("value", [0.5, 1, 0.001])
def test_a_number_control_with_a_float_range_takes_any_finite_number_in_it(value):
    assert Control("lr", "x_lr", low=0.001, high=1.0).parse(value) == value


@pytest.mark.parametrize("value", [float("nan"), float("inf"), True, "0.1", 2.0, 0.0])
def test_a_number_control_with_a_float_range_refuses_the_rest(value):
    with pytest.raises(InputError):
        Control("lr", "x_lr", low=0.001, high=1.0).parse(value)


def test_a_whole_number_control_refuses_a_float():
    with pytest.raises(InputError):
        Control("depth", "x_depth", low=1, high=9).parse(2.0)


def test_every_control_of_every_page_has_a_label_shown_and_listed_with_it():
    """One label per control: the page draws it and a step's list of settings names it."""
    from cnnviz.topics import costs

    for page in PAGES.values():
        controls = [*page.controls, *page.own_controls]
        for topic in costs.TOPICS:
            controls += page.all_controls({"topic": topic}).values()
        for c in controls:
            assert c.label and c.label == c.label.strip(), (page.name, c.name)

"""Every metric links to the Glossary: its tooltip says what the number is and links to the
entry of its word, and that entry exists on the Glossary page.

Two checks, so that a metric added anywhere fails until it has its link:
- in the source: every `.metric(...)` call in cnnviz/ and pages/ passes a `help=` built with
  the glossary's `link(...)` (directly, or through a name assigned with it in that module);
- on the pages (AppTest): every page at its default and in each of its views, plus the
  states that draw more metrics (the cost lab's revealed answer, the receptive field of a
  block that reads the whole image, a person's own model, the challenge's student form),
  where every metric's help holds a glossary link whose anchor is one of the Glossary
  page's headings.
"""
from __future__ import annotations

import ast
import re

import pytest
from conftest import ROOT, app_test, page_file
from streamlit.testing.v1 import AppTest

from cnnviz.deploy.own_model import MODEL_ENV, MODEL_INPUT_ENV
from cnnviz.lessons.glossary import BY_ANCHOR
from cnnviz.pages import COST_LAB, GLOSSARY, PAGES, RECEPTIVE_FIELD

TIMEOUT = 180
LINK = re.compile(r"\]\(" + GLOSSARY.name + r"#([^)\s]*)\)")
GALLERY = ROOT / "tests" / "unit" / "gallery_models.py"

pytestmark = pytest.mark.usefixtures("fresh_caches")


# --- in the source -----------------------------------------------------------------------

def _calls_link(node: ast.AST, names: dict[str, list[ast.AST]], seen: set[str]) -> bool:
    """Whether `node` calls `link(...)`, itself or through a name assigned in the module."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call):
            func = sub.func
            called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if called == "link":
                return True
        if isinstance(sub, ast.Name) and sub.id in names and sub.id not in seen:
            seen.add(sub.id)
            if any(_calls_link(value, names, seen) for value in names[sub.id]):
                return True
    return False


def metric_calls() -> list[tuple[str, ast.Call, dict[str, list[ast.AST]]]]:
    """(where, call, the module's assignments by name) of every `.metric(...)` call."""
    found = []
    for path in sorted([*ROOT.joinpath("cnnviz").rglob("*.py"),
                        *ROOT.joinpath("pages").glob("*.py")]):
        tree = ast.parse(path.read_text(), str(path))
        names: dict[str, list[ast.AST]] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        names.setdefault(target.id, []).append(node.value)
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "metric"):
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
                found.append((where, node, names))
    return found


def test_every_metric_call_passes_a_help_with_a_glossary_link():
    calls = metric_calls()
    assert len(calls) >= 35  # the walk finds the pages' metrics (35 when this was written)
    missing = []
    for where, call, names in calls:
        help_ = next((k.value for k in call.keywords if k.arg == "help"), None)
        if help_ is None or not _calls_link(help_, names, set()):
            missing.append(where)
    assert not missing, f"metrics without a glossary link in their help: {missing}"


# --- on the pages ------------------------------------------------------------------------

def metrics(at: AppTest, where: str) -> list[tuple[str, str, list[str]]]:
    """(where, label, anchors linked from the help) of every metric drawn."""
    assert not at.exception, (where, [e.value for e in at.exception])
    return [(where, m.label, LINK.findall(m.proto.help or "")) for m in at.metric]


def glossary_anchors() -> set[str]:
    at = app_test(TIMEOUT).run()
    at.switch_page(page_file(GLOSSARY.file)).run()
    assert not at.exception
    return {h.proto.anchor for h in at.subheader}


def every_page() -> list[tuple[str, str, list[str]]]:
    """Every page at its default, then in each of its views (one session a page)."""
    found = []
    for page in PAGES.values():
        at = app_test(TIMEOUT).run()
        at.switch_page(page_file(page.file)).run()
        found += metrics(at, page.name)
        for view in list(page.views or ())[1:]:
            at.session_state[page.view_key] = view.value
            found += metrics(at.run(), f"{page.name} · {view.value}")
    return found


def more_states(monkeypatch, tmp_path) -> list[tuple[str, str, list[str]]]:
    """The metrics drawn only in some states of a page."""
    found = []
    at = app_test(TIMEOUT).run()
    at.switch_page(page_file(COST_LAB.file)).run()
    at.button(key="cost_reveal").click().run()  # the share of MACs saved, once revealed
    found += metrics(at, "cost_lab · revealed")
    at = app_test(TIMEOUT, block="se").run()  # its squeeze-excitation reads the whole image
    at.switch_page(page_file(RECEPTIVE_FIELD.file)).run()
    found += metrics(at, "receptive_field · se")
    with monkeypatch.context() as m:  # `cnnviz app --model`: a person's own model
        m.setenv(MODEL_ENV, f"{GALLERY}:UNet")
        m.setenv(MODEL_INPUT_ENV, "3,32,32")
        at = app_test(TIMEOUT).switch_page(page_file("pages/network.py")).run()
        found += metrics(at, "network · own model")
    with monkeypatch.context() as m:  # a student's form for a challenge
        from cnnviz.topics.challenge_worker import stop_workers
        m.setenv("CNNVIZ_DATABASE_URL", f"sqlite:///{tmp_path / 'challenge.sqlite3'}")
        try:
            at = app_test(TIMEOUT).run()
            at.switch_page(page_file("pages/challenge.py")).run()
            at.button(key="FormSubmitter:ch_open-Open the challenge").click().run()
            code = at.session_state["ch__teacher"]["code"]
            at = app_test(TIMEOUT, challenge=code).run()
            at.switch_page(page_file("pages/challenge.py")).run()
            found += metrics(at, "challenge · student")
        finally:
            stop_workers()
    return found


@pytest.mark.slow
def test_every_metric_on_every_page_links_to_a_glossary_entry(monkeypatch, tmp_path):
    found = every_page() + more_states(monkeypatch, tmp_path)
    labels = {label for _, label, _ in found}
    for label in ("Parameters", "MACs", "Prediction", "Test accuracy", "Inside the image",
                  "50% of the gradient in", "MACs per image", "Receptive field"):
        assert label in labels, (label, sorted(labels))  # the walk reached them
    assert any(label.startswith("MACs saved by") for label in labels)
    anchors = {a for _, _, linked in found for a in linked}
    assert {"parameter", "mac", "flop", "shape", "stride", "padding", "receptive-field",
            "effective-receptive-field", "jump", "activation-memory", "gradient-norm",
            "shortcut", "normalization", "initialization", "prediction", "accuracy",
            "test-split"} <= anchors, anchors  # each metric links its own word
    drawn = glossary_anchors()
    unlinked = [(where, label) for where, label, anchors in found if not anchors]
    assert not unlinked, f"metrics without a glossary link: {unlinked}"
    broken = [(where, label, a) for where, label, anchors in found for a in anchors
              if a not in BY_ANCHOR or a not in drawn]
    assert not broken, f"glossary links to no heading: {broken}"

"""Typed refusals: what a person gave is an InputError carrying its sentence; the pages
catch only those, so a ValueError from torch or a bug is never shown as "your input"."""
from __future__ import annotations

import ast
import io
from pathlib import Path

import numpy as np
import pytest
import torch.nn as nn
from conftest import shown
from PIL import Image
from streamlit.testing.v1 import AppTest

from cnnviz.core import errors, images
from cnnviz.core.budget import BudgetError
from cnnviz.core.checks import FieldError
from cnnviz.core.files import FileRefused
from cnnviz.core.numbers import TooLarge, parse_number
from cnnviz.core.spec import StackSpec
from cnnviz.core.tape import ConfigError
from cnnviz.lessons.model import LessonError
from cnnviz.lessons.reader import Unreadable
from cnnviz.store.errors import RoomError, StoreUnavailable

ROOT = Path(__file__).resolve().parents[2]
PAGE_LAYER = [*sorted((ROOT / "pages").glob("*.py")), *sorted((ROOT / "cnnviz/ui").rglob("*.py"))]


def _names(node: ast.expr | None) -> set[str]:
    """The exception class names an except clause names (`except (A, b.C)`: A, C)."""
    if node is None:
        return {"<bare>"}
    if isinstance(node, ast.Tuple):
        return set().union(*(_names(e) for e in node.elts))
    if isinstance(node, ast.Attribute):
        return {node.attr}
    return {node.id} if isinstance(node, ast.Name) else set()


BROAD = {"ValueError", "Exception", "BaseException", "<bare>"}


def test_pages_and_ui_catch_no_broad_error():
    """No `except ValueError` (nor Exception, nor a bare except) in pages/ or cnnviz/ui: a
    page catches InputError or one of its kinds, through ui.stop_on_error or by name."""
    found = []
    for path in PAGE_LAYER:
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ExceptHandler) and _names(node.type) & BROAD:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "stop_on_error":
                for kw in node.keywords:  # stop_on_error(errors=(ValueError, ...)) is one too
                    if kw.arg == "errors" and _names(kw.value) & (BROAD | {"RuntimeError"}):
                        found.append(f"{path.relative_to(ROOT)}:{node.lineno} (errors=)")
    assert not found, found


def test_no_control_flow_on_a_message_wording():
    """No `"word" in str(e)` / `in reason.lower()` on a caught exception's text in cnnviz/:
    the exception's type decides, never its wording."""
    found = []
    for path in sorted((ROOT / "cnnviz").rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for handler in (n for n in ast.walk(tree) if isinstance(n, ast.ExceptHandler)):
            caught = {handler.name} if handler.name else set()
            for node in (n for stmt in handler.body for n in ast.walk(stmt)):
                if isinstance(node, ast.Assign) and any(
                        isinstance(n, ast.Name) and n.id in caught
                        for n in ast.walk(node.value)):  # reason = str(e): follow it
                    caught |= {t.id for t in node.targets if isinstance(t, ast.Name)}
                if isinstance(node, ast.Compare) and any(
                        isinstance(op, (ast.In, ast.NotIn)) for op in node.ops) and any(
                        isinstance(n, ast.Name) and n.id in caught
                        for c in node.comparators for n in ast.walk(c)):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not found, found


@pytest.mark.parametrize("kind", [errors.SpecError, BudgetError, errors.ImageError,
                                  errors.NetworkTextError, errors.AnswerError, ConfigError,
                                  FieldError, FileRefused, TooLarge, LessonError, Unreadable,
                                  RoomError, StoreUnavailable])
def test_every_refusal_is_an_input_error_and_a_value_error(kind):
    """One family: a page catches them all as InputError; the CLI's ValueError still does."""
    assert issubclass(kind, errors.InputError) and issubclass(kind, ValueError)


@pytest.mark.parametrize(("refuse", "kind"), [
    (lambda: StackSpec.create("resnet_basic", {"kernel_size": "٣"}), errors.SpecError),
    (lambda: StackSpec.create("nope"), errors.SpecError),
    (lambda: StackSpec.create("resnet_basic", depth="0"), FieldError),
    (lambda: images.decode_image(b"not an image"), errors.ImageError),
    (lambda: images.data_url_bytes("data:image/png;base64,@@@"), errors.ImageError),
    (lambda: parse_number("twelve"), errors.AnswerError),
])
def test_refusals_raise_their_kind(refuse, kind):
    with pytest.raises(kind) as e:
        refuse()
    assert str(e.value).strip()  # a sentence to show


def test_network_text_refusals_are_network_text_errors():
    from cnnviz.core.network import NetworkSpec
    from cnnviz.core.network.presets import network_spec
    from cnnviz.core.network.spec import parse_stages

    for refuse in (lambda: parse_stages("stem=nope"), lambda: parse_stages("x" * 5000),
                   lambda: parse_stages("stem=conv:kernel_size=99"),
                   lambda: network_spec("no such preset"),
                   lambda: NetworkSpec.create("Stem=conv", "custom")):
        with pytest.raises(errors.NetworkTextError):
            refuse()


def _png(size: tuple[int, int] = (40, 30)) -> bytes:
    buffer = io.BytesIO()
    pixels = np.random.default_rng(0).integers(0, 255, (*size, 3), np.uint8)
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(("data", "words"), [
    (_png()[:120], "truncated"),           # Pillow: OSError("image file is truncated")
    (_png()[:60], "truncated"),
])
def test_a_cut_image_is_worded_from_pillows_error_type(data, words):
    with pytest.raises(errors.ImageError, match=words):
        images.decode_image(data)


# --- the one boundary: ui.stop_on_error shows an InputError's sentence, nothing else -------

def test_the_boundary_lets_a_value_error_from_torch_through():
    """A ValueError torch raises (a real one: out_channels not divisible by groups) is a bug
    here, not a sentence: stop_on_error lets it propagate as it is."""
    from cnnviz.ui.frame.widgets import stop_on_error

    with pytest.raises(ValueError, match="divisible by groups") as e:
        with stop_on_error("This block cannot be built"):
            nn.Conv2d(4, 6, 3, groups=4)
    assert not isinstance(e.value, errors.InputError)


def _boundary_script() -> None:
    import streamlit as st
    import torch.nn as nn

    from cnnviz.core.errors import SpecError
    from cnnviz.ui.frame.widgets import stop_on_error

    if st.query_params.get("case") == "refusal":
        with stop_on_error("This block cannot be built"):
            raise SpecError("kernel_size = 99 is out of range: use 1 to 11.")
    else:
        with stop_on_error("This block cannot be built"):
            nn.Conv2d(4, 6, 3, groups=4)
    st.write("after the block")


def test_the_boundary_shows_a_refusal_and_stops_there():
    at = AppTest.from_function(_boundary_script, default_timeout=30)
    at.query_params["case"] = "refusal"
    at.run()
    assert not at.exception
    assert [shown(e.value) for e in at.error] == [
        "This block cannot be built: kernel_size = 99 is out of range: use 1 to 11."]
    assert not [m for m in at.markdown if "after the block" in m.value]  # stopped there


def test_the_boundary_leaves_a_torch_error_to_streamlit():
    at = AppTest.from_function(_boundary_script, default_timeout=30).run()
    assert not at.error  # no sentence pretends the learner's input was wrong
    # Streamlit's own error, redacted in the browser as .streamlit/config.toml says (the
    # message and trace go to the server's log): the exception's type, no sentence of ours
    assert [e.proto.type for e in at.exception] == ["ValueError"]

"""The house's floors: imports point down only, and no module imports itself back.

A short walk over the package's imports with `ast` (module level and inside functions,
TYPE_CHECKING blocks left out: they never run). `from package import submodule` depends on
the submodule; the package's own __init__ is then already being imported. Inside
ui/, the frame imports no feature sub-package but for FRAME_USES, and the sub-packages
form no circle.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "cnnviz"
# top to bottom: a floor may import its own and any lower floor
FLOORS = ("ui", "cli", "render", "lessons", "pages", "topics", "store", "core", "deploy")
STREAMLIT_FREE = ("cli", "render", "lessons", "pages", "topics", "store", "core", "deploy")


def _name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_name(p): p for p in PACKAGE.rglob("*.py")}


def _imports(path: Path, top_level_only: bool) -> set[str]:
    module, out = _name(path), set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]

    def visit(nodes) -> None:
        for node in nodes:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                continue
            if isinstance(node, ast.Import):
                out.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(parent + ([node.module] if node.module else []))
                subs = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in MODULES]
                out.update(subs)
                if len(subs) < len(node.names):
                    out.add(base)
            if top_level_only and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                    ast.ClassDef, ast.Lambda)):
                continue
            visit(ast.iter_child_nodes(node))

    visit(ast.parse(path.read_text()).body)
    return out


def _floor(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "cnnviz" and len(parts) > 1 and parts[1] in FLOORS \
        else None


def test_imports_point_down_only():
    upward = []
    for module, path in MODULES.items():
        here = _floor(module)
        for target in _imports(path, top_level_only=False):
            there = _floor(target)
            if here and there and FLOORS.index(there) < FLOORS.index(here):
                upward.append(f"{module} imports {target}")
    assert upward == []


def test_only_the_ui_imports_streamlit_and_only_the_store_a_database():
    found = []
    for module, path in MODULES.items():
        imports = _imports(path, top_level_only=False)
        if _floor(module) in STREAMLIT_FREE and any(i.split(".")[0] == "streamlit"
                                                    for i in imports):
            found.append(f"{module} imports streamlit")
        if _floor(module) != "store" and any(i.split(".")[0] in ("sqlite3", "psycopg",
                                                                 "sqlalchemy")
                                             for i in imports):
            found.append(f"{module} imports a database driver")
    assert found == []


def test_no_module_imports_itself_back():
    graph = {m: {i for i in _imports(p, top_level_only=True) if i in MODULES}
             for m, p in MODULES.items()}
    cycles, state = [], {}

    def walk(module: str, trail: list[str]) -> None:
        state[module] = "open"
        for target in sorted(graph[module]):
            if state.get(target) == "open":
                cycles.append(" -> ".join(trail[trail.index(target):] + [target]))
            elif target not in state:
                walk(target, trail + [target])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            walk(module, [module])
    assert cycles == []


def test_the_walk_sees_the_imports_it_should():
    """The checks above would pass on a walk that found nothing: it finds these."""
    ui = _imports(MODULES["cnnviz.ui.trained.views"], top_level_only=False)
    assert {"streamlit", "cnnviz.topics.learned", "cnnviz.ui.frame.cache"} <= ui
    assert "cnnviz.ui.lessons.player" in _imports(MODULES["cnnviz.ui.frame.shell"], True)


def test_no_lower_floor_names_an_upper_one():
    """Not by import, and not as a string for importlib either (the start-up lists live
    with the app, cnnviz.ui.frame.startup, read from the page files)."""
    named = []
    for module, path in MODULES.items():
        here = _floor(module)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and re.fullmatch(r"cnnviz(\.\w+)+", node.value):  # a name, not prose
                there = _floor(node.value)
                if here and there and FLOORS.index(there) < FLOORS.index(here):
                    named.append(f"{module} names {node.value}")
    assert named == []


def test_the_start_up_imports_what_every_page_imports():
    """Read from the page files: each page's imports, and what its modules import inside
    functions (a chart module drawn on demand), are imported at the server's start."""
    from cnnviz.ui.frame import startup

    pages = sorted((PACKAGE.parent / "pages").glob("*.py"))
    everything = set(startup.every_module())
    for page in pages:
        assert {i for i in _imports(page, top_level_only=False) if i in MODULES} <= everything
        for module in startup.page_modules(page):
            if module in MODULES:
                assert _imports(MODULES[module], top_level_only=False) & set(MODULES) \
                    <= everything, module
    trained = PACKAGE.parent / "pages" / "trained.py"
    assert "cnnviz.render.trained_charts" not in startup.page_modules(trained)  # in functions
    assert "cnnviz.render.trained_charts" in everything
    assert "streamlit_drawable_canvas" not in everything  # registers a component on import


def test_page_files_are_read_safely_by_many_threads_at_once(tmp_path):
    """A fresh server reads the page files in its warm-up while the first students' runs
    read them too. CPython 3.11's parser can then fail ("AST constructor recursion depth
    mismatch") when a garbage collection runs Python code mid-parse and another thread
    parses meanwhile; here collections run often, with a Python callback, and threads
    switch at every chance: a lock-free reader fails a few times in every hundred parses."""
    import gc
    import sys
    import threading

    from cnnviz.deploy.imports import imports_of

    page = tmp_path / "pkg" / "page.py"
    page.parent.mkdir()
    page.write_text((PACKAGE / "ui" / "frame" / "picker.py").read_text())
    errors: list[BaseException] = []

    def read() -> None:
        for _ in range(50):
            try:
                imports_of([page], page.parent, inside_functions=True)
            except SystemError as e:
                errors.append(e)

    def busy_collection(phase: str, info: dict) -> None:
        sum(range(200))  # Python code inside the collection: threads may switch here

    switch, threshold = sys.getswitchinterval(), gc.get_threshold()
    sys.setswitchinterval(1e-6)
    gc.set_threshold(50, 2, 2)
    gc.callbacks.append(busy_collection)
    try:
        threads = [threading.Thread(target=read) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        gc.callbacks.remove(busy_collection)
        gc.set_threshold(*threshold)
        sys.setswitchinterval(switch)
    assert errors == []


def test_modules_meet_at_public_names():
    """No module imports another's private name (`from cnnviz.ui.frame.picker import _key`):
    what one module needs of another is part of its public seam."""
    private = []
    for module, path in list(MODULES.items()) + [
            (f"pages.{p.stem}", p) for p in (PACKAGE.parent / "pages").glob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("cnnviz"):
                private += [f"{module} imports {node.module}.{a.name}" for a in node.names
                            if a.name.startswith("_") and not a.name.startswith("__")]
    assert private == []


def test_the_shell_imports_no_database():
    """The app's frame (every page's first import) leaves the room database and SQLAlchemy
    to the pages that use them: a first Explorer does not wait for them."""
    import subprocess
    import sys

    code = ("import sys, cnnviz.ui; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'sqlalchemy' "
            "or m.startswith('cnnviz.store')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=PACKAGE.parent, check=True).stdout
    assert out.strip() == "[]"


# --- the rooms of ui/: the frame every page uses, and one sub-package per feature --------
UI = PACKAGE / "ui"
UI_PARTS = sorted(p.parent.name for p in UI.glob("*/__init__.py"))
FEATURES = [p for p in UI_PARTS if p != "frame"]
# The frame imports no feature part, but for these (documented in ui/frame/__init__.py):
# the shell runs the lesson player before every page (a step sets the picker's values,
# then draws its panel over the page).
FRAME_USES = {("cnnviz.ui.frame.shell", "cnnviz.ui.lessons.player")}


def _part(module: str) -> str | None:
    """The ui sub-package a module lives in; "" for ui's own top (__init__, prewarm)."""
    parts = module.split(".")
    if parts[:2] != ["cnnviz", "ui"]:
        return None
    return parts[2] if len(parts) > 2 and parts[2] in UI_PARTS else ""


def _part_imports() -> list[tuple[str, str, str, str]]:
    """(from part, to part, module, target) for each import between two parts of ui."""
    found = []
    for module, path in MODULES.items():
        here = _part(module)
        for target in _imports(path, top_level_only=False):
            there = _part(target)
            if here is not None and there is not None and here != there \
                    and target != "cnnviz.ui":  # a part's parent package: imported anyway
                found.append((here, there, module, target))
    return found


def test_ui_is_the_frame_and_feature_parts_each_small():
    assert "frame" in UI_PARTS and len(FEATURES) >= 5
    assert sorted(p.name for p in UI.glob("*.py")) == ["__init__.py", "prewarm.py"]
    for part in UI_PARTS:
        modules = [p for p in (UI / part).glob("*.py") if p.name != "__init__.py"]
        assert 0 < len(modules) <= 15, part
        assert not list((UI / part).glob("*/__init__.py")), part  # one level of rooms


def test_the_frame_imports_no_feature_part():
    """The frame (what every page uses) knows no feature, but for FRAME_USES; so a page
    pays for a feature (the room database, the network builder) only when it uses it."""
    found = {(m, t) for here, there, m, t in _part_imports() if here == "frame"}
    assert found == FRAME_USES
    assert all(_part(t) in FEATURES for _, t in FRAME_USES)


def test_ui_parts_import_downwards_without_circles():
    """Features import the frame and each other, never ui's top (its __init__, the warm-up);
    between parts, the FRAME_USES exceptions aside, there is no circle."""
    edges: dict[str, set[str]] = {}
    for here, there, module, target in _part_imports():
        assert there != "" or here == "", f"{module} imports {target}"
        if (module, target) not in FRAME_USES:
            edges.setdefault(here, set()).add(there)
    state: dict[str, str] = {}
    cycles = []

    def walk(part: str, trail: list[str]) -> None:
        state[part] = "open"
        for target in sorted(edges.get(part, ())):
            if state.get(target) == "open":
                cycles.append(" -> ".join(trail[trail.index(target):] + [target]))
            elif target not in state:
                walk(target, trail + [target])
        state[part] = "done"

    for part in sorted(edges):
        if part not in state:
            walk(part, [part])
    assert cycles == []
    assert edges["lessons"] >= {"frame", "rooms"}  # the walk sees the arrows it should

"""Heavy imports under one lock, and the modules a page file reaches.

Streamlit and the chart modules import pandas, pyarrow and plotly lazily; on a fresh server
several students' first runs did so at once in their own threads, and some saw "partially
initialized module 'pandas'". So the app's heavy imports happen under one lock
(`import_once`). Which modules those are is read from the page files themselves
(`imports_of`): the app, not this floor, knows its pages.
"""
from __future__ import annotations

import ast
import importlib
import threading
from collections.abc import Callable, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

_lock = threading.Lock()
_done: set[tuple[str, ...]] = set()
# CPython 3.11's parser keeps its recursion depth in shared state: two threads parsing at
# once (a fresh server's warm-up and its first students) can fail with "SystemError: AST
# constructor recursion depth mismatch" (python/cpython#106905), so one parse at a time.
_parse_lock = threading.Lock()


def import_once(modules: tuple[str, ...]) -> None:
    """Import `modules` once per process, one thread at a time; a caller that comes while
    another thread imports them waits."""
    if modules in _done:
        return
    with _lock:
        if modules not in _done:
            for name in modules:
                importlib.import_module(name)
            _done.add(modules)


def imports_of(files: Iterable[Path], package: Path, inside_functions: bool
               ) -> tuple[str, ...]:
    """Every module that `files` import, directly or through the modules of `package` (a
    folder), in the order found; with `inside_functions`, also what a function imports
    when it first runs (a chart module drawn on demand). Read from the source: nothing is
    imported here. Modules of other packages are listed, not read."""
    found: dict[str, None] = {}
    queue = [_imported(Path(f), "", package, inside_functions) for f in files]
    while queue:
        for name in queue.pop(0):
            if name in found:
                continue
            found[name] = None
            path = _source(name, package)
            if path is not None:
                queue.append(_imported(path, name, package, inside_functions))
    return tuple(found)


def _source(module: str, package: Path) -> Path | None:
    """The file of `module` if it belongs to `package`."""
    first, *rest = module.split(".")
    if first != package.name:
        return None
    base = package.joinpath(*rest)
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def _imported(path: Path, module: str, package: Path, inside_functions: bool) -> list[str]:
    """The modules one file imports (`from a import b` names a.b too when b is a module
    of `package`); TYPE_CHECKING blocks never run and are left out."""
    is_package = path.name == "__init__.py"
    names: list[str] = []

    def visit(nodes: Iterable[ast.AST]) -> None:
        for node in nodes:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                continue
            if isinstance(node, ast.Import):
                names.extend(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module != "__future__":
                base = _absolute(node, module, is_package)
                names.append(base)
                names.extend(f"{base}.{a.name}" for a in node.names
                             if _source(f"{base}.{a.name}", package))
            elif inside_functions or not isinstance(
                    node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                visit(ast.iter_child_nodes(node))

    source = path.read_text()
    with _parse_lock:
        tree = ast.parse(source, str(path))
    visit(tree.body)
    return names


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """`from .x import y` in `module`, as an absolute module name."""
    if not node.level:
        return node.module or ""
    parts = module.split(".")
    parts = parts[: len(parts) - node.level + is_package]
    return ".".join(parts + ([node.module] if node.module else []))


def in_background(target: Callable[[], object], thread_name: str) -> Callable[[Any], Any]:
    """An st.App lifespan that runs `target` in a daemon thread and serves at once."""
    @asynccontextmanager
    async def lifespan(app):
        threading.Thread(target=target, name=thread_name, daemon=True).start()
        yield
    return lifespan

"""The rooms of the house: sizes, the one runner, and the interface between the layers.

- no module under ``src/kettle`` is over 600 lines;
- whether user code is sync or async is decided in ``kettle/runner.py`` only;
- the adapters reach the app, the context, the request, the response and
  the rule through their declared fields and methods, never private ones;
- no runtime module imports ``kettle.testing`` (the app's ``test_*``
  methods, the testing API's entry points, are the exception).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "kettle"
MODULES = sorted(SRC.rglob("*.py"))
_ASYNC_TESTS = {"iscoroutinefunction", "isawaitable", "iscoroutine", "CoroutineType"}
_LAYER_OBJECTS = {"app", "ctx", "request", "response", "rule"}


def _relative(path: Path) -> str:
    return path.relative_to(SRC).as_posix()


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def test_the_source_tree_is_found() -> None:
    names = {_relative(path) for path in MODULES}
    assert {"app.py", "pipeline.py", "runner.py", "adapters/asgi.py"} <= names


@pytest.mark.parametrize("path", MODULES, ids=_relative)
def test_module_is_at_most_600_lines(path: Path) -> None:
    lines = path.read_text(encoding="utf-8").count("\n")
    assert lines <= 600, f"{_relative(path)} has {lines} lines: split it by concern"


def _async_tests(tree: ast.AST) -> list[str]:
    """The sync/async decisions a module makes itself (names and attributes)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in _ASYNC_TESTS:
            found.append(node.attr)
        elif isinstance(node, ast.Name) and node.id in _ASYNC_TESTS:
            found.append(node.id)
        elif isinstance(node, ast.alias) and node.name in _ASYNC_TESTS:
            found.append(node.name)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "hasattr"
            and any(isinstance(arg, ast.Constant) and arg.value == "__await__" for arg in node.args)
        ):
            found.append("hasattr __await__")
    return found


@pytest.mark.parametrize(
    "path", [path for path in MODULES if _relative(path) != "runner.py"], ids=_relative
)
def test_only_the_runner_tells_sync_from_async(path: Path) -> None:
    assert _async_tests(_tree(path)) == [], f"{_relative(path)}: use kettle.runner"


def test_the_async_checker_catches_every_form() -> None:
    source = (
        "import inspect\nfrom types import CoroutineType\n"
        "a = inspect.iscoroutinefunction(f)\nb = inspect.isawaitable(rv)\n"
        "c = inspect.iscoroutine(rv)\nd = rv.__class__ is CoroutineType\n"
        "e = hasattr(rv, '__await__')\n"
    )
    found = _async_tests(ast.parse(source))
    assert set(found) == _ASYNC_TESTS | {"hasattr __await__"}


def _private_reaches(tree: ast.AST) -> list[str]:
    """``app._x``, ``ctx._x``, ``request._x``, ``response._x``, ``rule._x`` in a module."""
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in _LAYER_OBJECTS
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
        ):
            found.append(f"{node.value.id}.{node.attr}")
    return found


@pytest.mark.parametrize("path", sorted((SRC / "adapters").glob("*.py")), ids=_relative)
def test_adapters_use_the_declared_interface(path: Path) -> None:
    assert _private_reaches(_tree(path)) == []


def test_private_reach_checker_catches_it() -> None:
    source = "app._match(ctx)\nrequest._stream = s\nx = response._status_code\nrule.__class__\n"
    assert sorted(_private_reaches(ast.parse(source))) == [
        "app._match",
        "request._stream",
        "response._status_code",
    ]


def _testing_imports(tree: ast.Module) -> list[str]:
    """Imports of kettle.testing, outside ``TYPE_CHECKING`` and outside ``test_*`` methods."""
    found = []

    def visit(node: ast.AST, allowed: bool) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            allowed = allowed or node.name.startswith("test_")
        if not allowed:
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "kettle.testing"
            ):
                found.append(node.module or "")
            elif isinstance(node, ast.Import):
                found.extend(a.name for a in node.names if a.name.startswith("kettle.testing"))
        for child in ast.iter_child_nodes(node):
            visit(child, allowed)

    visit(tree, False)
    return found


@pytest.mark.parametrize(
    "path",
    [path for path in MODULES if not _relative(path).startswith("testing/")],
    ids=_relative,
)
def test_runtime_modules_do_not_import_testing(path: Path) -> None:
    assert _testing_imports(_tree(path)) == []


def test_testing_import_checker() -> None:
    source = (
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from kettle.testing import A\n"
        "def test_client():\n    from kettle.testing import B\n"
        "def helper():\n    from kettle.testing import C\n    import kettle.testing.client\n"
    )
    assert _testing_imports(ast.parse(source)) == ["kettle.testing", "kettle.testing.client"]

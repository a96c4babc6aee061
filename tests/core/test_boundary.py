"""The sans-IO boundary: kettle/http and kettle/routing do no I/O and know no protocol.

Two rules, checked on the syntax tree of every module in the two folders:

1. No import of an I/O module (asyncio, threading, socket). ruff's TID251
   (banned-api, configured in pyproject.toml for these two folders only) says
   the same at lint time; this test holds even when lint is skipped.
2. No protocol object: the names ``environ`` and ``scope`` (the WSGI environ,
   the ASGI scope) appear in no identifier: no variable, parameter, keyword
   argument, attribute, function, class or import name, matched on whole
   underscore-separated words, any case (``environ``, ``request_or_environ``,
   ``_scope_headers``, ``Scope``; not ``environment``, ``scoped``). A string
   constant that is exactly one of the two names is refused too, since
   ``getattr(request, "environ")`` reaches the same object. Docstrings,
   comments and other strings are prose and may mention them.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "kettle"
CORE_FOLDERS = ("http", "routing")
BANNED = frozenset({"asyncio", "threading", "socket"})
PROTOCOL_NAMES = frozenset({"environ", "scope"})


def banned_imports(source: str, filename: str = "<string>") -> list[str]:
    """Return ``"line: module"`` for every import of a banned module in ``source``."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source, filename)):
        modules: list[str] = []
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name | ast.Attribute)
            and (node.func.id if isinstance(node.func, ast.Name) else node.func.attr)
            in ("__import__", "import_module")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            modules = [node.args[0].value]
        for module in modules:
            if module.split(".")[0] in BANNED:
                found.append(f"{node.lineno}: {module}")
    return found


def _names(node: ast.AST) -> list[str]:
    """The identifiers ``node`` introduces or uses, and a string constant's text."""
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, ast.Attribute):
        return [node.attr]
    if isinstance(node, ast.arg | ast.keyword):
        return [node.arg] if node.arg else []
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return [node.name]
    if isinstance(node, ast.alias):
        return [node.name.rpartition(".")[2], node.asname or ""]
    if isinstance(node, ast.ExceptHandler | ast.MatchAs | ast.MatchStar):
        return [node.name] if node.name else []
    if isinstance(node, ast.Global | ast.Nonlocal):
        return list(node.names)
    return []


def protocol_names(source: str, filename: str = "<string>") -> list[str]:
    """Return ``"line: name"`` for every identifier in ``source`` naming environ or scope."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if node.value in PROTOCOL_NAMES:
                found.append(f"{node.lineno}: {node.value!r}")
            continue
        for name in _names(node):
            words = {word.lower() for word in name.split("_")}
            if words & PROTOCOL_NAMES:
                found.append(f"{getattr(node, 'lineno', '?')}: {name}")
    return found


def core_files() -> list[Path]:
    files = [path for folder in CORE_FOLDERS for path in sorted((SRC / folder).rglob("*.py"))]
    return files


def test_core_folders_exist_and_hold_modules() -> None:
    names = {path.parent.name for path in core_files()}
    assert names == set(CORE_FOLDERS)


@pytest.mark.parametrize("path", core_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_core_module_does_no_io(path: Path) -> None:
    assert banned_imports(path.read_text("utf-8"), str(path)) == []


@pytest.mark.parametrize("path", core_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_core_module_names_no_protocol_object(path: Path) -> None:
    assert protocol_names(path.read_text("utf-8"), str(path)) == []


@pytest.mark.parametrize(
    "source",
    [
        "environ = {}",
        "def f(environ): pass",
        "def f(request_or_environ=None): pass",
        "def f(*, scope): pass",
        "request.environ.get('HTTP_HOST')",
        "self.scope = None",
        "make(scope=1)",
        "def environ_for(request): pass",
        "class Scope: pass",
        "from kettle.typing import Scope",
        "import x as environ",
        "getattr(request, 'environ')",
        "request.__dict__['scope']",
        "try:\n    pass\nexcept E as scope:\n    pass",
        "lambda environ: environ",
        "[x for scope in y]",
    ],
)
def test_name_checker_catches_every_protocol_name(source: str) -> None:
    assert protocol_names(source) != []


def test_name_checker_allows_prose_and_lookalikes() -> None:
    source = (
        '"""Built from plain values: no environ, no scope."""\n'
        "# the server's environ is read by the adapter\n"
        "environment = os_environment\n"
        "scoped = telescope = 1\n"
        "message = 'a WSGI environ or an ASGI scope'\n"
        "key = 'wsgi.input'\n"
    )
    assert protocol_names(source) == []


@pytest.mark.parametrize(
    "source",
    [
        "import asyncio",
        "import threading as t",
        "from socket import socket",
        "import asyncio.events",
        "def f():\n    import threading",
        "import importlib\nimportlib.import_module('socket')",
        "__import__('asyncio')",
    ],
)
def test_checker_catches_every_import_form(source: str) -> None:
    assert banned_imports(source) != []


def test_checker_allows_lookalikes_and_relative_imports() -> None:
    assert banned_imports("import asyncio_extras\nfrom . import socket\nimport os") == []

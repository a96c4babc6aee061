"""The sans-IO boundary: kettle/http and kettle/routing never import I/O modules.

ruff's TID251 (banned-api, configured in pyproject.toml for these two
folders only) says the same at lint time; this test holds even when lint is
skipped.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "kettle"
CORE_FOLDERS = ("http", "routing")
BANNED = frozenset({"asyncio", "threading", "socket"})


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


def core_files() -> list[Path]:
    files = [path for folder in CORE_FOLDERS for path in sorted((SRC / folder).rglob("*.py"))]
    return files


def test_core_folders_exist_and_hold_modules() -> None:
    names = {path.parent.name for path in core_files()}
    assert names == set(CORE_FOLDERS)


@pytest.mark.parametrize("path", core_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_core_module_does_no_io(path: Path) -> None:
    assert banned_imports(path.read_text("utf-8"), str(path)) == []


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

"""Finding the app for the ``kettle`` command: ``--app``, ``KETTLE_APP`` or the current folder.

As Flask's: ``module:name`` names the app, ``module:factory(args)`` calls a
factory with literal arguments (never ``eval``), and a bare module is
searched for ``app``, ``application``, a single instance, or a
``create_app``/``make_app`` factory.
"""

from __future__ import annotations

import ast
import inspect
import os
import sys
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

import click

if TYPE_CHECKING:
    from kettle.app import Kettle


class NoAppException(click.UsageError):
    """Raised when no Kettle application can be found or loaded."""


def _is_app(value: Any) -> bool:
    from kettle.app import Kettle

    return isinstance(value, Kettle)


def _called_with_wrong_args(func: Callable[..., Any]) -> bool:
    """Whether the TypeError being handled came from calling ``func`` itself."""
    tb = sys.exc_info()[2]
    try:
        while tb is not None:
            if tb.tb_frame.f_code is getattr(func, "__code__", None):
                return False  # The error was raised inside the function.
            tb = tb.tb_next
        return True
    finally:
        del tb


def find_best_app(module: Any) -> Kettle:
    """Find the app in ``module``: ``app``, ``application``, a single instance, or a factory."""
    for name in ("app", "application"):
        if _is_app(getattr(module, name, None)):
            return cast("Kettle", getattr(module, name))
    matches = [value for value in vars(module).values() if _is_app(value)]
    if len(matches) == 1:
        return cast("Kettle", matches[0])
    if len(matches) > 1:
        raise NoAppException(
            f"Detected multiple Kettle applications in module '{module.__name__}'. Use"
            f" '{module.__name__}:name' to specify the correct one."
        )
    for name in ("create_app", "make_app"):
        factory = getattr(module, name, None)
        if inspect.isfunction(factory):
            try:
                app = factory()
            except TypeError as e:
                if not _called_with_wrong_args(factory):
                    raise
                raise NoAppException(
                    f"Detected factory '{name}' in module '{module.__name__}', but could not call"
                    f" it without arguments. Use '{module.__name__}:{name}(args)' to specify"
                    " arguments."
                ) from e
            if _is_app(app):
                return cast("Kettle", app)
    raise NoAppException(
        f"Failed to find Kettle application or factory in module '{module.__name__}'. Use"
        f" '{module.__name__}:name' to specify one."
    )


def _parse_app_expression(app_name: str) -> tuple[str, list[Any] | None, dict[str, Any]]:
    try:
        expr = ast.parse(app_name.strip(), mode="eval").body
    except SyntaxError:
        raise NoAppException(
            f"Failed to parse {app_name!r} as an attribute name or function call."
        ) from None
    if isinstance(expr, ast.Name):
        return expr.id, None, {}
    if not isinstance(expr, ast.Call):
        raise NoAppException(f"Failed to parse {app_name!r} as an attribute name or function call.")
    if not isinstance(expr.func, ast.Name):
        raise NoAppException(f"Function reference must be a simple name: {app_name!r}.")
    try:
        args = [ast.literal_eval(arg) for arg in expr.args]
        kwargs = {kw.arg: ast.literal_eval(kw.value) for kw in expr.keywords if kw.arg is not None}
    except ValueError:
        # Only literals: the string comes from the command line, never eval it.
        raise NoAppException(
            f"Failed to parse arguments as literal values: {app_name!r}."
        ) from None
    return expr.func.id, args, kwargs


def find_app_by_string(module: Any, app_name: str) -> Kettle:
    """Find ``name`` or call ``factory(literal args)`` in ``module``."""
    name, args, kwargs = _parse_app_expression(app_name)
    try:
        attr = getattr(module, name)
    except AttributeError as e:
        raise NoAppException(f"Failed to find attribute {name!r} in {module.__name__!r}.") from e
    if inspect.isfunction(attr):
        try:
            app = attr(*(args or ()), **kwargs)
        except TypeError as e:
            if not _called_with_wrong_args(attr):
                raise
            raise NoAppException(
                f"The factory {app_name!r} in module {module.__name__!r} could not be called with"
                " the specified arguments."
            ) from e
    else:
        app = attr
    if _is_app(app):
        return cast("Kettle", app)
    raise NoAppException(
        f"A valid Kettle application was not obtained from '{module.__name__}:{app_name}'."
    )


def prepare_import(path: str) -> str:
    """Put the directory above ``path``'s package on ``sys.path``; return the module name."""
    path = os.path.realpath(path)
    base, ext = os.path.splitext(path)
    if ext == ".py":
        path = base
    if os.path.basename(path) == "__init__":
        path = os.path.dirname(path)
    parts: list[str] = []
    while True:
        path, name = os.path.split(path)
        parts.append(name)
        if not os.path.exists(os.path.join(path, "__init__.py")):
            break
    if sys.path[0] != path:
        sys.path.insert(0, path)
    return ".".join(reversed(parts))


def locate_app(
    module_name: str, app_name: str | None, raise_if_not_found: bool = True
) -> Kettle | None:
    """Import ``module_name`` and find the app in it (by ``app_name`` when given)."""
    try:
        __import__(module_name)
    except ImportError:
        # A traceback deeper than this frame means the module itself failed to import.
        if sys.exc_info()[2].tb_next:  # type: ignore[union-attr]
            raise NoAppException(
                f"While importing {module_name!r}, an ImportError was raised:\n\n"
                f"{traceback.format_exc()}"
            ) from None
        if raise_if_not_found:
            raise NoAppException(f"Could not import {module_name!r}.") from None
        return None
    module = sys.modules[module_name]
    if app_name is None:
        return find_best_app(module)
    return find_app_by_string(module, app_name)

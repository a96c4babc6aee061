"""Werkzeug identity in compatibility mode: Werkzeug's names resolve to Kettle's classes.

Extensions test objects against Werkzeug classes (``except NotFound``,
``isinstance(f, FileStorage)``, ``isinstance(rv, Response)``). In
compatibility mode, once real Werkzeug is imported, :func:`apply` rebinds
those names in Werkzeug's public modules to Kettle's twins (the table is
:data:`kettle.interop.WERKZEUG_TWINS`), so code that imports them afterwards
gets Kettle's classes and its checks pass against Kettle's objects.

Rebound: every HTTP exception class and ``abort`` in ``werkzeug.exceptions``;
``FileStorage``, ``Headers`` and the ``MultiDict`` family in
``werkzeug.datastructures``; the routing classes (``BaseConverter``, ``Rule``,
``Map``, ``RequestRedirect``, ``BuildError``...); ``werkzeug.test.Client``
and ``TestResponse``; ``werkzeug.wrappers.Response``. Not rebound, because
Werkzeug's own functions or WSGI middleware build them with Werkzeug's
signatures: ``Request`` (``Request(environ)``), ``EnvironBuilder`` (path
first), and the header-value classes ``werkzeug.http`` makes (``HeaderSet``,
``Accept``, ``ETags``...).

Limits: Werkzeug's own modules imported before the rebinding keep the real
classes they bound at import (so ``werkzeug.utils.send_from_directory`` still
raises a real ``NotFound``, which Kettle turns into its own when it reaches
the app); a name imported from Werkzeug before compatibility mode was turned
on stays Werkzeug's; functions (``werkzeug.http``, ``werkzeug.security``,
``werkzeug.utils``) and classes Kettle has no twin for stay real Werkzeug.
"""

from __future__ import annotations

import importlib
import sys

from kettle.interop import WERKZEUG_TWINS, werkzeug_twin

_applied = False


def apply() -> None:
    """Bind Kettle's twins to the Werkzeug names listed in the table (once)."""
    global _applied
    if _applied:
        return
    _applied = True
    # Import every module first, so Werkzeug's internals bind its real classes.
    modules = [importlib.import_module(name) for name in WERKZEUG_TWINS]
    for module in modules:
        for name, value in list(vars(module).items()):
            if name.startswith("_") or not (isinstance(value, type) or name == "abort"):
                continue
            twin = werkzeug_twin(module.__name__, name)
            if twin is not None:
                setattr(module, name, twin)


def applied() -> bool:
    """True once Werkzeug's names have been bound to Kettle's classes."""
    return _applied and "werkzeug" in sys.modules

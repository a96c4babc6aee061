"""Werkzeug objects that a ported Flask app still uses, made Kettle's.

A Flask app moved to Kettle may keep ``from werkzeug.exceptions import
NotFound``, ``werkzeug.exceptions.abort`` or ``werkzeug.utils.redirect``.
Kettle never imports Werkzeug; it recognises these objects by shape:

- an HTTP error of another library (a class from ``werkzeug.*`` with an int
  ``code``) becomes the Kettle error of the same name, or of the same code,
  with its description and extra fields (``valid_methods``, ``new_url``...);
- a handler registered for such a class is registered for Kettle's twin;
- a WSGI application returned by a view (a Werkzeug ``Response`` is one) is
  called, as Flask's ``make_response`` does, and its answer becomes a Kettle
  response.

:data:`WERKZEUG_TWINS` is the one table of which Kettle module answers for
which Werkzeug module; the lookup here and Flask compatibility mode
(:mod:`kettle.compat.werkzeug_identity`) both read it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, TypeVar, cast

from kettle.http import exceptions as _exceptions
from kettle.http.exceptions import HTTPException, default_exceptions

if TYPE_CHECKING:
    from kettle.http.response import Response
    from kettle.typing import WSGIEnvironment
    from kettle.wrappers import Request

_FOREIGN_MODULES = ("werkzeug.",)
_E = TypeVar("_E", bound=BaseException)

#: Which Kettle modules hold the twins (same name) of a Werkzeug module's classes, and
#: which names have them (None: every same-named Kettle class or function). The lists
#: are closed where Werkzeug's own functions build objects through the module at call
#: time (``werkzeug.http`` makes ``ds.HeaderSet``, ``ds.Accept``...): those stay real.
WERKZEUG_TWINS: dict[str, tuple[tuple[str, ...], frozenset[str] | None]] = {
    "werkzeug": (("kettle.wrappers",), frozenset({"Response"})),
    "werkzeug.exceptions": (("kettle.http.exceptions",), None),
    "werkzeug.datastructures": (
        ("kettle.http.datastructures", "kettle.http.headers", "kettle.http.files"),
        frozenset(
            {"FileStorage", "Headers", "MultiDict", "ImmutableMultiDict", "CombinedMultiDict"}
        ),
    ),
    "werkzeug.routing": (("kettle.routing",), None),
    "werkzeug.routing.exceptions": (("kettle.routing",), None),
    "werkzeug.routing.converters": (("kettle.routing",), None),
    "werkzeug.routing.rules": (("kettle.routing",), None),
    "werkzeug.routing.map": (("kettle.routing",), None),
    # Not EnvironBuilder: Werkzeug's (path first) builds environs for create_environ and
    # Request.from_values at call time; Kettle's takes the app first, as Flask's does.
    "werkzeug.test": (("kettle.testing",), frozenset({"Client", "TestResponse"})),
    # Not Request: WSGI middleware builds ``Request(environ)``, which Kettle's is not.
    "werkzeug.wrappers": (("kettle.wrappers",), frozenset({"Response"})),
    "werkzeug.wrappers.response": (("kettle.wrappers",), frozenset({"Response"})),
}

#: Twins whose Kettle name differs from Werkzeug's.
_RENAMED = {"Client": "KettleClient"}


def werkzeug_twin(module: str, name: str) -> Any:
    """Kettle's object answering for ``module.name`` of Werkzeug, or None.

    A twin is a class or function defined in Kettle under the same name (or
    the name in ``_RENAMED``) in one of the modules :data:`WERKZEUG_TWINS` lists.
    """
    kettle_modules, names = WERKZEUG_TWINS.get(module, ((), None))
    if names is not None and name not in names:
        return None
    for kettle_module in kettle_modules:
        obj = getattr(importlib.import_module(kettle_module), _RENAMED.get(name, name), None)
        if callable(obj) and getattr(obj, "__module__", "").startswith("kettle."):
            return obj
    return None


def _werkzeug_base(cls: type) -> type | None:
    """The first Werkzeug class in ``cls``'s MRO, when ``cls`` is no Kettle HTTP error."""
    if issubclass(cls, HTTPException):
        return None
    for base in cls.__mro__:
        if base.__module__.startswith(_FOREIGN_MODULES):
            return base
    return None


def kettle_exception_class(cls: type[_E]) -> type[_E]:
    """Return Kettle's twin of a Werkzeug HTTP error class (``cls`` itself otherwise).

    Only Werkzeug's own classes have twins: a subclass defined elsewhere (Flask-WTF's
    ``CSRFError(BadRequest)``) stays itself, so a handler registered for it stays its own.
    """
    if _werkzeug_base(cls) is not cls:
        return cls
    twin = werkzeug_twin(cls.__module__, cls.__name__)
    if isinstance(twin, type) and issubclass(twin, HTTPException):
        return cast(type[_E], twin)
    code = getattr(cls, "code", None)
    if isinstance(code, int) and code in default_exceptions:
        return cast(type[_E], default_exceptions[code])
    return cls


def as_kettle_exception(error: BaseException) -> HTTPException | None:
    """Return Kettle's version of a Werkzeug HTTP error instance, or None for anything else."""
    base = _werkzeug_base(type(error))
    if base is None or not callable(getattr(error, "get_response", None)):
        return None
    twin: type[BaseException] = kettle_exception_class(base)
    if not issubclass(twin, HTTPException):
        twin = default_exceptions.get(getattr(error, "code", 500), _exceptions.InternalServerError)
    translated = twin.__new__(twin)
    description = vars(error).get("description")
    own = getattr(type(error), "description", None)
    if description is None and own is not getattr(twin, "description", None):
        description = own  # a subclass's own text (CSRFError's)
    HTTPException.__init__(translated, description)
    for name, value in vars(error).items():
        if name not in ("description", "response") and not name.startswith("_"):
            setattr(translated, name, value)
    response = getattr(error, "response", None)
    if response is not None:
        translated.response = from_wsgi_app(response, None)
    translated.__cause__ = error
    return translated


def is_wsgi_app(value: Any) -> bool:
    """True for a callable that is not a Kettle response (a WSGI application)."""
    return callable(value) and not isinstance(value, type)


def from_wsgi_app(app: Any, request: Request | None) -> Response:
    """Call a WSGI application for ``request`` and return its answer as a Kettle Response."""
    from kettle.http.response import Response

    environ = _environ_for(request)
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        seen["status"], seen["headers"] = status, headers
        return lambda data: seen.setdefault("written", []).append(data)

    result = app(environ, start_response)
    try:
        body = [*seen.get("written", ()), *result]
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    response = Response(b"".join(body), seen["status"], list(seen["headers"]))
    return response


def _environ_for(request: Request | None) -> WSGIEnvironment:
    """The request's WSGI environ, or one made from it (under ASGI, or outside a request)."""
    from kettle.adapters.environ import EnvironBuilder

    if request is None:
        return EnvironBuilder().get_environ()
    if request.environ:
        return request.environ
    builder = EnvironBuilder(
        path=request.path,
        base_url=request.host_url.rstrip("/") + request.root_path,
        query_string=request.query_string,
        method=request.method,
        headers=list(request.headers.items()),
    )
    return builder.get_environ()

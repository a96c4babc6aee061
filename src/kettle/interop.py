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
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar, cast

from kettle.http import exceptions as _exceptions
from kettle.http.exceptions import HTTPException, default_exceptions

if TYPE_CHECKING:
    from kettle.http.response import Response
    from kettle.typing import WSGIEnvironment
    from kettle.wrappers import Request

_FOREIGN_MODULES = ("werkzeug.",)
_E = TypeVar("_E", bound=BaseException)


def _is_foreign(cls: type) -> bool:
    return cls.__module__.startswith(_FOREIGN_MODULES) and not issubclass(cls, HTTPException)


def kettle_exception_class(cls: type[_E]) -> type[_E]:
    """Return Kettle's twin of a Werkzeug HTTP error class (``cls`` itself otherwise)."""
    if not _is_foreign(cls):
        return cls
    twin = getattr(_exceptions, cls.__name__, None)
    if twin is None and cls.__name__ == "RequestRedirect":
        from kettle.routing import RequestRedirect

        twin = RequestRedirect
    if isinstance(twin, type) and issubclass(twin, HTTPException):
        return cast(type[_E], twin)
    code = getattr(cls, "code", None)
    if isinstance(code, int) and code in default_exceptions:
        return cast(type[_E], default_exceptions[code])
    return cls


def as_kettle_exception(error: BaseException) -> HTTPException | None:
    """Return Kettle's version of a Werkzeug HTTP error instance, or None for anything else."""
    cls = type(error)
    if not _is_foreign(cls) or not callable(getattr(error, "get_response", None)):
        return None
    twin: type[BaseException] = kettle_exception_class(cls)
    if not issubclass(twin, HTTPException):
        twin = default_exceptions.get(getattr(error, "code", 500), _exceptions.InternalServerError)
    translated = twin.__new__(twin)
    HTTPException.__init__(translated, vars(error).get("description"))
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

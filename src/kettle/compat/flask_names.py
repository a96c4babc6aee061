"""What only makes sense under the ``flask`` name, switched on with the mode.

With compatibility mode on: ``repr(g)`` says ``flask.g`` and the server-name
warning comes from module ``flask.app`` (so filters by that module match); the
test client (:func:`kettle.testing.client.default_user_agent`) sends
Werkzeug's User-Agent, and a request is also ``environ["werkzeug.request"]``
(under ASGI once its environ is built), as Werkzeug sets it (like Werkzeug's, that
request and its environ then refer to each other: freed by the cycle collector),
and ``Request(environ)`` builds a request from a WSGI environ, as Werkzeug's (at
the price of one more call per request made, in the mode only); ``flask.app.Flask``
is the app class, where Flask keeps it.
All of it is set once here: nothing is checked per request when the mode is off.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kettle import app as kettle_app
from kettle import ctx
from kettle.adapters import wsgi
from kettle.routing import matching
from kettle.wrappers import Request, environ_of_scope

if TYPE_CHECKING:
    from kettle.typing import WSGIEnvironment

__all__ = ["apply"]

_plain_request_from_environ = wsgi.request_from_environ


class _EnvironKeepingRequest:
    """``request.environ`` in the mode: the WSGI adapter's ``request.environ = environ``
    also stores ``environ["werkzeug.request"]``, as Werkzeug's request does."""

    def __get__(self, request: Request | None, owner: type[Any] | None = None) -> Any:
        if request is None:
            return self
        environ: WSGIEnvironment | None = request.__dict__.get("environ")
        if environ is None:  # Under ASGI: built from the scope on first read, as without the mode.
            environ = request.__dict__["environ"] = environ_of_scope(request)
            environ["werkzeug.request"] = request
        return environ

    def __set__(self, request: Request, environ: WSGIEnvironment) -> None:
        request.__dict__["environ"] = environ
        environ["werkzeug.request"] = request


_plain_init = Request.__init__


def _init_from_environ(self: Request, *args: Any, **kwargs: Any) -> None:
    """Request's constructor, also taking a bare WSGI environ (Werkzeug's ``Request(environ)``)."""
    if len(args) == 1 and not kwargs and isinstance(args[0], dict):
        built = _plain_request_from_environ(None, args[0], type(self))
        self.__dict__.update(built.__dict__)
        return
    _plain_init(self, *args, **kwargs)


def apply() -> None:
    """Give Kettle's objects their Flask names (idempotent)."""
    ctx.G_REPR_MODULE = "flask"
    matching.WARNING_MODULE = "flask.app"
    Request.environ = _EnvironKeepingRequest()  # type: ignore[assignment]
    Request.__init__ = _init_from_environ  # type: ignore[method-assign,assignment]
    # ``from flask.app import Flask`` (Flask-Assets' tests): the class where Flask keeps it.
    kettle_app.Flask = kettle_app.Kettle  # type: ignore[attr-defined]

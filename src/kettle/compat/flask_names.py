"""What only makes sense under the ``flask`` name, switched on with the mode.

With compatibility mode on: ``repr(g)`` says ``flask.g`` and the server-name
warning comes from module ``flask.app`` (so filters by that module match); the
test client (:func:`kettle.testing.client.default_user_agent`) sends
Werkzeug's User-Agent, and a request served over WSGI is also
``environ["werkzeug.request"]``, as Werkzeug sets it (like Werkzeug's, that
request and its environ then refer to each other: freed by the cycle collector).
All of it is set once here: nothing is checked per request when the mode is off.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kettle import ctx
from kettle.adapters import wsgi
from kettle.routing import matching

if TYPE_CHECKING:
    from kettle.app import Kettle
    from kettle.typing import WSGIEnvironment

__all__ = ["apply"]

_plain_request_from_environ = wsgi.request_from_environ


def _request_from_environ(
    app: Kettle | None, environ: WSGIEnvironment, request_class: type[Any] | None = None
) -> Any:
    """As :func:`kettle.adapters.wsgi.request_from_environ`, also setting ``werkzeug.request``."""
    request = _plain_request_from_environ(app, environ, request_class)
    environ["werkzeug.request"] = request
    return request


def apply() -> None:
    """Give Kettle's objects their Flask names (idempotent)."""
    ctx.G_REPR_MODULE = "flask"
    matching.WARNING_MODULE = "flask.app"
    wsgi.request_from_environ = _request_from_environ

"""ProxyFix: trust ``X-Forwarded-*`` headers set by a known number of proxies.

Without it Kettle never trusts forwarded headers: any client can send them.
With it, the value the N-th proxy from the server appended is used, as
Werkzeug's ProxyFix does. ``ProxyFix(app.wsgi_app)`` wraps WSGI;
``ProxyFix(app.asgi)`` (any ASGI 3 callable) returns the ASGI variant.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from kettle.runner import is_async_callable

if TYPE_CHECKING:
    from kettle.typing import Receive, Scope, Send, StartResponse, WSGIEnvironment


def _trusted_value(trusted: int, value: str | None) -> str | None:
    """The value added by the ``trusted``-th proxy, counting from the right."""
    if not trusted or not value:
        return None
    values = [item.strip() for item in value.split(",")]
    if len(values) >= trusted:
        return values[-trusted] or None
    return None


def _replace_port(host: str, port: str) -> str:
    name = host[: host.find("]") + 1] if host.startswith("[") else host.partition(":")[0]
    return f"{name}:{port}"


class ProxyFix:
    """Adjust the request from ``X-Forwarded-For/-Proto/-Host/-Port/-Prefix``.

    Each argument is the number of proxies that set that header (0: ignore it).
    """

    def __new__(cls, app: Any, *args: Any, **kwargs: Any) -> ProxyFix:
        if cls is ProxyFix and _is_asgi(app):
            return super().__new__(ASGIProxyFix)
        return super().__new__(cls)

    def __init__(
        self,
        app: Any,
        x_for: int = 1,
        x_proto: int = 1,
        x_host: int = 0,
        x_port: int = 0,
        x_prefix: int = 0,
    ) -> None:
        self.app = app
        self.x_for = x_for
        self.x_proto = x_proto
        self.x_host = x_host
        self.x_port = x_port
        self.x_prefix = x_prefix

    def _forwarded(self, get: Callable[[str], str | None]) -> dict[str, str | None]:
        return {
            "for": _trusted_value(self.x_for, get("x-forwarded-for")),
            "proto": _trusted_value(self.x_proto, get("x-forwarded-proto")),
            "host": _trusted_value(self.x_host, get("x-forwarded-host")),
            "port": _trusted_value(self.x_port, get("x-forwarded-port")),
            "prefix": _trusted_value(self.x_prefix, get("x-forwarded-prefix")),
        }

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Rewrite the WSGI environ, keeping the originals, then call the app."""
        environ["werkzeug.proxy_fix.orig"] = {
            key: environ.get(key)
            for key in (
                "REMOTE_ADDR",
                "wsgi.url_scheme",
                "HTTP_HOST",
                "SERVER_NAME",
                "SERVER_PORT",
                "SCRIPT_NAME",
            )
        }
        found = self._forwarded(lambda name: environ.get("HTTP_" + name.upper().replace("-", "_")))
        if found["for"]:
            environ["REMOTE_ADDR"] = found["for"]
        if found["proto"]:
            environ["wsgi.url_scheme"] = found["proto"]
        if found["host"]:
            environ["HTTP_HOST"] = environ["SERVER_NAME"] = found["host"]
            if ":" in found["host"] and not found["host"].endswith("]"):
                environ["SERVER_NAME"], _, environ["SERVER_PORT"] = found["host"].rpartition(":")
        if found["port"]:
            host = environ.get("HTTP_HOST")
            if host:
                environ["HTTP_HOST"] = _replace_port(host, found["port"])
            environ["SERVER_PORT"] = found["port"]
        if found["prefix"]:
            environ["SCRIPT_NAME"] = found["prefix"].rstrip("/")
        return self.app(environ, start_response)  # type: ignore[no-any-return]


class ASGIProxyFix(ProxyFix):
    """ProxyFix for an ASGI 3 app: rewrites ``client``, ``scheme``, Host and ``root_path``."""

    async def __call__(  # type: ignore[override]
        self, scope: Scope, receive: Receive, send: Send
    ) -> None:
        """Rewrite a copy of the scope, then call the app."""
        await self.app(self.fix_scope(scope), receive, send)

    def fix_scope(self, scope: Scope) -> Scope:
        """A copy of an http or websocket ``scope`` as the trusted proxies describe it."""
        if scope["type"] not in ("http", "websocket"):
            return scope
        headers: list[tuple[bytes, bytes]] = list(scope["headers"])
        index = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in headers}
        found = self._forwarded(index.get)
        scope = dict(scope, **{"kettle.proxy_fix.orig": scope})
        if found["for"]:
            client = scope.get("client")
            scope["client"] = (found["for"], client[1] if client else 0)
        if found["proto"]:
            proto = found["proto"].lower()
            if scope["type"] == "websocket":
                proto = {"https": "wss", "http": "ws"}.get(proto, proto)
            scope["scheme"] = proto
        host = found["host"] or index.get("host")
        if found["port"] and host:
            host = _replace_port(host, found["port"])
        if host and (found["host"] or found["port"]):
            headers = [(n, v) for n, v in headers if n.lower() != b"host"]
            headers.append((b"host", host.encode("latin-1")))
            scope["headers"] = headers
        if found["prefix"]:
            prefix = found["prefix"].rstrip("/")
            scope["root_path"] = prefix + scope.get("root_path", "")
            scope["path"] = prefix + scope["path"]
        return scope


#: Werkzeug's ProxyFix, known by where it lives (compatibility mode keeps Werkzeug's own).
_WERKZEUG_PROXY_FIX = ("werkzeug.middleware.proxy_fix", "ProxyFix")


def scope_fixes(wrapped: Any, app: Any) -> tuple[list[ASGIProxyFix], Any]:
    """What the WSGI middleware around ``app.wsgi_app`` does, for the ASGI side.

    Flask apps add middleware as ``app.wsgi_app = ProxyFix(app.wsgi_app, ...)``,
    which an ASGI server never calls. Walking from ``wrapped`` (the outermost)
    to the app's own ``wsgi_app``, each ProxyFix (Kettle's or Werkzeug's)
    becomes an ``ASGIProxyFix`` with the same trust, outermost first. Returns
    them and the first layer that is not a ProxyFix (None when there is none):
    that middleware cannot run under ASGI.
    """
    fixes: list[ASGIProxyFix] = []
    layer = wrapped
    while getattr(layer, "__self__", None) is not app:  # Not yet the app's own method.
        kind = type(layer)
        if not (
            isinstance(layer, ProxyFix) or (kind.__module__, kind.__name__) == _WERKZEUG_PROXY_FIX
        ):
            return fixes, layer
        fixes.append(
            ASGIProxyFix(
                None, layer.x_for, layer.x_proto, layer.x_host, layer.x_port, layer.x_prefix
            )
        )
        layer = layer.app
    return fixes, None


def _is_asgi(app: Any) -> bool:
    # An instance whose __call__ is a coroutine function (like app.asgi) is ASGI too.
    return is_async_callable(app)

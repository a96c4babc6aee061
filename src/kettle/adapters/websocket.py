"""WebSocket over ASGI: scope/receive/send -> a request context and a ``WebSocket``.

This module translates and nothing more; the life of a connection is in
``kettle.websocket.serve``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kettle.adapters.asgi import headers_from_scope
from kettle.ctx import RequestContext
from kettle.websocket import WebSocket, serve

if TYPE_CHECKING:
    from kettle.app import Kettle

# The request object speaks HTTP schemes; the scope keeps the ws ones.
_SCHEMES = {"ws": "http", "wss": "https"}


async def serve_websocket(
    app: Kettle, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]
) -> None:
    """Serve one WebSocket connection through the app's WebSocket routes."""
    path = scope["path"]
    root_path = scope.get("root_path", "")
    if root_path and path.startswith(root_path):
        path = path[len(root_path) :]
    client = scope.get("client")
    server = scope.get("server")
    scheme = scope.get("scheme", "ws")
    request = app.request_class(
        "GET",
        path or "/",
        scheme=_SCHEMES.get(scheme, scheme),
        server=(server[0], server[1]) if server else None,
        root_path=root_path,
        query_string=scope.get("query_string", b""),
        headers=lambda: headers_from_scope(scope),
        remote_addr=client[0] if client else None,
        stream=None,
        scope=scope,
    )
    await serve(app, RequestContext(app, request), WebSocket(scope, receive, send))

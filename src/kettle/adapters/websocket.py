"""WebSocket over ASGI: scope/receive/send -> a request context and a ``WebSocket``.

This module translates and nothing more; the life of a connection is in
``kettle.websocket.serve``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kettle.adapters.asgi import request_from_scope
from kettle.ctx import RequestContext
from kettle.websocket import WebSocket, serve

if TYPE_CHECKING:
    from kettle.app import Kettle


async def serve_websocket(
    app: Kettle, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]
) -> None:
    """Serve one WebSocket connection through the app's WebSocket routes."""
    request = request_from_scope(app, scope, "GET")
    await serve(app, RequestContext(app, request), WebSocket(scope, receive, send))

"""WebSocket over ASGI: scope/receive/send -> a request context and a ``WebSocket``.

This module translates and nothing more; the life of a connection is in
``kettle.pipeline.run_websocket``, next to the HTTP lifecycle.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from kettle.adapters.asgi_request import request_from_scope
from kettle.ctx import PRESERVE_CONTEXT, RequestContext
from kettle.pipeline import run_websocket
from kettle.websocket import WebSocket

if TYPE_CHECKING:
    from kettle.app import Kettle
    from kettle.typing import Receive, Scope, Send


def serve_websocket(
    app: Kettle, scope: Scope, receive: Receive, send: Send
) -> Coroutine[Any, Any, None]:
    """Return the coroutine that serves one WebSocket connection through the app's routes.

    A plain function, not a coroutine of its own: the caller awaits
    ``run_websocket`` directly, so an idle connection keeps one frame fewer.
    """
    ctx = RequestContext(app, request_from_scope(app, scope, "GET"))
    ctx.websocket = WebSocket(scope, receive, send)
    ctx.preserve = scope.get(PRESERVE_CONTEXT)
    return run_websocket(app, ctx)

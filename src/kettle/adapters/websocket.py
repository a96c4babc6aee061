"""WebSocket over ASGI (completed by the async/push work; see issue 7)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kettle.app import Kettle


async def serve_websocket(
    app: Kettle, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]
) -> None:
    """Refuse the connection: no WebSocket routes are served by this build yet."""
    message = await receive()
    if message["type"] == "websocket.connect":
        await send({"type": "websocket.close", "code": 1000})

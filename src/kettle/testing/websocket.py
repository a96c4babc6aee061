"""The WebSocket test client: ``with client.websocket("/ws") as ws: ...``.

Each session is one ASGI connection driven by ``kettle.testing.asgi``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from kettle.testing.asgi import DEFAULT_TIMEOUT, Connection
from kettle.websocket import WebSocketDisconnect

if TYPE_CHECKING:
    from kettle.typing import ASGIApplication, Scope


class WebSocketSession:
    """A test WebSocket connection: ``with client.websocket("/ws") as ws: ...``."""

    def __init__(self, app: ASGIApplication, scope: Scope) -> None:
        self._app = app
        self._scope = scope
        self._driver: Connection | None = None
        #: The subprotocol the app accepted, if any.
        self.subprotocol: str | None = None
        self.close_code: int | None = None

    def __enter__(self) -> WebSocketSession:
        self._driver = Connection(self._app, self._scope, [{"type": "websocket.connect"}])
        message = self._driver.next()
        if message is None or message["type"] == "websocket.close":
            code = 1006 if message is None else message.get("code", 1000)
            self._driver.finish()
            raise WebSocketDisconnect(code, "The app refused the WebSocket handshake.")
        if message["type"] != "websocket.accept":
            raise RuntimeError(f"Unexpected first WebSocket message {message['type']!r}.")
        self.subprotocol = message.get("subprotocol")
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def _live(self) -> Connection:
        if self._driver is None:
            raise RuntimeError(
                "Use the session as a context manager: with client.websocket(...) as ws."
            )
        return self._driver

    def send(self, data: str | bytes) -> None:
        """Send a text (str) or binary (bytes) message to the app."""
        if isinstance(data, str):
            self._live.inbound.put_nowait({"type": "websocket.receive", "text": data})
        else:
            self._live.inbound.put_nowait({"type": "websocket.receive", "bytes": bytes(data)})

    def send_text(self, data: str) -> None:
        """Send a text message."""
        self.send(str(data))

    def send_bytes(self, data: bytes) -> None:
        """Send a binary message."""
        self.send(bytes(data))

    def send_json(self, data: Any) -> None:
        """Send ``data`` as JSON text."""
        self.send(json.dumps(data))

    def receive(self, timeout: float | None = DEFAULT_TIMEOUT) -> str | bytes:
        """Return the app's next message; WebSocketDisconnect when it closed."""
        message = self._live.next(timeout)
        if message is None:
            raise WebSocketDisconnect(self.close_code or 1006)
        if message["type"] == "websocket.close":
            self.close_code = message.get("code", 1000)
            raise WebSocketDisconnect(self.close_code or 1000, message.get("reason") or "")
        text = message.get("text")
        return text if text is not None else bytes(message.get("bytes") or b"")

    def receive_text(self, timeout: float | None = DEFAULT_TIMEOUT) -> str:
        """Return the next message as text."""
        data = self.receive(timeout)
        return data.decode() if isinstance(data, bytes) else data

    def receive_json(self, timeout: float | None = DEFAULT_TIMEOUT) -> Any:
        """Return the next message parsed as JSON."""
        return json.loads(self.receive(timeout))

    def close(self, code: int = 1000) -> None:
        """Disconnect and let the handler finish."""
        driver = self._driver
        if driver is None:
            return
        self._driver = None
        if not driver.task.done():
            driver.inbound.put_nowait({"type": "websocket.disconnect", "code": code})
        driver.finish()

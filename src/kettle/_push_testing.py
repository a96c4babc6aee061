"""Test-client drivers for streamed responses and WebSockets (used by ``kettle.testing``).

The ASGI app runs as a task on this thread's kept event loop; the test's
synchronous calls run that loop only while they wait for the next message,
so a streamed body is produced lazily, chunk by chunk, as the test reads it,
and several WebSocket sessions can talk to each other on one thread.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any

from kettle import _loops
from kettle.websocket import WebSocketDisconnect

#: How long a test waits for the app's next message before failing.
DEFAULT_TIMEOUT = 5.0


class _Driver:
    """One ASGI connection: the app as a task, its sent messages in a queue."""

    def __init__(
        self, app: Callable[..., Any], scope: dict[str, Any], first: list[dict[str, Any]]
    ) -> None:
        self.loop = _loops.thread_loop()
        self.inbound: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.outbound: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        for message in first:
            self.inbound.put_nowait(message)
        self.task = self.loop.create_task(app(scope, self.inbound.get, self.outbound.put))

    def next(self, timeout: float | None = DEFAULT_TIMEOUT) -> dict[str, Any] | None:
        """Run the loop until the app sends a message; None when the app has finished."""
        if not self.outbound.empty():
            return self.outbound.get_nowait()
        if self.task.done():
            self.task.result()  # Re-raise what the app raised.
            return None
        getter = self.loop.create_task(self.outbound.get())
        done, _ = self.loop.run_until_complete(
            asyncio.wait({getter, self.task}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        )
        if getter in done:
            return getter.result()
        getter.cancel()
        self.loop.run_until_complete(asyncio.wait({getter}))
        if self.task in done:
            self.task.result()
            return None
        raise TimeoutError(f"The app sent nothing within {timeout} seconds.")

    def finish(self) -> None:
        """Run the app to its end (background tasks included)."""
        if not self.task.done():
            self.loop.run_until_complete(asyncio.wait({self.task}))
        self.task.result()


class LazyASGIBody:
    """A streamed ASGI body, produced as it is iterated; ``close()`` disconnects."""

    def __init__(self, driver: _Driver, first: bytes) -> None:
        self._driver = driver
        self._first: bytes | None = first
        self._finished = False

    def __iter__(self) -> Iterator[bytes]:
        if self._first is not None:
            first, self._first = self._first, None
            if first:
                yield first
        while not self._finished:
            message = self._driver.next(timeout=None)
            if message is None or message["type"] != "http.response.body":
                break
            data = message.get("body", b"")
            if not message.get("more_body", False):
                self._finished = True
            if data:
                yield data
        self._finished = True
        self._driver.finish()

    def close(self) -> None:
        """Tell the app the client went away and let it clean up."""
        if not self._finished:
            self._finished = True
            self._driver.inbound.put_nowait({"type": "http.disconnect"})
            self._driver.finish()


def run_asgi_http(
    app: Callable[..., Any], scope: dict[str, Any], body: bytes, buffered: bool
) -> tuple[int, list[tuple[str, str]], bytes | LazyASGIBody]:
    """Run one request; return status, headers and the body (lazy when streamed)."""
    driver = _Driver(app, scope, [{"type": "http.request", "body": body, "more_body": False}])
    start = driver.next(timeout=None)
    if start is None or start["type"] != "http.response.start":
        raise RuntimeError("The ASGI app finished without starting a response.")
    headers = [(n.decode("latin-1"), v.decode("latin-1")) for n, v in start.get("headers", ())]
    first = driver.next(timeout=None)
    chunk = b"" if first is None else first.get("body", b"")
    if first is not None and first.get("more_body", False):
        lazy = LazyASGIBody(driver, chunk)
        if not buffered:
            return start["status"], headers, lazy
        return start["status"], headers, b"".join(lazy)
    # The response is complete: the app may still run background tasks.
    driver.inbound.put_nowait({"type": "http.disconnect"})
    driver.finish()
    return start["status"], headers, chunk


class LazyWSGIBody:
    """A WSGI body iterated as the test reads it; closed when done or on ``close()``."""

    def __init__(self, body: Any) -> None:
        self._body = body
        self._closed = False

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._body
        finally:
            self.close()

    def close(self) -> None:
        """Close the app's iterable once (PEP 3333)."""
        if not self._closed:
            self._closed = True
            close = getattr(self._body, "close", None)
            if close is not None:
                close()


class WebSocketSession:
    """A test WebSocket connection: ``with client.websocket("/ws") as ws: ...``."""

    def __init__(self, app: Callable[..., Any], scope: dict[str, Any]) -> None:
        self._app = app
        self._scope = scope
        self._driver: _Driver | None = None
        #: The subprotocol the app accepted, if any.
        self.subprotocol: str | None = None
        self.close_code: int | None = None

    def __enter__(self) -> WebSocketSession:
        self._driver = _Driver(self._app, self._scope, [{"type": "websocket.connect"}])
        message = self._driver.next()
        if message is None or message["type"] == "websocket.close":
            code = 1006 if message is None else message.get("code", 1000)
            self._driver.finish()
            raise WebSocketDisconnect(code, "The app refused the WebSocket handshake.")
        if message["type"] != "websocket.accept":
            raise RuntimeError(f"Unexpected first WebSocket message {message['type']!r}.")
        self.subprotocol = message.get("subprotocol")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def _live(self) -> _Driver:
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

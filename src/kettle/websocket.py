"""WebSocket routes (ASGI): the ``websocket`` object and the life of one connection.

Theory of operation: ``@app.websocket("/ws")`` registers a rule with
``websocket=True``. The ASGI adapter turns a ``websocket`` scope into a
request context whose ``websocket`` attribute is a ``WebSocket``; ``serve``
matches the rule, runs the before_websocket functions, the handler and the
after_websocket functions on the server's loop, then the teardown functions,
as the HTTP pipeline does. An HTTP request to a WebSocket route (or any
request under WSGI, which cannot upgrade) gets 426 Upgrade Required.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterable
from typing import TYPE_CHECKING, Any, cast

from kettle.ctx import RequestContext, _cv
from kettle.globals import _Proxy
from kettle.http.exceptions import HTTPException, UpgradeRequired

if TYPE_CHECKING:
    from kettle.app import Kettle

__all__ = [
    "WebSocket",
    "WebSocketDisconnect",
    "WebSocketUpgradeRequired",
    "check_origin",
    "websocket",
]


class WebSocketDisconnect(Exception):
    """The peer closed the connection (``code`` is the close code)."""

    def __init__(self, code: int = 1000, reason: str = "") -> None:
        super().__init__(code, reason)
        self.code = code
        self.reason = reason


class WebSocketUpgradeRequired(UpgradeRequired):
    """426 for an HTTP request to a WebSocket route, with ``Upgrade: websocket``."""

    description = (
        "This URL is a WebSocket endpoint: connect with a WebSocket client (ws:// or wss://)"
        " through an ASGI server such as uvicorn. Plain HTTP and WSGI cannot serve it."
    )

    def get_headers(self) -> list[tuple[str, str]]:
        """Add ``Upgrade`` and ``Connection`` as RFC 9110 (15.5.22) asks of a 426."""
        return [*super().get_headers(), ("Upgrade", "websocket"), ("Connection", "Upgrade")]


class WebSocket:
    """One WebSocket connection, as a handler sees it through ``kettle.websocket``."""

    def __init__(
        self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]
    ) -> None:
        self.scope = scope
        self._receive = receive
        self._send = send
        self.accepted = False
        self.closed = False
        #: The close code the peer sent, once it disconnected.
        self.close_code: int | None = None

    @property
    def subprotocols(self) -> list[str]:
        """The subprotocols the client offered, in its order of preference."""
        return list(self.scope.get("subprotocols") or ())

    @property
    def origin(self) -> str | None:
        """The Origin header of the handshake (browsers always send it)."""
        for name, value in self.scope.get("headers", ()):
            if name == b"origin":
                return cast(str, value.decode("latin-1"))
        return None

    def choose_subprotocol(self, supported: Iterable[str]) -> str | None:
        """Return the first subprotocol the client offered that is in ``supported``."""
        allowed = set(supported)
        return next((p for p in self.subprotocols if p in allowed), None)

    async def accept(
        self, subprotocol: str | None = None, headers: Iterable[tuple[str, str]] = ()
    ) -> None:
        """Complete the handshake, optionally choosing one of the offered subprotocols."""
        if self.accepted:
            return
        if subprotocol is not None and subprotocol not in self.subprotocols:
            raise ValueError(f"Subprotocol {subprotocol!r} was not offered by the client.")
        message = await self._receive()
        if message["type"] != "websocket.connect":
            raise WebSocketDisconnect(message.get("code", 1006))
        accept: dict[str, Any] = {"type": "websocket.accept", "subprotocol": subprotocol}
        pairs = [(n.lower().encode("latin-1"), v.encode("latin-1")) for n, v in headers]
        if pairs:
            accept["headers"] = pairs
        await self._send(accept)
        self.accepted = True

    async def receive(self) -> str | bytes:
        """Return the next message (str for text frames, bytes for binary ones)."""
        if not self.accepted:
            await self.accept()
        if self.closed:
            raise WebSocketDisconnect(self.close_code or 1000)
        message = await self._receive()
        if message["type"] == "websocket.disconnect":
            self.closed = True
            self.close_code = message.get("code", 1000)
            raise WebSocketDisconnect(self.close_code or 1000, message.get("reason") or "")
        text = message.get("text")
        return text if text is not None else cast(bytes, message.get("bytes") or b"")

    async def receive_text(self) -> str:
        """Return the next message as text (binary frames are decoded as UTF-8)."""
        data = await self.receive()
        return data.decode("utf-8") if isinstance(data, bytes) else data

    async def receive_bytes(self) -> bytes:
        """Return the next message as bytes."""
        data = await self.receive()
        return data.encode("utf-8") if isinstance(data, str) else data

    async def receive_json(self) -> Any:
        """Return the next message parsed as JSON (ValueError when it is not)."""
        return json.loads(await self.receive())

    async def send(self, data: str | bytes) -> None:
        """Send a text frame (str) or a binary frame (bytes)."""
        if not self.accepted:
            await self.accept()
        if self.closed:
            raise WebSocketDisconnect(self.close_code or 1000)
        message: dict[str, Any]
        if isinstance(data, str):
            message = {"type": "websocket.send", "text": data}
        elif isinstance(data, bytes | bytearray):
            message = {"type": "websocket.send", "bytes": bytes(data)}
        else:
            raise TypeError(f"WebSocket.send() takes str or bytes, not {type(data).__name__}.")
        try:
            await self._send(message)
        except BaseException as error:
            _end_of_stream(self, error)
            raise

    async def send_text(self, data: str) -> None:
        """Send a text frame."""
        await self.send(str(data))

    async def send_bytes(self, data: bytes) -> None:
        """Send a binary frame."""
        await self.send(bytes(data))

    async def send_json(self, data: Any) -> None:
        """Send ``data`` as a JSON text frame."""
        await self.send(json.dumps(data, separators=(",", ":")))

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the connection (before accept, the handshake is refused: HTTP 403)."""
        if self.closed:
            return
        self.closed = True
        await self._send({"type": "websocket.close", "code": code, "reason": reason})

    def __aiter__(self) -> AsyncIterator[str | bytes]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[str | bytes]:
        while True:
            try:
                yield await self.receive()
            except WebSocketDisconnect:
                return


def _end_of_stream(ws: WebSocket, error: BaseException) -> None:
    """A send cancelled with END_STREAM (push dropped a subscriber that stopped
    reading) ends the socket quietly: WebSocketDisconnect, no close frame (the
    peer is not reading), and the server closes the connection."""
    import asyncio

    from kettle._loops import END_STREAM

    if not isinstance(error, asyncio.CancelledError) or error.args[:1] != (END_STREAM,):
        return
    task = asyncio.current_task()
    if task is not None and task.uncancel() > 0:
        return
    ws.closed = True
    raise WebSocketDisconnect(1008, "the client stopped reading") from None


def _websocket() -> WebSocket:
    ctx = _cv.get(None)
    ws = getattr(ctx, "websocket", None)
    if ws is None:
        raise RuntimeError("Working outside of a WebSocket handler: 'websocket' is not bound.")
    return cast(WebSocket, ws)


class _WebSocketProxy(_Proxy):
    """The ``websocket`` proxy; also forwards ``async for``."""

    __slots__ = ()

    def __aiter__(self) -> AsyncIterator[str | bytes]:
        return _websocket().__aiter__()


#: The current WebSocket connection, inside a ``@app.websocket`` handler.
websocket: WebSocket = cast(WebSocket, _WebSocketProxy(_websocket))


def check_origin(allowed: Iterable[str], ws: WebSocket | None = None) -> bool:
    """Return True when the handshake's Origin is one of ``allowed`` (e.g. "https://example.com").

    Browsers send cookies with cross-site WebSocket handshakes, so a handler
    that trusts the session should check the origin (``"*"`` allows any).
    """
    ws = ws if ws is not None else _websocket()
    origins = set(allowed)
    if "*" in origins:
        return True
    return ws.origin is not None and ws.origin.rstrip("/") in {o.rstrip("/") for o in origins}


async def _call(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    rv = func(*args, **kwargs)
    if hasattr(rv, "__await__"):
        rv = await rv
    return rv


async def serve(app: Kettle, ctx: RequestContext, ws: WebSocket) -> None:
    """Run one connection: match, before_websocket, handler, after_websocket, teardown."""
    ctx.websocket = ws  # type: ignore[attr-defined]
    ctx.on_loop = True
    request: Any = ctx.request
    ctx.push()
    error: BaseException | None = None
    try:
        try:
            rule, args = app.url_map.match(
                request.path,
                "GET",
                host=request.host,
                scheme=request.scheme,
                script_name=request.root_path,
                websocket=True,
            )
        except HTTPException:
            await ws.close(1008 if ws.accepted else 1000)  # before accept: HTTP 403
            return
        request.url_rule = rule
        request.view_args = args
        for func in getattr(app, "before_websocket_funcs", ()):
            if await _call(func) is not None:
                await ws.close(1008)
                return
        await _call(app.view_functions[rule.endpoint], **args)
        for func in getattr(app, "after_websocket_funcs", ()):
            await _call(func)
    except WebSocketDisconnect:
        pass
    except Exception as e:
        error = e
        app.logger.error("Exception on WebSocket %s", request.path, exc_info=e)
        if not ws.closed:
            await ws.close(1011)
    finally:
        if not ws.closed:
            await ws.close(1000)
        await app._teardown(ctx, error)

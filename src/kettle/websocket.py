"""WebSocket routes (ASGI): the ``websocket`` object and the rules of a handshake.

Theory of operation: ``@app.websocket("/ws")`` registers a rule with
``websocket=True``. The ASGI adapter turns a ``websocket`` scope into a
request context whose ``websocket`` attribute is a ``WebSocket`` and hands it
to ``kettle.pipeline.run_websocket``, which runs the same match (TRUSTED_HOSTS,
subdomains, host matching), the Origin check and the hooks as HTTP; see
docs/push.md for the exact order. An HTTP request to a WebSocket route (or
any request under WSGI, which cannot upgrade) gets 426 Upgrade Required.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable
from typing import TYPE_CHECKING, Any, cast

from kettle.ctx import RequestContext, _cv_get
from kettle.globals import _Proxy
from kettle.http.exceptions import UpgradeRequired
from kettle.http.origin import origin_allowed, parse_origin

if TYPE_CHECKING:
    from kettle.app import Kettle
    from kettle.http.response import Response
    from kettle.typing import Message, Receive, Scope, Send

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

    def __init__(self, scope: Scope, receive: Receive, send: Send) -> None:
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
        accept: Message = {"type": "websocket.accept", "subprotocol": subprotocol}
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
        message: Message
        if isinstance(data, str):
            message = {"type": "websocket.send", "text": data}
        elif isinstance(data, bytes | bytearray):
            message = {"type": "websocket.send", "bytes": bytes(data)}
        else:
            raise TypeError(f"WebSocket.send() takes str or bytes, not {type(data).__name__}.")
        try:
            await self._send(message)
        except OSError:
            # ASGI: a send on a connection the client closed raises the server's
            # OSError (uvicorn's ClientDisconnected): the peer left, a normal end.
            self.closed = True
            raise WebSocketDisconnect(1006, "the client closed the connection") from None
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

    async def refuse(self, response: Response) -> None:
        """Refuse the handshake with ``response`` (before accept).

        With the ASGI ``websocket.http.response`` extension (uvicorn offers it)
        the client gets the response itself (400 for an untrusted Host, 404,
        403 for a foreign Origin...); without it the connection is closed
        before accept, which the server answers with 403 Forbidden.
        """
        if self.accepted:
            raise RuntimeError("The WebSocket was accepted already: close it instead.")
        if self.closed:
            return
        self.closed = True
        if "websocket.http.response" not in (self.scope.get("extensions") or {}):
            await self._send({"type": "websocket.close", "code": 1008, "reason": ""})
            return
        body = response.get_data()
        headers = [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in response.headers.items()
            if name.lower() != "content-length"
        ]
        headers.append((b"content-length", str(len(body)).encode("ascii")))
        await self._send(
            {
                "type": "websocket.http.response.start",
                "status": response.status_code,
                "headers": headers,
            }
        )
        await self._send({"type": "websocket.http.response.body", "body": body})

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
    ctx = _cv_get(None)
    ws = ctx.websocket if isinstance(ctx, RequestContext) else None
    if ws is None:
        raise RuntimeError("Working outside of a WebSocket handler: 'websocket' is not bound.")
    return ws


class _WebSocketProxy(_Proxy):
    """The ``websocket`` proxy; also forwards ``async for``."""

    __slots__ = ()

    def __aiter__(self) -> AsyncIterator[str | bytes]:
        return _websocket().__aiter__()


#: The current WebSocket connection, inside a ``@app.websocket`` handler.
websocket: WebSocket = cast(WebSocket, _WebSocketProxy(_websocket))


def check_origin(
    allowed: Iterable[str] = (), ws: WebSocket | None = None, *, allow_missing: bool = True
) -> bool:
    """Return True when the handshake's Origin is the request's own or one of ``allowed``.

    ``allowed`` holds origins ("https://example.com"), "https://*.example.com"
    for subdomains, or "*" for any. Kettle runs this check on every handshake
    with WEBSOCKET_ALLOWED_ORIGINS before the handler; call it in a handler
    for a stricter list. A handshake without ``Origin`` passes unless
    ``allow_missing`` is False: browsers always send the header, so its
    absence means a non-browser client (a script, the ``websockets``
    library), which no cross-site page can use to borrow the user's cookies.
    """
    ws = ws if ws is not None else _websocket()
    value = ws.origin
    if value is None:
        return allow_missing
    origin = parse_origin(value)
    if origin is None:  # "null" (an opaque origin) or garbage: only "*" lets it in.
        return "*" in set(allowed)
    ctx = _cv_get(None)
    request = ctx.request if ctx is not None else None
    if request is None:
        return origin_allowed(origin, "", "", allowed)
    return origin_allowed(origin, request.scheme, request.host, allowed)


def note_websocket_under_wsgi(app: Kettle, request: Any) -> None:
    """Log one line when a WebSocket handshake reaches a WSGI server (once per path).

    The client only sees 426; the line tells whoever runs the server why the
    socket never opens.
    """
    if "wsgi.version" not in request.environ:
        return  # ASGI: a plain HTTP request to a WebSocket URL, nothing to explain.
    if request.headers.get("Upgrade", "").lower() != "websocket":
        return
    noted: set[str] = app.__dict__.setdefault("_websocket_under_wsgi", set())
    if request.path in noted:
        return
    noted.add(request.path)
    app.logger.warning(
        "WebSocket needs ASGI: a WebSocket handshake for %s reached a WSGI server, which"
        " cannot upgrade it (the client got 426). Serve app.asgi with uvicorn, granian or"
        " gunicorn's uvicorn worker.",
        request.path,
    )

"""ASGI 3: scope/receive/send -> Request; Response -> send. Lifespan too.

The body is received before the view runs, bounded by MAX_CONTENT_LENGTH
and spooled to a temporary file past ``SPOOL_THRESHOLD``, so the synchronous
request API (``request.form``, ``request.get_json()``) works unchanged. Sync
views run in a bounded thread pool (``ASGI_THREADS``), one hop per request;
async views run on the server's loop.
"""

from __future__ import annotations

import asyncio
import contextvars
import io
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import IO, TYPE_CHECKING, Any

from kettle.ctx import RequestContext
from kettle.http.exceptions import RequestEntityTooLarge
from kettle.http.headers import Headers
from kettle.http.response import prepare_send

if TYPE_CHECKING:
    from kettle.app import Kettle
    from kettle.wrappers import Response

#: Bodies up to this size stay in memory; larger ones go to a temporary file.
SPOOL_THRESHOLD = 1024 * 1024
_DONE = object()


def headers_from_scope(scope: dict[str, Any]) -> Headers:
    """Build Headers from the scope's byte pairs, names in Title-Case as under WSGI."""
    return Headers._trusted(
        [
            (name.decode("latin-1").title(), value.decode("latin-1"))
            for name, value in scope["headers"]
        ]
    )


class _TooLarge(io.RawIOBase):
    """A body that was over the limit: reading it raises 413, as under WSGI."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        raise RequestEntityTooLarge()


class _Disconnected(Exception):
    """The client went away while the body was being received."""


class ASGIAdapter:
    """The ASGI 3 callable behind ``app.asgi``."""

    def __init__(self, app: Kettle) -> None:
        self.app = app
        self._executor: ThreadPoolExecutor | None = None

    async def __call__(
        self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]
    ) -> None:
        kind = scope["type"]
        if kind == "http":
            await self.http(scope, receive, send)
        elif kind == "lifespan":
            await self.lifespan(scope, receive, send)
        elif kind == "websocket":
            from kettle.adapters.websocket import serve_websocket

            await serve_websocket(self.app, scope, receive, send)
        else:
            raise ValueError(f"Unsupported ASGI scope type {kind!r}.")

    # -- threads -------------------------------------------------------------
    def offload(self, func: Callable[[], Any]) -> Any:
        """Run ``func`` in the bounded pool, in a copy of the current context."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(
                max_workers=int(self.app.config["ASGI_THREADS"]), thread_name_prefix="kettle"
            )
        loop = asyncio.get_running_loop()
        return loop.run_in_executor(self._executor, contextvars.copy_context().run, func)

    # -- http ----------------------------------------------------------------
    async def http(
        self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]
    ) -> None:
        """Serve one HTTP request."""
        app = self.app
        try:
            stream = await self._receive_body(scope, receive)
        except _Disconnected:
            return  # Nobody to answer: no view call, no error.
        path = scope["path"]
        root_path = scope.get("root_path", "")
        if root_path and path.startswith(root_path):
            path = path[len(root_path) :]
        client = scope.get("client")
        server = scope.get("server")
        request = app.request_class(
            scope["method"],
            path or "/",
            scheme=scope.get("scheme", "http"),
            server=(server[0], server[1]) if server else None,
            root_path=root_path,
            query_string=scope.get("query_string", b""),
            headers=lambda: headers_from_scope(scope),
            remote_addr=client[0] if client else None,
            stream=stream,
            scope=scope,
        )
        ctx = RequestContext(app, request)
        response = await app.handle_async(ctx, self.offload)
        await self.send_response(response, request.method, send)

    async def _receive_body(
        self, scope: dict[str, Any], receive: Callable[..., Any]
    ) -> IO[bytes] | None:
        """Receive the whole body, bounded and spooled; None when there is none."""
        length: int | None = None
        chunked = False
        for name, value in scope["headers"]:
            if name == b"content-length":
                length = int(value) if value.isdigit() else None
            elif name == b"transfer-encoding":
                chunked = True
        if not chunked and not length:
            return None
        limit = self.app.config["MAX_CONTENT_LENGTH"]
        if limit is not None and length is not None and length > limit:
            return io.BufferedReader(_TooLarge())  # Refused from the header alone: nothing is read.
        chunks: list[bytes] = []
        spool: IO[bytes] | None = None
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _Disconnected()
            body = message.get("body", b"")
            size += len(body)
            if limit is not None and size > limit:
                return io.BufferedReader(_TooLarge())
            if spool is not None:
                spool.write(body)
            elif size > SPOOL_THRESHOLD:
                # Closed with the request (the stream outlives this function).
                spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_THRESHOLD)  # noqa: SIM115
                spool.writelines(chunks)
                spool.write(body)
                chunks = []
            elif body:
                chunks.append(body)
            if not message.get("more_body", False):
                break
        if spool is not None:
            spool.seek(0)
            return spool
        return io.BytesIO(chunks[0] if len(chunks) == 1 else b"".join(chunks))

    async def send_response(
        self, response: Response, method: str, send: Callable[..., Any]
    ) -> None:
        """Send status, headers and body; stream iterables chunk by chunk."""
        headers, body = prepare_send(response, method)
        await send(
            {
                "type": "http.response.start",
                "status": response.status_code,
                "headers": [(n.encode("latin-1"), v.encode("latin-1")) for n, v in headers],
            }
        )
        try:
            if body is None:
                await send({"type": "http.response.body", "body": b""})
            elif body.__class__ is list:
                data = b"".join(
                    c.encode(response.charset) if isinstance(c, str) else c for c in body
                )
                await send({"type": "http.response.body", "body": data})
            else:
                await self._stream(response, body, send)
        finally:
            if response._on_close is not None or hasattr(response.response, "close"):
                response.close()

    async def _stream(self, response: Response, body: Any, send: Callable[..., Any]) -> None:
        charset = response.charset
        if hasattr(body, "__aiter__"):
            async for chunk in body:
                data = chunk.encode(charset) if isinstance(chunk, str) else chunk
                await send({"type": "http.response.body", "body": data, "more_body": True})
        else:
            iterator = iter(body)
            while True:
                chunk = await self.offload(lambda: next(iterator, _DONE))
                if chunk is _DONE:
                    break
                data = chunk.encode(charset) if isinstance(chunk, str) else chunk
                await send({"type": "http.response.body", "body": data, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    # -- lifespan --------------------------------------------------------------
    async def lifespan(
        self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]
    ) -> None:
        """Run the app's startup and shutdown functions on ASGI lifespan events."""
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.app.startup()
                except Exception as e:
                    await send({"type": "lifespan.startup.failed", "message": repr(e)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                try:
                    await self.app.shutdown()
                except Exception as e:
                    await send({"type": "lifespan.shutdown.failed", "message": repr(e)})
                    return
                finally:
                    if self._executor is not None:
                        self._executor.shutdown(wait=False)
                        self._executor = None
                await send({"type": "lifespan.shutdown.complete"})
                return

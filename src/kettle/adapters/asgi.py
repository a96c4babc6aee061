"""ASGI 3: scope/receive/send -> Request; Response -> send. Lifespan too.

The body is received before the view runs, bounded by MAX_CONTENT_LENGTH
and spooled to a temporary file past ``SPOOL_THRESHOLD``, so the synchronous
request API (``request.form``, ``request.get_json()``) works unchanged. Sync
views run in a bounded thread pool (``ASGI_THREADS``), one hop per request;
async views run on the server's loop.
"""

from __future__ import annotations

import asyncio
import io
import tempfile
from collections.abc import AsyncIterator, Callable
from typing import IO, TYPE_CHECKING, Any, cast

from kettle.adapters.server_status import teach_server_status_codes
from kettle.adapters.shutdown import (
    shutting_down,
    stream_ended,
    stream_started,
    watch_server_signals,
    websocket_open,
)
from kettle.adapters.threadpool import PoolShare, WorkerPool
from kettle.ctx import PRESERVE_CONTEXT, RequestContext
from kettle.http.exceptions import ClientDisconnected, RequestEntityTooLarge
from kettle.http.headers import Headers
from kettle.http.preconditions import ascii_int
from kettle.http.response import prepare_send
from kettle.http.stream import CHUNK_SIZE, BoundedStream
from kettle.pipeline import background_tasks_of, match, respond_async, run_background_tasks
from kettle.runner import Runner

if TYPE_CHECKING:
    from kettle.app import Kettle
    from kettle.typing import Receive, Scope, Send
    from kettle.wrappers import Request, Response

#: Bodies up to this size stay in memory; larger ones go to a temporary file.
SPOOL_THRESHOLD = 1024 * 1024
_DONE = object()


def headers_from_scope(scope: Scope) -> Headers:
    """Build Headers from the scope's byte pairs, names in Title-Case as under WSGI."""
    return Headers._trusted(
        [
            (name.decode("latin-1").title(), value.decode("latin-1"))
            for name, value in scope["headers"]
        ]
    )


# The request object speaks HTTP schemes; a websocket scope keeps the ws ones.
_HTTP_SCHEMES = {"ws": "http", "wss": "https"}


def _scan_headers(scope: Scope) -> tuple[str | None, int | None, bool, bool]:
    """The Host header, the announced Content-Length, whether the body is chunked, any Cookie.

    One pass over the scope's headers, without building the Headers. RFC 9112
    3.2: more than one Host field is a 400, which a NUL in the host makes sure of.
    """
    host: str | None = None
    length: int | None = None
    chunked = False
    cookie = False
    for name, value in scope["headers"]:
        if name == b"host":
            host = "\x00" if host is not None else value.decode("latin-1")
        elif name == b"content-length":
            # ASCII digits only; thousands of them read as "too large", not as int()'s error.
            length = ascii_int(value.decode("latin-1"), clamp=True)
        elif name == b"transfer-encoding":
            chunked = True
        elif name == b"cookie":
            cookie = True
    return host, length, chunked, cookie


#: ``request_from_scope``'s ``host`` when the caller has not scanned the headers.
_UNSCANNED: Any = object()


def request_from_scope(
    app: Kettle, scope: Scope, method: str, host: str | None = _UNSCANNED
) -> Request:
    """Translate an ASGI http or websocket scope into the app's request class (no body yet).

    ``host`` is the Host header when the caller has scanned them (``_scan_headers``).
    """
    path = scope["path"]
    root_path = scope.get("root_path", "")
    if root_path and path.startswith(root_path):
        path = path[len(root_path) :]
    client = scope.get("client")
    scheme: str = scope.get("scheme", "http")
    request_class = app.request_class
    scheme = _HTTP_SCHEMES.get(scheme, scheme)
    address = None  # ``request.server`` reads the scope's on first use.
    query_string = scope.get("query_string", b"")
    if host is _UNSCANNED:
        host = _scan_headers(scope)[0]
    headers = lambda: headers_from_scope(scope)  # noqa: E731 - built on first use
    remote_addr = client[0] if client else None
    # The body the adapter receives (in memory or spooled) is the request's to close.
    if request_class.fields_by_position:  # The same fields, without keyword matching.
        request = request_class(
            method, path or "/", scheme, address, root_path, query_string, host, headers,
            remote_addr, None, True, True,
        )  # fmt: skip
    else:
        request = request_class(
            method,
            path or "/",
            scheme=scheme,
            server=address,
            root_path=root_path,
            query_string=query_string,
            host_header=host,
            headers=headers,
            remote_addr=remote_addr,
            owns_stream=True,
        )
    request.scope = scope
    return request


#: The encoded pairs of the headers Kettle's responses repeat (Content-Type,
#: Content-Length), so a common start message encodes nothing; other headers
#: (Set-Cookie among them) are encoded each time and never kept. Bounded.
_ENCODED: dict[tuple[str, str], tuple[bytes, bytes]] = {}
_ENCODED_NAMES = frozenset({"Content-Type", "Content-Length"})
_ENCODED_MAX = 512


def _encode_header(pair: tuple[str, str]) -> tuple[bytes, bytes]:
    """Encode a header pair as ASGI sends it (latin-1), remembering the common ones."""
    name, value = pair
    encoded = (name.encode("latin-1"), value.encode("latin-1"))
    if name in _ENCODED_NAMES and len(_ENCODED) < _ENCODED_MAX:
        _ENCODED[pair] = encoded
    return encoded


def _limit_of(request: Request) -> Callable[[], int | None]:
    """The body limit, read when the view reads (a before_request hook may set it)."""
    return lambda: request.max_content_length


class _TooLarge(io.RawIOBase):
    """A body that was over the limit: reading it raises 413, as under WSGI."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        raise RequestEntityTooLarge()


class ReceiveStream(BoundedStream):
    """The body of a ``stream_body=True`` route, received as the view reads it.

    Sync views (in the thread pool) call ``read()``, which waits on the loop;
    async views iterate ``async for chunk in request.stream``. Bounded as
    ``LimitedStream``: past the limit 413, a short body or disconnect 400.
    """

    def __init__(
        self,
        receive: Receive,
        loop: asyncio.AbstractEventLoop,
        length: int | None,
        limit: Callable[[], int | None],
    ) -> None:
        self._receive = receive
        self._loop = loop
        self._length = length
        self._limit = limit
        self._size = 0
        self._buffer = b""
        self._done = False
        #: The rest of the body once ``receive_all`` ran (then nothing waits).
        self._spool: IO[bytes] | None = None

    async def receive_all(self) -> None:
        """Receive the rest of the body now, spooled, so that reading it never waits.

        For code on the loop that needs the whole body before the view (the
        CSRF check reading the token from a form): bounded as ``read``.
        """
        if self._spool is not None:
            return
        # Closed with the stream, which the request closes.
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_THRESHOLD)  # noqa: SIM115
        spool.write(self._buffer)
        self._buffer = b""
        try:
            while not self._done:
                spool.write(await self._next(self._limit()))
        except BaseException:
            spool.close()
            raise
        spool.seek(0)
        self._spool = spool

    def close(self) -> None:
        """Close the spooled rest of the body, if any."""
        if self._spool is not None:
            self._spool.close()
        super().close()

    async def _next(self, limit: int | None) -> bytes:
        # ``limit`` is read by the caller, in the request's context.
        if self._done:
            return b""
        if limit is not None and self._length is not None and self._length > limit:
            raise RequestEntityTooLarge()
        message = await self._receive()
        if message["type"] == "http.disconnect":
            self._done = True
            raise ClientDisconnected("The client disconnected while sending the body.")
        body: bytes = message.get("body", b"")
        self._size += len(body)
        if limit is not None and self._size > limit:
            self._done = True
            raise RequestEntityTooLarge()
        if not message.get("more_body", False):
            self._done = True
            if self._length is not None and self._size < self._length:
                raise ClientDisconnected(
                    "The client sent fewer bytes than its Content-Length announced."
                )
        return body

    def _next_sync(self) -> bytes:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            raise TypeError(
                "This route streams its body: in an async view read it with"
                " 'async for chunk in request.stream'."
            )
        coroutine = self._next(self._limit())
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    def read(self, size: int | None = -1) -> bytes:
        """Read up to ``size`` bytes (all when negative), waiting for the client."""
        if self._spool is not None:
            return self._spool.read(-1 if size is None else size)
        if size is None or size < 0:
            parts = [self._buffer]
            self._buffer = b""
            while not self._done:
                parts.append(self._next_sync())
            return b"".join(parts)
        while not self._buffer and not self._done:
            self._buffer = self._next_sync()
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def __iter__(self) -> Any:
        while True:
            chunk = self.read(CHUNK_SIZE)
            if not chunk:
                return
            yield chunk

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self._spool is not None:
            while chunk := self._spool.read(CHUNK_SIZE):
                yield chunk
            return
        if self._buffer:
            chunk, self._buffer = self._buffer, b""
            yield chunk
        while not self._done:
            chunk = await self._next(self._limit())
            if chunk:
                yield chunk


def _as_bytes(chunk: str | bytes, charset: str) -> bytes:
    return chunk.encode(charset) if isinstance(chunk, str) else bytes(chunk)


class _Disconnected(Exception):
    """The client went away while the body was being received."""


class ASGIAdapter:
    """The ASGI 3 callable behind ``app.asgi``."""

    def __init__(self, app: Kettle) -> None:
        self.app = app
        self._pool: WorkerPool | None = None
        self._stream_body_share: PoolShare | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self.http(scope, receive, send)
        elif kind == "lifespan":
            await self.lifespan(scope, receive, send)
        elif kind == "websocket":
            from kettle.adapters.websocket import serve_websocket

            with websocket_open:
                await serve_websocket(self.app, scope, receive, send)
        else:
            raise ValueError(f"Unsupported ASGI scope type {kind!r}.")

    # -- threads -------------------------------------------------------------
    def _worker_pool(self) -> WorkerPool:
        if self._pool is None:
            self._pool = WorkerPool(int(self.app.config["ASGI_THREADS"]))
        return self._pool

    def offload(self, func: Callable[[], Any]) -> Any:
        """Run ``func`` in the bounded pool, in a copy of the current context."""
        return self._worker_pool().submit(func)

    async def offload_stream_body(self, func: Callable[[], Any]) -> Any:
        """``offload`` for a sync view that streams its body, within that kind's share.

        Such a view holds its thread while the client sends the body, as
        slowly as it likes; ASGI_STREAM_BODY_THREADS (default: a quarter of
        ASGI_THREADS) bounds how many threads they hold, so other routes
        keep answering. The ones past the share wait on the loop.
        """
        pool = self._worker_pool()
        share = self._stream_body_share
        if share is None:
            config = self.app.config
            limit = config["ASGI_STREAM_BODY_THREADS"] or int(config["ASGI_THREADS"]) // 4
            share = self._stream_body_share = PoolShare(max(1, int(limit)))
        return await share.run(pool, func)

    # -- http ----------------------------------------------------------------
    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one HTTP request."""
        app = self.app
        host, length, chunked, cookie = _scan_headers(scope)
        request = request_from_scope(app, scope, scope["method"], host)
        ctx = RequestContext(app, request)
        if not cookie:
            ctx.cookie_sent = False  # The end of the pipeline need not scan them again.
        preserve = scope.get(PRESERVE_CONTEXT)
        if preserve is not None:  # The test client's ``with client:`` (else the class default).
            ctx.preserve = preserve
        # Matching first: the checks that need no body (host, 404, 405, the
        # before_body functions such as the CSRF Origin check) refuse a request
        # without receiving its body; matching also tells whether the route
        # streams its body (stream_body=True).
        match(app, ctx)
        rule = request.url_rule
        offload = self.offload
        if request.routing_exception is not None:
            pass  # Answered without the body: nothing is received or spooled.
        elif rule is not None and rule.stream_body:
            offload = self.offload_stream_body
            # The limit is read when the view reads, so a before_request hook may set it.
            stream = ReceiveStream(
                receive,
                asyncio.get_running_loop(),
                length,
                _limit_of(request),
            )
            request.set_body(cast("IO[bytes]", stream))  # File-like: read, readinto, close.
        else:
            if length or chunked:  # Without a body there is nothing to wait for.
                try:
                    request.set_body(await self._receive_body(length, chunked, receive))
                except _Disconnected:
                    # The request never arrived whole: no hook or view runs for
                    # it (so there is nothing to tear down) and nobody is left
                    # to answer. One INFO line, as when a view meets the
                    # disconnect (ClientDisconnected) on a stream_body route.
                    app.logger.info(
                        "Client disconnected during %s %s", request.method, request.path
                    )
                    return
        response = await respond_async(app, ctx, offload)
        if ctx.background_tasks is None and response.response.__class__ is list:
            tasks = None  # No task, and none can be added later (the body is not streamed).
        else:
            tasks = background_tasks_of(ctx, response)
        method = request.method
        # The pipeline has ended: a long-lived stream need not keep the request
        # (its headers, its caches) or its context alive while it is sent.
        del request, ctx, rule, offload
        await self.send_response(response, method, send, receive)
        if tasks:
            runner = Runner(on_loop=True, offload=self.offload)
            await run_background_tasks(app, tasks, runner)

    async def _receive_body(
        self, length: int | None, chunked: bool, receive: Receive
    ) -> IO[bytes] | None:
        """Receive the whole body, bounded and spooled (its framing read by ``_scan_headers``)."""
        limit = self.app.config["MAX_CONTENT_LENGTH"]
        if limit is not None and length is not None and length > limit:
            return io.BufferedReader(_TooLarge())  # Refused from the header alone: nothing is read.
        chunks: list[bytes] = []
        # A body announced past the threshold goes to disk as it comes: a 10 MiB upload
        # then peaks at a message's size, not at the threshold's (issue 16: 0.1x).
        spool: IO[bytes] | None = (
            tempfile.TemporaryFile() if length is not None and length > SPOOL_THRESHOLD else None  # noqa: SIM115
        )
        size = 0
        try:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise _Disconnected()
                body = message.get("body", b"")
                size += len(body)
                if limit is not None and size > limit:
                    if spool is not None:
                        spool.close()
                    return io.BufferedReader(_TooLarge())
                if spool is not None:
                    spool.write(body)
                elif size > SPOOL_THRESHOLD:
                    # Closed with the request (the stream outlives this function). Past the
                    # threshold already: straight to disk, not a second copy in memory first.
                    spool = tempfile.TemporaryFile()  # noqa: SIM115
                    spool.writelines(chunks)
                    spool.write(body)
                    chunks = []
                elif body:
                    chunks.append(body)
                if not message.get("more_body", False):
                    break
        except BaseException:
            if spool is not None:
                spool.close()
            raise
        if spool is not None:
            spool.seek(0)
            return spool
        return io.BytesIO(chunks[0] if len(chunks) == 1 else b"".join(chunks))

    async def send_response(
        self,
        response: Response,
        method: str,
        send: Send,
        receive: Receive | None = None,
    ) -> None:
        """Send status, headers and body; stream iterables chunk by chunk.

        While a streamed body is sent, ``receive`` is watched for
        ``http.disconnect``: when the client leaves, the body is closed (its
        ``finally`` runs) instead of being produced for nobody.
        """
        headers, body = prepare_send(response, method)
        start = {
            "type": "http.response.start",
            "status": response.status_code,
            "headers": [_ENCODED.get(pair) or _encode_header(pair) for pair in headers],
        }
        if body.__class__ is list and not response.has_close_callbacks and len(body) == 1:
            # One chunk in memory, nothing to close (the common case): two sends.
            data = body[0]
            await send(start)
            await send(
                {
                    "type": "http.response.body",
                    "body": data if data.__class__ is bytes else _as_bytes(data, response.charset),
                }
            )
            return
        try:
            await send(start)
            del start, headers  # Sent: a long-lived stream need not hold them.
            if body is None:
                await send({"type": "http.response.body", "body": b""})
            elif body.__class__ is list:
                data = b"".join(_as_bytes(chunk, response.charset) for chunk in body)
                await send({"type": "http.response.body", "body": data})
            elif receive is None:
                await self._stream(response, body, send)
            else:
                await self._stream_watching(response, body, send, receive)
        finally:
            if hasattr(body, "aclose"):
                await body.aclose()  # type: ignore[union-attr]
            if response.has_close_callbacks or hasattr(response.response, "close"):
                response.close()

    async def _stream_watching(
        self, response: Response, body: Any, send: Send, receive: Receive
    ) -> None:
        """Stream ``body`` in this task while one watcher task listens for the disconnect.

        The watcher cancels this task with ``END_STREAM`` when the client
        leaves; a body may do the same to end the response early (push drops
        a subscriber that stopped reading). Either ends the response quietly.
        One task per stream, not two: an idle stream costs less memory.
        """
        from kettle._loops import END_STREAM, end_stream

        current = asyncio.current_task()
        assert current is not None

        async def watch() -> None:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    end_stream(current)
                    return

        watcher = asyncio.ensure_future(watch())
        ended = False
        stream_started(current)  # Shutdown cancels it with END_STREAM too.
        try:
            await self._stream(response, body, send)
        except asyncio.CancelledError as cancel:
            if cancel.args[:1] != (END_STREAM,) or current.uncancel() > 0:
                raise
            ended = True
        finally:
            stream_ended(current)
            watcher.cancel()
        if ended and shutting_down():
            # The server is shutting down: finish the response so it can close.
            await send({"type": "http.response.body", "body": b""})

    async def _stream(self, response: Response, body: Any, send: Send) -> None:
        charset = response.charset
        if hasattr(body, "__aiter__"):
            async for chunk in body:
                data = chunk.encode(charset) if isinstance(chunk, str) else chunk
                await send({"type": "http.response.body", "body": data, "more_body": True})
        else:
            iterator = iter(body)
            while True:
                step = self.offload(lambda: next(iterator, _DONE))
                try:
                    chunk = await asyncio.shield(step)
                except asyncio.CancelledError:
                    # The step still runs in its thread; a generator cannot be
                    # closed while it executes, so let it return first.
                    await asyncio.wait({step})
                    raise
                if chunk is _DONE:
                    break
                data = chunk.encode(charset) if isinstance(chunk, str) else chunk
                await send({"type": "http.response.body", "body": data, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    # -- lifespan --------------------------------------------------------------
    async def lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app's startup and shutdown functions on ASGI lifespan events."""
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                # The server has loaded its protocol and installed its signal handlers by now.
                teach_server_status_codes()
                watch_server_signals()
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
                    if self._pool is not None:
                        self._pool.shutdown()
                        self._pool = None
                        self._stream_body_share = None
                await send({"type": "lifespan.shutdown.complete"})
                return

"""ASGI 3: scope/receive/send -> Request; Response -> send. Lifespan too.

The body is received before the view runs, bounded by MAX_CONTENT_LENGTH
and spooled to a temporary file past ``SPOOL_THRESHOLD``, so the synchronous
request API (``request.form``, ``request.get_json()``) works unchanged
(``kettle.adapters.asgi_body`` receives it). Sync
views run in a bounded thread pool (``ASGI_THREADS``), one hop per request;
async views run on the server's loop.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable, Iterable
from typing import IO, TYPE_CHECKING, Any, cast

from kettle.adapters.asgi_body import (
    SPOOL_THRESHOLD,
    BodyDisconnected,
    ReceiveStream,
    TooLargeBody,
    limit_of,
    receive_spooled,
)
from kettle.adapters.asgi_request import _scope_request
from kettle.adapters.asgi_request import headers_from_scope as headers_from_scope
from kettle.adapters.server_status import teach_server_status_codes
from kettle.adapters.shutdown import (
    shutting_down,
    stream_ended,
    stream_started,
    watch_server_signals,
    websocket_open,
)
from kettle.adapters.threadpool import PoolShare, WorkerPool
from kettle.adapters.wsgi import overrides_wsgi_app
from kettle.ctx import PRESERVE_CONTEXT, RequestContext
from kettle.http.exceptions import BadRequest
from kettle.http.headervalues import parse_content_length
from kettle.http.sending import prepare_send
from kettle.http.stream import BytesIO
from kettle.middleware.proxy_fix import ASGIProxyFix, scope_fixes
from kettle.pipeline import background_tasks_of, match, respond_async, run_background_tasks
from kettle.runner import Runner
from kettle.unrouted import Memo, first_miss, keep, new_memo, remembered, stamp

if TYPE_CHECKING:
    from kettle.app import Kettle
    from kettle.typing import Receive, Scope, Send
    from kettle.wrappers import Request, Response

_DONE = object()
_new = object.__new__
_context_init = RequestContext.__init__


def _content_length(request: Request, field: str) -> int | None:
    """The request's Content-Length, read once: handed to ``request.content_length`` too.

    None when it is not a length, or when repeated fields differ: no body is
    then received, and reading one is the 400 (``parse_content_length``),
    as under WSGI.
    """
    try:
        length = parse_content_length(field)
    except BadRequest:
        return None
    request.set_content_length(length)
    return length


#: The encoded pairs of the headers Kettle's responses repeat (Content-Type,
#: Content-Length, and Vary: the session's ``Vary: Cookie``), so a common start
#: message encodes nothing; other headers (Set-Cookie among them) are encoded
#: each time and never kept. Bounded.
_ENCODED: dict[tuple[str, str], tuple[bytes, bytes]] = {}
_ENCODED_NAMES = frozenset({"Content-Type", "Content-Length", "Vary"})
_ENCODED_MAX = 512


def _encode_header(pair: tuple[str, str]) -> tuple[bytes, bytes]:
    """Encode a header pair as ASGI sends it (latin-1), remembering the common ones."""
    name, value = pair
    encoded = (name.encode("latin-1"), value.encode("latin-1"))
    if name in _ENCODED_NAMES and len(_ENCODED) < _ENCODED_MAX:
        _ENCODED[pair] = encoded
    return encoded


def _as_bytes(chunk: str | bytes, charset: str) -> bytes:
    return chunk.encode(charset) if isinstance(chunk, str) else bytes(chunk)


#: The key marking a scope already adjusted for the WSGI middleware around ``app.wsgi_app``.
_THROUGH_MIDDLEWARE = "kettle.wsgi_middleware_applied"


class ASGIAdapter:
    """The ASGI 3 callable behind ``app.asgi``."""

    def __init__(self, app: Kettle) -> None:
        self.app = app
        self._pool: WorkerPool | None = None
        self._stream_body_share: PoolShare | None = None
        #: ``offload`` bound once: handed to the pipeline with every request.
        self._offload: Callable[[Callable[[], Any]], Any] = self.offload
        #: The 404s remembered by path (``kettle.unrouted``); ``_remember`` bound once.
        self._unrouted: Memo = new_memo()
        self._remember_bound: Callable[[RequestContext, Response], None] = self._remember
        #: The app's attributes: ``app.wsgi_app`` assigned there means WSGI middleware.
        self._app_state: dict[str, Any] = app.__dict__
        #: The middleware last seen there, and what it does to a scope (``_as_middleware_would``).
        self._middleware: tuple[Any, list[ASGIProxyFix]] = (None, [])
        if overrides_wsgi_app(app):
            app.logger.error(
                "%s overrides wsgi_app, which an ASGI server never calls: what it adds does"
                " not run under ASGI (wrap app.asgi with ASGI middleware instead).",
                type(app).__name__,
            )

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
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection: an HTTP request (in this frame), a lifespan or a WebSocket.

        The HTTP request is served here rather than in a method of its own:
        one coroutine fewer per request.
        """
        if scope["type"] != "http" or (
            # ``app.wsgi_app = Middleware(app.wsgi_app)``: what it does, first (``_serve_other``).
            "wsgi_app" in self._app_state and _THROUGH_MIDDLEWARE not in scope
        ):
            await self._serve_other(scope, receive, send)
            return
        app = self.app
        path = scope["path"]
        # A 404 nothing observes, remembered (``kettle.unrouted``): no request is built.
        if path in self._unrouted and (answer := self._remembered(scope, path)) is not None:
            status, pairs, page = answer
            await send({"type": "http.response.start", "status": status, "headers": [*pairs]})
            await send({"type": "http.response.body", "body": page})
            return
        request, length_field, chunked, cookie = _scope_request(app, scope, scope["method"], path)
        length = None if length_field is None else _content_length(request, length_field)
        ctx = _new(RequestContext)  # ``RequestContext(app, request)``, without the class call.
        _context_init(ctx, app, request)
        # Without a Cookie the end of the pipeline need not look for one (a store, not a test).
        ctx.cookie_sent = cookie is not None
        if PRESERVE_CONTEXT in scope:  # The test client's ``with client:`` (else the default).
            ctx.preserve = scope[PRESERVE_CONTEXT]
        # Matching first: the checks that need no body (host, 404, 405, the
        # before_body functions such as the CSRF Origin check) refuse a request
        # without receiving its body; matching also tells whether the route
        # streams its body (stream_body=True).
        match(app, ctx)
        offload = self._offload
        if request.routing_exception is not None:
            pass  # Answered without the body: nothing is received or spooled.
        elif request.url_rule.stream_body:  # type: ignore[union-attr]
            offload = self.offload_stream_body
            # The limit is read when the view reads, so a before_request hook may set it.
            stream = ReceiveStream(
                receive,
                asyncio.get_running_loop(),
                length,
                limit_of(request),
            )
            request.set_body(cast("IO[bytes]", stream))  # File-like: read, readinto, close.
        elif length or chunked:  # Without a body there is nothing to wait for.
            # The whole body, bounded, in memory or spooled (its framing read by
            # ``scope_request``). A body over the limit is refused from its
            # Content-Length alone, without reading it.
            limit = app.config["MAX_CONTENT_LENGTH"]
            body: IO[bytes]
            if limit is not None and length is not None and length > limit:
                body = io.BufferedReader(TooLargeBody())
            else:
                message: Any = await receive()
                data = message.get("body", b"")
                if (
                    message["type"] == "http.request"
                    and not message.get("more_body", False)
                    and len(data) <= SPOOL_THRESHOLD
                ):
                    # The common short body, whole in one message: no list, no spool, no join.
                    if limit is not None and len(data) > limit:
                        body = io.BufferedReader(TooLargeBody())
                    else:
                        body = BytesIO(data)
                else:
                    try:
                        body = await receive_spooled(message, length, limit, receive)
                    except BodyDisconnected:
                        # The request never arrived whole: no hook or view runs for
                        # it (so there is nothing to tear down) and nobody is left
                        # to answer. One INFO line, as when a view meets the
                        # disconnect (ClientDisconnected) on a stream_body route.
                        app.logger.info(
                            "Client disconnected during %s %s", request.method, request.path
                        )
                        return
            request.set_body(body)
        response = await respond_async(app, ctx, offload, self._remember_bound)
        # The ``http.response.start`` message, made here for every answer (the
        # only place it is made). A loop, not a comprehension: on Python 3.11
        # that is a function call of its own.
        status, headers, sent = prepare_send(response, request.method, True)
        encoded: list[tuple[bytes, bytes]] = []
        for pair in headers:
            encoded.append(_ENCODED.get(pair) or _encode_header(pair))
        start = {"type": "http.response.start", "status": status, "headers": encoded}
        chunks = response.response
        if (
            chunks.__class__ is list
            and len(chunks) == 1
            and ctx.background_tasks is None  # (None can be added later: nothing streams.)
            and not response.has_close_callbacks
        ):
            # The common answer, one chunk in memory with nothing to close and no
            # task to run after it: two sends, from this frame.
            await send(start)
            data = b"" if sent is None else chunks[0]  # (None: HEAD, 204, 304.)
            data = data if data.__class__ is bytes else _as_bytes(data, response.charset)
            await send({"type": "http.response.body", "body": data})
            return
        tasks = background_tasks_of(ctx, response)
        # The pipeline has ended: a long-lived stream need not keep the request
        # (its headers, its caches) or its context alive while it is sent. (The
        # start message, a dict and its encoded pairs, stays with this frame.)
        del request, ctx, offload, chunks, headers, encoded
        await self.send_response(response, start, sent, send, receive)
        if tasks:
            runner = Runner(on_loop=True, offload=self.offload)
            await run_background_tasks(app, tasks, runner)

    def _as_middleware_would(self, scope: Scope) -> Scope:
        """``scope`` as the WSGI middleware around ``app.wsgi_app`` would have changed it.

        A Flask app's ``app.wsgi_app = ProxyFix(app.wsgi_app, ...)`` holds under
        ASGI too: its trust is applied to the scope (``scope_fixes``). Other WSGI
        middleware cannot run under ASGI: it is logged once, as an error, so it is
        not skipped unnoticed (wrap ``app.asgi`` with ASGI middleware instead). A
        scope an ASGI ``ProxyFix`` around ``app.asgi`` already rewrote is left as it
        is: the trust is applied once, not twice (a prefix would be doubled).
        """
        wrapped = self._app_state.get("wsgi_app")
        seen, fixes = self._middleware
        if wrapped is not seen:
            fixes, other = scope_fixes(wrapped, self.app)
            self._middleware = (wrapped, fixes)
            if other is not None:
                self.app.logger.error(
                    "app.wsgi_app is wrapped by %r, WSGI middleware that does not run under"
                    " ASGI: wrap app.asgi with ASGI middleware instead.",
                    other,
                )
        if "kettle.proxy_fix.orig" in scope:
            return scope  # ``app.asgi = ProxyFix(app.asgi)`` as well (the docs' way): applied.
        for fix in fixes:
            scope = fix.fix_scope(scope)
        return scope

    def _remembered(self, scope: Scope, path: str) -> Any:
        """The 404 remembered for the request's path if it holds (``kettle.unrouted``), else None.

        Only for a request with one Host field and no Cookie, not kept by the test
        client, with no ``root_path`` (the request's path is then the scope's).
        """
        if PRESERVE_CONTEXT in scope or scope.get("root_path"):
            return None
        host = None
        for name, value in scope["headers"]:
            if name == b"host":
                if host is not None:
                    return None
                host = value
            elif name == b"cookie":
                return None
        return remembered(self.app, self._unrouted.get(path), host, scope["method"])

    def _remember(self, ctx: RequestContext, page: Response) -> None:
        """Remember a 404 answered by its page, nothing observing it (``kettle.unrouted``)."""
        request = ctx.request
        scope = request.scope
        host = request.headers.get("Host")  # (Without one, the host is the server's: not kept.)
        if ctx.cookie_sent or ctx.preserve is not None or scope is None or not host:
            return
        path: str = scope["path"]
        if scope.get("root_path") or first_miss(self._unrouted, path):
            return
        kept = stamp(ctx, page, path)
        if kept is None:
            return
        status, headers, body = prepare_send(page, request.method, True)
        encoded = tuple(_ENCODED.get(pair) or _encode_header(pair) for pair in headers)
        answer = (status, encoded, b"" if body is None else b"".join(body))
        keep(self._unrouted, path, (host.encode("latin-1"), scope["method"], *kept, answer))

    async def _serve_other(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve a lifespan or a WebSocket connection, or a scope for WSGI middleware first.

        With middleware around ``app.wsgi_app``, an http or websocket scope is
        served as that middleware would have left it (``_as_middleware_would``),
        a copy marked so it is not adjusted twice.
        """
        kind = scope["type"]
        if kind in ("http", "websocket") and _THROUGH_MIDDLEWARE not in scope:
            if "wsgi_app" in self._app_state:
                scope = {**self._as_middleware_would(scope), _THROUGH_MIDDLEWARE: True}
            if kind == "http":
                await self(scope, receive, send)
                return
        if kind == "lifespan":
            await self.lifespan(scope, receive, send)
        elif kind == "websocket":
            from kettle.adapters.websocket import serve_websocket

            with websocket_open:
                await serve_websocket(self.app, scope, receive, send)
        else:
            raise ValueError(f"Unsupported ASGI scope type {kind!r}.")

    async def send_response(
        self,
        response: Response,
        start: dict[str, Any],
        body: Iterable[Any] | None,
        send: Send,
        receive: Receive | None = None,
    ) -> None:
        """Send the ``start`` message, then ``body`` (from ``prepare_send``) chunk by chunk.

        While a streamed body is sent, ``receive`` is watched for
        ``http.disconnect``: when the client leaves, the body is closed (its
        ``finally`` runs) instead of being produced for nobody.
        """
        try:
            await send(start)
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
                except BaseException:
                    # The body's error: the step holds it, and its traceback holds
                    # this frame, which would hold the step (a cycle).
                    del step
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

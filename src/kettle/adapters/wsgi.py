"""WSGI (PEP 3333): environ -> Request, Response -> start_response.

This module translates and nothing more; the request lifecycle lives in
``kettle.pipeline``.
"""

from __future__ import annotations

import asyncio
import atexit
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from kettle._accelerators import accelerator
from kettle.adapters.shutdown import shutting_down, thread_stream
from kettle.ctx import PRESERVE_CONTEXT, RequestContext
from kettle.http.headers import Headers
from kettle.http.request import INIT_CONSTANTS
from kettle.http.request import Request as _HTTPRequest
from kettle.http.sending import prepare_send
from kettle.http.urls import decode_wsgi_path
from kettle.pipeline import respond_sync
from kettle.runner import IN_THREAD
from kettle.unrouted import Memo, first_miss, keep, new_memo, remembered, stamp

if TYPE_CHECKING:
    from kettle.app import Kettle
    from kettle.typing import StartResponse, WSGIEnvironment
    from kettle.wrappers import Request, Response

_RequestT = TypeVar("_RequestT", bound=_HTTPRequest)
_new = object.__new__
_init = _HTTPRequest.__init__
_context_init = RequestContext.__init__
_SPECIAL = {"CONTENT_TYPE": "Content-Type", "CONTENT_LENGTH": "Content-Length"}


def headers_from_environ(environ: WSGIEnvironment) -> Headers:
    """Build Headers from the ``HTTP_*`` and content keys of ``environ``."""
    pairs: list[tuple[str, str]] = []
    for key, value in environ.items():
        if key[:5] == "HTTP_":
            if key in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                continue
            pairs.append((key[5:].replace("_", "-").title(), value))
        elif key in _SPECIAL and value:
            pairs.append((_SPECIAL[key], value))
    return Headers._trusted(pairs)


def server_from_environ(environ: WSGIEnvironment) -> tuple[str, int | None] | None:
    """``(SERVER_NAME, SERVER_PORT)`` of a WSGI environ (port None if absent or not a number)."""
    name = environ.get("SERVER_NAME")
    if not name:
        return None
    port = environ.get("SERVER_PORT")
    try:
        return name, int(port) if port else None
    except ValueError:
        return name, None


def _headers_factory(environ: WSGIEnvironment) -> Callable[[], Headers]:
    """A function that builds the headers of ``environ`` (made here: a closure in
    ``build_request`` would make a cell for the environ on every call, needed or not)."""
    return lambda: headers_from_environ(environ)


def build_request(
    request_class: type[_RequestT],
    environ: WSGIEnvironment,
    keep_environ: bool = False,
    path_info: str | None = None,
) -> _RequestT:
    """Translate a WSGI environ into a request of ``request_class``.

    With ``keep_environ`` the request keeps it (``request.environ``); a class
    that reads its headers and remote address from it (``reads_kept_source``)
    is then given no headers factory (none is made per request) and no address.
    ``path_info``: the environ's ``PATH_INFO`` when the caller has read it.
    """
    # ``environ.get(...)`` each time: a ``get`` bound once is an object made per request
    # (3.11), dearer than the lookups it saves.
    host = environ.get("HTTP_HOST")
    script_name = environ.get("SCRIPT_NAME")
    path = path_info or environ.get("PATH_INFO") or "/"
    query = environ.get("QUERY_STRING")
    method = environ.get("REQUEST_METHOD") or "GET"
    if not path.isascii():  # ASCII: nothing to decode.
        path = decode_wsgi_path(path)
    scheme = environ.get("wsgi.url_scheme", "http")
    server = None if host else server_from_environ(environ)
    root_path = decode_wsgi_path(script_name) if script_name else ""
    query_string = query.encode("latin-1", "replace") if query else b""
    # A class that reads the kept environ itself is given neither of these.
    headers: Callable[[], Headers] | None = None
    remote_addr: str | None = None
    if not (keep_environ and request_class.reads_kept_source):
        headers = _headers_factory(environ)  # Built on first use.
        remote_addr = environ.get("REMOTE_ADDR")
    stream = environ.get("wsgi.input")  # The server owns it: closing the request leaves it open.
    terminated = True if environ.get("wsgi.input_terminated") else False  # noqa: SIM210 - no call
    if request_class.init_directly:  # As ``request_class(...)`` does, without its cost.
        request = _new(request_class)
        _init(
            request, method, path, scheme, server, root_path, query_string, host, headers,
            remote_addr, stream, terminated,
        )  # fmt: skip
    elif request_class.fields_by_position:  # The same fields, without keyword matching.
        request = request_class(
            method, path, scheme, server, root_path, query_string, host, headers, remote_addr,
            stream, terminated,
        )  # fmt: skip
    else:
        request = request_class(
            method,
            path,
            scheme=scheme,
            server=server,
            root_path=root_path,
            query_string=query_string,
            host_header=host,
            headers=headers,
            remote_addr=remote_addr,
            stream=stream,
            input_terminated=terminated,
        )
    if keep_environ:
        request.environ = environ  # type: ignore[attr-defined]
    return request


#: ``build_request`` as ``serve`` calls it: in C when built (``kettle.adapters._builders``:
#: the usual request, the function itself for any other).
_Builder = accelerator("kettle.adapters._builders", "Builder")
_build_request: Callable[..., Any] = (
    build_request
    if _Builder is None
    else _Builder("wsgi", build_request, *INIT_CONSTANTS, _headers_factory)
)


def request_from_environ(
    app: Kettle | None, environ: WSGIEnvironment, request_class: type[Any] | None = None
) -> Request:
    """Translate a WSGI environ into ``request_class`` (default: the app's), keeping the environ."""
    if request_class is None:
        if app is None:
            raise TypeError("request_from_environ() needs an app or a request class.")
        request_class = app.request_class
    return build_request(request_class, environ, keep_environ=True)


class _ClosingBody:
    """Iterate a streamed body as bytes and close the response when done."""

    __slots__ = ("_iterator", "_response")

    def __init__(self, response: Response, body: Iterable[Any]) -> None:
        self._response = response
        if hasattr(body, "__aiter__"):
            self._iterator: Iterator[Any] = _iterate_async(body)
        else:
            self._iterator = iter(body)

    def __iter__(self) -> Iterator[bytes]:
        charset = self._response.charset
        for chunk in self._iterator:
            yield chunk.encode(charset) if isinstance(chunk, str) else chunk

    def close(self) -> None:
        close = getattr(self._iterator, "close", None)
        if close is not None:
            close()
        self._response.close()


def _iterate_async(body: Any) -> Iterator[Any]:
    """Drive an async iterable from sync code, on this thread's kept loop.

    When the server shuts down the body ends (see ``kettle.adapters.shutdown``).
    """
    iterator = body.__aiter__()
    with thread_stream() as stream:
        try:
            while True:
                try:
                    item = stream.run_step(iterator.__anext__())
                except StopAsyncIteration:
                    return
                except asyncio.CancelledError:
                    if not shutting_down():
                        raise
                    return  # Cancelled by the shutdown: end the body.
                except SystemExit:
                    # A worker's signal handler (gunicorn: Ctrl+C) interrupted the step. End
                    # the body instead of dropping it half-sent; the worker has cleared its
                    # "alive" flag first, so it exits once this response is finished.
                    return
                yield item
        finally:
            aclose = getattr(iterator, "aclose", None)
            if aclose is not None:
                IN_THREAD.run(aclose())


_serving_lock = threading.Lock()


def start_serving(app: Kettle) -> None:
    """Run before_serving once per process (WSGI has no lifespan); after_serving at exit."""
    with _serving_lock:
        if "_wsgi_serving" in app.__dict__:
            return
        if app.before_serving_funcs:
            IN_THREAD.run(app.startup())
        if app.after_serving_funcs:
            atexit.register(_shutdown, app)
        app.__dict__["_wsgi_serving"] = True


def _shutdown(app: Kettle) -> None:
    IN_THREAD.run(app.shutdown())


def overrides_wsgi_app(app: Kettle) -> bool:
    """Whether the app's class has its own ``wsgi_app`` (which only a WSGI server calls)."""
    from kettle.app import Kettle

    return getattr(type(app), "wsgi_app", None) is not Kettle.wsgi_app


def _through_wsgi_app(app: Kettle) -> bool:
    """Whether ``app(...)`` goes through ``app.wsgi_app``: wrapped (WSGI middleware) or overridden.

    Asked by ``serve`` until it has read the class's ``wsgi_app`` (once; noted as
    ``_wsgi_direct`` or ``_wsgi_through``). Starts serving (``start_serving``).
    """
    state = app.__dict__
    if "_wsgi_serving" not in state:
        start_serving(app)
    if overrides_wsgi_app(app):
        state["_wsgi_through"] = True  # A subclass's own ``wsgi_app``.
        return True
    state["_wsgi_direct"] = True
    return "wsgi_app" in state


#: The 404s ``serve`` remembers, by ``PATH_INFO``, for every app of the process (an entry
#: holds what it is valid for, its app's URL map and config among them: see ``kettle.unrouted``).
_UNROUTED: Memo = new_memo()


def serve(
    app: Kettle,
    environ: WSGIEnvironment,
    start_response: StartResponse,
    from_wsgi_app: bool = False,
) -> Iterable[bytes]:
    """Handle one WSGI request: translate, run the pipeline, start the response.

    In pure Python it is ``Kettle.__call__`` itself (compiled, ``__call__`` calls it):
    it serves at once, two Python frames fewer than ``__call__`` through ``wsgi_app``,
    unless ``app.wsgi_app`` was replaced (middleware: ``app.wsgi_app =
    Middleware(app.wsgi_app)``, seen on the next request) or a subclass overrides
    it; then the call goes through it, and ``Kettle.wsgi_app`` comes back here
    (``from_wsgi_app``).
    """
    state = app.__dict__
    if from_wsgi_app:
        if "_wsgi_serving" not in state:
            start_serving(app)
    elif ("_wsgi_direct" not in state or "wsgi_app" in state) and (
        "wsgi_app" in state or "_wsgi_through" in state or _through_wsgi_app(app)
    ):
        return app.wsgi_app(environ, start_response)
    path: str | None = environ.get("PATH_INFO")
    if path in _UNROUTED and "HTTP_COOKIE" not in environ and PRESERVE_CONTEXT not in environ:
        # A 404 nothing observes, remembered (``kettle.unrouted``): no request is built.
        answer = remembered(
            app, _UNROUTED.get(path), environ.get("HTTP_HOST"), environ.get("REQUEST_METHOD")
        )
        if answer is not None:
            start_response(answer[0], list(answer[1]))
            return () if answer[2] is None else [answer[2]]
    request = _build_request(app.request_class, environ, True, path)
    # Stored, not left to the class's defaults: read several times per request (see
    # ``adapters.asgi.scope_request``).
    request.url_rule = request.routing_exception = None
    ctx = _new(RequestContext)  # ``RequestContext(app, request)``, without the class call's cost.
    _context_init(ctx, app, request)
    if "HTTP_COOKIE" not in environ:
        ctx.cookie_sent = False  # The end of the pipeline need not look for one.
    if PRESERVE_CONTEXT in environ:  # The test client's ``with client:`` (else the class default).
        ctx.preserve = environ[PRESERVE_CONTEXT]
    response = respond_sync(app, ctx, _remember)
    # Start the response and return the WSGI body iterable (here, not in a function
    # of its own: one frame fewer per request).
    status, headers, body = prepare_send(response, request.method)
    start_response(status, headers)
    if body is None:
        response.close()
        return ()
    if body.__class__ is list and not response.has_close_callbacks:
        return body
    return _ClosingBody(response, body)


def _remember(ctx: RequestContext, page: Response) -> None:
    """Remember a 404 answered by its page, nothing observing it (``kettle.unrouted``)."""
    if ctx.cookie_sent or ctx.preserve is not None:
        return
    request = ctx.request
    environ: WSGIEnvironment = request.environ
    get = environ.get
    path: str | None = get("PATH_INFO")
    host = get("HTTP_HOST")  # (Without one, the host is the server's: not kept.)
    if not path or not host or first_miss(_UNROUTED, path):
        return
    kept = stamp(ctx, page, path)
    if kept is None:
        return
    status, headers, body = prepare_send(page, request.method)
    answer = (status, tuple(headers), None if body is None else b"".join(body))
    keep(_UNROUTED, path, (host, get("REQUEST_METHOD"), *kept, answer))

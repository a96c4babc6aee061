"""The HTTP test client: drives an app through its WSGI or its ASGI side.

``app.test_client()`` speaks WSGI; ``app.test_client(protocol="asgi")`` runs
the same requests through ``app.asgi`` on an event loop kept per thread. The
request is described once (``kettle.adapters.environ.EnvironBuilder``) and
rendered as an environ or as a scope, so both sides see the same bytes. A
streamed response (server-sent events included) is read lazily, as the test
iterates it; ``TestResponse.events()`` parses the events.
"""

from __future__ import annotations

import copy
import functools
import importlib.metadata
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from kettle.adapters.environ import EnvironBuilder, scope_from_environ
from kettle.http.headers import Headers
from kettle.testing.cookies import Cookie, CookieJar
from kettle.wrappers import Response

if TYPE_CHECKING:
    from kettle.app import Kettle
    from kettle.ctx import RequestContext
    from kettle.sessions import SessionMixin
    from kettle.testing.websocket import WebSocketSession
    from kettle.typing import WSGIEnvironment


@functools.cache
def _werkzeug_user_agent() -> str | None:
    try:
        return f"Werkzeug/{importlib.metadata.version('werkzeug')}"
    except importlib.metadata.PackageNotFoundError:
        return None


def default_user_agent() -> str:
    """The User-Agent a new test client sends: ``Kettle/test``.

    In Flask compatibility mode it is Werkzeug's ``Werkzeug/<version>``, which
    Flask's test client sends (when Werkzeug is installed).
    """
    compat = sys.modules.get("kettle.compat")
    if compat is not None and compat.is_installed():
        return _werkzeug_user_agent() or "Kettle/test"
    return "Kettle/test"


class TestResponse(Response):
    """A response as the test client returns it: ``text``, ``json``, ``request``, ``history``."""

    __test__ = False
    request: Any = None
    history: tuple[TestResponse, ...] = ()

    @property
    def text(self) -> str:
        """The body decoded as text."""
        return self.get_data(as_text=True)  # type: ignore[no-any-return]

    def events(self, comments: bool = False) -> Iterator[Any]:
        """Yield the body's server-sent events as it streams (keep-alive comments skipped)."""
        from kettle.http.sse import EventParser

        parser = EventParser()
        for chunk in self.iter_encoded():
            for event in parser.feed(chunk):
                if (
                    comments
                    or event.data is not None
                    or event.event is not None
                    or event.id is not None
                ):
                    yield event


def _test_response(
    data: bytes, status: int | str, headers: list[tuple[str, str]], buffered: bool = True
) -> TestResponse:
    """Wrap what the server sent, headers exactly as sent (HEAD keeps its Content-Length).

    As Werkzeug's client: the body of a request sent without ``buffered=True`` is an
    iterator until it is read, so ``is_streamed`` is True until then (Flask-Compress's
    tests read it); ``buffered=True`` gives a list.
    """
    response = TestResponse(None, status, Headers._trusted(headers))
    response.response = [data] if buffered else iter((data,))
    return response


class KettleClient:
    """Send requests to an app without a server; keeps cookies between requests.

    ``protocol`` is ``"wsgi"`` (default) or ``"asgi"``. ``with client:`` keeps
    the last request's context pushed, so ``request`` and ``session`` can be
    inspected after the call, as with Flask's client.
    """

    __test__ = False

    def __init__(
        self, app: Kettle, use_cookies: bool = True, protocol: str = "wsgi", **kwargs: Any
    ) -> None:
        if protocol not in ("wsgi", "asgi"):
            raise ValueError("protocol must be 'wsgi' or 'asgi'")
        #: The Kettle app behind the client, or None for another WSGI application (a
        #: middleware, as with Werkzeug's ``Client(app)``): then config is not read.
        self._kettle: Kettle | None = app if hasattr(app, "config") else None
        if self._kettle is None and protocol == "asgi":
            raise ValueError("protocol='asgi' needs a Kettle app (app.asgi)")
        self.application = app
        self.protocol = protocol
        self.use_cookies = use_cookies
        self.environ_base: WSGIEnvironment = {
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_USER_AGENT": default_user_agent(),
        }
        self._cookies = CookieJar()
        self._preserve = False
        self._preserved: list[RequestContext] = []

    # -- cookies -------------------------------------------------------------
    def get_cookie(self, key: str, domain: str = "localhost", path: str = "/") -> Cookie | None:
        """Return the stored cookie ``key`` (``.value``, ``.expires``, ``.secure``...), or None."""
        return self._cookies.get(key, domain, path)

    def set_cookie(
        self,
        key: str,
        value: str = "",
        *,
        domain: str = "localhost",
        path: str = "/",
        **kwargs: Any,
    ) -> None:
        """Store a cookie to send with the next requests.

        Keyword arguments are ``response.set_cookie``'s (``max_age``, ``expires``,
        ``secure``, ``httponly``, ``samesite``), as Werkzeug's test client takes them.
        """
        self._cookies.set(key, value, domain, path, **kwargs)

    def delete_cookie(self, key: str, *, domain: str = "localhost", path: str = "/") -> None:
        """Forget a stored cookie."""
        self._cookies.delete(key, domain, path)

    def _cookie_header(self, host: str, path: str) -> str | None:
        return self._cookies.header(host.partition(":")[0], path)

    def _store_cookies(self, response: Response, host: str) -> None:
        self._cookies.store(response.headers.getlist("Set-Cookie"), host.partition(":")[0])

    # Werkzeug's and Flask's private client methods that Flask-SocketIO's test client calls.
    def _add_cookies_to_wsgi(self, environ: WSGIEnvironment) -> None:
        """Put the stored cookies for the environ's host and path in its ``HTTP_COOKIE``."""
        host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME") or "localhost"
        header = self._cookie_header(host, environ.get("PATH_INFO") or "/")
        if header:
            environ["HTTP_COOKIE"] = header
        else:
            environ.pop("HTTP_COOKIE", None)

    def _request_from_builder_args(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """The request ``open(*args, **kwargs)`` would send, with the client's environ base."""
        kwargs["environ_base"] = {**self.environ_base, **kwargs.get("environ_base", {})}
        builder = EnvironBuilder(self._kettle, *args, **kwargs)
        try:
            return builder.get_request()
        finally:
            builder.close()

    # -- requests ------------------------------------------------------------
    def open(
        self, *args: Any, follow_redirects: bool = False, buffered: bool = False, **kwargs: Any
    ) -> TestResponse:
        """Send a request (EnvironBuilder arguments) and return the response."""
        if args and isinstance(args[0], EnvironBuilder):
            builder = copy.copy(args[0])
            builder.headers = builder.headers.copy()
            builder.environ_base = {**self.environ_base, **builder.environ_base}
        elif args and not isinstance(args[0], dict) and hasattr(args[0], "get_environ"):
            # Werkzeug's own EnvironBuilder (Werkzeug's client takes one): use its environ.
            environ = args[0].get_environ()
            return self.open(
                environ, *args[1:], follow_redirects=follow_redirects, buffered=buffered, **kwargs
            )
        elif args and isinstance(args[0], dict):
            builder = EnvironBuilder.from_environ(
                args[0], app=self._kettle, environ_base=dict(self.environ_base)
            )
        else:
            kwargs["environ_base"] = {**self.environ_base, **kwargs.pop("environ_base", {})}
            builder = EnvironBuilder(self._kettle, *args, **kwargs)
            builder.close()  # Its files are read into the body: close them, as Werkzeug.
        response = self._send(builder, buffered)
        history: list[TestResponse] = []
        while follow_redirects and response.status_code in (301, 302, 303, 305, 307, 308):
            if len(history) > 20:
                raise RuntimeError("Too many redirects.")
            history.append(response)
            builder = self._redirect_builder(builder, response)
            response = self._send(builder, buffered)
        response.history = tuple(history)
        return response

    def _redirect_builder(self, builder: EnvironBuilder, response: TestResponse) -> EnvironBuilder:
        location = response.headers.get("Location", "")
        target = urlsplit(location)
        keep_body = response.status_code in (307, 308)
        new = EnvironBuilder.__new__(EnvironBuilder)
        new.__dict__.update(builder.__dict__)
        new.headers = builder.headers.copy()
        new.headers.remove("Cookie")  # The jar sends the cookies again, updated.
        if target.netloc:
            new.host = target.netloc
            new.url_scheme = target.scheme or builder.url_scheme
        path = target.path or builder.path
        if not path.startswith("/"):
            path = builder.path.rsplit("/", 1)[0] + "/" + path
        if new.script_root and path.startswith(new.script_root):
            path = path[len(new.script_root) :] or "/"
        new.path = path
        new.query_string = target.query.encode()
        if not keep_body:
            new.method = "GET" if builder.method != "HEAD" else "HEAD"
            new.body = b""
            new.input_stream = None
            new.headers.remove("Content-Type")
            new.headers.remove("Content-Length")
        else:
            new.input_stream = None
        return new

    def _send(self, builder: EnvironBuilder, buffered: bool = True) -> TestResponse:
        if self.use_cookies:
            header = self._cookie_header(builder.host, builder.script_root + builder.path)
            given = builder.headers.get("Cookie")  # A Cookie header the test passed is kept.
            if header:
                builder.headers.set("Cookie", f"{given}; {header}" if given else header)
        environ = builder.get_environ()
        self._pop_preserved()
        if self._preserve:
            environ["kettle.preserve_context"] = self._preserved.append
        run = self._run_wsgi if self.protocol == "wsgi" else self._run_asgi
        try:
            response = run(environ, buffered)
        except BaseException:
            # The exception propagated out of the request: nothing is kept pushed.
            self._preserved.clear()
            raise
        for ctx in self._preserved:
            ctx._enter_quietly()
        if self.use_cookies:
            self._store_cookies(response, builder.host)
        return response

    def _run_wsgi(self, environ: WSGIEnvironment, buffered: bool = True) -> TestResponse:
        captured: dict[str, Any] = {}

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            captured["status"] = status
            captured["headers"] = headers
            return lambda data: None

        body = self.application(environ, start_response)
        if not buffered and not isinstance(body, list | tuple):
            # A streamed body is read as the test iterates it, like Werkzeug's client.
            lazy = _test_response(b"", captured["status"], list(captured["headers"]))
            lazy.response = LazyWSGIBody(body)
            lazy.request = self._request_of(environ)
            return lazy
        try:
            data = b"".join(body)
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()
        response = _test_response(data, captured["status"], list(captured["headers"]), buffered)
        response.request = self._request_of(environ)
        return response

    def _run_asgi(self, environ: WSGIEnvironment, buffered: bool = True) -> TestResponse:
        from kettle.testing.asgi import run_asgi_http

        scope = scope_from_environ(environ)
        body = environ["wsgi.input"].read()
        status, headers, data = run_asgi_http(self.application.asgi, scope, body, buffered)
        if isinstance(data, bytes):
            response = _test_response(data, status, headers, buffered)
        else:
            response = _test_response(b"", status, headers)
            response.response = data
        response.request = self._request_of(environ)
        return response

    def websocket(
        self, path: str = "/", subprotocols: Iterable[str] = (), **kwargs: Any
    ) -> WebSocketSession:
        """Open a WebSocket to ``path`` through ``app.asgi``; use it as a context manager."""
        from kettle.testing.websocket import WebSocketSession

        kwargs["environ_base"] = {**self.environ_base, **kwargs.pop("environ_base", {})}
        builder = EnvironBuilder(self.application, path, **kwargs)
        if self.use_cookies:
            header = self._cookie_header(builder.host, builder.script_root + builder.path)
            if header:
                builder.headers.set("Cookie", header)
        scope = scope_from_environ(builder.get_environ())
        scope.update(
            type="websocket",
            scheme="wss" if builder.url_scheme == "https" else "ws",
            subprotocols=list(subprotocols),
        )
        for key in ("method", "http_version"):
            scope.pop(key, None)
        return WebSocketSession(self.application.asgi, scope)

    @contextmanager
    def session_transaction(self, *args: Any, **kwargs: Any) -> Iterator[SessionMixin]:
        """Open the session the next request would see, to read or change it; saved on exit.

        Arguments are EnvironBuilder's, as for ``test_request_context``.
        """
        if not self.use_cookies:
            raise TypeError("Cookies are disabled. Create a client with 'use_cookies=True'.")
        app = self.application
        builder = EnvironBuilder(app, *args, **kwargs)
        header = self._cookie_header(builder.host, builder.script_root + builder.path)
        if header:
            builder.headers.set("Cookie", header)
        ctx = app.request_context(builder.get_environ())
        interface = app.session_interface
        with ctx:
            session = interface.open_session(app, ctx.request)
        if session is None:
            raise RuntimeError("Session backend did not open a session.")
        yield session
        if interface.is_null_session(session):
            return
        response = app.response_class()
        with ctx:
            interface.save_session(app, session, response)
        self._store_cookies(response, builder.host)

    def _request_of(self, environ: WSGIEnvironment) -> Any:
        from kettle.adapters.wsgi import request_from_environ

        if self._kettle is None:
            from kettle.wrappers import Request

            return request_from_environ(None, environ, Request)
        return request_from_environ(self._kettle, environ)

    def _pop_preserved(self) -> None:
        while self._preserved:
            self._preserved.pop()._leave_quietly()

    def get(self, *args: Any, **kw: Any) -> TestResponse:
        """Send a GET request."""
        return self.open(*args, method="GET", **kw)

    def post(self, *args: Any, **kw: Any) -> TestResponse:
        """Send a POST request."""
        return self.open(*args, method="POST", **kw)

    def put(self, *args: Any, **kw: Any) -> TestResponse:
        """Send a PUT request."""
        return self.open(*args, method="PUT", **kw)

    def patch(self, *args: Any, **kw: Any) -> TestResponse:
        """Send a PATCH request."""
        return self.open(*args, method="PATCH", **kw)

    def delete(self, *args: Any, **kw: Any) -> TestResponse:
        """Send a DELETE request."""
        return self.open(*args, method="DELETE", **kw)

    def head(self, *args: Any, **kw: Any) -> TestResponse:
        """Send a HEAD request."""
        return self.open(*args, method="HEAD", **kw)

    def options(self, *args: Any, **kw: Any) -> TestResponse:
        """Send an OPTIONS request."""
        return self.open(*args, method="OPTIONS", **kw)

    def __enter__(self) -> KettleClient:
        if self._preserve:
            raise RuntimeError("Cannot nest client invocations")
        self._preserve = True
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._preserve = False
        self._pop_preserved()


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


#: Flask's name, so ``from kettle.testing import FlaskClient`` works after a port.
FlaskClient = KettleClient

"""The test client: drives an app through its WSGI or its ASGI side.

``app.test_client()`` speaks WSGI; ``app.test_client(protocol="asgi")`` runs
the same requests through ``app.asgi`` on an event loop kept per thread. The
request is described once (``EnvironBuilder``) and rendered as an environ
or as a scope, so both sides see the same bytes.
"""

from __future__ import annotations

import copy
import io
import json as _json
import mimetypes
import secrets
import sys
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import quote, unquote_to_bytes, urlsplit

from kettle.cli import KettleCliRunner as KettleCliRunner
from kettle.http.datastructures import MultiDict
from kettle.http.headers import Headers
from kettle.http.urls import encode_query
from kettle.testing_cookies import Cookie, CookieJar
from kettle.wrappers import Response

if TYPE_CHECKING:
    from kettle._push_testing import WebSocketSession
    from kettle.app import Kettle
    from kettle.ctx import RequestContext
    from kettle.sessions import SessionMixin


def _is_file(value: Any) -> bool:
    return hasattr(value, "read") or (
        isinstance(value, tuple) and bool(value) and hasattr(value[0], "read")
    )


def _quote_field(value: str) -> str:
    """Escape a multipart field value as browsers do (WHATWG): only ", CR and LF."""
    return value.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def encode_multipart(
    fields: Iterable[tuple[str, Any]], boundary: str | None = None
) -> tuple[str, bytes]:
    """Encode fields (values: str, or file / (file, filename[, content_type])) as multipart."""
    boundary = boundary or f"----KettleFormBoundary{secrets.token_hex(8)}"
    out = io.BytesIO()
    for name, value in fields:
        out.write(f"--{boundary}\r\n".encode())
        if _is_file(value):
            if isinstance(value, tuple):
                stream, filename, *rest = (*value, None)[:3] if len(value) < 3 else value
                content_type = rest[0] if rest else None
            else:
                stream = value
                filename = getattr(value, "filename", None) or getattr(value, "name", None)
                content_type = getattr(value, "content_type", None)
            filename = str(filename or "")
            if "/" in filename:
                filename = filename.rsplit("/", 1)[-1]
            content_type = (
                content_type
                or (mimetypes.guess_type(filename)[0] if filename else None)
                or "application/octet-stream"
            )
            out.write(
                f'Content-Disposition: form-data; name="{_quote_field(name)}";'
                f' filename="{_quote_field(filename)}"\r\n'
                f"Content-Type: {content_type}\r\n\r\n".encode()
            )
            data = stream.read()
            out.write(data.encode() if isinstance(data, str) else data)
        else:
            out.write(
                f'Content-Disposition: form-data; name="{_quote_field(name)}"\r\n\r\n'.encode()
            )
            out.write(value if isinstance(value, bytes) else str(value).encode())
        out.write(b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return boundary, out.getvalue()


class EnvironBuilder:
    """Describe a request the way Werkzeug's EnvironBuilder does, and render it.

    ``path`` may carry a query string or be a full URL; ``data`` may be
    bytes, str or a dict (files make it multipart); ``json`` serializes with
    the app's provider.
    """

    def __init__(
        self,
        app: Kettle | None = None,
        path: str = "/",
        base_url: str | None = None,
        query_string: str | bytes | Mapping[str, Any] | None = None,
        method: str = "GET",
        input_stream: IO[bytes] | None = None,
        content_type: str | None = None,
        content_length: int | None = None,
        headers: Any = None,
        data: Any = None,
        environ_base: Mapping[str, Any] | None = None,
        environ_overrides: Mapping[str, Any] | None = None,
        json: Any = None,
        mimetype: str | None = None,
        subdomain: str | None = None,
        url_scheme: str | None = None,
        auth: tuple[str, str] | None = None,
        errors_stream: IO[str] | None = None,
    ) -> None:
        self.app = app
        self.errors_stream = errors_stream
        self._files: list[Any] = []  # file objects given in ``data``, closed by close()
        parts = urlsplit(path)
        if base_url is None:
            server = app.config["SERVER_NAME"] if app is not None else None
            server = server or "localhost"
            root = (app.config["APPLICATION_ROOT"] if app is not None else "/") or "/"
            scheme = url_scheme or (
                app.config["PREFERRED_URL_SCHEME"] if app is not None else "http"
            )
            if subdomain:
                server = f"{subdomain}.{server}"
            if parts.netloc:
                scheme = parts.scheme or scheme
                server = parts.netloc
            base_url = f"{scheme}://{server}/{root.lstrip('/')}"
        base = urlsplit(base_url)
        self.url_scheme = url_scheme or base.scheme or "http"
        self.host = base.netloc or "localhost"
        self.script_root = base.path.rstrip("/")
        self.path = parts.path or "/"
        if isinstance(query_string, Mapping):
            query_string = encode_query(query_string)
        if query_string is None:
            query_string = parts.query
        self.query_string = query_string.encode() if isinstance(query_string, str) else query_string
        self.method = method.upper()
        self.headers = Headers(headers)
        self.environ_base = dict(environ_base or {})
        self.environ_overrides = dict(environ_overrides or {})
        self.body: bytes = b""
        self.input_stream = input_stream
        if auth is not None:
            import base64

            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            self.headers.set("Authorization", f"Basic {token}")
        if json is not None:
            if data is not None:
                raise TypeError("can't provide both json and data")
            data = self.json_dumps(json)
            content_type = content_type or mimetype or "application/json"
        if data is not None:
            content_type = self._encode_data(data, content_type or mimetype)
        elif mimetype is not None and content_type is None:
            content_type = mimetype
        if content_type is not None:
            self.headers.set("Content-Type", content_type)
        if content_length is not None:
            self.headers.set("Content-Length", str(content_length))
        elif self.body or data is not None:
            self.headers.set("Content-Length", str(len(self.body)))

    def _encode_data(self, data: Any, content_type: str | None) -> str | None:
        if isinstance(data, str):
            self.body = data.encode()
        elif isinstance(data, bytes | bytearray):
            self.body = bytes(data)
        elif hasattr(data, "read"):
            self.body = data.read()
        else:
            if isinstance(data, MultiDict):
                items = list(data.items(multi=True))
            elif isinstance(data, Mapping):
                items = []
                for key, value in data.items():
                    if isinstance(value, list):
                        items.extend((key, v) for v in value)
                    else:
                        items.append((key, value))
            else:
                items = list(data)
            files = [v[0] if isinstance(v, tuple) else v for _, v in items if _is_file(v)]
            if content_type == "multipart/form-data" or files:
                self._files.extend(files)
                boundary, self.body = encode_multipart(items)
                return f"multipart/form-data; boundary={boundary}"
            self.body = encode_query(items).encode()
            return content_type or "application/x-www-form-urlencoded"
        return content_type

    @classmethod
    def from_environ(cls, environ: Mapping[str, Any], **kwargs: Any) -> EnvironBuilder:
        """Turn a WSGI environ back into a builder; ``kwargs`` override what it says."""
        headers = Headers()
        for key, value in environ.items():
            if key.startswith("HTTP_") and key != "HTTP_HOST":
                headers.add(key[5:].replace("_", "-").title(), value)
        values: dict[str, Any] = {
            "path": quote(environ["PATH_INFO"].encode("latin-1")),
            "base_url": f"{environ['wsgi.url_scheme']}://{environ.get('HTTP_HOST') or 'localhost'}"
            f"{environ.get('SCRIPT_NAME', '')}",
            "query_string": environ.get("QUERY_STRING", ""),
            "method": environ["REQUEST_METHOD"],
            "input_stream": environ.get("wsgi.input"),
            "content_type": environ.get("CONTENT_TYPE"),
            "content_length": environ.get("CONTENT_LENGTH"),
            "errors_stream": environ.get("wsgi.errors"),
            "headers": headers,
        }
        values.update(kwargs)
        return cls(**values)

    def json_dumps(self, obj: Any, **kwargs: Any) -> str:
        """Serialize ``json=`` data with the app's JSON provider (the stdlib without an app)."""
        if self.app is not None:
            return self.app.json.dumps(obj, **kwargs)
        return _json.dumps(obj, **kwargs)

    @property
    def input_stream(self) -> IO[bytes] | None:
        """The body as a stream: the one given, else the encoded ``data`` (None if empty)."""
        if self._input_stream is None and self.body:
            return io.BytesIO(self.body)
        return self._input_stream

    @input_stream.setter
    def input_stream(self, value: IO[bytes] | None) -> None:
        self._input_stream = value

    def close(self) -> None:
        """Close the file objects given in ``data`` (the client does after sending)."""
        for file in self._files:
            file.close()
        self._files.clear()

    def get_environ(self) -> dict[str, Any]:
        """Render the request as a WSGI environ."""
        host, _, port = self.host.partition(":")
        given = self._input_stream
        stream = given if given is not None else io.BytesIO(self.body)
        # As a server does: PATH_INFO is the percent-decoded path, bytes as latin-1.
        path = unquote_to_bytes(self.path).decode("latin-1")
        environ: dict[str, Any] = {
            "REQUEST_METHOD": self.method,
            "SCRIPT_NAME": self.script_root,
            "PATH_INFO": path,
            "QUERY_STRING": self.query_string.decode("latin-1"),
            "REQUEST_URI": quote(self.path)
            + (("?" + self.query_string.decode("latin-1")) if self.query_string else ""),
            "RAW_URI": quote(self.path),
            "SERVER_NAME": host,
            "SERVER_PORT": port or ("443" if self.url_scheme == "https" else "80"),
            "HTTP_HOST": self.host,
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": self.url_scheme,
            "wsgi.input": stream,
            "wsgi.errors": self.errors_stream or sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "wsgi.input_terminated": True,
        }
        environ.update(self.environ_base)
        seen: set[str] = set()  # Headers given here replace environ_base's, repeats join.
        for name, value in self.headers.items():
            key = name.upper().replace("-", "_")
            if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                environ[key] = value
                continue
            key = f"HTTP_{key}"
            if key in environ and key != "HTTP_HOST" and key in seen:
                environ[key] = f"{environ[key]},{value}"
            else:
                environ[key] = value
            seen.add(key)
        environ.update(self.environ_overrides)
        return environ

    def get_request(self, cls: type[Any] | None = None) -> Any:
        """Return a request object for this description: of ``cls``, else the app's class."""
        from kettle.adapters.wsgi import request_from_environ
        from kettle.http.request import Request as HTTPRequest

        if cls is None and self.app is None:
            raise TypeError("EnvironBuilder.get_request() needs an app or a request class.")
        if cls is not None and not issubclass(cls, HTTPRequest):
            # A Werkzeug request class (moto's, say): it is built from the environ.
            return cls(self.get_environ())
        return request_from_environ(self.app, self.get_environ(), cls)


def scope_from_environ(environ: dict[str, Any]) -> dict[str, Any]:
    """Render a WSGI environ as an ASGI http scope (for the ASGI test driver)."""
    headers: list[tuple[bytes, bytes]] = []
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = key[5:].replace("_", "-").lower()
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            name = key.replace("_", "-").lower()
        else:
            continue
        headers.append((name.encode("latin-1"), str(value).encode("latin-1")))
    path = environ["PATH_INFO"].encode("latin-1")
    root = environ.get("SCRIPT_NAME", "").encode("latin-1")
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": environ["REQUEST_METHOD"],
        "scheme": environ["wsgi.url_scheme"],
        "path": (root + path).decode("utf-8", "replace"),
        "raw_path": quote(root + path).encode("ascii"),
        "root_path": root.decode("utf-8", "replace"),
        "query_string": environ["QUERY_STRING"].encode("latin-1"),
        "headers": headers,
        "client": (environ.get("REMOTE_ADDR", "127.0.0.1"), 50000),
        "server": (environ["SERVER_NAME"], int(environ["SERVER_PORT"])),
        "extensions": {},
        "kettle.preserve_context": environ.get("kettle.preserve_context"),
    }


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


def _test_response(data: bytes, status: int | str, headers: list[tuple[str, str]]) -> TestResponse:
    """Wrap what the server sent, headers exactly as sent (HEAD keeps its Content-Length)."""
    response = TestResponse(None, status, Headers._trusted(headers))
    response.response = [data]
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
        self.environ_base: dict[str, Any] = {
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_USER_AGENT": "Kettle/test",
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

    def _run_wsgi(self, environ: dict[str, Any], buffered: bool = True) -> TestResponse:
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
            from kettle._push_testing import LazyWSGIBody

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
        response = _test_response(data, captured["status"], list(captured["headers"]))
        response.request = self._request_of(environ)
        return response

    def _run_asgi(self, environ: dict[str, Any], buffered: bool = True) -> TestResponse:
        from kettle._push_testing import run_asgi_http

        scope = scope_from_environ(environ)
        body = environ["wsgi.input"].read()
        status, headers, data = run_asgi_http(self.application.asgi, scope, body, buffered)
        if isinstance(data, bytes):
            response = _test_response(data, status, headers)
        else:
            response = _test_response(b"", status, headers)
            response.response = data
        response.request = self._request_of(environ)
        return response

    def websocket(
        self, path: str = "/", subprotocols: Iterable[str] = (), **kwargs: Any
    ) -> WebSocketSession:
        """Open a WebSocket to ``path`` through ``app.asgi``; use it as a context manager."""
        from kettle._push_testing import WebSocketSession

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

    def _request_of(self, environ: dict[str, Any]) -> Any:
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

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._preserve = False
        self._pop_preserved()


#: Flask's names, so ``from kettle.testing import FlaskClient`` works after a port.
FlaskClient = KettleClient
FlaskCliRunner = KettleCliRunner

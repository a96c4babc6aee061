"""A request described by plain values, rendered as a WSGI environ or an ASGI scope.

``EnvironBuilder`` is Werkzeug's idea: the test client, ``app.test_request_context``
and the Werkzeug interop describe a request once and render it for either
protocol, so both sides see the same bytes. No I/O: it only builds dicts.
"""

from __future__ import annotations

import io
import json as _json
import mimetypes
import secrets
import sys
from collections.abc import Iterable, Mapping
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import quote, unquote_to_bytes, urlsplit

from kettle.http.auth import Authorization
from kettle.http.datastructures import MultiDict
from kettle.http.headers import Headers
from kettle.http.hosts import split_host
from kettle.http.urls import encode_query

if TYPE_CHECKING:
    from kettle.app import Kettle
    from kettle.typing import Scope, WSGIEnvironment


#: What a path keeps as it is in REQUEST_URI and RAW_URI: its escapes, and what RFC 3986
#: allows in a path.
_SENT_PATH_SAFE = "/%:@!$&'()*+,;="


def _authorization_header(auth: tuple[str, str] | Authorization) -> str:
    """The Authorization value for ``auth=``: (user, password) for Basic, or an ``Authorization``.

    Werkzeug's ``Authorization`` is taken too: anything with ``to_header()``.
    """
    if isinstance(auth, tuple):
        auth = Authorization("basic", {"username": auth[0], "password": auth[1]})
    return auth.to_header()


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
        auth: tuple[str, str] | Authorization | None = None,
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
            self.headers.set("Authorization", _authorization_header(auth))
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

    def get_environ(self) -> WSGIEnvironment:
        """Render the request as a WSGI environ."""
        host, _, port = self.host.partition(":")
        given = self._input_stream
        stream = given if given is not None else io.BytesIO(self.body)
        # As a server does: PATH_INFO is the percent-decoded path, bytes as latin-1.
        path = unquote_to_bytes(self.path).decode("latin-1")
        environ: WSGIEnvironment = {
            "REQUEST_METHOD": self.method,
            "SCRIPT_NAME": self.script_root,
            "PATH_INFO": path,
            "QUERY_STRING": self.query_string.decode("latin-1"),
            # As sent: the path's escapes are kept (``%C3%A9`` is not quoted again).
            "REQUEST_URI": quote(self.path, _SENT_PATH_SAFE)
            + (("?" + self.query_string.decode("latin-1")) if self.query_string else ""),
            "RAW_URI": quote(self.path, _SENT_PATH_SAFE),
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


def scope_from_environ(environ: WSGIEnvironment) -> Scope:
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
        # The test client's ``errors_stream``: ``request.environ["wsgi.errors"]`` under ASGI.
        "kettle.errors_stream": environ.get("wsgi.errors"),
    }


#: The ``wsgi.*`` keys that describe the server, as a threaded WSGI server gives them.
_WSGI_CONSTANTS: dict[str, Any] = {
    "wsgi.version": (1, 0),
    "wsgi.multithread": True,
    "wsgi.multiprocess": True,
    "wsgi.run_once": False,
}


def _native(text: str) -> str:
    """A URL part as a WSGI server gives it: its UTF-8 bytes, one latin-1 character each."""
    return text if text.isascii() else text.encode("utf-8", "surrogateescape").decode("latin-1")


def environ_from_scope(
    scope: Scope, method: str, scheme: str, root_path: str, path: str, query_string: bytes
) -> WSGIEnvironment:
    """The WSGI environ (PEP 3333) a WSGI server would have given for an ASGI request.

    ``request.environ`` under ASGI, built on first read from the scope and the
    request's own method, scheme, paths and query string (so it agrees with ``request``):
    ``REQUEST_METHOD``, ``SCRIPT_NAME``, ``PATH_INFO`` and ``QUERY_STRING``,
    ``SERVER_NAME``/``SERVER_PORT`` (the scope's ``server``, else the Host),
    ``SERVER_PROTOCOL``, ``REMOTE_ADDR``/``REMOTE_PORT`` (the scope's
    ``client``), ``CONTENT_TYPE``/``CONTENT_LENGTH``, each other header as
    ``HTTP_*`` (repeats joined with ``,``, Cookie fields with ``; ``),
    ``wsgi.url_scheme`` and the other ``wsgi.*`` keys, and the scope itself as
    ``asgi.scope``. There is no ``wsgi.input``: under ASGI the body is
    ``request.stream`` (or ``get_data()``, ``form``, ``files``), and a second
    reader beside it would find it consumed. ``wsgi.errors`` is ``sys.stderr``
    (a test request's ``errors_stream`` where the test client gave one).
    """
    environ: WSGIEnvironment = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": _native(root_path),
        "PATH_INFO": _native(path),
        "QUERY_STRING": query_string.decode("latin-1"),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "wsgi.url_scheme": scheme,
        "wsgi.errors": scope.get("kettle.errors_stream") or sys.stderr,
        **_WSGI_CONSTANTS,
        "asgi.scope": scope,
    }
    client = scope.get("client")
    if client:
        environ["REMOTE_ADDR"], environ["REMOTE_PORT"] = client[0], str(client[1])
    for raw_name, raw_value in scope.get("headers", ()):
        name = raw_name.decode("latin-1").upper().replace("-", "_")
        value = raw_value.decode("latin-1")
        key = name if name in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{name}"
        if key in environ:
            value = f"{environ[key]}{'; ' if key == 'HTTP_COOKIE' else ','}{value}"
        environ[key] = value
    server = scope.get("server")
    if server:
        environ["SERVER_NAME"] = server[0]
        environ["SERVER_PORT"] = str(server[1]) if server[1] is not None else ""
    else:  # The Host names the server (a malformed or missing one: localhost).
        name, port = split_host(environ.get("HTTP_HOST", "")) or ("localhost", None)
        environ["SERVER_NAME"] = name
        environ["SERVER_PORT"] = str(port) if port else "443" if scheme == "https" else "80"
    return environ

"""What the session-12 cuts of the fixed path must not change, under WSGI and ASGI.

``Request.__init__`` tests the path's first two characters by index (no
slice) and looks the Host up in the checked-host cache through a method bound
once; the teardown restores the context variable through ``ContextVar.reset``
bound once; the adapters call ``environ.get`` / ``scope.get`` as methods.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from kettle import Kettle, has_request_context, request
from kettle.http.request import Request as CoreRequest
from raw_asgi import asgi_exchange, asgi_scope
from raw_wsgi import wsgi_environ

#: (path given, ``request.path``): one leading slash, whatever came.
_PATHS = [
    ("/", "/"),
    ("", "/"),
    ("x", "/x"),
    ("/x", "/x"),
    ("//evil.test/x", "/evil.test/x"),
    ("///x", "/x"),
    ("/a//b", "/a//b"),
    ("/a/", "/a/"),
]


def _echo_app() -> Kettle:
    app = Kettle(__name__)

    @app.route("/", defaults={"rest": ""})
    @app.route("/<path:rest>")
    def echo(rest: str) -> Any:
        return {
            "path": request.path,
            "host": request.host,
            "scheme": request.scheme,
            "server": request.environ.get("SERVER_NAME") if request.environ else None,
            "context": has_request_context(),
        }

    return app


def _wsgi(app: Kettle, environ: dict[str, Any]) -> tuple[str, bytes]:
    status: list[str] = []

    def start_response(line: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        status.append(line)

    body = b"".join(app(environ, start_response))
    return status[0], body


def _asgi(app: Kettle, scope: dict[str, Any]) -> tuple[int, bytes]:
    status, _, body = asyncio.run(asgi_exchange(app, scope))
    return status, body


@pytest.mark.parametrize(("given", "expected"), _PATHS)
def test_the_core_request_has_one_leading_slash(given: str, expected: str) -> None:
    assert CoreRequest("GET", given).path == expected


@pytest.mark.parametrize(("given", "expected"), _PATHS)
def test_the_wsgi_request_path_has_one_leading_slash(given: str, expected: str) -> None:
    app = _echo_app()
    status, body = _wsgi(app, wsgi_environ(given))
    assert status == "200 OK"
    assert json.loads(body)["path"] == expected
    assert not has_request_context()  # Popped: the context variable was reset.


@pytest.mark.parametrize(("given", "expected"), _PATHS)
def test_the_asgi_request_path_has_one_leading_slash(given: str, expected: str) -> None:
    app = _echo_app()
    status, body = _asgi(app, asgi_scope(given, headers=[(b"host", b"localhost")]))
    assert status == 200
    assert json.loads(body)["path"] == expected


def test_a_host_seen_before_is_answered_per_scheme_under_wsgi() -> None:
    app = _echo_app()
    for _ in range(2):  # The second time from the checked-host cache.
        _, http = _wsgi(app, wsgi_environ("/", HTTP_HOST="Cache.Test:443"))
        _, https = _wsgi(
            app, wsgi_environ("/", HTTP_HOST="Cache.Test:443", **{"wsgi.url_scheme": "https"})
        )
        assert json.loads(http)["host"] == "cache.test:443"
        assert json.loads(https)["host"] == "cache.test"
        status, _ = _wsgi(app, wsgi_environ("/", HTTP_HOST="bad host:@x"))
        assert status.startswith("400")


def test_a_host_seen_before_is_answered_per_scheme_under_asgi() -> None:
    app = _echo_app()
    for _ in range(2):
        _, http = _asgi(app, asgi_scope("/", headers=[(b"host", b"Cache.Test:443")]))
        scope = asgi_scope("/", headers=[(b"host", b"Cache.Test:443")])
        scope["scheme"] = "https"
        _, https = _asgi(app, scope)
        assert json.loads(http)["host"] == "cache.test:443"
        assert json.loads(https)["host"] == "cache.test"
        status, _ = _asgi(app, asgi_scope("/", headers=[(b"host", b"bad host:@x")]))
        assert status == 400


def test_the_environ_fields_reach_the_request_under_wsgi() -> None:
    app = _echo_app()
    environ = wsgi_environ("/x", QUERY_STRING="a=1", SCRIPT_NAME="/root")
    del environ["HTTP_HOST"]  # The host is then the server's.
    status, body = _wsgi(app, environ)
    assert status == "200 OK"
    data = json.loads(body)
    assert data["host"] == "localhost"
    assert data["path"] == "/x"
    assert data["context"] is True


def test_the_context_is_popped_after_each_request_under_both(protocol: str) -> None:
    app = _echo_app()
    for _ in range(3):
        if protocol == "wsgi":
            _wsgi(app, wsgi_environ("/"))
        else:
            _asgi(app, asgi_scope("/", headers=[(b"host", b"localhost")]))
        assert not has_request_context()

"""The development server's access log: one line per request, coloured by status on a terminal."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from kettle import Kettle, abort
from kettle.serving import AccessLogMiddleware


def _app() -> Kettle:
    app = Kettle("access_log_app")

    @app.route("/ok")
    def ok() -> str:
        return "twelve bytes"

    @app.route("/missing")
    def missing() -> str:
        abort(404)

    return app


def _call(middleware: AccessLogMiddleware, path: str, query: bytes = b"") -> None:
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": query,
        "root_path": "", "headers": [(b"host", b"localhost")], "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 5000),
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        pass

    asyncio.run(middleware(scope, receive, send))


@pytest.mark.parametrize(("colour", "path", "expected"), [
    (False, "/ok", '127.0.0.1:40000 - "GET /ok?a=1 HTTP/1.1" 200 12 '),
    (True, "/ok", '127.0.0.1:40000 - "GET /ok?a=1 HTTP/1.1" 200 12 '),
    (True, "/missing", '127.0.0.1:40000 - "GET /missing?a=1 HTTP/1.1" \x1b[33m404 '),
])
def test_one_line_per_request(caplog: pytest.LogCaptureFixture, colour: bool, path: str, expected: str) -> None:
    middleware = AccessLogMiddleware(_app().asgi, colour=colour)
    with caplog.at_level(logging.INFO, logger="kettle.serving"):
        _call(middleware, path, b"a=1")
    lines = [r.getMessage() for r in caplog.records if r.name == "kettle.serving"]
    assert len(lines) == 1
    assert lines[0].startswith(expected)
    assert lines[0].rstrip("\x1b[0m").endswith("ms")
    assert ("\x1b[" in lines[0]) is (colour and path == "/missing")

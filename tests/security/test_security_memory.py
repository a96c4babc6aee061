"""Issue 13 item 12: a 2 MB percent-encoded query string stays far below 32 MiB of Python memory.

The app is called directly (a ready environ / scope), so tracemalloc sees the
framework's work only: parsing the query, running the view, answering.
"""

from __future__ import annotations

import asyncio
import tracemalloc
from typing import Any

import pytest

from kettle import Kettle, request

LIMIT = 32 * 1024 * 1024

QUERIES = {
    "ascii-escapes": "q=" + "%41" * 700_000,
    "utf8-escapes": "q=" + "%C3%A9" * 350_000,
    "escaped-keys": "%71=" + "%42" * 350_000 + "&" + "%7A" * 300_000 + "=1",
    "many-fields": "q=" + "%41" * 300_000 + "&" + "&".join(f"a={i % 1000}" for i in range(200_000)),
}


def _app() -> Kettle:
    app = Kettle("querymem")

    @app.get("/")
    def index() -> Any:
        return {"fields": len(request.args), "q": len(request.args.get("q", ""))}

    return app


def _run_wsgi(app: Kettle, query: str) -> tuple[str, bytes]:
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/",
        "SCRIPT_NAME": "",
        "QUERY_STRING": query,
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "HTTP_HOST": "localhost",
        "wsgi.input": None,
        "wsgi.url_scheme": "http",
    }
    status: list[str] = []
    body = b"".join(app(environ, lambda s, h, e=None: status.append(s)))
    return status[0], body


def _run_asgi(app: Kettle, query: str) -> tuple[str, bytes]:
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/",
        "root_path": "",
        "query_string": query.encode("ascii"),
        "scheme": "http",
        "http_version": "1.1",
        "server": ("localhost", 80),
        "client": ("127.0.0.1", 5000),
        "headers": [(b"host", b"localhost")],
    }
    out: dict[str, Any] = {"body": b""}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            out["status"] = str(message["status"])
        else:
            out["body"] += message.get("body", b"")

    asyncio.run(app.asgi(scope, receive, send))
    return out["status"], out["body"]


@pytest.mark.parametrize("shape", sorted(QUERIES))
@pytest.mark.parametrize("run", [_run_wsgi, _run_asgi], ids=["wsgi", "asgi"])
def test_2_mb_percent_encoded_query_peaks_below_32_mib(run: Any, shape: str) -> None:
    app = _app()
    query = QUERIES[shape]
    run(app, "warm=1")  # imports and first-request setup are not the query's cost
    tracemalloc.start()
    try:
        status, body = run(app, query)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert status.startswith("200")
    expected = {"ascii-escapes": 700_000, "many-fields": 300_000}.get(shape, 350_000)
    assert b'"q":%d' % expected in body
    assert peak - len(query) < LIMIT, f"peak {peak / 2**20:.1f} MiB"

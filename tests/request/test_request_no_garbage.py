"""A served request leaves nothing for the cyclic garbage collector (session 8).

Every object a request makes (the request, its context, the response, the
pipeline's frames) is freed by reference counting when the request ends: no
reference cycle between them, so no work is left for the collector and
nothing waits for it. Checked with the collector off, under WSGI and ASGI,
for sync and ``async def`` views, with and without a background task and an
``after_this_request`` function. The adapters are driven directly, as a
server does (the test client keeps things of its own).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from types import FrameType

import pytest

from garbage import asgi_garbage, wsgi_call, wsgi_garbage
from kettle import Kettle, after_this_request
from kettle.http.request import Request as CoreRequest
from kettle.testing import KettleClient
from kettle.wrappers import Response
from raw_asgi import asgi_request
from raw_wsgi import wsgi_environ


def _app() -> tuple[Kettle, list[str]]:
    app = Kettle(__name__)
    done: list[str] = []

    @app.get("/hello")
    def hello() -> str:
        return "Hello, World!"

    @app.get("/async")
    async def async_hello() -> str:
        return "Hello, World!"

    @app.get("/task")
    def task() -> str:
        app.add_background_task(done.append, "task")
        return "queued"

    @app.get("/after")
    def after() -> str:
        @after_this_request
        def mark(response: Response) -> Response:
            response.headers["X-After"] = "yes"
            return response

        return "after"

    return app, done


def _wsgi_serve(app: Kettle, path: str) -> tuple[str, bytes]:
    return wsgi_call(app, wsgi_environ(path, **{"wsgi.input_terminated": True}))


async def _asgi_serve(app: Kettle, path: str) -> tuple[str, bytes]:
    status, _, body = await asgi_request(app, path)
    return str(status), body


_CASES = [
    ("/hello", b"Hello, World!"),
    ("/async", b"Hello, World!"),
    ("/task", b"queued"),
    ("/after", b"after"),
]


@pytest.mark.parametrize(("path", "body"), _CASES)
def test_a_wsgi_request_leaves_no_garbage(path: str, body: bytes) -> None:
    app, done = _app()
    assert wsgi_garbage(lambda: _wsgi_serve(app, path), 20) == ({("200 OK", body)}, 0)
    assert done == (["task"] * 21 if path == "/task" else [])


@pytest.mark.parametrize(("path", "body"), _CASES)
def test_an_asgi_request_leaves_no_garbage(path: str, body: bytes) -> None:
    app, done = _app()
    assert asgi_garbage(lambda: _asgi_serve(app, path), 20) == ({("200", body)}, 0)
    assert done == (["task"] * 21 if path == "/task" else [])


@pytest.mark.parametrize(
    ("given", "method"),
    [
        ("GET", "GET"),
        ("get", "GET"),
        ("Post", "POST"),
        ("PROPFIND", "PROPFIND"),
        ("purge", "PURGE"),
    ],
)
def test_the_method_is_upper_case_whatever_the_server_sent(given: str, method: str) -> None:
    assert CoreRequest(given, "/").method == method


def _kettle_cells(serve: Callable[[], object]) -> set[str]:
    """The Kettle functions that made closure cells while ``serve`` ran (each call makes them)."""
    found: set[str] = set()
    previous = sys.gettrace()

    def tracer(frame: FrameType, event: str, arg: object) -> None:
        code = frame.f_code
        if event == "call" and code.co_cellvars and "/kettle/" in code.co_filename:
            found.add(code.co_qualname)

    sys.settrace(tracer)
    try:
        serve()
    finally:
        sys.settrace(previous)
    return found


@pytest.mark.parametrize("path", ["/hello", "/async"])
def test_a_plain_request_makes_no_closure_cell(path: str) -> None:
    # A function whose variable an inner function captures makes a cell on every
    # call, even when it does not make the inner function: none on this path.
    app, _ = _app()
    _wsgi_serve(app, path)
    assert _kettle_cells(lambda: _wsgi_serve(app, path)) == set()
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(_asgi_serve(app, path))
        assert _kettle_cells(lambda: loop.run_until_complete(_asgi_serve(app, path))) == set()
    finally:
        loop.close()


def test_a_list_body_without_a_length_gets_the_size_of_its_encoded_chunks(
    app: Kettle, client: KettleClient
) -> None:
    @app.get("/chunks")
    def chunks() -> Response:
        response = Response(["é", b"ab", "c"])
        del response.headers["Content-Length"]
        return response

    answer = client.get("/chunks")
    assert answer.data == "éabc".encode()
    assert answer.headers["Content-Length"] == "5"

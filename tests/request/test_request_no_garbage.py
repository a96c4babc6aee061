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
import gc
import io
import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

import pytest

from kettle import Kettle, after_this_request
from kettle.http.request import Request as CoreRequest
from kettle.testing import KettleClient
from kettle.wrappers import Response
from raw_asgi import asgi_exchange, asgi_request, asgi_scope
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
    environ = wsgi_environ(path, **{"wsgi.input_terminated": True})
    statuses: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        statuses.append(status)

    body = app(environ, start_response)
    try:
        data = b"".join(body)
    finally:
        getattr(body, "close", lambda: None)()
    return statuses[0], data


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
    assert _wsgi_serve(app, path) == ("200 OK", body)  # What is made once, made.
    gc.collect()
    gc.disable()
    try:
        answers = {_wsgi_serve(app, path) for _ in range(20)}
        garbage = gc.collect()
    finally:
        gc.enable()
    assert answers == {("200 OK", body)}
    assert garbage == 0
    assert done == (["task"] * 21 if path == "/task" else [])


@pytest.mark.parametrize(("path", "body"), _CASES)
def test_an_asgi_request_leaves_no_garbage(path: str, body: bytes) -> None:
    app, done = _app()
    loop = asyncio.new_event_loop()
    try:

        async def serve_many(count: int) -> tuple[set[tuple[str, bytes]], int]:
            assert await _asgi_serve(app, path) == ("200", body)  # What is made once, made.
            await asyncio.sleep(0)
            gc.collect()
            gc.disable()
            try:
                answers = {await _asgi_serve(app, path) for _ in range(count)}
                await asyncio.sleep(0)
                return answers, gc.collect()
            finally:
                gc.enable()

        answers, garbage = loop.run_until_complete(serve_many(20))
    finally:
        loop.close()
    assert answers == {("200", body)}
    assert garbage == 0
    assert done == (["task"] * 21 if path == "/task" else [])


_BOUNDARY = "nogarbage"
_MULTIPART = (
    (
        f'--{_BOUNDARY}\r\nContent-Disposition: form-data; name="title"\r\n\r\nreport\r\n'
        f'--{_BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    + bytes(range(256)) * 40
    + f"\r\n--{_BOUNDARY}--\r\n".encode()
)
_BODIES = {
    "multipart": (f"multipart/form-data; boundary={_BOUNDARY}", _MULTIPART, b"10240 report"),
    "urlencoded": ("application/x-www-form-urlencoded", b"title=report&x=1", b"0 report"),
}


def _form_app(max_form_parts: int | None = None) -> Kettle:
    app = Kettle(__name__)
    app.config["MAX_FORM_PARTS"] = max_form_parts

    @app.post("/upload")
    def upload() -> str:
        from kettle import request

        upload = request.files.get("file")
        size = 0 if upload is None else len(upload.read())
        return f"{size} {request.form['title']}"

    return app


def _wsgi_post(app: Kettle, kind: str) -> tuple[str, bytes]:
    content_type, body, _ = _BODIES[kind]
    environ = wsgi_environ(
        "/upload",
        "POST",
        **{
            "CONTENT_TYPE": content_type,
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
            "wsgi.input_terminated": True,
        },
    )
    statuses: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        statuses.append(status)

    answer = app(environ, start_response)
    try:
        data = b"".join(answer)
    finally:
        getattr(answer, "close", lambda: None)()
    return statuses[0], data


@pytest.mark.parametrize("kind", ["multipart", "urlencoded"])
@pytest.mark.parametrize("max_parts", [None, 1])
def test_a_form_or_upload_leaves_no_garbage(kind: str, max_parts: int | None) -> None:
    # A multipart parse kept a bound method of its part collector on the collector:
    # a cycle that held the parser, the collector and each file's buffer (a 100 KiB
    # upload's) until the collector ran. ``max_parts`` 1: the 413 of a failed parse.
    app = _form_app(max_parts)
    expected = _BODIES[kind][2]
    if max_parts is not None:  # Two fields or parts, one allowed.
        wsgi_answer, asgi_answer = ("413 REQUEST ENTITY TOO LARGE", None), ("413", None)
    else:
        wsgi_answer, asgi_answer = ("200 OK", expected), ("200", expected)
    assert _wsgi_post(app, kind)[0] == wsgi_answer[0]
    gc.collect()
    gc.disable()
    try:
        answers = {_wsgi_post(app, kind) for _ in range(10)}
        garbage = gc.collect()
    finally:
        gc.enable()
    assert {status for status, _ in answers} == {wsgi_answer[0]}
    if wsgi_answer[1] is not None:
        assert answers == {wsgi_answer}
    assert garbage == 0
    content_type, body, _ = _BODIES[kind]
    headers = [(b"content-type", content_type.encode()), (b"content-length", b"%d" % len(body))]
    loop = asyncio.new_event_loop()
    try:

        async def serve_many(count: int) -> tuple[set[tuple[int, bytes]], int]:
            await asgi_request(app, "/upload", headers=headers, method="POST", body=body)
            await asyncio.sleep(0)
            gc.collect()
            gc.disable()
            try:
                answers = set()
                for _ in range(count):
                    status, _, data = await asgi_request(
                        app, "/upload", headers=headers, method="POST", body=body
                    )
                    answers.add((status, data))
                await asyncio.sleep(0)
                return answers, gc.collect()
            finally:
                gc.enable()

        asgi_answers, garbage = loop.run_until_complete(serve_many(10))
    finally:
        loop.close()
    assert {str(status) for status, _ in asgi_answers} == {asgi_answer[0]}
    if asgi_answer[1] is not None:
        assert {data for _, data in asgi_answers} == {asgi_answer[1]}
    assert garbage == 0


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


def _routing_errors_app() -> Kettle:
    app = Kettle(__name__)

    @app.get("/hello")
    def hello() -> str:
        return "Hello, World!"

    @app.errorhandler(404)
    def not_found(error: Exception) -> tuple[str, int]:
        return "not here", 404

    @app.errorhandler(405)
    def not_allowed(error: Exception) -> tuple[str, int]:
        return "not so", 405

    @app.errorhandler(400)
    def bad(error: Exception) -> tuple[str, int]:
        return "bad host", 400

    return app


_ROUTING_ERRORS = [
    ("GET", "/missing", "localhost", 404, b"not here"),
    ("POST", "/hello", "localhost", 405, b"not so"),
    ("GET", "/hello", "bad host!", 400, b"bad host"),
]


@pytest.mark.parametrize(("method", "path", "host", "status", "body"), _ROUTING_ERRORS)
def test_a_routing_error_answered_by_a_handler_leaves_no_garbage(
    method: str, path: str, host: str, status: int, body: bytes
) -> None:
    # The routing error is kept on the request and raised from it for its handler: its
    # traceback's frames held the request, a cycle per 404 (12 objects) that a client
    # could make at will.
    app = _routing_errors_app()

    def wsgi_once() -> tuple[str, bytes]:
        environ = wsgi_environ(path, method, HTTP_HOST=host, **{"wsgi.input_terminated": True})
        statuses: list[str] = []
        answer = app(environ, lambda status, headers, exc_info=None: statuses.append(status))
        try:
            return statuses[0], b"".join(answer)
        finally:
            getattr(answer, "close", lambda: None)()

    assert wsgi_once()[0].startswith(str(status))
    gc.collect()
    gc.disable()
    try:
        answers = {wsgi_once() for _ in range(10)}
        garbage = gc.collect()
    finally:
        gc.enable()
    assert {(int(line[:3]), data) for line, data in answers} == {(status, body)}
    assert garbage == 0

    async def serve_many(count: int) -> tuple[set[tuple[int, bytes]], int]:
        scope = asgi_scope(path, method, b"", [(b"host", host.encode())])
        await asgi_exchange(app, dict(scope), b"")
        await asyncio.sleep(0)
        gc.collect()
        gc.disable()
        try:
            seen = set()
            for _ in range(count):
                code, _, data = await asgi_exchange(app, dict(scope), b"")
                seen.add((code, data))
            await asyncio.sleep(0)
            return seen, gc.collect()
        finally:
            gc.enable()

    loop = asyncio.new_event_loop()
    try:
        asgi_answers, asgi_garbage = loop.run_until_complete(serve_many(10))
    finally:
        loop.close()
    assert asgi_answers == {(status, body)}
    assert asgi_garbage == 0


def _bad_requests_app() -> Kettle:
    app = Kettle(__name__)

    @app.post("/json")
    def echo() -> Any:
        from kettle import request

        return {"got": request.get_json()}

    @app.get("/gone")
    async def gone() -> str:
        from kettle import abort

        abort(410)

    @app.errorhandler(410)
    def handle_gone(error: Exception) -> tuple[str, int]:
        return "gone", 410

    @app.before_request
    def before() -> None:  # The lane through ``dispatch_value``, where the error is ``rv``.
        pass

    return app


_BAD_REQUESTS = [
    ("POST", "/json", "application/json", b"[1", 400),  # An HTTP error that is its own answer,
    ("POST", "/json", "text/plain", b"[1]", 415),  # raised from another (400) or not (415).
    ("GET", "/gone", "", b"", 410),  # Raised in an ``async def`` view, answered by a handler.
]


@pytest.mark.parametrize(("method", "path", "content_type", "body", "status"), _BAD_REQUESTS)
def test_a_bad_request_answered_by_its_error_leaves_no_garbage(
    method: str, path: str, content_type: str, body: bytes, status: int
) -> None:
    # The answered error's traceback held the frames it was raised through, and one of
    # them held the error: the request waited for the cyclic collector (20-39 objects).
    app = _bad_requests_app()

    def wsgi_once() -> str:
        environ = wsgi_environ(
            path,
            method,
            CONTENT_TYPE=content_type,
            CONTENT_LENGTH=str(len(body)),
            **{"wsgi.input": io.BytesIO(body), "wsgi.input_terminated": True},
        )
        statuses: list[str] = []
        answer = app(environ, lambda status, headers, exc_info=None: statuses.append(status))
        try:
            b"".join(answer)
        finally:
            getattr(answer, "close", lambda: None)()
        return statuses[0]

    assert wsgi_once()[:3] == str(status)
    gc.collect()
    gc.disable()
    try:
        answers = {wsgi_once()[:3] for _ in range(10)}
        garbage = gc.collect()
    finally:
        gc.enable()
    assert (answers, garbage) == ({str(status)}, 0)

    headers = [(b"host", b"localhost"), (b"content-length", b"%d" % len(body))]
    if content_type:
        headers.append((b"content-type", content_type.encode()))

    async def serve_many(count: int) -> tuple[set[int], int]:
        await asgi_exchange(app, asgi_scope(path, method, b"", headers), body)
        await asyncio.sleep(0)
        gc.collect()
        gc.disable()
        try:
            seen = set()
            for _ in range(count):
                seen.add(
                    (await asgi_exchange(app, asgi_scope(path, method, b"", headers), body))[0]
                )
            await asyncio.sleep(0)
            return seen, gc.collect()
        finally:
            gc.enable()

    loop = asyncio.new_event_loop()
    try:
        assert loop.run_until_complete(serve_many(10)) == ({status}, 0)
    finally:
        loop.close()

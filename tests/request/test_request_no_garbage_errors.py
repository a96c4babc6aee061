"""Bodies and errors a client sends at will leave nothing for the cyclic garbage collector.

As a plain request (``test_request_no_garbage.py``), under WSGI and ASGI, the
adapters driven directly: a form, an upload and their 413; a 404, a 405 and a bad
Host answered by error handlers; an HTTP error that is its own answer (a bad JSON
body's 400, a 415) and an ``abort`` in an ``async def`` view answered by a handler.
Each but the urlencoded form (the control) left a reference cycle before session 14
(12 to 42 objects, an upload's buffer among them); each of those tests fails on that code.
"""

from __future__ import annotations

import io
from typing import Any

import pytest

from garbage import asgi_garbage, wsgi_call, wsgi_garbage
from kettle import Kettle, abort, request
from raw_asgi import asgi_exchange, asgi_scope
from raw_wsgi import wsgi_environ

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


def _app(max_form_parts: int | None = None) -> Kettle:
    app = Kettle(__name__)
    app.config["MAX_FORM_PARTS"] = max_form_parts

    @app.post("/upload")
    def upload() -> str:
        upload = request.files.get("file")
        size = 0 if upload is None else len(upload.read())
        return f"{size} {request.form['title']}"

    @app.post("/json")
    def echo() -> Any:
        return {"got": request.get_json()}

    @app.get("/gone")
    async def gone() -> str:
        abort(410)

    @app.errorhandler(410)
    def handle_gone(error: Exception) -> tuple[str, int]:
        return "gone", 410

    return app


def _with_handlers(app: Kettle, bad_request: bool = True) -> Kettle:
    """Error handlers for the routing errors (400 with ``bad_request``), a ``before_request``.

    The hook sends the request through ``dispatch_value``, whose frame holds an
    error that is its own answer (``rv``).
    """

    @app.get("/hello")
    def hello() -> str:
        return "Hello, World!"

    @app.errorhandler(404)
    def not_found(error: Exception) -> tuple[str, int]:
        return "not here", 404

    @app.errorhandler(405)
    def not_allowed(error: Exception) -> tuple[str, int]:
        return "not so", 405

    if bad_request:

        @app.errorhandler(400)
        def bad(error: Exception) -> tuple[str, int]:
            return "bad host", 400

    @app.before_request
    def before() -> None:
        pass

    return app


def _both(
    app: Kettle, method: str, path: str, headers: dict[str, str], body: bytes
) -> tuple[tuple[set[Any], int], tuple[set[Any], int]]:
    """The answers (status, body) and the garbage of ten requests, under WSGI and under ASGI."""

    def wsgi_once() -> tuple[int, bytes]:
        extra = {"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()}
        for name in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if "HTTP_" + name in extra:
                extra[name] = extra.pop("HTTP_" + name)
        environ = wsgi_environ(
            path, method, **extra, **{"wsgi.input": io.BytesIO(body), "wsgi.input_terminated": True}
        )
        status, data = wsgi_call(app, environ)
        return int(status[:3]), data

    pairs = [(name.lower().encode(), value.encode()) for name, value in headers.items()]
    pairs.append((b"content-length", b"%d" % len(body)))

    async def asgi_once() -> tuple[int, bytes]:
        status, _, data = await asgi_exchange(app, asgi_scope(path, method, b"", pairs), body)
        return status, data

    return wsgi_garbage(wsgi_once), asgi_garbage(asgi_once)


_LOCAL = {"Host": "localhost"}
_BODIES = {
    "multipart": ({"Content-Type": f"multipart/form-data; boundary={_BOUNDARY}"}, _MULTIPART),
    "urlencoded": ({"Content-Type": "application/x-www-form-urlencoded"}, b"title=report&x=1"),
}


@pytest.mark.parametrize("kind", ["multipart", "urlencoded"])
@pytest.mark.parametrize("max_parts", [None, 1])
def test_a_form_or_upload_leaves_no_garbage(kind: str, max_parts: int | None) -> None:
    # A multipart parse kept a bound method of its part collector on the collector:
    # a cycle that held the parser, the collector and each file's buffer until the
    # collector ran. ``max_parts`` 1: two fields or parts, one allowed (the 413).
    headers, body = _BODIES[kind]
    wsgi, asgi = _both(_app(max_parts), "POST", "/upload", {**_LOCAL, **headers}, body)
    statuses = {wsgi_status for wsgi_status, _ in wsgi[0]} | {code for code, _ in asgi[0]}
    if max_parts is not None:
        assert (statuses, wsgi[1], asgi[1]) == ({413}, 0, 0)
    else:
        answer = (200, b"10240 report" if kind == "multipart" else b"0 report")
        assert (wsgi, asgi) == (({answer}, 0), ({answer}, 0))


@pytest.mark.parametrize(
    ("method", "path", "host", "answer"),
    [
        ("GET", "/missing", "localhost", (404, b"not here")),
        ("POST", "/hello", "localhost", (405, b"not so")),
        ("GET", "/hello", "bad host!", (400, b"bad host")),
    ],
)
def test_a_routing_error_answered_by_a_handler_leaves_no_garbage(
    method: str, path: str, host: str, answer: tuple[int, bytes]
) -> None:
    # The routing error is kept on the request and raised from it for its handler: its
    # traceback's frames held the request, a cycle per 404 that a client makes at will.
    assert _both(_with_handlers(_app()), method, path, {"Host": host}, b"") == (
        ({answer}, 0),
        ({answer}, 0),
    )


@pytest.mark.parametrize(
    ("method", "path", "content_type", "body", "status"),
    [
        ("POST", "/json", "application/json", b"[1", 400),  # Raised from another error,
        ("POST", "/json", "text/plain", b"[1]", 415),  # or not; each its own answer.
        ("GET", "/gone", "text/plain", b"", 410),  # Raised in an async view, handled.
    ],
)
def test_a_bad_request_answered_by_its_error_leaves_no_garbage(
    method: str, path: str, content_type: str, body: bytes, status: int
) -> None:
    # The answered error's traceback held the frames it was raised through, and one of
    # them held the error (or the task that held it): the request waited for the
    # collector (20 to 42 objects).
    headers = {**_LOCAL, "Content-Type": content_type}
    # No 400 handler: the bad JSON body's 400 is its own answer, as the 415.
    wsgi, asgi = _both(_with_handlers(_app(), bad_request=False), method, path, headers, body)
    assert ({code for code, _ in wsgi[0] | asgi[0]}, wsgi[1], asgi[1]) == ({status}, 0, 0)

"""The ``http.response.start`` message under ASGI: headers as set, for every kind of body."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

from kettle import Kettle, Response
from raw_asgi import asgi_scope


def _app() -> Kettle:
    app = Kettle(__name__)

    @app.get("/one")
    async def one() -> Any:
        response = Response("hi", content_type="text/plain")
        response.headers.add("X-Twice", "a")
        response.headers.add("x-twice", "b")
        response.headers["X-Latin"] = "caf\xe9"
        return response

    @app.get("/stream")
    def stream() -> Any:
        def chunks() -> Iterator[str]:
            yield "a"
            yield "b"

        response = Response(chunks(), content_type="text/plain")
        response.headers.add("X-Twice", "a")
        response.headers.add("X-Twice", "b")
        return response

    @app.get("/chunks")
    async def several() -> Any:
        return Response(["x", "yz"], content_type="text/plain")

    return app


def _call(app: Kettle, path: str, method: str = "GET") -> list[dict[str, Any]]:
    scope = asgi_scope(path, method, headers=[(b"host", b"localhost")])
    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        await asyncio.sleep(3600)  # The client stays.
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    asyncio.run(app.asgi(scope, receive, send))
    return messages


def test_one_chunk_headers_as_set() -> None:
    start, body = _call(_app(), "/one")
    assert start == {
        "type": "http.response.start",
        "status": 200,
        "headers": [
            (b"Content-Type", b"text/plain"),
            (b"Content-Length", b"2"),
            (b"X-Twice", b"a"),
            (b"x-twice", b"b"),
            (b"X-Latin", b"caf\xe9"),
        ],
    }
    assert body == {"type": "http.response.body", "body": b"hi"}


def test_a_streamed_body_sends_the_same_start() -> None:
    messages = _call(_app(), "/stream")
    start = messages[0]
    assert start["type"] == "http.response.start"
    assert start["status"] == 200
    assert start["headers"] == [
        (b"Content-Type", b"text/plain"),
        (b"X-Twice", b"a"),
        (b"X-Twice", b"b"),
    ]
    assert b"".join(m.get("body", b"") for m in messages[1:]) == b"ab"
    assert messages[-1] == {"type": "http.response.body", "body": b""}


def test_several_chunks_get_their_length() -> None:
    start, body = _call(_app(), "/chunks")
    assert start["headers"] == [(b"Content-Type", b"text/plain"), (b"Content-Length", b"3")]
    assert body == {"type": "http.response.body", "body": b"xyz"}


def test_head_keeps_the_headers_and_sends_no_body() -> None:
    for path in ("/one", "/chunks"):
        start, body = _call(_app(), path, "HEAD")
        assert start["type"] == "http.response.start"
        assert body == {"type": "http.response.body", "body": b""}
    start, _ = _call(_app(), "/one", "HEAD")
    assert (b"Content-Length", b"2") in start["headers"]

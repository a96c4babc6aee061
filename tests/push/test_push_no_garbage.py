"""Streams and pushed events leave nothing for the cyclic garbage collector.

As for a plain request (tests/request/test_request_no_garbage.py): with the
collector off, a stream served to its end, or ended by its source's error,
frees everything it made by reference counting. The adapters are driven
directly, as a server does. A step that ends by an exception (a body's
``StopAsyncIteration``, a source's error) used to leave a cycle: a task or
future holding the exception, whose traceback held the frame holding the
task or future.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from garbage import asgi_garbage, wsgi_call, wsgi_garbage
from kettle import Kettle, abort, websocket
from kettle.push import EventStream, publish, subscribe
from kettle.wrappers import Response
from raw_asgi import asgi_scope
from raw_wsgi import wsgi_environ


class SourceFailed(Exception):
    """The error a failing stream source raises."""


def _app() -> Kettle:
    app = Kettle(__name__)
    app.logger.disabled = True  # A failing stream logs nothing worth reading here.

    @app.get("/async-body")
    async def async_body() -> Response:
        async def chunks() -> AsyncIterator[str]:
            for i in range(3):
                yield f"c{i} "

        return Response(chunks())

    @app.get("/sync-events")
    def sync_events() -> EventStream:
        def events() -> Iterator[dict[str, Any]]:
            for i in range(3):
                yield {"data": i}

        return EventStream(events())

    @app.get("/async-events")
    async def async_events() -> EventStream:
        async def events() -> AsyncIterator[dict[str, Any]]:
            for i in range(3):
                await asyncio.sleep(0)
                yield {"data": i}

        return EventStream(events())

    @app.get("/failing-sync-events")
    def failing_sync_events() -> EventStream:
        def events() -> Iterator[dict[str, Any]]:
            yield {"data": 0}
            raise SourceFailed

        return EventStream(events())

    @app.get("/failing-sync-body")
    def failing_sync_body() -> Response:
        def chunks() -> Iterator[str]:
            yield "c0 "
            raise SourceFailed

        return Response(chunks())

    @app.get("/gone")
    async def gone() -> str:
        await asyncio.sleep(0)  # Waits: the loop runs it to the end (run_until_complete).
        abort(410)

    @app.errorhandler(410)
    def handle_gone(error: Exception) -> tuple[str, int]:
        return "gone", 410

    @app.get("/failing-task")
    def failing_task() -> str:
        async def task() -> None:
            await asyncio.sleep(0)
            raise SourceFailed  # Logged, never sent: the client has its answer.

        app.add_background_task(task)
        return "queued"

    return app


def _wsgi_get(app: Kettle, path: str) -> tuple[str, bytes]:
    status, data = wsgi_call(app, wsgi_environ(path, **{"wsgi.input_terminated": True}))
    return status[:3], data


async def _asgi_get(app: Kettle, path: str) -> tuple[str, bytes]:
    """Serve a GET whose client stays until the response ends (``asgi_exchange``'s leaves)."""
    done = asyncio.Event()
    received = False
    out: dict[str, Any] = {"body": b""}

    async def receive() -> dict[str, Any]:
        nonlocal received
        if not received:
            received = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            out["status"] = message["status"]
        else:
            out["body"] += message.get("body", b"")
            if not message.get("more_body", False):
                done.set()

    try:
        await app.asgi(asgi_scope(path, headers=[(b"host", b"localhost")]), receive, send)
    finally:
        done.set()
    return str(out["status"]), out["body"]


_STREAMS = [
    ("/async-body", b"c0 c1 c2 "),  # Ended by StopAsyncIteration on the thread's loop.
    ("/sync-events", b"data: 0\n\ndata: 1\n\ndata: 2\n\n"),  # Steps that wait for a thread.
    ("/async-events", b"data: 0\n\ndata: 1\n\ndata: 2\n\n"),
]


@pytest.mark.parametrize(("path", "body"), _STREAMS)
def test_an_async_body_under_wsgi_leaves_no_garbage(path: str, body: bytes) -> None:
    # Each step of the body runs as a task on the thread's loop; the last one ends
    # with StopAsyncIteration, which the task held while its traceback held the
    # frames (Kettle's, asyncio's run_until_complete) that held the task.
    app = _app()
    answers, garbage = wsgi_garbage(lambda: _wsgi_get(app, path))
    assert answers == {("200", body)}
    assert garbage == 0
    answers, garbage = asgi_garbage(lambda: _asgi_get(app, path))
    assert answers == {("200", body)}
    assert garbage == 0


def test_an_async_view_that_waits_then_fails_under_wsgi_leaves_no_garbage() -> None:
    # The view's task ran on the loop to its end and its error was raised from
    # asyncio's run_until_complete, whose frame held the task (42 objects a request).
    app = _app()
    answers, garbage = wsgi_garbage(lambda: _wsgi_get(app, "/gone"))
    assert answers == {("410", b"gone")}
    assert garbage == 0


def test_an_async_background_task_that_waits_then_fails_under_wsgi_leaves_no_garbage() -> None:
    # Run on the thread's loop after the response, as the view above (30 objects a request).
    app = _app()
    answers, garbage = wsgi_garbage(lambda: _wsgi_get(app, "/failing-task"))
    assert answers == {("200", b"queued")}
    assert garbage == 0


def _failing(serve: Callable[[], Any]) -> Callable[[], Any]:
    def once() -> str:
        try:
            serve()
        except SourceFailed:
            return "failed"
        return "served"

    return once


def _failing_async(serve: Callable[[], Any]) -> Callable[[], Any]:
    async def once() -> str:
        try:
            await serve()
        except SourceFailed:
            return "failed"
        return "served"

    return once


@pytest.mark.parametrize("path", ["/failing-sync-events", "/failing-sync-body"])
def test_a_sync_source_that_fails_mid_stream_leaves_no_garbage(path: str) -> None:
    # The error reaches the server, as it should; the future of the step that raised
    # it held it too, from a Kettle frame its traceback held (64-96 objects).
    app = _app()
    answers, garbage = asgi_garbage(_failing_async(lambda: _asgi_get(app, path)))
    assert (answers, garbage) == ({"failed"}, 0)
    answers, garbage = wsgi_garbage(_failing(lambda: _wsgi_get(app, path)))
    assert (answers, garbage) == ({"failed"}, 0)


def _chat_app() -> Kettle:
    """The chat room of docs/push.md: a task forwards the room's messages to the socket."""
    app = Kettle(__name__)

    @app.websocket("/rooms/<room>/ws")
    async def room_socket(room: str) -> None:
        await websocket.accept()
        async with subscribe(f"room:{room}") as messages:

            async def forward() -> None:
                async for message in messages:
                    await websocket.send_json(message)

            task = asyncio.ensure_future(forward())
            await websocket.send_json({"ready": room})
            try:
                async for text in websocket:
                    await publish(f"room:{room}", {"text": text})
            finally:
                task.cancel()

    return app


async def _chat(app: Kettle) -> tuple[str, ...]:
    """Connect, say "hi", hear it back, leave (no close frame then): what the client got."""
    ready, heard = asyncio.Event(), asyncio.Event()
    connected = said = False
    sent: list[str] = []

    async def receive() -> dict[str, Any]:
        nonlocal connected, said
        if not connected:
            connected = True
            return {"type": "websocket.connect"}
        if not said:
            said = True
            await ready.wait()
            return {"type": "websocket.receive", "text": "hi"}
        await heard.wait()
        return {"type": "websocket.disconnect", "code": 1000}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message.get("text") or message["type"])
        (heard if "hi" in sent[-1] else ready).set()

    scope = {
        **asgi_scope("/rooms/tea/ws", headers=[(b"host", b"localhost")]),
        "type": "websocket",
        "scheme": "ws",
        "subprotocols": [],
    }
    await app.asgi(scope, receive, send)
    await asyncio.sleep(0)  # The cancelled forwarding task ends.
    return tuple(sent)


def test_a_websocket_forwarding_a_subscription_leaves_no_garbage() -> None:
    # The subscription kept its reader's task (to end it when it stalls); cancelled
    # when the socket closed, the task held its CancelledError, whose traceback held
    # the frame holding the subscription: a cycle per connection (38 objects).
    app = _chat_app()
    answers, garbage = asgi_garbage(lambda: _chat(app))
    assert answers == {("websocket.accept", '{"ready":"tea"}', '{"text":"hi"}')}
    assert garbage == 0


def _failing_socket_app() -> Kettle:
    app = Kettle(__name__)
    app.logger.disabled = True  # The handler's error is logged; nothing to read here.

    @app.websocket("/after-accept")
    async def after_accept() -> None:
        await websocket.accept()
        raise SourceFailed("after accept")

    @app.websocket("/before-accept")
    async def before_accept() -> None:
        raise SourceFailed("before accept")

    return app


async def _connect(app: Kettle, path: str) -> tuple[str, ...]:
    """Open a WebSocket to ``path`` and return the types of the messages the server sent."""
    sent: list[str] = []
    connected = False

    async def receive() -> dict[str, Any]:
        nonlocal connected
        if not connected:
            connected = True
            return {"type": "websocket.connect"}
        await asyncio.sleep(0)
        return {"type": "websocket.disconnect", "code": 1000}

    async def send(message: dict[str, Any]) -> None:
        sent.append(f"{message['type']} {message.get('code', message.get('status', ''))}")

    scope = {
        **asgi_scope(path, headers=[(b"host", b"localhost")]),
        "type": "websocket",
        "scheme": "ws",
        "subprotocols": [],
    }
    await app.asgi(scope, receive, send)
    return tuple(sent)


@pytest.mark.parametrize(
    ("path", "answer"),
    [
        ("/after-accept", ("websocket.accept ", "websocket.close 1011")),
        ("/before-accept", ("websocket.close 1008",)),  # Refused: the client sees a 403.
    ],
)
def test_a_websocket_handler_that_raises_leaves_no_garbage(
    path: str, answer: tuple[str, ...]
) -> None:
    # The teardown's error stayed in the connection's frame, which the error's
    # traceback holds: a cycle per failed connection (23 objects).
    app = _failing_socket_app()
    answers, garbage = asgi_garbage(lambda: _connect(app, path))
    assert (answers, garbage) == ({answer}, 0)

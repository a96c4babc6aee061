"""Streamed bodies: sync and async generators, stream_with_context, disconnects, SSE."""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from kettle import Kettle, request, stream_with_context
from kettle.http.sse import EventParser, ServerSentEvent
from kettle.push import EventStream, last_event_id
from kettle.testing import KettleClient
from raw_asgi import asgi_scope


def test_sync_and_async_generators(app: Kettle, client: KettleClient) -> None:
    @app.route("/sync")
    def sync_view() -> Any:
        def body() -> Iterator[str]:
            yield "a"
            yield "b"

        return body()

    @app.route("/async")
    async def async_view() -> Any:
        async def body() -> AsyncIterator[bytes]:
            yield b"c"
            await asyncio.sleep(0)
            yield b"d"

        return body()

    assert client.get("/sync").text == "ab"
    response = client.get("/async")
    assert response.text == "cd"
    assert "Content-Length" not in response.headers


def test_stream_with_context(app: Kettle, client: KettleClient) -> None:
    @app.route("/sync")
    def sync_view() -> Any:
        @stream_with_context
        def body() -> Iterator[str]:
            yield request.args["name"]
            yield "!"

        return body()

    @app.route("/async")
    async def async_view() -> Any:
        async def body() -> AsyncIterator[str]:
            yield request.path

        return stream_with_context(body())

    assert client.get("/sync?name=kettle").text == "kettle!"
    assert client.get("/async").text == "/async"


def test_stream_with_context_needs_a_request() -> None:
    with pytest.raises(RuntimeError, match="request context"):
        stream_with_context(iter(["x"]))


def test_asgi_chunks_are_sent_as_produced(app: Kettle) -> None:
    """Chunk 1 reaches the client while the generator still waits for the test."""
    go_on = threading.Event()

    @app.route("/")
    def index() -> Any:
        def body() -> Iterator[str]:
            yield "one"
            if not go_on.wait(5):
                yield "never-released"
            yield "two"

        return body()

    client = app.test_client(protocol="asgi")
    response = client.get("/")
    chunks = iter(response.response)
    assert next(chunks) == b"one"
    assert not go_on.is_set()  # The generator is blocked, yet chunk 1 arrived.
    go_on.set()
    assert list(chunks) == [b"two"]


def test_raw_asgi_messages_are_separate(app: Kettle) -> None:
    @app.route("/")
    async def index() -> Any:
        async def body() -> AsyncIterator[str]:
            yield "1"
            yield "2"

        return body()

    messages: list[dict[str, Any]] = []

    async def run() -> None:
        sent = asyncio.Event()

        async def receive() -> dict[str, Any]:
            if not messages:
                return {"type": "http.request", "body": b"", "more_body": False}
            await sent.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            messages.append(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                sent.set()

        scope = {"type": "http", "method": "GET", "path": "/", "headers": [], "query_string": b""}
        await app.asgi(scope, receive, send)

    asyncio.run(run())
    bodies = [(m["body"], m.get("more_body", False)) for m in messages[1:]]
    assert bodies == [(b"1", True), (b"2", True), (b"", False)]


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_disconnect_closes_the_generator(app: Kettle, protocol: str, kind: str) -> None:
    closed: list[str] = []
    torn_down: list[str] = []

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        torn_down.append(request.path)

    @app.route("/sync")
    def sync_view() -> Any:
        def body() -> Iterator[str]:
            try:
                while True:
                    yield "tick"
            finally:
                closed.append("sync")

        return body()

    @app.route("/async")
    async def async_view() -> Any:
        async def body() -> AsyncIterator[str]:
            try:
                while True:
                    yield "tick"
                    await asyncio.sleep(0.001)
            finally:
                closed.append("async")

        return body()

    client = app.test_client(protocol=protocol)
    response = client.get(f"/{kind}")
    chunks = iter(response.response)
    assert next(chunks) == b"tick"
    response.close()
    assert closed == [kind]
    assert torn_down == [f"/{kind}"]


def test_a_sync_event_source_busy_when_the_client_leaves_is_closed_once_its_step_returns(
    app: Kettle,
) -> None:
    # The stream's cancel reached the step's future while its thread still ran the
    # source: closing it at once raised "generator already executing" to the server.
    release = threading.Event()
    ended: list[str] = []
    busy: list[Any] = []

    @app.route("/events")
    def events_view() -> Any:
        def events() -> Iterator[dict[str, str]]:
            try:
                yield {"data": "first"}
                busy[0]()  # The client leaves while this step runs in its thread.
                release.wait(30)
                yield {"data": "second"}
            finally:
                ended.append("closed")

        return EventStream(events(), keep_alive=None)

    async def run() -> list[bytes]:
        left = asyncio.Event()
        busy.append(functools.partial(asyncio.get_running_loop().call_soon_threadsafe, left.set))
        received = False
        bodies: list[bytes] = []

        async def receive() -> dict[str, Any]:
            nonlocal received
            if not received:
                received = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await left.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            bodies.append(message.get("body", b""))

        try:
            await app.asgi(asgi_scope("/events", headers=[(b"host", b"localhost")]), receive, send)
            assert ended == []  # Still running in its thread: not closed under it.
        finally:
            release.set()
        while not ended:  # Closed when its step returns.
            await asyncio.sleep(0.01)
        return bodies

    loop = asyncio.new_event_loop()
    try:
        bodies = loop.run_until_complete(run())
    finally:
        loop.close()
    assert bodies == [b"", b"data: first\n\n"]
    assert ended == ["closed"]


def test_sse_encoding_and_parsing() -> None:
    event = ServerSentEvent(data="line1\nline2", event="chat", id="7", retry=3000)
    wire = event.encode()
    assert wire == b"id: 7\nevent: chat\nretry: 3000\ndata: line1\ndata: line2\n\n"
    parser = EventParser()
    assert parser.feed(wire[:10]) == []
    [parsed] = parser.feed(wire[10:] + b": keep-alive\n\n")[:1]
    assert (parsed.data, parsed.event, parsed.id, parsed.retry) == ("line1\nline2", "chat", "7", 3000)
    assert parser.last_event_id == "7"
    assert ServerSentEvent(data={"a": 1}).encode() == b'data: {"a":1}\n\n'
    with pytest.raises(ValueError, match="line break"):
        ServerSentEvent(data="x", event="a\nb").encode()
    with pytest.raises(ValueError):
        ServerSentEvent().encode()


def test_event_stream_response(app: Kettle, client: KettleClient) -> None:
    @app.route("/sync")
    def sync_view() -> Any:
        def events() -> Iterator[Any]:
            yield {"data": "hello", "event": "greet", "id": "1"}
            yield ServerSentEvent(data="two\nlines", id="2")
            yield "plain"

        return EventStream(events(), keep_alive=None)

    @app.route("/async")
    async def async_view() -> Any:
        resume_from = last_event_id()  # Read in the view: the body runs after it returns.

        async def events() -> AsyncIterator[Any]:
            yield {"data": resume_from or "none"}

        return EventStream(events())

    response = client.get("/sync")
    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["X-Accel-Buffering"] == "no"
    events = list(response.events())
    assert [(e.event, e.id, e.data) for e in events] == [
        ("greet", "1", "hello"),
        (None, "2", "two\nlines"),
        (None, None, "plain"),
    ]
    resumed = client.get("/async", headers={"Last-Event-ID": "41"})
    assert [e.data for e in resumed.events()] == ["41"]


def test_event_stream_keep_alive(app: Kettle, client: KettleClient) -> None:
    release = threading.Event()

    @app.route("/")
    def index() -> Any:
        def events() -> Iterator[Any]:
            release.wait(5)
            yield "late"

        return EventStream(events(), keep_alive=0.01)

    response = client.get("/")
    chunks = iter(response.response)
    assert next(chunks) == b": keep-alive\n\n"
    release.set()
    rest = b"".join(chunks)
    assert rest.endswith(b"data: late\n\n")


def test_event_stream_refuses_bad_arguments() -> None:
    with pytest.raises(ValueError):
        EventStream([], keep_alive=0)
    with pytest.raises(TypeError):
        EventStream(42)


def test_disconnect_and_shutdown_at_once_end_a_stream_quietly(
    app: Kettle, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The client leaves in the same loop turn as shutdown ends its stream: one quiet end."""
    from kettle.adapters import shutdown
    from kettle.push import stream_channel

    monkeypatch.setattr(shutdown, "_shutting_down", False)

    @app.route("/events")
    async def events() -> Any:
        return stream_channel("bye")

    async def run() -> list[dict[str, Any]]:
        sent: list[dict[str, Any]] = []
        left = asyncio.Event()
        requested = False

        async def receive() -> dict[str, Any]:
            nonlocal requested
            if not requested:
                requested = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await left.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)
            if b"subscribed" in message.get("body", b""):
                left.set()  # The watcher will cancel the stream for the disconnect...
                shutdown.close_open_streams()  # ...and shutdown, before it runs again.

        scope = {"type": "http", "method": "GET", "path": "/events", "headers": [],
                 "query_string": b""}
        await asyncio.wait_for(app.asgi(scope, receive, send), 10)
        return sent

    sent = asyncio.run(run())
    assert sent[0]["status"] == 200
    assert sent[-1] == {"type": "http.response.body", "body": b""}  # Finished for the shutdown.

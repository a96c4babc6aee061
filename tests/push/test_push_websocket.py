"""WebSocket routes through the test client, 426 for HTTP, long polling and the broker."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

import pytest

from kettle import Kettle, g, websocket
from kettle.push import (
    EventStream,
    MemoryBroker,
    long_poll,
    long_poll_sync,
    publish,
    publish_sync,
    subscribe,
)
from kettle.testing import KettleClient
from kettle.websocket import WebSocketDisconnect, check_origin


def test_echo_hooks_and_subprotocol(app: Kettle) -> None:
    log: list[str] = []

    @app.before_websocket
    def before() -> None:
        g.user = "ann"
        log.append("before")

    @app.after_websocket
    async def after() -> None:
        log.append("after")

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        log.append("teardown")

    @app.websocket("/ws")
    async def echo() -> None:
        await websocket.accept(subprotocol=websocket.choose_subprotocol(["chat.v2", "chat.v1"]))
        await websocket.send_text(f"hi {g.user}")
        async for message in websocket:
            if message == "bye":
                break
            if isinstance(message, bytes):
                await websocket.send(message[::-1])
            else:
                data = await websocket.receive_json() if message == "json-next" else message
                await websocket.send_json({"echo": data})
        await websocket.close(4000)

    client = app.test_client()
    with client.websocket("/ws", subprotocols=["chat.v1", "chat.v2"]) as ws:
        assert ws.subprotocol == "chat.v1"
        assert ws.receive_text() == "hi ann"
        ws.send_text("hello")
        assert ws.receive_json() == {"echo": "hello"}
        ws.send_text("json-next")
        ws.send_json({"n": 1})
        assert ws.receive_json() == {"echo": {"n": 1}}
        ws.send_bytes(b"abc")
        assert ws.receive() == b"cba"
        ws.send_text("bye")
        with pytest.raises(WebSocketDisconnect) as info:
            ws.receive()
        assert info.value.code == 4000
    assert log == ["before", "after", "teardown"]


def test_refused_and_unknown_websocket(app: Kettle) -> None:
    @app.websocket("/private")
    async def private() -> None:
        if not check_origin(["https://example.com"]):
            await websocket.close(1008)
            return
        await websocket.accept()

    # The default check allows only the request's own origin: list the other one.
    app.config["WEBSOCKET_ALLOWED_ORIGINS"] = ["https://example.com"]
    client = app.test_client()
    with pytest.raises(WebSocketDisconnect), client.websocket("/private", headers={"Origin": "https://evil.test"}):
        pass
    with client.websocket("/private", headers={"Origin": "https://example.com"}) as ws:
        assert ws.subprotocol is None
    with pytest.raises(WebSocketDisconnect), client.websocket("/nowhere"):
        pass


def test_http_request_to_websocket_route_is_426(app: Kettle, client: KettleClient) -> None:
    @app.websocket("/ws")
    async def handler() -> None:
        await websocket.accept()

    response = client.get("/ws", headers={"Upgrade": "websocket", "Connection": "Upgrade"})
    assert response.status_code == 426
    assert response.headers["Upgrade"] == "websocket"
    assert "WebSocket endpoint" in response.text


def test_websocket_proxy_outside_handler() -> None:
    with pytest.raises(RuntimeError, match="WebSocket handler"):
        websocket.accept  # noqa: B018


def test_long_poll(app: Kettle, client: KettleClient) -> None:
    @app.route("/poll/async")
    async def poll_async() -> Any:
        return await long_poll("room", timeout=0.05)

    @app.route("/poll/sync")
    def poll_sync() -> Any:
        return long_poll_sync("room", timeout=0.05)

    @app.route("/wait")
    async def wait() -> Any:
        return await long_poll("news", timeout=5)

    assert client.get("/poll/async").status_code == 204
    assert client.get("/poll/sync").status_code == 204
    broker = MemoryBroker()
    app.extensions["kettle.broker"] = broker

    def publisher() -> None:
        # Publish once the poll has subscribed (no sleeping on a guess).
        for _ in range(500):
            if broker.publish_now("news", {"headline": "tea"}):
                return
            threading.Event().wait(0.01)

    thread = threading.Thread(target=publisher)
    thread.start()
    response = client.get("/wait")
    thread.join()
    assert response.status_code == 200
    assert response.json == {"headline": "tea"}


def test_memory_broker_fans_out_across_threads(app: Kettle) -> None:
    async def listen(results: list[Any], ready: threading.Event) -> None:
        with app.app_context():
            async with subscribe("c") as subscription:
                ready.set()
                results.append(await subscription.get(timeout=5))

    results: list[Any] = []
    readies = [threading.Event(), threading.Event()]
    threads = [threading.Thread(target=asyncio.run, args=(listen(results, r),)) for r in readies]
    for thread in threads:
        thread.start()
    for ready in readies:
        assert ready.wait(5)
    with app.app_context():
        assert publish_sync("c", "hi") == 2
    for thread in threads:
        thread.join(5)
        assert not thread.is_alive()
    assert results == ["hi", "hi"]
    with app.app_context():  # Both subscriptions closed as their threads ended: no one hears.
        assert asyncio.run(publish("c", "late")) == 0


def _chat_app(app: Kettle) -> Kettle:
    """The chat room of docs/push.md: SSE to listen, POST or WebSocket to speak."""
    from kettle import request

    @app.route("/rooms/<room>/events")
    async def room_events(room: str) -> Any:
        async def events() -> Any:
            async with subscribe(f"room:{room}") as messages:
                yield {"event": "ready", "data": room}
                async for message in messages:
                    yield {"event": "message", "data": message}

        return EventStream(events(), keep_alive=15)

    @app.route("/rooms/<room>/messages", methods=["POST"])
    async def say(room: str) -> Any:
        await publish(f"room:{room}", request.get_json())
        return "", 204

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
                    await publish(f"room:{room}", {"user": "ws", "text": text})
            finally:
                task.cancel()

    return app


def test_chat_room_over_websocket(app: Kettle) -> None:
    _chat_app(app)
    client = app.test_client()
    with (
        client.websocket("/rooms/tea/ws") as ann,
        client.websocket("/rooms/tea/ws") as bob,
        client.websocket("/rooms/tea/ws") as cat,
    ):
        for user in (ann, bob, cat):
            assert user.receive_json() == {"ready": "tea"}
        ann.send_text("hello")
        expected = {"user": "ws", "text": "hello"}
        assert bob.receive_json() == expected
        assert cat.receive_json() == expected
        assert ann.receive_json() == expected  # The speaker hears the echo too.


def test_chat_room_over_sse(app: Kettle, protocol: str) -> None:
    _chat_app(app)
    listeners = [app.test_client(protocol="asgi") for _ in range(2)]
    streams = [c.get("/rooms/tea/events") for c in listeners]
    events = [s.events() for s in streams]
    for stream in events:
        assert next(stream).event == "ready"
    speaker = app.test_client(protocol=protocol)
    assert speaker.post("/rooms/tea/messages", json={"user": "ann", "text": "hi"}).status_code == 204
    for stream in events:
        event = next(stream)
        assert event.event == "message"
        assert json.loads(event.data) == {"user": "ann", "text": "hi"}
    for response in streams:
        response.close()

"""Event ids, Last-Event-ID resume, retention, keep-alives, SSE line ends (test client)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from kettle import Kettle, request
from kettle.http.sse import EventParser, ServerSentEvent
from kettle.push import (
    EventStream,
    MemoryBroker,
    get_broker,
    long_poll,
    publish_sync,
    stream_channel,
)
from kettle.testing import KettleClient

ODD = "a\x1eb\x1cc\x1dd\x85e\u2028f\u2029g\x0bh\x0ci"


def test_sse_data_splits_only_on_cr_lf_crlf() -> None:
    parser = EventParser()
    [event] = parser.feed(ServerSentEvent(data=ODD, comment=ODD).encode())
    assert event.data == ODD
    assert event.comment == ODD
    wire = ServerSentEvent(data="1\r2\n3\r\n4\n").encode()
    assert wire == b"data: 1\ndata: 2\ndata: 3\ndata: 4\ndata: \n\n"
    assert [e.data for e in EventParser().feed(wire)] == ["1\n2\n3\n4\n"]


def test_event_stream_delivers_every_character_as_sent(app: Kettle, client: KettleClient) -> None:
    @app.route("/odd")
    def odd() -> Any:
        return EventStream([{"data": ODD, "id": "1"}, {"data": {"text": ODD}}], keep_alive=None)

    events = list(client.get("/odd").events())
    assert events[0].data == ODD
    assert json.loads(events[1].data or "") == {"text": ODD}


def _news_app(app: Kettle) -> MemoryBroker:
    """Routes over the broker the app's config makes (PUSH_* settings included)."""
    with app.app_context():
        broker = get_broker()
    assert isinstance(broker, MemoryBroker)

    @app.route("/news")
    async def news() -> Any:
        return stream_channel("news")

    @app.route("/say", methods=["POST"])
    def say() -> Any:
        return {"receivers": publish_sync("news", request.get_json())}

    return broker


def test_reconnect_with_last_event_id_gets_exactly_what_it_missed(
    app: Kettle, client: KettleClient
) -> None:
    broker = _news_app(app)
    first = client.get("/news")
    assert first.headers["Cache-Control"] == "no-cache"
    stream = first.events(comments=True)
    assert next(stream).retry == 2000  # How long a browser waits before reconnecting.
    assert next(stream).comment == "subscribed"
    assert client.post("/say", json={"n": 0}).json == {"receivers": 1}
    seen = next(stream)
    assert (seen.event, seen.data) == ("message", '{"n":0}')
    first.close()

    for n in range(1, 11):
        broker.publish_now("news", {"n": n})
    again = client.get("/news", headers={"Last-Event-ID": seen.id or ""})
    resumed = again.events()
    missed = [next(resumed) for _ in range(10)]
    assert [e.data for e in missed] == [f'{{"n":{n}}}' for n in range(1, 11)]
    ids = [seen.id, *(e.id for e in missed)]
    assert ids == sorted(ids, key=lambda i: tuple(int(p) for p in (i or "").split("-")))
    assert len(set(ids)) == 11
    broker.publish_now("news", {"n": "live"})
    assert next(resumed).data == '{"n":"live"}'  # Nothing more was replayed.
    again.close()


def test_an_unknown_last_event_id_gets_live_events_only(app: Kettle, client: KettleClient) -> None:
    broker = _news_app(app)
    broker.publish_now("news", "old")
    response = client.get("/news", headers={"Last-Event-ID": "not-an-id"})
    events = response.events(comments=True)
    assert next(events).retry == 2000
    assert next(events).comment == "subscribed"
    broker.publish_now("news", "new")
    assert next(events).data == "new"
    response.close()


def test_retention_keeps_the_last_n_events_for_t_seconds() -> None:
    async def replay(broker: MemoryBroker, after: str) -> list[Any]:
        async with broker.subscribe("c", last_id=after) as subscription:
            got = []
            while True:
                try:
                    got.append(await subscription.get(timeout=0.05))
                except TimeoutError:
                    return got

    small = MemoryBroker(retention_events=3)
    start = small.retention.record("c", "zero")[1]
    for n in range(1, 6):
        small.publish_now("c", n)
    assert asyncio.run(replay(small, start)) == [3, 4, 5]

    brief = MemoryBroker(retention_seconds=0.05)
    start = brief.retention.record("c", "zero")[1]
    brief.publish_now("c", "expired")
    time.sleep(0.1)
    brief.publish_now("c", "kept")
    assert asyncio.run(replay(brief, start)) == ["kept"]


def test_long_poll_resumes_from_its_last_id(app: Kettle, client: KettleClient) -> None:
    broker = MemoryBroker()
    app.extensions["kettle.broker"] = broker

    @app.route("/poll")
    async def poll() -> Any:
        return await long_poll("q", timeout=0.05, last_id=request.args.get("after"))

    start = broker.retention.record("q", "before")[1]
    broker.publish_now("q", "one")
    broker.publish_now("q", {"two": 2})
    first = client.get(f"/poll?after={start}")
    assert (first.status_code, first.text) == (200, "one")
    second = client.get(f"/poll?after={first.headers['X-Event-ID']}")
    assert second.json == {"two": 2}
    assert client.get(f"/poll?after={second.headers['X-Event-ID']}").status_code == 204


def test_keep_alive_while_an_async_source_waits(app: Kettle, client: KettleClient) -> None:
    @app.route("/slow")
    async def slow() -> Any:
        async def events() -> AsyncIterator[Any]:
            await asyncio.sleep(0.3)
            yield {"data": request.path}  # The request context survives the keep-alives.

        return EventStream(events(), keep_alive=0.02)

    chunks = list(client.get("/slow").response)
    assert chunks[0] == b": keep-alive\n\n"
    assert chunks[-1] == b"data: /slow\n\n"
    assert set(chunks[:-1]) == {b": keep-alive\n\n"}


def test_one_keep_alive_timer_for_many_idle_streams(app: Kettle) -> None:
    _news_app(app)
    app.config["PUSH_SSE_RETRY"] = 1000

    @app.route("/quiet")
    async def quiet() -> Any:
        return stream_channel("quiet", keep_alive=0.05)

    client = app.test_client(protocol="asgi")
    streams = [client.get("/quiet") for _ in range(30)]
    readers = [s.events(comments=True) for s in streams]
    for reader in readers:
        assert next(reader).retry == 1000
        assert next(reader).comment == "subscribed"
    from kettle import _loops

    timers = [h for h in _loops.thread_loop()._scheduled if not h.cancelled()]  # type: ignore[attr-defined]
    assert len(timers) == 1  # One timer for the thirty streams.
    for reader in readers:
        assert next(reader).comment == "keep-alive"
    for stream in streams:
        stream.close()


def test_stalled_subscriber_is_dropped_and_others_keep_receiving(
    app: Kettle, caplog: pytest.LogCaptureFixture
) -> None:
    app.config["PUSH_QUEUE_LIMIT"] = 5
    broker = _news_app(app)
    assert broker.queue_limit == 5
    # The stalled reader: a WSGI stream the test stops reading after it subscribed.
    stalled = app.test_client(protocol="wsgi").get("/news")
    stalled_events = stalled.events(comments=True)
    assert next(stalled_events).retry == 2000
    assert next(stalled_events).comment == "subscribed"
    reader = app.test_client(protocol="asgi").get("/news")
    events = reader.events(comments=True)
    next(events), next(events)
    for n in range(20):
        broker.publish_now("news", n)
        assert next(events).data == str(n)  # The reader gets every one, in order.
    dropped = [r for r in caplog.records if "Dropped a subscriber" in r.getMessage()]
    assert len(dropped) == 1
    assert "'news'" in dropped[0].getMessage() and dropped[0].exc_info is None
    assert list(stalled_events) == []  # Its stream ends: no backlog, no more events.
    broker.publish_now("news", "after")
    assert next(events).data == "after"
    reader.close()


def test_disconnect_while_a_source_waits_between_keep_alives(
    app: Kettle, client: KettleClient
) -> None:
    finished: list[str] = []

    @app.route("/wait")
    async def wait() -> Any:
        async def events() -> AsyncIterator[Any]:
            try:
                await asyncio.sleep(30)
                yield "never"
            finally:
                finished.append(request.path)

        return EventStream(events(), keep_alive=0.02)

    response = client.get("/wait")
    chunks = iter(response.response)
    assert next(chunks) == b": keep-alive\n\n"
    assert next(chunks) == b": keep-alive\n\n"
    response.close()
    assert finished == ["/wait"]  # The source was closed, in its request context.


def test_threads_publishing_at_once_lose_nothing() -> None:
    import threading

    broker = MemoryBroker()

    async def listen(ready: threading.Event) -> list[tuple[str, Any]]:
        async with broker.subscribe("c") as subscription:
            ready.set()
            return [await subscription.next_message(timeout=5) for _ in range(800)]

    ready = threading.Event()
    result: list[list[tuple[str, Any]]] = []
    listener = threading.Thread(target=lambda: result.append(asyncio.run(listen(ready))))
    listener.start()
    assert ready.wait(5)
    publishers = [
        threading.Thread(target=lambda t=t: [broker.publish_now("c", (t, n)) for n in range(200)])
        for t in range(4)
    ]
    for thread in publishers:
        thread.start()
    for thread in publishers:
        thread.join()
    listener.join(10)
    [got] = result
    assert sorted(tuple(data) for _, data in got) == sorted((t, n) for t in range(4) for n in range(200))
    keys = [tuple(int(p) for p in event_id.split("-")) for event_id, _ in got]
    assert keys == sorted(keys)  # In id order.


def test_a_replayed_backlog_does_not_count_against_the_queue_limit() -> None:
    broker = MemoryBroker(queue_limit=5)
    start = broker.retention.record("c", "start")[1]
    for n in range(8):
        broker.publish_now("c", n)

    async def resume() -> list[Any]:
        async with broker.subscribe("c", last_id=start) as subscription:
            await subscription.open()
            broker.publish_now("c", "live")  # Arrives while eight wait unread.
            return [await subscription.get(timeout=1) for _ in range(9)]

    assert asyncio.run(resume()) == [*range(8), "live"]


def test_async_for_over_a_subscription_with_and_without_async_with() -> None:
    broker = MemoryBroker()

    async def run() -> tuple[list[Any], list[Any], int, int]:
        async with broker.subscribe("c") as subscription:
            broker.publish_now("c", 1)
            broker.publish_now("c", 2)
            broker.publish_now("c", 3)
            first = []
            async for message in subscription:  # Its own iterator inside async with.
                first.append(message)
                if message == 2:
                    break
            async for message in subscription:  # Still open: goes on where it stopped.
                first.append(message)
                break
            assert await broker.publish("c", 4) == 1
        after_with = await broker.publish("c", 5)
        second = []
        iterator = broker.subscribe("c").__aiter__()  # No async with: opens and closes itself.
        task = asyncio.ensure_future(iterator.__anext__())
        while await broker.publish("c", 6) == 0:
            await asyncio.sleep(0.01)  # Until the iterator has subscribed.
        second.append(await task)
        await iterator.aclose()  # type: ignore[attr-defined]
        return first, second, after_with, await broker.publish("c", 7)

    first, second, after_with, after_close = asyncio.run(run())
    assert first == [1, 2, 3]
    assert second == [6]
    assert (after_with, after_close) == (0, 0)  # Both closed: nobody left to receive.

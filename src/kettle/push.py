"""Server push: the ``EventStream`` response (SSE), the pub/sub broker, long polling.

Theory of operation: a broker fans a message published on a channel out to
every subscriber of that channel. ``MemoryBroker`` (the default) does it
inside one process, across threads and event loops: each subscription owns
an ``asyncio.Queue`` on the loop that created it, and a publisher on another
thread hands the message over with ``call_soon_threadsafe``. ``RedisBroker``
(``BROKER_URL = "redis://..."`` or env ``KETTLE_BROKER_URL``) does it across
processes and machines with Redis pub/sub, one client per event loop
(redis.asyncio connections belong to the loop that made them). Messages are
str or JSON values; over Redis they travel as JSON, so both backends deliver
equal values. Pub/sub is fire-and-forget: a message published while nobody
(or a reconnecting subscriber) listens is lost; resume with Last-Event-ID
and your own store when that matters.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import os
import threading
import weakref
from collections.abc import AsyncIterator, Iterable
from types import TracebackType
from typing import Any, cast

from kettle import runner
from kettle.ctx import _cv
from kettle.http.sse import ServerSentEvent, encode_comment, to_event
from kettle.wrappers import Response

__all__ = [
    "Broker",
    "EventStream",
    "MemoryBroker",
    "RedisBroker",
    "ServerSentEvent",
    "Subscription",
    "get_broker",
    "last_event_id",
    "long_poll",
    "long_poll_sync",
    "publish",
    "publish_sync",
    "subscribe",
]

#: Messages a slow subscriber may have waiting; past it the oldest is dropped,
#: so one stalled client cannot grow the process's memory without bound.
QUEUE_LIMIT = 1000
_DONE = object()
_EXTENSION = "kettle.broker"


# -- subscriptions -----------------------------------------------------------
class Subscription:
    """Messages of one channel: ``async with`` it, then ``async for`` or ``await get()``."""

    channel: str

    async def open(self) -> None:
        """Start listening (done by ``async with`` or the first ``get``)."""
        raise NotImplementedError

    async def aclose(self) -> None:
        """Stop listening."""
        raise NotImplementedError

    async def get(self, timeout: float | None = None) -> Any:
        """Return the next message; raise TimeoutError after ``timeout`` seconds."""
        raise NotImplementedError

    async def __aenter__(self) -> Subscription:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Any]:
        try:
            while True:
                yield await self.get()
        finally:
            await self.aclose()


class _MemorySubscription(Subscription):
    def __init__(self, broker: MemoryBroker, channel: str) -> None:
        self.broker = broker
        self.channel = channel
        self._queue: asyncio.Queue[Any] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def open(self) -> None:
        if self._queue is None:
            self._loop = asyncio.get_running_loop()
            self._queue = asyncio.Queue()
            self.broker._add(self)

    async def aclose(self) -> None:
        if self._queue is not None:
            self.broker._remove(self)

    def _put(self, message: Any) -> None:
        queue = cast("asyncio.Queue[Any]", self._queue)
        if queue.qsize() >= QUEUE_LIMIT:
            queue.get_nowait()
        queue.put_nowait(message)

    def deliver(self, message: Any) -> None:
        loop = cast(asyncio.AbstractEventLoop, self._loop)
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._put(message)
        else:
            with contextlib.suppress(RuntimeError):  # The subscriber's loop is closed.
                loop.call_soon_threadsafe(self._put, message)

    async def get(self, timeout: float | None = None) -> Any:
        await self.open()
        queue = cast("asyncio.Queue[Any]", self._queue)
        if timeout is None:
            return await queue.get()
        return await asyncio.wait_for(queue.get(), timeout)


class _RedisSubscription(Subscription):
    def __init__(self, broker: RedisBroker, channel: str) -> None:
        self.broker = broker
        self.channel = channel
        self._pubsub: Any = None

    async def open(self) -> None:
        if self._pubsub is None:
            await self._connect()

    async def _connect(self) -> None:
        pubsub = self.broker._client().pubsub()
        try:
            await pubsub.subscribe(self.channel)
            # Wait for Redis to confirm, so a publish after open() is seen.
            while True:
                message = await pubsub.get_message(timeout=5.0)
                if message is not None and message["type"] == "subscribe":
                    break
        except BaseException:
            with contextlib.suppress(Exception):
                await pubsub.aclose()
            raise
        self._pubsub = pubsub

    async def _reconnect(self, deadline: float | None) -> None:
        """Re-subscribe after Redis went away, backing off up to one second."""
        loop = asyncio.get_running_loop()
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.aclose()
            self._pubsub = None
        delay = 0.05
        while True:
            try:
                await self._connect()
                return
            except (OSError, _redis_errors()):
                if deadline is not None and loop.time() + delay > deadline:
                    raise TimeoutError from None
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)

    async def aclose(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            with contextlib.suppress(Exception):
                await pubsub.aclose()

    async def get(self, timeout: float | None = None) -> Any:
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            try:
                if self._pubsub is None:
                    await self._connect()
                remaining = None if deadline is None else max(0.0, deadline - loop.time())
                # Wake up at least once a second so a dead connection is noticed.
                wait = 1.0 if remaining is None else min(remaining, 1.0)
                message = await self._pubsub.get_message(
                    ignore_subscribe_messages=True, timeout=wait
                )
            except (OSError, _redis_errors()):
                await self._reconnect(deadline)
                continue
            if message is not None and message["type"] == "message":
                return json.loads(message["data"])
            if deadline is not None and loop.time() >= deadline:
                raise TimeoutError


def _redis_errors() -> type[Exception]:
    from redis.exceptions import ConnectionError as RedisConnectionError

    return RedisConnectionError


# -- brokers -------------------------------------------------------------------
class Broker:
    """Publish/subscribe by channel name; see ``MemoryBroker`` and ``RedisBroker``."""

    async def publish(self, channel: str, message: Any) -> int:
        """Send ``message`` (str or JSON value) to the subscribers of ``channel``."""
        raise NotImplementedError

    def subscribe(self, channel: str) -> Subscription:
        """Return a subscription to ``channel`` (``async with`` / ``async for``)."""
        raise NotImplementedError

    async def aclose(self) -> None:
        """Release connections held by the broker."""


class MemoryBroker(Broker):
    """Fan-out inside one process, across threads and event loops (the default)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._channels: dict[str, set[_MemorySubscription]] = {}

    def _add(self, subscription: _MemorySubscription) -> None:
        with self._lock:
            self._channels.setdefault(subscription.channel, set()).add(subscription)

    def _remove(self, subscription: _MemorySubscription) -> None:
        with self._lock:
            members = self._channels.get(subscription.channel)
            if members is not None:
                members.discard(subscription)
                if not members:
                    del self._channels[subscription.channel]

    def publish_now(self, channel: str, message: Any) -> int:
        """Publish without awaiting (usable from sync code); return the receiver count."""
        with self._lock:
            members = list(self._channels.get(channel, ()))
        for subscription in members:
            subscription.deliver(message)
        return len(members)

    async def publish(self, channel: str, message: Any) -> int:
        """Send ``message`` to every subscriber of ``channel`` in this process."""
        return self.publish_now(channel, message)

    def subscribe(self, channel: str) -> Subscription:
        """Return a subscription to ``channel``."""
        return _MemorySubscription(self, channel)


class RedisBroker(Broker):
    """Fan-out across processes and machines through Redis pub/sub."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = (
            weakref.WeakKeyDictionary()
        )

    def _client(self) -> Any:
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            from redis.asyncio import Redis

            client = Redis.from_url(self.url)
            self._clients[loop] = client
        return client

    async def publish(self, channel: str, message: Any) -> int:
        """Publish ``message`` as JSON; retry briefly while Redis reconnects."""
        data = json.dumps(message)
        delay = 0.05
        for attempt in range(6):
            try:
                return int(await self._client().publish(channel, data))
            except (OSError, _redis_errors()):
                if attempt == 5:
                    raise
                await asyncio.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")  # pragma: no cover

    def subscribe(self, channel: str) -> Subscription:
        """Return a subscription to ``channel`` that re-subscribes after Redis restarts."""
        return _RedisSubscription(self, channel)

    async def aclose(self) -> None:
        """Close this loop's client."""
        client = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()


def broker_from_url(url: str | None) -> Broker:
    """Return a broker for ``url``: None or "memory://" in-process, "redis://..." Redis."""
    if not url or url.startswith("memory:"):
        return MemoryBroker()
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisBroker(url)
    raise ValueError(f"Unsupported broker URL {url!r}: use 'memory://' or 'redis://host:port/db'.")


def get_broker(app: Any = None) -> Broker:
    """Return the broker of ``app`` (the current app by default), made once from config."""
    if app is None:
        ctx = _cv.get(None)
        if ctx is None:
            raise RuntimeError("get_broker() needs an app or an active application context.")
        app = ctx.app
    broker = app.extensions.get(_EXTENSION)
    if broker is None:
        url = app.config.get("BROKER_URL") or os.environ.get("KETTLE_BROKER_URL")
        broker = app.extensions.setdefault(_EXTENSION, broker_from_url(url))
    return cast(Broker, broker)


async def publish(channel: str, message: Any) -> int:
    """Publish ``message`` on ``channel`` through the current app's broker."""
    return await get_broker().publish(channel, message)


def _run_sync(coro: Any) -> Any:
    return runner.run_sync(coro)


def publish_sync(channel: str, message: Any) -> int:
    """Publish from a sync view (WSGI, or the ASGI thread pool)."""
    broker = get_broker()
    if isinstance(broker, MemoryBroker):
        return broker.publish_now(channel, message)
    return int(_run_sync(broker.publish(channel, message)))


def subscribe(channel: str) -> Subscription:
    """Subscribe to ``channel`` through the current app's broker."""
    return get_broker().subscribe(channel)


# -- long polling --------------------------------------------------------------
def _message_response(message: Any) -> Response:
    ctx = _cv.get()
    if isinstance(message, str):
        return ctx.app.response_class(message, mimetype="text/plain")
    return ctx.app.json.response(message)


async def long_poll(channel: str, timeout: float = 25.0) -> Response:
    """Wait up to ``timeout`` seconds for a message on ``channel``; 204 when none came.

    A str message answers text/plain, any other value JSON.
    """
    async with subscribe(channel) as subscription:
        try:
            message = await subscription.get(timeout)
        except TimeoutError:
            return _cv.get().app.response_class(status=204)
    return _message_response(message)


def long_poll_sync(channel: str, timeout: float = 25.0) -> Response:
    """``long_poll`` for sync views."""
    return cast(Response, _run_sync(long_poll(channel, timeout)))


# -- server-sent events --------------------------------------------------------
def last_event_id() -> str | None:
    """The ``Last-Event-ID`` header the browser sends when it reconnects, if any."""
    ctx = _cv.get(None)
    if ctx is None or ctx.request is None:
        raise RuntimeError("last_event_id() needs an active request.")
    return ctx.request.headers.get("Last-Event-ID")


async def _from_sync(iterable: Iterable[Any]) -> AsyncIterator[Any]:
    """Iterate a sync iterable in worker threads, closing it even after a cancel."""
    iterator = iter(iterable)
    loop = asyncio.get_running_loop()
    in_flight: asyncio.Future[Any] | None = None

    def close(_: Any = None) -> None:
        closer = getattr(iterator, "close", None)
        if closer is not None:
            closer()

    try:
        while True:
            context = contextvars.copy_context()
            in_flight = loop.run_in_executor(None, context.run, next, iterator, _DONE)  # type: ignore[arg-type]
            item = await in_flight
            in_flight = None
            if item is _DONE:
                return
            yield item
    finally:
        if in_flight is not None and not in_flight.done():
            # The step still runs in its thread: close once it returns.
            in_flight.add_done_callback(close)
        else:
            close()


def _as_async(source: Any) -> AsyncIterator[Any]:
    if hasattr(source, "__aiter__"):
        return cast(AsyncIterator[Any], source.__aiter__())
    return _from_sync(source)


async def _next(iterator: AsyncIterator[Any]) -> tuple[bool, Any]:
    try:
        return True, await iterator.__anext__()
    except StopAsyncIteration:
        return False, None


async def _encode_events(source: Any, keep_alive: float | None) -> AsyncIterator[bytes]:
    """Encode what ``source`` yields; write a keep-alive comment after ``keep_alive`` s idle."""
    iterator = _as_async(source)
    pending: asyncio.Future[tuple[bool, Any]] | None = None
    try:
        while True:
            if keep_alive is None:
                more, item = await _next(iterator)
            else:
                if pending is None:
                    pending = asyncio.ensure_future(_next(iterator))
                done, _ = await asyncio.wait({pending}, timeout=keep_alive)
                if not done:
                    yield encode_comment("keep-alive")
                    continue
                more, item = pending.result()
                pending = None
            if not more:
                return
            yield to_event(item).encode()
    finally:
        if pending is not None:
            pending.cancel()
            with contextlib.suppress(BaseException):
                await pending
        aclose = getattr(iterator, "aclose", None)
        if aclose is not None:
            await aclose()


class EventStream(Response):
    """A ``text/event-stream`` response from a sync or async iterable of events.

    Items may be ``ServerSentEvent``, a dict of its fields (``data``,
    ``event``, ``id``, ``retry``, ``comment``), or a str (the data). A
    comment is written after ``keep_alive`` idle seconds (None: never) so
    proxies keep the connection open. The source runs with the view's
    request context current (as with ``stream_with_context``). Works under
    ASGI and WSGI (where each open stream holds a worker thread).
    """

    default_mimetype = "text/event-stream"

    def __init__(
        self,
        source: Any,
        keep_alive: float | None = 15.0,
        status: int | str | None = None,
        headers: Any = None,
    ) -> None:
        if keep_alive is not None and keep_alive <= 0:
            raise ValueError("keep_alive must be a positive number of seconds, or None.")
        if not (hasattr(source, "__aiter__") or hasattr(source, "__iter__")):
            raise TypeError("EventStream needs an iterable or async iterable of events.")
        ctx = _cv.get(None)
        if ctx is not None:
            # The body runs after the view returns: keep the app and request
            # context current for it, so subscribe() and publish() work there.
            from kettle.streaming import _async, _sync

            if hasattr(source, "__aiter__"):
                source = _async(ctx, source.__aiter__())
            else:
                source = _sync(ctx, iter(source))
        body: Any = _encode_events(source, keep_alive)
        super().__init__(body, status=status, headers=headers)
        self.headers.set("Cache-Control", "no-cache")
        # nginx buffers proxied responses by default, which would hold events back.
        self.headers.set("X-Accel-Buffering", "no")

"""``RedisBroker``: fan-out across processes through one pub/sub connection per hub.

Theory of operation. A *hub* holds one Redis pub/sub connection for every
subscription of one event loop (under ASGI: the process's loop). Under WSGI,
where each worker thread keeps its own loop, all threads share one hub that
runs on a background thread, so a process has one pub/sub connection
either way. Channels are subscribed on that connection when their first
local subscriber arrives and unsubscribed when the last one leaves; one
reader task dispatches each message to the channel's local subscribers.
Publishing uses a separate small pool, so it never waits behind them.

Each publish is one Lua script: ``XADD`` to the channel's stream (capped with
``MAXLEN ~`` and ``MINID ~``: the retention window), then ``PUBLISH`` of the
stream id and the JSON data. A subscriber resuming from an id reads the
stream (``XRANGE``); after an outage the hub reads what each channel missed
from the stream before it resumes live delivery, so nothing published while
it was reconnecting is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import threading
import weakref
from typing import Any, cast
from urllib.parse import urlsplit, urlunsplit

from kettle import _loops
from kettle.push.retention import Message, clock_id, event_key
from kettle.push.subscription import (
    QUEUE_LIMIT,
    Broker,
    BrokerUnavailable,
    Registry,
    Subscription,
    log,
)

#: Prefix of the stream key that retains a channel's events.
STREAM_PREFIX = "kettle:push:"
#: Longest wait between two reconnection attempts (seconds).
MAX_BACKOFF = 1.0

_PUBLISH = """
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'd', ARGV[4])
local ttl = tonumber(ARGV[2])
if ttl > 0 then
  local ms = tonumber(string.match(id, '^(%d+)'))
  redis.call('XTRIM', KEYS[1], 'MINID', '~', string.format('%d', ms - ttl))
  redis.call('PEXPIRE', KEYS[1], ttl)
end
local n = redis.call('PUBLISH', ARGV[3], id .. '\\n' .. ARGV[4])
return {id, n}
"""


def redact(url: str) -> str:
    """``url`` with its password replaced by ``***`` (for messages and logs)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rpartition("@")[2]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc}"))


def _unavailable_errors() -> tuple[type[BaseException], ...]:
    from redis.exceptions import ConnectionError, TimeoutError

    return (OSError, ConnectionError, TimeoutError, asyncio.TimeoutError)


async def _twice(call: Any, *args: Any, **kwargs: Any) -> Any:
    """Await ``call``; once more on a connection error (a pooled connection that
    died with a Redis restart fails once, then the pool reconnects)."""
    try:
        return await call(*args, **kwargs)
    except _unavailable_errors():
        return await call(*args, **kwargs)


def _decode(channel: Any, payload: Any) -> tuple[str, Message]:
    name = channel.decode() if isinstance(channel, bytes) else str(channel)
    text = payload.decode() if isinstance(payload, bytes) else str(payload)
    event_id, newline, data = text.partition("\n")
    key = event_key(event_id) if newline else None
    if key is None:  # Not published by Kettle: no id, the whole payload is the data.
        event_id, data = clock_id(), text
        key = event_key(event_id)
    assert key is not None
    return name, (key, event_id, json.loads(data))


class _Hub:
    """One pub/sub connection and reader task for the subscriptions of one loop."""

    def __init__(self, broker: RedisBroker, loop: asyncio.AbstractEventLoop) -> None:
        self.broker = broker
        self.loop = loop
        self.registry = Registry()
        self.counts: dict[str, int] = {}
        self.last: dict[str, tuple[int, int]] = {}
        self.pending: dict[str, list[asyncio.Future[None]]] = {}
        self.pubsub: Any = None
        self.up = False
        self.task: asyncio.Task[None] | None = None

    # -- on the hub's loop ---------------------------------------------------
    async def add(self, channel: str) -> None:
        """Count one more local subscriber of ``channel``; subscribe the first.

        Returns once Redis confirmed the subscription (so a publish after it
        is seen), or at once while Redis is down.
        """
        count = self.counts.get(channel, 0)
        self.counts[channel] = count + 1
        waiter = self.loop.create_future()
        if count == 0:
            self.pending.setdefault(channel, []).append(waiter)
            self.last[channel] = event_key(clock_id()) or (0, 0)
            if self.up:
                end = await self.broker._stream_end(channel)
                if channel in self.last:
                    self.last[channel] = end
            if channel not in self.counts:
                self._confirm(channel)
            elif self.task is None or self.task.done():
                self.task = self.loop.create_task(self.run())
            elif self.up:
                with contextlib.suppress(Exception):
                    await self.pubsub.subscribe(channel)
            else:
                self._confirm(channel)  # Redis is down: the reader subscribes when it is back.
        elif channel in self.pending:
            self.pending[channel].append(waiter)
        else:
            return
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(waiter), 5.0)

    def remove(self, channel: str) -> None:
        """Count one local subscriber less; unsubscribe when none is left."""
        count = self.counts.get(channel, 0) - 1
        if count > 0:
            self.counts[channel] = count
            return
        self.counts.pop(channel, None)
        self.last.pop(channel, None)
        if self.up and self.pubsub is not None:
            self.loop.create_task(self._unsubscribe(channel))

    async def _unsubscribe(self, channel: str) -> None:
        if channel not in self.counts and self.pubsub is not None:
            with contextlib.suppress(Exception):
                await self.pubsub.unsubscribe(channel)

    def _confirm(self, channel: str | None = None) -> None:
        names = list(self.pending) if channel is None else [channel]
        for name in names:
            for waiter in self.pending.pop(name, ()):
                if not waiter.done():
                    waiter.set_result(None)

    def _dispatch(self, channel: str, message: Message) -> None:
        last = self.last.get(channel)
        if last is None:
            return  # Nobody here listens to it any more.
        if message[0] <= last:
            return  # Already delivered (read from the stream after an outage).
        self.last[channel] = message[0]
        self.registry.fan_out(channel, message)

    def _receive(self, message: dict[str, Any]) -> None:
        try:
            decoded = _decode(message["channel"], message["data"])
        except ValueError:  # Not JSON: published by someone else on our channel.
            log.debug("Ignored a message that is not JSON on %r.", message["channel"])
            return
        self._dispatch(*decoded)

    async def run(self) -> None:
        """Keep the pub/sub connection; on failure back off, reconnect, catch up."""
        delay = 0.05
        outage = False
        while self.counts:
            try:
                pubsub = await self._connect(outage)
                delay = 0.05
                while True:
                    message = await pubsub.get_message(timeout=None)
                    if message is None:
                        continue
                    kind = message["type"]
                    if kind == "message":
                        self._receive(message)
                    elif kind == "subscribe":
                        self._confirm(message["channel"].decode())
            except asyncio.CancelledError:
                raise
            except Exception as error:  # Any failure is an outage: one line, no traceback.
                self.up, outage = False, True
                self.broker._report_down(error)
                self._confirm()  # Nobody waits for a subscription Redis cannot confirm.
                await self._drop_pubsub()
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_BACKOFF)
        await self._drop_pubsub()
        self.up = False

    async def _connect(self, outage: bool) -> Any:
        """Subscribe every channel; after an outage deliver what each one missed."""
        channels = list(self.counts)
        pubsub = self.pubsub = self.broker._hub_client(self.loop).pubsub()
        await pubsub.subscribe(*channels)
        waiting, early = set(channels), []  # Messages before every confirmation.
        while waiting:
            message = await pubsub.get_message(timeout=5.0)
            if message is None:
                raise TimeoutError("Redis did not confirm the subscriptions.")
            if message["type"] == "subscribe":
                waiting.discard(message["channel"].decode())
            elif message["type"] == "message":
                early.append(message)
        if outage:
            for channel, missed in (await self.broker._catch_up(dict(self.last))).items():
                for item in missed:
                    self._dispatch(channel, item)
        self.up = True
        self.broker._report_up()
        self._confirm()
        added = [c for c in self.counts if c not in channels]
        if added:  # Subscribed while we were connecting.
            await pubsub.subscribe(*added)
        for message in early:
            self._receive(message)
        return pubsub

    async def _drop_pubsub(self) -> None:
        pubsub, self.pubsub = self.pubsub, None
        if pubsub is not None:
            with contextlib.suppress(Exception):
                await pubsub.aclose()


class RedisBroker(Broker):
    """Fan-out across processes and machines through Redis.

    One pub/sub connection per process for every subscription; a publish
    pool of ``publish_connections`` (per event loop; WSGI threads share the
    process's); events kept in a Redis Stream per
    channel (the last ``retention_events``, for ``retention_seconds``).
    """

    def __init__(
        self,
        url: str,
        retention_events: int = 1000,
        retention_seconds: float | None = 3600.0,
        queue_limit: int = QUEUE_LIMIT,
        publish_connections: int = 8,
    ) -> None:
        super().__init__(queue_limit)
        self.url = url
        self.retention_events = retention_events
        self.retention_seconds = retention_seconds
        self.publish_connections = publish_connections
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = (
            weakref.WeakKeyDictionary()
        )
        self._hub_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = (
            weakref.WeakKeyDictionary()
        )
        self._scripts: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = (
            weakref.WeakKeyDictionary()
        )
        self._hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Hub] = (
            weakref.WeakKeyDictionary()
        )
        self._thread_hub: tuple[int, _Hub] | None = None
        self._state_lock = threading.Lock()
        self._down = False

    # -- connections ---------------------------------------------------------
    def _client(self) -> Any:
        """This loop's publishing client (a small blocking pool of its own)."""
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            from redis.asyncio import BlockingConnectionPool, Redis

            pool = BlockingConnectionPool.from_url(
                self.url,
                max_connections=self.publish_connections,
                timeout=5,
                socket_connect_timeout=2,
            )
            client = self._clients[loop] = Redis(connection_pool=pool)
            self._scripts[loop] = client.register_script(_PUBLISH)
        return client

    def _hub_client(self, loop: asyncio.AbstractEventLoop) -> Any:
        client = self._hub_clients.get(loop)
        if client is None:
            from redis.asyncio import Redis
            from redis.asyncio.retry import Retry
            from redis.backoff import NoBackoff

            client = self._hub_clients[loop] = Redis.from_url(
                self.url, socket_connect_timeout=1, retry=Retry(NoBackoff(), 0)
            )
        return client

    def _hub(self) -> _Hub:
        loop = asyncio.get_running_loop()
        if _loops.is_thread_loop(loop):
            return self._process_hub()
        hub = self._hubs.get(loop)
        if hub is None:
            hub = self._hubs[loop] = _Hub(self, loop)
        return hub

    def _process_hub(self) -> _Hub:
        """The hub shared by threads that keep their own loops (WSGI), on its own thread."""
        with self._state_lock:
            if self._thread_hub is None or self._thread_hub[0] != os.getpid():
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name="kettle-push-redis", daemon=True
                )
                thread.start()
                self._thread_hub = (os.getpid(), _Hub(self, loop))
            return self._thread_hub[1]

    def _report_down(self, error: BaseException) -> None:
        with self._state_lock:
            if self._down:
                return
            self._down = True
        log.warning(
            "Redis at %s (BROKER_URL) is unreachable (%s); subscribers stay connected and"
            " resume when it is back, publishing answers 503 meanwhile.",
            redact(self.url),
            str(error).rstrip(".") or type(error).__name__,
        )

    def _report_up(self) -> None:
        if self._down:
            with self._state_lock:
                self._down = False
            log.warning("Redis at %s (BROKER_URL) is reachable again.", redact(self.url))

    def unavailable(self, error: BaseException | None = None) -> BrokerUnavailable:
        """The ``BrokerUnavailable`` error for this broker's URL."""
        reason = f": {str(error).rstrip('.')}" if error is not None and str(error) else ""
        return BrokerUnavailable(
            f"The message broker is unavailable: Redis at {redact(self.url)} (BROKER_URL)"
            f" cannot be reached{reason}."
        )

    # -- publish / subscribe -------------------------------------------------
    async def _at_home(self, coro: Any) -> Any:
        """Await ``coro`` on the loop that owns this process's connections.

        A thread's kept loop (WSGI) hands it to the process hub's loop, so the
        process has one publishing pool, not one per thread.
        """
        if not _loops.is_thread_loop(asyncio.get_running_loop()):
            return await coro
        hub = self._process_hub()
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, hub.loop))

    async def publish(self, channel: str, message: Any) -> int:
        """Publish ``message`` as JSON; BrokerUnavailable when Redis cannot be reached."""
        return int(await self._at_home(self._publish(channel, json.dumps(message))))

    async def _publish(self, channel: str, data: str) -> int:
        self._client()
        script = self._scripts[asyncio.get_running_loop()]
        ttl = 0 if self.retention_seconds is None else max(1, int(self.retention_seconds * 1000))
        try:
            _, receivers = await _twice(
                script,
                keys=[STREAM_PREFIX + channel],
                args=[max(self.retention_events, 1), ttl, channel, data],
            )
        except _unavailable_errors() as error:
            self._report_down(error)
            raise self.unavailable(error) from None
        self._report_up()
        return int(receivers)

    async def _attach(self, subscription: Subscription) -> None:
        hub = subscription._hub = self._hub()
        hub.registry.add(subscription)
        if hub.loop is asyncio.get_running_loop():
            await hub.add(subscription.channel)
        else:
            future = asyncio.run_coroutine_threadsafe(hub.add(subscription.channel), hub.loop)
            await asyncio.wrap_future(future)

    def _release(self, subscription: Subscription) -> None:
        hub: _Hub | None = subscription._hub
        if hub is None:
            return
        subscription._hub = None
        hub.registry.remove(subscription)
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if hub.loop is running:
            hub.remove(subscription.channel)
        else:
            with contextlib.suppress(RuntimeError):
                hub.loop.call_soon_threadsafe(hub.remove, subscription.channel)

    async def _history(self, channel: str, key: tuple[int, int]) -> list[Message]:
        try:
            history = await self._at_home(self._catch_up({channel: key}))
            return list(history.get(channel, []))
        except _unavailable_errors():
            return []  # Redis is down: live events resume when it is back.

    async def _catch_up(self, since: dict[str, tuple[int, int]]) -> dict[str, list[Message]]:
        """Read each channel's retained events after its key, in one round trip."""
        client = self._client()

        async def read() -> list[Any]:
            async with client.pipeline(transaction=False) as pipe:
                for channel, key in since.items():
                    pipe.xrange(
                        STREAM_PREFIX + channel,
                        min=f"({key[0]}-{key[1]}",
                        count=max(self.retention_events, 1) + 200,
                    )
                return cast(list[Any], await pipe.execute())

        replies = await _twice(read)
        result: dict[str, list[Message]] = {}
        for channel, entries in zip(since, replies, strict=True):
            messages: list[Message] = []
            for raw_id, fields in entries:
                event_id = raw_id.decode()
                key = event_key(event_id)
                if key is not None:
                    messages.append((key, event_id, json.loads(fields[b"d"])))
            result[channel] = messages
        return result

    async def _stream_end(self, channel: str) -> tuple[int, int]:
        """The id of the channel's newest retained event ((0, 0) when none)."""
        try:
            entries = await _twice(self._client().xrevrange, STREAM_PREFIX + channel, count=1)
        except _unavailable_errors():
            return event_key(clock_id()) or (0, 0)
        key = event_key(entries[0][0].decode()) if entries else None
        return key or (0, 0)

    async def aclose(self) -> None:
        """Close this loop's connections and stop its hub."""
        loop = asyncio.get_running_loop()
        hub = self._hubs.pop(loop, None)
        if hub is not None and hub.task is not None:
            hub.task.cancel()
            with contextlib.suppress(BaseException):
                await hub.task
        for clients in (self._clients, self._hub_clients):
            client = clients.pop(loop, None)
            if client is not None:
                with contextlib.suppress(Exception):
                    await client.aclose()

"""Subscriptions and the broker base: local subscribers by channel and event loop.

A subscription belongs to the event loop that opened it. Its messages wait
in a plain deque, bounded by the broker's ``queue_limit``; a reader parks
one future while the deque is empty, so an idle subscription holds no task
and no timer. A broker fans a message out to the subscribers of its
channel: directly on the running loop, and with one ``call_soon_threadsafe``
per other loop (not one per subscriber).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from collections.abc import AsyncIterator, Iterable
from types import TracebackType
from typing import Any

from kettle import _loops
from kettle.http.exceptions import ServiceUnavailable
from kettle.http.sse import ServerSentEvent
from kettle.push.retention import Message, event_key

log = logging.getLogger("kettle.push")

#: Messages a subscriber may have waiting by default; past it, it is dropped.
QUEUE_LIMIT = 1000

_NEW, _OPEN, _CLOSED, _OVERFLOW = 0, 1, 2, 3


class BrokerUnavailable(ServiceUnavailable):
    """The broker (Redis) cannot be reached; the default error handling answers 503.

    Raised by ``publish`` and ``publish_sync``; its description names the
    ``BROKER_URL`` tried (password hidden).
    """


class SubscriberOverflow(Exception):
    """A subscriber fell ``queue_limit`` messages behind and was dropped."""


class Subscription:
    """Messages of one channel: ``async with`` it, then ``async for`` or ``await get()``.

    ``last_id`` is the id of the last message returned (or the resume point
    given to ``subscribe``). A subscription that falls ``queue_limit``
    messages behind is dropped: a reason is logged, the task reading it is
    cancelled when it is stuck elsewhere (a stalled client), and ``get``
    raises ``SubscriberOverflow``.
    """

    __slots__ = (
        "_consumer",
        "_entered",
        "_hub",
        "_key",
        "_loop",
        "_queue",
        "_room",
        "_state",
        "_waiter",
        "broker",
        "channel",
        "last_id",
    )

    def __init__(self, broker: Broker, channel: str, last_id: str | None = None) -> None:
        self.broker = broker
        self.channel = channel
        self.last_id = last_id
        self._key = event_key(last_id)
        self._state = _NEW
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: deque[Message] | None = None  # Made when a message waits.
        self._room = broker.queue_limit
        self._waiter: asyncio.Future[None] | None = None
        self._consumer: asyncio.Task[Any] | None = None
        self._hub: Any = None
        self._entered = False  # Opened by ``async with`` (which closes it).

    async def open(self) -> None:
        """Start listening (done by ``async with`` or the first ``get``)."""
        if self._state != _NEW:
            return
        self._loop = asyncio.get_running_loop()
        self._state = _OPEN
        await self.broker._attach(self)
        if self._key is not None and self._state == _OPEN:
            history = await self.broker._history(self.channel, self._key)
            live = [m for m in self._queue or () if not history or m[0] > history[-1][0]]
            merged = [m for m in (*history, *live) if m[0] > self._key]
            self._queue = deque(merged) if merged else None
            self._room += len(merged)  # The replayed backlog does not count against the limit.

    async def aclose(self) -> None:
        """Stop listening."""
        # No reader to end any more. A reader task ended by an error (cancelled:
        # a WebSocket's forwarding task) holds that error, whose traceback holds
        # the frames holding this subscription: it must not hold the task (a cycle).
        self._consumer = None
        if self._state in (_OPEN, _OVERFLOW):
            was_open = self._state == _OPEN
            self._state = _CLOSED
            self._queue = None
            if was_open:
                self.broker._release(self)

    def _deliver(self, message: Message) -> None:
        """Queue ``message`` (on this subscription's loop)."""
        if self._state != _OPEN or (self._key is not None and message[0] <= self._key):
            return
        queue = self._queue
        if queue is None:
            queue = self._queue = deque()
        elif len(queue) >= self._room:
            self._overflow()
            return
        queue.append(message)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _overflow(self) -> None:
        self._state = _OVERFLOW
        self._queue = None
        log.warning(
            "Dropped a subscriber of %r: %d messages waited unread (queue_limit); the"
            " client is not reading.",
            self.channel,
            self.broker.queue_limit,
        )
        self.broker._release(self)
        waiter, consumer = self._waiter, self._consumer
        if waiter is not None and not waiter.done():
            waiter.set_result(None)  # get() wakes up and raises SubscriberOverflow.
        elif consumer is not None and not consumer.done():
            _loops.end_stream(consumer)  # Stuck writing to a client that does not read.

    def _pop(self) -> Message | None:
        """The next waiting message, None when there is none (SubscriberOverflow when dropped)."""
        queue = self._queue
        if queue:
            message = queue.popleft()
            if not queue:
                self._queue = None  # An idle subscriber holds no deque.
                self._room = self.broker.queue_limit
            self._key, self.last_id = message[0], message[1]
            return message
        if self._state == _OVERFLOW:
            raise SubscriberOverflow(f"The subscriber of {self.channel!r} fell too far behind.")
        return None

    def _park(self) -> asyncio.Future[None]:
        """The future a reader awaits until a message arrives (or a keep-alive is due)."""
        self._consumer = asyncio.current_task()
        waiter = self._waiter = asyncio.get_running_loop().create_future()
        return waiter

    async def next_message(self, timeout: float | None = None) -> tuple[str, Any]:
        """Return ``(id, data)`` of the next message; TimeoutError after ``timeout`` s."""
        await self.open()
        while True:
            message = self._pop()
            if message is not None:
                return message[1], message[2]
            if self._state != _OPEN:
                raise RuntimeError("The subscription is closed.")
            waiter = self._park()
            try:
                if timeout is None:
                    await waiter
                else:
                    await asyncio.wait_for(waiter, timeout)
            finally:
                self._waiter = None

    async def get(self, timeout: float | None = None) -> Any:
        """Return the next message; raise TimeoutError after ``timeout`` seconds."""
        return (await self.next_message(timeout))[1]

    def events(self, event: str | None = "message", ready: str | None = None) -> ChannelEvents:
        """The messages as ``ServerSentEvent``s carrying their ids, for ``EventStream``.

        ``ready``: a comment sent once the subscription is live. Iterating
        opens the subscription and closes it at the end.
        """
        return ChannelEvents(self, event, ready)

    async def __aenter__(self) -> Subscription:
        await self.open()
        self._entered = True
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __aiter__(self) -> AsyncIterator[Any]:
        if self._entered:
            # Inside ``async with``, which closes it: the subscription is its own
            # iterator, so an idle subscriber holds one ``__anext__`` frame and no
            # async generator (which the loop would also track in a weak set).
            return self
        return self._iterate()  # Opens the subscription and closes it at the end.

    async def __anext__(self) -> Any:
        """Return the next message's data; StopAsyncIteration once closed."""
        while True:
            message = self._pop()
            if message is not None:
                return message[2]
            if self._state != _OPEN:
                raise StopAsyncIteration
            waiter = self._park()
            try:
                await waiter
            finally:
                self._waiter = None

    async def _iterate(self) -> AsyncIterator[Any]:
        try:
            await self.open()
            while True:
                try:
                    data = await self.__anext__()
                except StopAsyncIteration:
                    return
                yield data
        finally:
            await self.aclose()


class ChannelEvents:
    """A subscription's messages as server-sent events (``Subscription.events()``).

    ``EventStream`` serves it without a generator in between: the stream
    waits on the subscription itself, and the keep-alive timer wakes the
    same wait.
    """

    __slots__ = ("event", "ready", "subscription")

    def __init__(self, subscription: Subscription, event: str | None, ready: str | None) -> None:
        self.subscription = subscription
        self.event = event
        self.ready = ready

    def __aiter__(self) -> AsyncIterator[ServerSentEvent]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[ServerSentEvent]:
        async with self.subscription as subscription:
            if self.ready is not None:
                yield ServerSentEvent(comment=self.ready)
            while True:
                event_id, data = await subscription.next_message()
                yield ServerSentEvent(data=data, event=self.event, id=event_id)


def _deliver_all(members: Iterable[Subscription], message: Message) -> None:
    for subscription in members:
        subscription._deliver(message)


class Registry:
    """Local subscribers by channel, then by event loop; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._local: dict[str, dict[asyncio.AbstractEventLoop, dict[Subscription, None]]] = {}

    def add(self, subscription: Subscription) -> bool:
        """Register ``subscription``; True when it is its channel's first here."""
        loop = subscription._loop
        assert loop is not None
        with self._lock:
            loops = self._local.get(subscription.channel)
            first = loops is None
            if loops is None:
                loops = self._local[subscription.channel] = {}
            loops.setdefault(loop, {})[subscription] = None
        return first

    def remove(self, subscription: Subscription) -> bool:
        """Unregister ``subscription``; True when its channel has no subscriber left."""
        loop = subscription._loop
        with self._lock:
            loops = self._local.get(subscription.channel)
            members = None if loops is None or loop is None else loops.get(loop)
            if loops is None or loop is None or members is None or subscription not in members:
                return False
            del members[subscription]
            if not members:
                del loops[loop]
            if loops:
                return False
            del self._local[subscription.channel]
            return True

    def fan_out(self, channel: str, message: Message) -> int:
        """Deliver ``message`` to the local subscribers of ``channel``; return their count."""
        with self._lock:
            loops = self._local.get(channel)
            if not loops:
                return 0
            groups = [(loop, list(members)) for loop, members in loops.items()]
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        count = 0
        for loop, members in groups:
            if loop is running:
                _deliver_all(members, message)
            else:
                try:
                    loop.call_soon_threadsafe(_deliver_all, members, message)
                except RuntimeError:  # That loop is closed: its subscribers are gone.
                    continue
            count += len(members)
        return count


class Broker:
    """Publish/subscribe by channel name; see ``MemoryBroker`` and ``RedisBroker``.

    ``queue_limit``: messages a subscriber may have waiting before it is
    dropped (a stalled client must not hold the process's memory).
    """

    def __init__(self, queue_limit: int = QUEUE_LIMIT) -> None:
        if queue_limit < 1:
            raise ValueError("queue_limit must be at least 1.")
        self.queue_limit = queue_limit

    async def publish(self, channel: str, message: Any) -> int:
        """Send ``message`` (str or JSON value) to the subscribers of ``channel``."""
        raise NotImplementedError

    def subscribe(self, channel: str, last_id: str | None = None) -> Subscription:
        """Return a subscription to ``channel`` (``async with`` / ``async for``).

        With ``last_id`` (a ``Last-Event-ID``), the retained events after it
        come first, then the live ones, none twice.
        """
        return Subscription(self, channel, last_id)

    async def aclose(self) -> None:
        """Release connections held by the broker."""

    async def _attach(self, subscription: Subscription) -> None:
        """Start delivering the channel's messages to ``subscription``."""
        raise NotImplementedError

    def _release(self, subscription: Subscription) -> None:
        """Stop delivering to ``subscription`` (on its loop; never blocks)."""
        raise NotImplementedError

    async def _history(self, channel: str, key: tuple[int, int]) -> list[Message]:
        """The retained events of ``channel`` after ``key``, oldest first."""
        raise NotImplementedError


__all__ = [
    "QUEUE_LIMIT",
    "Broker",
    "BrokerUnavailable",
    "ChannelEvents",
    "Registry",
    "SubscriberOverflow",
    "Subscription",
]

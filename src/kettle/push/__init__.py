"""Server push: the ``EventStream`` response (SSE), the pub/sub broker, long polling.

Theory of operation: a broker fans a message published on a channel out to
every subscriber of that channel, and gives it an event id. ``MemoryBroker``
(the default) does it inside one process, across threads and event loops,
and keeps recent events in a ring buffer per channel. ``RedisBroker``
(``BROKER_URL = "redis://..."`` or env ``KETTLE_BROKER_URL``) does it across
processes and machines: one pub/sub connection per process carries every
subscription, and a capped Redis Stream per channel keeps recent events.
A subscriber that resumes from an id (the browser's ``Last-Event-ID``) gets
the retained events after it, then the live ones. Messages are str or JSON
values; over Redis they travel as JSON, so both backends deliver equal
values.

Settings (app config): ``BROKER_URL``, ``PUSH_RETENTION_EVENTS`` (1000 per
channel), ``PUSH_RETENTION_SECONDS`` (3600; None: no age limit),
``PUSH_QUEUE_LIMIT`` (1000 messages waiting per subscriber before it is
dropped), ``PUSH_SSE_RETRY`` (2000 ms, sent by ``stream_channel``).
"""

from __future__ import annotations

import os
from typing import Any, cast

from kettle import runner
from kettle.ctx import _cv_get
from kettle.http.sse import ServerSentEvent
from kettle.push.events import EventStream
from kettle.push.longpoll import long_poll, long_poll_sync
from kettle.push.memory import MemoryBroker
from kettle.push.redis_broker import RedisBroker
from kettle.push.subscription import (
    QUEUE_LIMIT,
    Broker,
    BrokerUnavailable,
    SubscriberOverflow,
    Subscription,
)

__all__ = [
    "QUEUE_LIMIT",
    "Broker",
    "BrokerUnavailable",
    "EventStream",
    "MemoryBroker",
    "RedisBroker",
    "ServerSentEvent",
    "SubscriberOverflow",
    "Subscription",
    "broker_from_url",
    "get_broker",
    "last_event_id",
    "long_poll",
    "long_poll_sync",
    "publish",
    "publish_sync",
    "stream_channel",
    "subscribe",
]

_EXTENSION = "kettle.broker"


def broker_from_url(url: str | None, **options: Any) -> Broker:
    """Return a broker for ``url``: None or "memory://" in-process, "redis://..." Redis.

    ``options``: ``retention_events``, ``retention_seconds``, ``queue_limit``.
    """
    if not url or url.startswith("memory:"):
        return MemoryBroker(**options)
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisBroker(url, **options)
    raise ValueError(f"Unsupported broker URL {url!r}: use 'memory://' or 'redis://host:port/db'.")


def get_broker(app: Any = None) -> Broker:
    """Return the broker of ``app`` (the current app by default), made once from config."""
    if app is None:
        ctx = _cv_get(None)
        if ctx is None:
            raise RuntimeError("get_broker() needs an app or an active application context.")
        app = ctx.app
    broker = app.extensions.get(_EXTENSION)
    if broker is None:
        config = app.config
        url = config.get("BROKER_URL") or os.environ.get("KETTLE_BROKER_URL")
        made = broker_from_url(
            url,
            retention_events=int(config.get("PUSH_RETENTION_EVENTS", 1000)),
            retention_seconds=config.get("PUSH_RETENTION_SECONDS", 3600.0),
            queue_limit=int(config.get("PUSH_QUEUE_LIMIT", QUEUE_LIMIT)),
        )
        broker = app.extensions.setdefault(_EXTENSION, made)
    return cast(Broker, broker)


async def publish(channel: str, message: Any) -> int:
    """Publish ``message`` on ``channel`` through the current app's broker.

    Returns the receiver count (local subscribers in-process; subscribed
    processes with Redis). Raises ``BrokerUnavailable`` (503) when Redis
    cannot be reached.
    """
    return await get_broker().publish(channel, message)


def _run_sync(coro: Any) -> Any:
    return runner.run_sync(coro)


def publish_sync(channel: str, message: Any) -> int:
    """Publish from a sync view (WSGI, or the ASGI thread pool)."""
    broker = get_broker()
    if isinstance(broker, MemoryBroker):
        return broker.publish_now(channel, message)
    return int(_run_sync(broker.publish(channel, message)))


def subscribe(channel: str, last_id: str | None = None) -> Subscription:
    """Subscribe to ``channel`` through the current app's broker.

    With ``last_id`` the retained events after that id come first.
    """
    return get_broker().subscribe(channel, last_id)


def last_event_id() -> str | None:
    """The ``Last-Event-ID`` header the browser sends when it reconnects, if any."""
    ctx = _cv_get(None)
    if ctx is None or ctx.request is None:
        raise RuntimeError("last_event_id() needs an active request.")
    return ctx.request.headers.get("Last-Event-ID")


def stream_channel(
    channel: str,
    event: str | None = "message",
    keep_alive: float | None = 15.0,
    retry: int | None = None,
) -> EventStream:
    """An ``EventStream`` of ``channel``'s messages, each with its event id.

    Resumes from the request's ``Last-Event-ID``: a browser that reconnects
    gets the events it missed that the retention window still holds, then
    the live ones. ``retry`` (ms; default ``PUSH_SSE_RETRY``, 2000) tells the
    browser how soon to reconnect. A ``: subscribed`` comment marks the
    moment the subscription is live.
    """
    resume = last_event_id()
    ctx = _cv_get()
    broker = get_broker(ctx.app)
    if retry is None:
        retry = int(ctx.app.config.get("PUSH_SSE_RETRY", 2000))

    subscription = broker.subscribe(channel, last_id=resume)
    return EventStream(subscription.events(event, "subscribed"), keep_alive=keep_alive, retry=retry)

"""``EventStream``: a ``text/event-stream`` response, with keep-alives from one timer.

Keep-alive comments come from one timer per event loop and keep-alive
period (under ASGI: per process), never one timer or task per stream. While
a stream waits for its next event the encoder drives the source's pending
step by hand, as a task would, so the timer can wake the stream to write a
comment and let the step go on waiting where it was. An idle stream costs
no CPU between two ticks.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import weakref
from collections.abc import AsyncIterator, Generator, Iterable
from typing import Any, cast

from kettle.ctx import _cv_get
from kettle.http.sse import ServerSentEvent, encode_comment, encode_event, to_event
from kettle.push.subscription import ChannelEvents, SubscriberOverflow
from kettle.runner import IN_THREAD, Runner
from kettle.wrappers import Response

_DONE = object()
_KEEP_ALIVE = encode_comment("keep-alive")


class _Stream:
    """What the keep-alive timer knows of one open stream."""

    __slots__ = ("__weakref__", "waiter", "wrote")

    def __init__(self) -> None:
        self.waiter: asyncio.Future[Any] | None = None
        self.wrote = False


class _Ticker:
    """One timer for every stream of one loop that shares a keep-alive period."""

    def __init__(self, loop: asyncio.AbstractEventLoop, period: float) -> None:
        self.loop = loop
        self.period = period
        self.streams: dict[_Stream, None] = {}
        self.handle: asyncio.TimerHandle | None = None

    def add(self, stream: _Stream) -> None:
        self.streams[stream] = None
        if self.handle is None:
            self.handle = self.loop.call_later(self.period, self._tick)

    def discard(self, stream: _Stream) -> None:
        self.streams.pop(stream, None)
        if not self.streams and self.handle is not None:
            self.handle.cancel()
            self.handle = None

    def _tick(self) -> None:
        """Wake every stream that wrote nothing since the last tick."""
        for stream in list(self.streams):
            if stream.wrote:
                stream.wrote = False
            elif stream.waiter is not None and not stream.waiter.done():
                stream.waiter.set_result(True)
        self.handle = self.loop.call_later(self.period, self._tick) if self.streams else None


_tickers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[float, _Ticker]] = (
    weakref.WeakKeyDictionary()
)


def _ticker(period: float) -> _Ticker:
    loop = asyncio.get_running_loop()
    by_period = _tickers.get(loop)
    if by_period is None:
        by_period = _tickers[loop] = {}
    ticker = by_period.get(period)
    if ticker is None:
        ticker = by_period[period] = _Ticker(loop, period)
    return ticker


class _Step:
    """One pending ``__anext__`` of the source, driven by hand like a task step.

    ``advance`` returns ``(True, item)`` when the step finished, or
    ``(False, None)`` when the keep-alive timer woke the stream first; the
    step then stays suspended where it was and ``advance`` resumes it.
    """

    __slots__ = ("_blocked", "_context", "_it")

    def __init__(self, awaitable: Any) -> None:
        self._it: Generator[Any, None, Any] = awaitable.__await__()
        self._blocked: asyncio.Future[Any] | None = None
        # Like a task, the step runs in one context from start to end, even when
        # it resumes under another task (WSGI drives each chunk in a new one).
        self._context = contextvars.copy_context()

    async def advance(self, stream: _Stream) -> tuple[bool, Any]:
        it = self._it
        error: BaseException | None = None
        while True:
            blocked = self._blocked
            if blocked is not None:
                waiter: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

                def wake(_: Any, waiter: asyncio.Future[bool] = waiter) -> None:
                    if not waiter.done():
                        waiter.set_result(False)

                blocked.add_done_callback(wake)
                stream.waiter = waiter
                try:
                    poked = await waiter
                except asyncio.CancelledError as cancel:
                    # Cancelled (client gone, or a stalled subscriber dropped): pass
                    # it on to the step, as Task.cancel does.
                    blocked.remove_done_callback(wake)
                    self._blocked = None
                    if not blocked.cancel(*cancel.args[:1]):
                        error = cancel
                    poked = False
                finally:
                    stream.waiter = None
                if poked:
                    blocked.remove_done_callback(wake)
                    return False, None
                self._blocked = None
            try:
                if error is not None:
                    yielded = self._context.run(it.throw, error)
                else:
                    yielded = self._context.run(it.send, None)
            except StopIteration as stop:
                return True, stop.value
            except BaseException:
                # The source's error: the future it waited for holds it too, and the
                # error's traceback holds this frame, which would hold that future.
                blocked = yielded = None
                raise
            error = None
            if yielded is None:
                await asyncio.sleep(0)  # A bare yield: let the loop run once.
            elif getattr(yielded, "_asyncio_future_blocking", None):
                yielded._asyncio_future_blocking = False
                self._blocked = yielded
            else:
                error = RuntimeError(f"An event source awaited {yielded!r}, not a future.")

    def close(self) -> None:
        """Abandon the step: cancel what it waits for and finish it."""
        if self._blocked is not None:
            self._blocked.cancel()
            self._blocked = None
            try:
                self._context.run(self._it.throw, asyncio.CancelledError())
            except (Exception, asyncio.CancelledError):
                pass  # Its end (StopIteration, the cancel) or its clean-up's error: abandoned.


async def _from_sync(iterable: Iterable[Any], runner: Runner) -> AsyncIterator[Any]:
    """Iterate a sync iterable off the loop (``runner.in_thread``), closed even after a cancel."""
    iterator = iter(iterable)
    in_flight: asyncio.Future[Any] | None = None

    def close(_: Any = None) -> None:
        closer = getattr(iterator, "close", None)
        if closer is not None:
            closer()

    try:
        while True:
            context = contextvars.copy_context()
            in_flight = runner.in_thread(functools.partial(context.run, next, iterator, _DONE))
            try:
                # Shielded: a cancel (the client left) must leave the future to tell
                # when the step's thread returns; it is still running the iterator,
                # which cannot be closed before ("generator already executing").
                item = await asyncio.shield(in_flight)
            except Exception:
                # The source's error (its step is over): the future holds it, and its
                # traceback holds this frame, which would hold the future (a cycle).
                in_flight = None
                raise
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


def _as_async(source: Any, runner: Runner) -> AsyncIterator[Any]:
    if hasattr(source, "__aiter__"):
        return cast(AsyncIterator[Any], source.__aiter__())
    return _from_sync(source, runner)


async def _encode_events(
    source: Any, keep_alive: float | None, retry: int | None, runner: Runner
) -> AsyncIterator[bytes]:
    """Encode what ``source`` yields; a keep-alive comment when it idles.

    A source that raises ``SubscriberOverflow`` (its subscriber fell too far
    behind; the reason is logged) ends the stream.
    """
    iterator = _as_async(source, runner)
    stream = _Stream()
    ticker = None if keep_alive is None else _ticker(keep_alive)
    step: _Step | None = None
    try:
        if retry is not None:
            yield encode_event(ServerSentEvent(retry=retry))
        if ticker is not None:
            ticker.add(stream)
        while True:
            if step is None:
                step = _Step(iterator.__anext__())
            try:
                finished, item = await step.advance(stream)
            except (StopAsyncIteration, SubscriberOverflow):
                step = None
                return
            if not finished:
                yield _KEEP_ALIVE
                continue
            step = None
            stream.wrote = True
            yield to_event(item).encode()
    finally:
        if ticker is not None:
            ticker.discard(stream)
        if step is not None:
            step.close()
        aclose = getattr(iterator, "aclose", None)
        if aclose is not None:
            await aclose()


_last_encoded: tuple[Any, str | None, bytes] | None = None


def _encode_message(message: Any, event: str | None) -> bytes:
    """Encode one broker message; fan-out encodes it once for all its subscribers."""
    global _last_encoded
    last = _last_encoded
    if last is not None and last[0] is message and last[1] == event:
        return last[2]
    data = encode_event(ServerSentEvent(data=message[2], event=event, id=message[1]))
    _last_encoded = (message, event, data)
    return data


async def _encode_channel(
    events: ChannelEvents, keep_alive: float | None, retry: int | None
) -> AsyncIterator[bytes]:
    """Serve a subscription: wait on it directly; the keep-alive timer wakes the same wait."""
    subscription = events.subscription
    stream = _Stream()
    ticker = None if keep_alive is None else _ticker(keep_alive)
    try:
        if retry is not None:
            yield encode_event(ServerSentEvent(retry=retry))
        async with subscription:
            if events.ready is not None:
                yield encode_comment(events.ready)
            if ticker is not None:
                ticker.add(stream)
            while True:
                message = subscription._pop()
                if message is None:
                    waiter = stream.waiter = subscription._park()
                    try:
                        await waiter
                    finally:
                        stream.waiter = subscription._waiter = None
                    message = subscription._pop()
                    if message is None:
                        yield _KEEP_ALIVE
                        continue
                stream.wrote = True
                yield _encode_message(message, events.event)
    except SubscriberOverflow:
        return  # Logged where it happened; the stream ends.
    finally:
        if ticker is not None:
            ticker.discard(stream)


class EventStream(Response):
    """A ``text/event-stream`` response from a sync or async iterable of events.

    Items may be ``ServerSentEvent``, a dict of its fields (``data``,
    ``event``, ``id``, ``retry``, ``comment``), or a str (the data). A
    ``: keep-alive`` comment is written when the stream was idle for
    ``keep_alive`` to twice ``keep_alive`` seconds (None: never), so proxies
    keep the connection open; one timer per process serves every stream.
    ``retry`` (milliseconds), when given, is sent first: how long a browser
    waits before it reconnects. The source runs with the view's request
    context current (as with ``stream_with_context``). Works under ASGI and
    WSGI (where each open stream holds a worker thread). A source from
    ``Subscription.events()`` is served without a generator in between
    (the lightest stream per subscriber).
    """

    default_mimetype = "text/event-stream"

    def __init__(
        self,
        source: Any,
        keep_alive: float | None = 15.0,
        status: int | str | None = None,
        headers: Any = None,
        retry: int | None = None,
    ) -> None:
        if keep_alive is not None and keep_alive <= 0:
            raise ValueError("keep_alive must be a positive number of seconds, or None.")
        if retry is not None and (not isinstance(retry, int) or retry < 0):
            raise ValueError("retry must be a non-negative int (milliseconds), or None.")
        if not (hasattr(source, "__aiter__") or hasattr(source, "__iter__")):
            raise TypeError("EventStream needs an iterable or async iterable of events.")
        ctx = _cv_get(None)
        body: Any
        if isinstance(source, ChannelEvents):
            body = _encode_channel(source, keep_alive, retry)
        elif ctx is not None:
            # The body runs after the view returns: keep the app and request
            # context current for it, so subscribe() and publish() work there.
            from kettle.streaming import _async, _sync

            if hasattr(source, "__aiter__"):
                source = _async(ctx, source.__aiter__())
            else:
                source = _sync(ctx, iter(source))
            body = _encode_events(source, keep_alive, retry, ctx.runner)
        else:
            body = _encode_events(source, keep_alive, retry, IN_THREAD)
        super().__init__(body, status=status, headers=headers)
        self.headers.set("Cache-Control", "no-cache")
        # nginx buffers proxied responses by default, which would hold events back.
        self.headers.set("X-Accel-Buffering", "no")

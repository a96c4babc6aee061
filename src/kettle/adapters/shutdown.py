"""End open streams when the server shuts down (Ctrl+C), and say so.

Theory of operation: uvicorn, on SIGINT or SIGTERM, stops accepting and
then waits for every open connection to finish its response, which an SSE
stream never does by itself: Ctrl+C seemed to do nothing. At lifespan
startup, once the server has installed its signal handlers, Kettle puts a
small handler in front of them (``watch_server_signals``). On the first
signal it asks every open stream to end (each holds a ``closing`` event,
see ``stream_closing``): the stream stops, its generator is closed and the
response is finished, so the server's wait ends at once. On a second Ctrl+C
the server drops what is left; Kettle then hushes the cancellation
tracebacks of that forced exit, which tell the user nothing.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

#: The open streams: each one's ``closing`` event and the loop it belongs to.
_open_streams: dict[asyncio.Event, asyncio.AbstractEventLoop] = {}
#: Signals already seen (the second SIGINT is a forced exit).
_received: list[int] = []
#: Loggers whose cancellation tracebacks a forced exit would print.
_NOISY_ON_FORCED_EXIT = ("uvicorn.error", "asyncio")


@contextmanager
def stream_closing() -> Iterator[asyncio.Event]:
    """Register one open stream; the event is set when the server shuts down."""
    closing = asyncio.Event()
    _open_streams[closing] = asyncio.get_running_loop()
    if _received:
        closing.set()  # Opened while shutting down: end it at once.
    try:
        yield closing
    finally:
        _open_streams.pop(closing, None)


def close_open_streams() -> int:
    """Ask every open stream to end (from any thread); return how many were open."""
    streams = list(_open_streams.items())
    for closing, loop in streams:
        if not loop.is_closed():
            loop.call_soon_threadsafe(closing.set)
    return len(streams)


def _announce_and_close() -> None:
    count = close_open_streams()
    if count:
        noun = "stream" if count == 1 else "streams"
        sys.stderr.write(f" * Shutting down: closing {count} open {noun}\n")
        sys.stderr.flush()


def _on_forced_exit() -> None:
    sys.stderr.write(" * Forced exit: open connections are dropped\n")
    sys.stderr.flush()
    for name in _NOISY_ON_FORCED_EXIT:
        logging.getLogger(name).setLevel(logging.CRITICAL + 1)


def watch_server_signals() -> None:
    """Put Kettle's shutdown handler before the server's SIGINT and SIGTERM handlers.

    Does nothing outside the main thread, or where no server has installed a
    handler of its own (the test client, a plain script): Python's default
    Ctrl+C behaviour is left alone there.
    """
    if threading.current_thread() is not threading.main_thread():
        return
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        previous = signal.getsignal(signum)
        if not callable(previous) or previous is signal.default_int_handler:
            continue
        if getattr(previous, "_kettle_shutdown", False):
            continue  # Already in front (a second lifespan in this process).
        signal.signal(signum, _handler(previous, loop))


def _handler(previous: Any, loop: asyncio.AbstractEventLoop) -> Any:
    def handle(signum: int, frame: Any) -> None:
        forced = signum == signal.SIGINT and signal.SIGINT in _received
        _received.append(signum)
        if not loop.is_closed():
            # A signal handler may interrupt the loop anywhere: act from the loop instead.
            loop.call_soon_threadsafe(_on_forced_exit if forced else _announce_and_close)
        previous(signum, frame)

    handle._kettle_shutdown = True  # type: ignore[attr-defined]
    return handle

"""End open streams when the server shuts down (Ctrl+C), and say so.

Theory of operation: uvicorn, on SIGINT or SIGTERM, stops accepting and
then waits for every open connection to finish its response, which an SSE
stream never does by itself: Ctrl+C seemed to do nothing. At lifespan
startup, once the server has installed its signal handlers, Kettle puts a
small handler in front of them (``watch_server_signals``). On the first
signal it ends every open stream (``stream_started``): the stream
stops, its generator is closed and the response is finished, so the
server's wait ends at once. On a second Ctrl+C the server drops what is
left; Kettle then hushes the cancellation tracebacks of that forced exit,
which tell the user nothing. Under WSGI (gunicorn) the streams end when the
worker exits (``thread_stream``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from kettle._loops import end_stream

#: The tasks pumping open ASGI streams: the task alone, no wrapper (one per idle stream).
_stream_tasks: set[asyncio.Task[Any]] = set()
#: The open streams driven by worker threads (WSGI).
_thread_streams: set[ThreadStream] = set()
#: Signals already seen (the second SIGINT is a forced exit).
_received: list[int] = []
_shutting_down = False
_exit_hook_installed = False
_exit_hook_lock = threading.Lock()
#: Loggers whose cancellation tracebacks a forced exit would print.
_NOISY_ON_FORCED_EXIT = ("uvicorn.error", "asyncio")


def stream_started(task: asyncio.Task[Any]) -> None:
    """Register the task pumping one open stream (ASGI); shutdown cancels it with END_STREAM.

    The caller then finishes the response (its last, empty body message), so
    the server's wait for open connections ends. ``stream_ended`` unregisters it.
    """
    _stream_tasks.add(task)
    if _shutting_down:
        end_stream(task)  # Opened while shutting down: end it at once.


def stream_ended(task: asyncio.Task[Any]) -> None:
    """Unregister a task registered by ``stream_started``."""
    _stream_tasks.discard(task)


class ThreadStream:
    """One open stream whose body a worker thread drives step by step (WSGI).

    Registered for the whole life of the body, so shutdown counts it even
    between two steps; ``task`` is the step running on the thread's kept
    loop, if any. Shutdown cancels that task and nothing else on the loop.
    """

    __slots__ = ("task",)

    def __init__(self) -> None:
        self.task: asyncio.Task[Any] | None = None

    def run_step(self, awaitable: Any) -> Any:
        """Run one step on this thread's kept loop; CancelledError when shutdown ends it.

        The task is published before the flag is read, and shutdown sets the
        flag before it reads the tasks: whichever comes second cancels the
        step, so a shutdown never falls between the two.
        """
        from kettle._loops import run_task, thread_loop

        # No local holds the task: a step that ends by an exception (the body's
        # StopAsyncIteration, its error) would leave a cycle, the task holding the
        # exception whose traceback holds this frame.
        self.task = thread_loop().create_task(awaitable)
        if _shutting_down:
            end_stream(self.task)  # Shutdown began before this step: end it at once.
        try:
            return run_task(self.task)
        finally:
            self.task = None


@contextmanager
def thread_stream() -> Iterator[ThreadStream]:
    """Register one stream driven on a worker thread (WSGI) while its body runs.

    Needs no signal handler: gunicorn's threaded workers stop from their
    main thread, and the interpreter's exit runs ``close_open_streams``
    before it waits for the threads; the caller ends the body when its step
    is cancelled and ``shutting_down()`` says so.
    """
    if not _exit_hook_installed:
        _install_exit_hook()
    stream = ThreadStream()
    _thread_streams.add(stream)
    try:
        yield stream
    finally:
        _thread_streams.discard(stream)


def shutting_down() -> bool:
    """Whether the server has asked the open streams to end."""
    return _shutting_down


def close_open_streams() -> int:
    """Ask every open stream to end (from any thread); return how many were open."""
    global _shutting_down
    _shutting_down = True
    threads = list(_thread_streams)
    tasks = list(_stream_tasks)
    steps = [stream.task for stream in threads]
    for task in [*tasks, *steps]:
        if task is not None:
            _call_soon(task.get_loop(), end_stream, task)
    return len(threads) + len(tasks)


def _call_soon(loop: asyncio.AbstractEventLoop, callback: Callable[..., Any], *args: Any) -> None:
    if not loop.is_closed():
        loop.call_soon_threadsafe(callback, *args)


def _install_exit_hook() -> None:
    """End WSGI streams when the interpreter exits, before it joins the worker threads."""
    global _exit_hook_installed
    with _exit_hook_lock:
        if not _exit_hook_installed:
            # threading's exit hooks run before non-daemon threads are joined (the hook
            # concurrent.futures uses for its pools); atexit would run after: too late.
            register = getattr(threading, "_register_atexit", None)
            if register is not None:
                with contextlib.suppress(RuntimeError):  # Already shutting down.
                    register(_announce_and_close)
            _exit_hook_installed = True


class _OpenWebSockets:
    """``with websocket_open:`` counts one open WebSocket while its handler runs.

    Counted only (the server sends the close frame, 1012 under uvicorn). One
    shared object, so an idle connection holds nothing here: no generator,
    no key, no set entry.
    """

    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0

    def __enter__(self) -> None:
        self.count += 1

    def __exit__(self, *exc_info: object) -> None:
        self.count -= 1


#: The WebSockets being served (see ``_OpenWebSockets``).
websocket_open = _OpenWebSockets()


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _announce_and_close() -> None:
    announced = _shutting_down  # A later signal (the reloader's SIGTERM after Ctrl+C): no repeat.
    streams = close_open_streams()
    if announced:
        return
    sockets = websocket_open.count
    parts = [_plural(streams, "open stream")] if streams else []
    if sockets:
        parts.append(_plural(sockets, "WebSocket"))
    if parts:
        sys.stderr.write(f" * Shutting down: closing {' and '.join(parts)}\n")
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

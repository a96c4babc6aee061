"""Run coroutines from synchronous code: one event loop kept per thread.

Under WSGI an ``async def`` view or hook runs on the loop of the worker
thread that serves the request; the loop is made once per thread and kept,
never one per call.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import threading
from collections.abc import Coroutine
from typing import Any

_local = threading.local()

#: The message of a cancellation that ends a streamed response quietly (the
#: client left, or a push subscriber stopped reading); see the ASGI adapter.
END_STREAM = "kettle: end of stream"


def end_stream(task: asyncio.Task[Any]) -> None:
    """Cancel ``task`` with ``END_STREAM``, unless a cancel is already on its way.

    The client's disconnect, the server's shutdown and push dropping a stalled
    subscriber can each end the same stream, sometimes at once: the first
    ends it. A second request would still be pending once the task has
    handled the first (``uncancel() > 0``), which turns a quiet end into an
    error ("Exception in ASGI application").
    """
    if not task.cancelling():
        task.cancel(END_STREAM)


def thread_loop() -> asyncio.AbstractEventLoop:
    """Return this thread's kept event loop, creating it on first use."""
    loop: asyncio.AbstractEventLoop | None = getattr(_local, "loop", None)
    if loop is None or loop.is_closed():
        loop = asyncio.new_event_loop()
        _local.loop = loop
    return loop


def is_thread_loop(loop: asyncio.AbstractEventLoop) -> bool:
    """True when ``loop`` is this thread's kept loop (it runs only while called)."""
    return getattr(_local, "loop", None) is loop


def run_coroutine(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run ``coro`` to completion on this thread's loop and return its result.

    When something interrupts the loop from outside (a server's signal
    handler calling ``sys.exit``, as gunicorn's workers do on Ctrl+C), the
    coroutine is cancelled and unwound at once, on its own loop: its
    ``finally`` blocks run now, not later in a garbage collector with the
    loop closed (``aclose(): asynchronous generator is already running``).
    """
    loop: asyncio.AbstractEventLoop | None = getattr(_local, "loop", None)
    if loop is None or loop.is_closed():
        loop = thread_loop()
    return run_task(loop.create_task(coro))


def run_beside(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run ``coro`` to the end on a loop of its own in a helper thread, and wait for it.

    For sync code that runs on a running event loop and calls an async function
    through ``ensure_sync`` (an ASGI request's sync hook or error handler, as
    APIFlask's error processor): the running loop cannot run it while that code
    waits, and no other loop may run in its thread. The caller's context (the
    request context) is copied into the coroutine; the caller's loop waits
    meanwhile, as it does for any sync call made on it.
    """
    context = contextvars.copy_context()
    outcome: list[tuple[bool, Any]] = []

    def target() -> None:
        try:
            outcome.append((True, context.run(asyncio.run, coro)))
        except BaseException as error:  # Raised again in the caller's thread.
            outcome.append((False, error))

    thread = threading.Thread(target=target, name="kettle-run-beside", daemon=True)
    thread.start()
    thread.join()
    ok, value = outcome.pop()
    if ok:
        return value
    try:
        raise value
    finally:
        del value  # The error's traceback holds this frame: no cycle left for the collector.


def run_task(task: asyncio.Task[Any]) -> Any:
    """Run ``task``, made on this thread's kept loop, as ``run_coroutine`` runs its coroutine."""
    loop = task.get_loop()
    try:
        if not loop.is_running():
            # One pass of the loop first: ``stop()`` before ``run_forever()`` makes it poll
            # once, run what is ready and return (documented). A coroutine that never
            # waits (most async views) ends in that pass, without the second pass
            # ``run_until_complete`` makes to stop; one that waits is then run to the end.
            loop.stop()
            loop.run_forever()
            if task.done():
                return task.result()
        _run_until_done(loop, task)
        return task.result()
    except BaseException:
        if not task.done():
            task.cancel()
            with contextlib.suppress(BaseException):
                _run_until_done(loop, task)
        elif not task.cancelled():
            # Its error left the loop itself (a KeyboardInterrupt or SystemExit raised in
            # the coroutine: Ctrl+C): retrieved here, or asyncio logs it as never retrieved.
            task.exception()
        # The task holds the error, whose traceback holds this frame, which held the task:
        # a cycle per error of a coroutine, left for the cyclic collector.
        del task
        raise


def _stop_when_done(task: asyncio.Task[Any]) -> None:
    """Stop the task's loop once the task is done (``run_until_complete``'s callback)."""
    # SystemExit and KeyboardInterrupt leave ``run_forever`` by themselves: a stop
    # now would end the loop's next run before it starts.
    if task.cancelled() or not isinstance(task.exception(), SystemExit | KeyboardInterrupt):
        task.get_loop().stop()


def _run_until_done(loop: asyncio.AbstractEventLoop, task: asyncio.Task[Any]) -> None:
    """Run ``loop`` until ``task`` is done (``run_until_complete``) without raising its error.

    ``run_until_complete`` raises the task's error from its own frame, which
    holds the task: the error's traceback then holds the task that holds the
    error, a cycle per failing step (an ``async def`` view's error, the
    ``StopAsyncIteration`` ending a streamed body under WSGI) left for the
    cyclic collector. The caller raises it from ``task.result()``.
    """
    task.add_done_callback(_stop_when_done)
    try:
        loop.run_forever()
    finally:
        task.remove_done_callback(_stop_when_done)
    if not task.done():
        raise RuntimeError("Event loop stopped before Future completed.")


def drive(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine that never suspends, without any event loop.

    The request pipeline is one coroutine. When every user function is sync
    (or async ones are resolved by ``run_coroutine``), it finishes on the
    first ``send``: this costs a function call, not an event loop.
    """
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value
    coro.close()
    raise RuntimeError("The request pipeline suspended outside an event loop.")

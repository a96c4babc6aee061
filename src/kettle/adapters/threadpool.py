"""The bounded pool that runs sync views (and other blocking steps) under ASGI.

Theory of operation: ``submit`` puts ``(future, context, func)`` on one
``SimpleQueue``; worker threads, started on demand up to ``max_workers``,
take jobs, run ``func`` inside the copied context and hand the outcome back
to the loop with one ``call_soon_threadsafe``. That is the whole hop: no
``concurrent.futures`` future, no chained callbacks, no per-job lock, which
makes it about a third cheaper than ``loop.run_in_executor``.

A ``PoolShare`` caps how many threads one kind of job may hold at once: a
sync view that streams its request body holds its thread for as long as the
client takes to send it, so slow clients could otherwise take every thread.
Jobs past the share wait as futures on their event loop, holding no thread,
and the rest of the pool keeps serving everything else.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections import deque
from collections.abc import Callable
from queue import SimpleQueue
from typing import Any

_Job = tuple[asyncio.Future[Any], contextvars.Context, Callable[[], Any]] | None


def _deliver(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    """Set the outcome on the loop's thread (a cancelled waiter is left alone)."""
    if future.cancelled():
        return
    if error is None:
        future.set_result(result)
    else:
        future.set_exception(error)


def _run(
    future: asyncio.Future[Any], context: contextvars.Context, func: Callable[[], Any]
) -> None:
    result: Any = None
    error: BaseException | None = None
    try:
        result = context.run(func)
    except BaseException as e:  # Handed to the awaiting task, which re-raises it.
        error = e
    try:
        future.get_loop().call_soon_threadsafe(_deliver, future, result, error)
    except RuntimeError:
        pass  # The loop is closed: nobody is waiting any more.


class WorkerPool:
    """Run blocking callables in at most ``max_workers`` threads, awaited from a loop."""

    def __init__(self, max_workers: int, name: str = "kettle") -> None:
        if max_workers < 1:
            raise ValueError("max_workers must be at least 1.")
        self.max_workers = max_workers
        self.name = name
        self._jobs: SimpleQueue[_Job] = SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._idle = 0
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, func: Callable[[], Any]) -> asyncio.Future[Any]:
        """Run ``func`` in a worker, in a copy of the current context; return an awaitable."""
        if self._closed:
            raise RuntimeError("The worker pool is shut down.")
        future = asyncio.get_running_loop().create_future()
        self._jobs.put((future, contextvars.copy_context(), func))
        # Each job reserves an idle worker, or starts one while under the bound:
        # two jobs never count on the same idle thread (a job that blocks on
        # another one, as long polling does, must not wait behind it).
        with self._lock:
            if self._idle > 0:
                self._idle -= 1
                return future
            if len(self._threads) >= self.max_workers:
                return future
            thread = threading.Thread(
                target=self._work, name=f"{self.name}_{len(self._threads)}", daemon=True
            )
            self._threads.append(thread)
        thread.start()
        return future

    def _work(self) -> None:
        jobs = self._jobs
        while True:
            job = jobs.get()
            if job is None:
                return
            future, context, func = job
            del job
            if not future.cancelled():  # A waiter that gave up needs no work done.
                _run(future, context, func)
            del future, context, func
            with self._lock:
                self._idle += 1

    def shutdown(self) -> None:
        """Stop the workers once the queued jobs are done (does not wait for them)."""
        self._closed = True
        for _ in self._threads:
            self._jobs.put(None)
        self._threads = []


class PoolShare:
    """Let at most ``limit`` jobs of one kind run in a pool at once; the others wait.

    Waiting happens on the caller's event loop (no thread is held), first
    come first served. A slot is freed when the job's thread is done with
    it, even when the awaiting task was cancelled meanwhile.
    """

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("A pool share needs at least 1 thread.")
        self.limit = limit
        self._running = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._lock = threading.Lock()

    async def run(self, pool: WorkerPool, func: Callable[[], Any]) -> Any:
        """Run ``func`` in ``pool`` once a slot of the share is free."""
        await self._acquire()

        def job() -> Any:
            try:
                return func()
            finally:
                self._release()

        try:
            future = pool.submit(job)
        except BaseException:
            self._release()
            raise
        # Shielded: a cancelled request still lets the job run, so it frees its slot.
        return await asyncio.shield(future)

    async def _acquire(self) -> None:
        with self._lock:
            if self._running < self.limit:
                self._running += 1
                return
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            with self._lock:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
                    raise
            if not waiter.cancelled():
                self._release()  # The slot arrived together with the cancellation.
            raise

    def _release(self) -> None:
        """Hand the slot to the next waiter (on its loop), or give it back."""
        with self._lock:
            if not self._waiters:
                self._running -= 1
                return
            waiter = self._waiters.popleft()
        try:
            waiter.get_loop().call_soon_threadsafe(self._wake, waiter)
        except RuntimeError:
            self._release()  # Its loop is closed: nobody waits there any more.

    def _wake(self, waiter: asyncio.Future[None]) -> None:
        if waiter.cancelled():
            self._release()  # It gave up after the slot was handed over: pass it on.
        else:
            waiter.set_result(None)

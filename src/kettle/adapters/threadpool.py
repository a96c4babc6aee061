"""The bounded pool that runs sync views (and other blocking steps) under ASGI.

Theory of operation: each worker thread sleeps on a lock of its own. ``submit``
hands ``(future, context, func)`` to the most recently idle worker and
releases its lock, which wakes that one thread and no other; with no worker
idle it starts one while under ``max_workers``, else it queues the job in a
backlog that busy workers drain before they go idle. A worker runs ``func``
inside the copied context, marks itself idle, then hands the outcome back to
the loop with one ``call_soon_threadsafe`` as the last thing it does before it
sleeps, so the loop thread finds the GIL free when it wakes. That is the
whole hop: two thread wake-ups (the worker's, the loop's) and nothing else;
no ``concurrent.futures`` future, no chained callbacks, no shared queue
whose waiters wake one another (a fifth fewer context switches and futex
calls per hop than a ``SimpleQueue`` shared by the workers; about half the
CPU of ``loop.run_in_executor``'s hop).

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
from typing import Any

_Job = tuple[asyncio.Future[Any], contextvars.Context, Callable[[], Any]]


def _deliver(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    """Set the outcome on the loop's thread (a cancelled waiter is left alone)."""
    if future.cancelled():
        return
    if error is None:
        future.set_result(result)
    else:
        future.set_exception(error)


class _Worker:
    """One thread's hand-over slot: the job it is given and the lock it sleeps on."""

    __slots__ = ("job", "wake")

    def __init__(self) -> None:
        self.job: _Job | None = None
        self.wake = threading.Lock()
        self.wake.acquire()  # Held: the worker sleeps in ``acquire`` until a job comes.


class WorkerPool:
    """Run blocking callables in at most ``max_workers`` threads, awaited from a loop."""

    def __init__(self, max_workers: int, name: str = "kettle") -> None:
        if max_workers < 1:
            raise ValueError("max_workers must be at least 1.")
        self.max_workers = max_workers
        self.name = name
        self._idle: list[_Worker] = []  # A stack: the warmest thread is woken first.
        self._backlog: deque[_Job] = deque()  # Jobs past the bound, oldest first.
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, func: Callable[[], Any]) -> asyncio.Future[Any]:
        """Run ``func`` in a worker, in a copy of the current context; return an awaitable."""
        if self._closed:
            raise RuntimeError("The worker pool is shut down.")
        future = asyncio.get_running_loop().create_future()
        job = (future, contextvars.copy_context(), func)
        # Each job takes an idle worker of its own, or starts one while under the
        # bound: two jobs never count on the same idle thread (a job that blocks on
        # another one, as long polling does, must not wait behind it).
        with self._lock:
            if self._idle:
                worker = self._idle.pop()
                worker.job = job
            elif len(self._threads) >= self.max_workers:
                self._backlog.append(job)
                return future
            else:
                worker = None
                thread = threading.Thread(
                    target=self._work,
                    args=(job,),
                    name=f"{self.name}_{len(self._threads)}",
                    daemon=True,
                )
                self._threads.append(thread)
        if worker is not None:
            worker.wake.release()
        else:
            thread.start()
        return future

    def _work(self, job: _Job | None) -> None:
        worker = _Worker()
        lock, idle, backlog = self._lock, self._idle, self._backlog
        while job is not None:
            future, context, func = job
            asleep = False
            result: Any = None
            error: BaseException | None = None
            ran = not future.cancelled()  # A waiter that gave up needs no work done.
            if ran:
                try:
                    result = context.run(func)
                except BaseException as e:  # Handed to the awaiting task, which re-raises it.
                    error = e
            with lock:
                if backlog:
                    job = backlog.popleft()
                elif self._closed:
                    job = None
                else:
                    job = None
                    asleep = True  # Woken by ``submit`` (a job) or ``shutdown`` (None).
                    idle.append(worker)  # Before the hand-back: the loop may submit at once.
            if ran:
                try:
                    future.get_loop().call_soon_threadsafe(_deliver, future, result, error)
                except RuntimeError:
                    pass  # The loop is closed: nobody is waiting any more.
            del future, context, func, result, error
            if asleep:
                worker.wake.acquire()
                job, worker.job = worker.job, None

    def shutdown(self) -> None:
        """Stop the workers once the queued jobs are done (does not wait for them)."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
            self._threads = []
        for worker in idle:
            worker.job = None
            worker.wake.release()


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

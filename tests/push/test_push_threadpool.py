"""The ASGI worker pool: sync views under ASGI, bounded by ASGI_THREADS."""

from __future__ import annotations

import asyncio
import contextvars
import threading

import pytest

from kettle import Kettle
from kettle.adapters.threadpool import WorkerPool
from kettle.testing import KettleClient

_where: contextvars.ContextVar[str] = contextvars.ContextVar("where", default="unset")


def test_results_errors_and_context_cross_the_hop() -> None:
    async def main() -> None:
        pool = WorkerPool(2)
        _where.set("caller")
        assert await pool.submit(lambda: (_where.get(), threading.current_thread().name)) == (
            "caller",
            "kettle_0",
        )

        def fail() -> None:
            raise LookupError("from the worker")

        with pytest.raises(LookupError, match="from the worker"):
            await pool.submit(fail)

        def change() -> str:
            _where.set("worker")  # In the copy: the caller's value is kept.
            return _where.get()

        assert await pool.submit(change) == "worker"
        assert _where.get() == "caller"
        pool.shutdown()
        with pytest.raises(RuntimeError, match="shut down"):
            pool.submit(lambda: None)

    asyncio.run(main())


def test_a_blocked_job_never_holds_up_the_next_one() -> None:
    # Two jobs submitted at once while one worker is idle: the second must get
    # a thread of its own, since the first waits for it (as long polling does).
    async def main() -> None:
        pool = WorkerPool(4)
        await pool.submit(lambda: None)  # One idle worker now.
        released = threading.Event()
        waiting = pool.submit(lambda: released.wait(5))
        releasing = pool.submit(released.set)
        assert await asyncio.wait_for(asyncio.gather(waiting, releasing), 5) == [True, None]
        pool.shutdown()

    asyncio.run(main())


def test_the_pool_is_bounded_and_queues_past_the_bound() -> None:
    async def main() -> None:
        pool = WorkerPool(2)
        names: set[str] = set()
        gate = threading.Barrier(2, timeout=5)

        def job() -> None:
            names.add(threading.current_thread().name)
            gate.wait()

        await asyncio.wait_for(asyncio.gather(*(pool.submit(job) for _ in range(6))), 10)
        assert names == {"kettle_0", "kettle_1"}
        pool.shutdown()

    asyncio.run(main())


def test_jobs_one_after_another_keep_one_warm_thread() -> None:
    # A worker is idle again before its outcome reaches the loop, so the next
    # job wakes that same thread instead of starting another one.
    async def main() -> None:
        pool = WorkerPool(8)
        names = [await pool.submit(lambda: threading.current_thread().name) for _ in range(50)]
        assert set(names) == {"kettle_0"}
        pool.shutdown()

    asyncio.run(main())


def test_shutdown_finishes_the_queued_jobs() -> None:
    async def main() -> None:
        pool = WorkerPool(1)
        release = threading.Event()
        first = pool.submit(lambda: release.wait(5))
        queued = [pool.submit(lambda i=i: i) for i in range(3)]  # Past the bound: backlog.
        pool.shutdown()
        release.set()
        assert await asyncio.wait_for(asyncio.gather(first, *queued), 5) == [True, 0, 1, 2]
        with pytest.raises(RuntimeError, match="shut down"):
            pool.submit(lambda: None)

    asyncio.run(main())


def test_a_cancelled_waiter_is_left_alone() -> None:
    async def main() -> None:
        pool = WorkerPool(1)
        started, release = threading.Event(), threading.Event()

        def slow() -> str:
            started.set()
            release.wait(5)
            return "late"

        first = pool.submit(slow)
        skipped: list[str] = []
        second = pool.submit(lambda: skipped.append("ran"))
        await asyncio.get_running_loop().run_in_executor(None, started.wait, 5)
        second.cancel()
        first.cancel()  # The running job finishes; its outcome is dropped quietly.
        release.set()
        assert await pool.submit(lambda: "next") == "next"
        assert skipped == []
        pool.shutdown()

    asyncio.run(main())


def test_asgi_sync_views_use_the_bounded_pool(app: Kettle) -> None:
    app.config["ASGI_THREADS"] = 3
    seen: set[str] = set()

    @app.route("/sync")
    def sync_view() -> str:
        seen.add(threading.current_thread().name)
        return "ok"

    client: KettleClient = app.test_client(protocol="asgi")
    for _ in range(5):
        assert client.get("/sync").text == "ok"
    assert seen and seen <= {"kettle_0", "kettle_1", "kettle_2"}


def test_workers_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        WorkerPool(0)

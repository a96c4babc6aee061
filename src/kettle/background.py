"""Background tasks: work that runs after the response has been sent.

``app.add_background_task(fn, *args, **kwargs)`` records the call on the
current request context; the adapter runs the calls once the last body
byte is out (ASGI: after the final ``http.response.body`` message; WSGI: in
the body iterable's ``close()``), inside an application context. A failing
task is logged, never sent to the client (it already has its answer).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kettle import _loops
from kettle.ctx import _cv

if TYPE_CHECKING:
    from kettle.app import Kettle

Task = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]


def add_background_task(func: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Run ``func(*args, **kwargs)`` (sync or async) after the current response is sent."""
    if not callable(func):
        raise TypeError("add_background_task() needs a callable.")
    ctx = _cv.get(None)
    if ctx is None or ctx.request is None:
        raise RuntimeError("add_background_task() can only be used during a request.")
    tasks: list[Task] | None = getattr(ctx, "_background_tasks", None)
    if tasks is None:
        tasks = []
        ctx._background_tasks = tasks  # type: ignore[attr-defined]
    tasks.append((func, args, kwargs))


def run_background_tasks_sync(app: Kettle, tasks: list[Task]) -> None:
    """Run the tasks in this thread (WSGI); async ones on this thread's kept loop."""
    with app.app_context():
        for func, args, kwargs in tasks:
            try:
                rv = func(*args, **kwargs)
                if inspect.iscoroutine(rv):
                    _loops.run_coroutine(rv)
            except Exception:
                app.logger.exception("Background task %r failed", func)


async def run_background_tasks(app: Kettle, tasks: list[Task], offload: Callable[..., Any]) -> None:
    """Run the tasks on the loop (ASGI); sync ones in the adapter's thread pool."""
    with app.app_context():
        for func, args, kwargs in tasks:
            try:
                if inspect.iscoroutinefunction(func):
                    await func(*args, **kwargs)
                else:

                    def call(
                        func: Callable[..., Any] = func, args: Any = args, kwargs: Any = kwargs
                    ) -> Any:
                        return func(*args, **kwargs)

                    rv = await offload(call)
                    if inspect.iscoroutine(rv):
                        await rv
            except Exception:
                app.logger.exception("Background task %r failed", func)

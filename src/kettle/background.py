"""Background tasks: work that runs after the response has been sent.

``app.add_background_task(fn, *args, **kwargs)`` records the call on the
current request context (``RequestContext.background_tasks``); the pipeline
runs the calls once the last body byte is out (ASGI: after the final
``http.response.body`` message; WSGI: in the body iterable's ``close()``),
inside an application context, through the runner (``kettle.runner``). A
failing task is logged, never sent to the client (it already has its answer).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kettle.ctx import RequestContext, _cv_get


def add_background_task(func: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Run ``func(*args, **kwargs)`` (sync or async) after the current response is sent."""
    if not callable(func):
        raise TypeError("add_background_task() needs a callable.")
    ctx = _cv_get(None)
    if not isinstance(ctx, RequestContext):
        raise RuntimeError("add_background_task() can only be used during a request.")
    if ctx.background_tasks is None:
        ctx.background_tasks = []
    ctx.background_tasks.append((func, args, kwargs))

"""The one place that calls user code, sync or async, on the loop or off it.

Theory of operation: views, hooks, error handlers, signal receivers,
background tasks, lifespan handlers and SSE sources may each be ``def`` or
``async def``. Whether a function is async (``is_async_callable``) and
whether a value it returned must be awaited (``is_awaitable``) is decided
here and nowhere else. What happens to an awaitable depends on where the
caller runs, which a ``Runner`` says; each request context holds one:

- ``ON_LOOP``: the code runs on the server's event loop (ASGI, an async
  view, a WebSocket, lifespan): an awaitable is awaited.
- ``IN_THREAD``: the code runs in a thread without a running loop (WSGI):
  an awaitable runs on the thread's kept loop (``kettle._loops``), so the
  pipeline coroutine never suspends and is driven without a loop.
- ``Runner(loop)``: a sync view in the ASGI worker pool: an awaitable is
  handed back to the server's ``loop`` and waited for.

A runner may also carry the worker pool (``offload``), so sync work started
from the loop (a background task) runs in a thread instead of blocking it.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Callable, Coroutine
from types import CoroutineType, NoneType
from typing import TYPE_CHECKING, Any, cast

from kettle import _loops

if TYPE_CHECKING:
    from kettle.app import Kettle
    from kettle.routing import Rule

#: Classes whose instances are never awaitable: the common return values. A hot
#: path may test ``value.__class__ in NEVER_AWAITABLE`` before calling ``is_awaitable``.
NEVER_AWAITABLE = frozenset({str, bytes, dict, list, tuple, NoneType, bool, int})

#: The class of an ``async def`` function's result, always awaited: a hot path may
#: test ``value.__class__ is COROUTINE`` before calling ``is_awaitable``.
COROUTINE = CoroutineType

Offload = Callable[[Callable[[], Any]], Any]


def is_awaitable(value: Any) -> bool:
    """Return True when ``value`` (returned by user code) must be awaited."""
    cls = value.__class__
    if cls is CoroutineType:
        return True
    return cls not in NEVER_AWAITABLE and hasattr(cls, "__await__")


def is_async_callable(func: Any) -> bool:
    """Return True for an ``async def`` function (through partials) or one marked ``is_async``."""
    while isinstance(func, functools.partial):
        func = func.func
    if inspect.iscoroutinefunction(func):
        return True
    if getattr(func, "is_async", False):
        return True
    call = getattr(func, "__call__", None)  # noqa: B004 - an instance with async __call__
    return call is not None and not inspect.isfunction(func) and inspect.iscoroutinefunction(call)


def view_runs_on_loop(app: Kettle, rule: Rule | None) -> bool:
    """Return True when a request's pipeline runs on the loop under ASGI, not in the pool.

    It does for an ``async def`` view, and for a ``def`` view marked as
    never blocking, by its route (``inline=True``) or by the app
    (ASGI_INLINE_SYNC_VIEWS, unless the route says ``inline=False``). A
    routing error (no rule: a 404, 405 or redirect) asked about here is one
    that user code observes (a hook, an error handler, a receiver: an
    unobserved one is answered before, on the loop, with no user code): its
    sync code may block, so it runs in the pool as a ``def`` view's does,
    unless the app asked for sync code on the loop (ASGI_INLINE_SYNC_VIEWS).
    """
    if rule is None:
        return bool(app.config["ASGI_INLINE_SYNC_VIEWS"])
    endpoint = rule.endpoint
    known = app._async_views.get(endpoint)
    if known is None:
        view = app.view_functions.get(endpoint)
        known = view is not None and is_async_callable(view)
        app._async_views[endpoint] = known
    if known:
        return True
    inline = rule.inline
    if inline is None:  # (A streamed body is read from the loop: such a view never runs on it.)
        return bool(app.config["ASGI_INLINE_SYNC_VIEWS"]) and not rule.stream_body
    return inline


class Runner:
    """How one context resolves what user code returns (see the module docstring)."""

    __slots__ = ("loop", "offload", "on_loop")

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop | None = None,
        *,
        on_loop: bool = False,
        offload: Offload | None = None,
    ) -> None:
        #: The loop to hand awaitables to from a worker thread (None: this thread's kept loop).
        self.loop = loop
        #: True when the caller runs on the event loop and may ``await``.
        self.on_loop = on_loop
        #: Run a sync function in the worker pool (``await runner.offload(f)``), if any.
        self.offload = offload

    def __repr__(self) -> str:
        where = "on_loop" if self.on_loop else "worker" if self.loop is not None else "in_thread"
        return f"<Runner {where}>"

    async def wait(self, awaitable: Any) -> Any:
        """Resolve an awaitable returned by user code: await it on the loop, else run it."""
        if self.on_loop:
            return await awaitable
        return self.run(awaitable)

    async def call(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call ``func`` as its kind asks and return its result, awaited if need be.

        On the loop with a worker pool, a sync ``func`` runs in the pool (it
        may block); otherwise it is called here.
        """
        if self.on_loop and self.offload is not None and not is_async_callable(func):
            rv = await self.offload(functools.partial(func, *args, **kwargs))
        else:
            rv = func(*args, **kwargs)
        if is_awaitable(rv):
            # For as long as an async view waits (an idle WebSocket handler), hold
            # neither the arguments (the callee has them) nor a ``wait`` frame.
            del args, kwargs
            rv = await rv if self.on_loop else await self.wait(rv)
        return rv

    def in_thread(self, func: Callable[[], Any]) -> asyncio.Future[Any]:
        """Start sync ``func`` (a sync SSE source's next step) off the running loop.

        It may block: it runs in the runner's worker pool when it has one,
        else in the loop's default executor. Returns its future, which the
        caller may stop waiting for while ``func`` still runs.
        """
        if self.offload is not None:
            return cast("asyncio.Future[Any]", self.offload(func))
        return asyncio.get_running_loop().run_in_executor(None, func)

    def run(self, awaitable: Any) -> Any:
        """Run ``awaitable`` to the end from sync code and return its result."""
        # A coroutine (or an async generator's step) runs as it is; another awaitable
        # (a Future, an object with __await__) inside a coroutine that awaits it.
        coro = awaitable
        if coro.__class__ is not CoroutineType and not isinstance(coro, Coroutine):
            coro = _await(awaitable)
        if self.loop is None:
            # Sync code on the running loop (``on_loop``) cannot run a loop of its own here.
            return _loops.run_beside(coro) if self.on_loop else _loops.run_coroutine(coro)
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def call_sync(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call ``func`` from sync code; an awaitable it returns is run to the end."""
        rv = func(*args, **kwargs)
        if is_awaitable(rv):
            rv = self.run(rv)
        return rv


async def _await(awaitable: Any) -> Any:
    return await awaitable


#: The runner of code on the event loop.
ON_LOOP = Runner(on_loop=True)
#: The runner of code in a thread without a running loop (WSGI, the CLI, tests).
IN_THREAD = Runner()


def current() -> Runner:
    """Return the runner of the current context (``IN_THREAD`` outside any request)."""
    from kettle.ctx import _cv_get

    ctx = _cv_get(None)
    return IN_THREAD if ctx is None else ctx.runner


def run_sync(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run ``coro`` to the end from sync code, the way the current context runs user code."""
    return current().run(coro)


def to_sync(func: Callable[..., Any]) -> Callable[..., Any]:
    """Return ``func``, or for an async function a sync wrapper that runs it to the end."""
    if not is_async_callable(func):
        return func

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return current().call_sync(func, *args, **kwargs)

    return functools.update_wrapper(wrapper, func)

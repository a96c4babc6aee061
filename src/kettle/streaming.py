"""``stream_with_context``: keep ``request`` and ``session`` usable inside a streamed body.

The pipeline pops the request context when the view returns, before the
body is sent. A generator wrapped here makes the same context current again
around each step, in whichever thread or task runs that step (the ASGI
adapter runs sync steps in its pool), and restores what was there before.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from typing import Any

from kettle.ctx import RequestContext, _cv, _cv_get


def _current() -> RequestContext:
    ctx = _cv_get(None)
    if not isinstance(ctx, RequestContext):
        raise RuntimeError(
            "'stream_with_context' can only be used when a request context is active, such as"
            " in a view function."
        )
    ctx.streaming = True  # The teardown leaves the request (its files, its body) open.
    return ctx


def _close_files(ctx: Any) -> None:
    """Close the request (uploaded files, a spooled body) once the streamed body is done."""
    if isinstance(ctx, RequestContext) and ctx.streaming:
        ctx.request.close()


@contextmanager
def _inside(ctx: Any) -> Iterator[None]:
    """Make ``ctx`` current for one step of the generator, then restore.

    Restores by value, not with a token: a step of an async generator may
    finish in another task than the one it started in (an event stream
    under WSGI resumes a waiting step on the next request-thread call).
    """
    var: Any = _cv
    previous = var.get(None)
    var.set(ctx)
    try:
        yield
    finally:
        var.set(previous)


def _sync(ctx: Any, iterator: Iterator[Any]) -> Iterator[Any]:
    try:
        while True:
            with _inside(ctx):
                try:
                    item = next(iterator)
                except StopIteration:
                    return
            yield item
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            with _inside(ctx):
                close()
        _close_files(ctx)


async def _async(ctx: Any, iterator: AsyncIterator[Any]) -> AsyncIterator[Any]:
    try:
        while True:
            with _inside(ctx):
                try:
                    item = await iterator.__anext__()
                except StopAsyncIteration:
                    return
            yield item
    finally:
        aclose = getattr(iterator, "aclose", None)
        if aclose is not None:
            with _inside(ctx):
                await aclose()
        _close_files(ctx)


def stream_with_context(generator_or_function: Any) -> Any:
    """Run a (sync or async) generator with the current request context pushed.

    Use it on a generator object, or as a decorator on a generator function.
    """
    if (
        callable(generator_or_function)
        and not hasattr(generator_or_function, "__next__")
        and not hasattr(generator_or_function, "__anext__")
    ):
        func: Callable[..., Any] = generator_or_function

        @functools.wraps(func)
        def decorated(*args: Any, **kwargs: Any) -> Any:
            return stream_with_context(func(*args, **kwargs))

        return decorated
    ctx = _current()
    if hasattr(generator_or_function, "__aiter__"):
        return _async(ctx, generator_or_function.__aiter__())
    return _sync(ctx, iter(generator_or_function))

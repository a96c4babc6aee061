"""What requests leave for the cyclic garbage collector: the tests' counters.

Each counter serves once (what is made once is made), then, with the collector
off, ``count`` times more, and returns the set of answers and what
``gc.collect()`` then finds: 0 when every object went by reference counting.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Awaitable, Callable
from typing import Any


def wsgi_call(app: Any, environ: dict[str, Any]) -> tuple[str, bytes]:
    """Call a WSGI ``app`` as a server does: its status line and whole body (closed after)."""
    statuses: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        statuses.append(status)

    body = app(environ, start_response)
    try:
        data = b"".join(body)
    finally:
        getattr(body, "close", lambda: None)()
    return statuses[0], data


def wsgi_garbage(serve: Callable[[], Any], count: int = 10) -> tuple[set[Any], int]:
    """The answers of ``count`` calls of ``serve`` (and a first one), and the garbage left."""
    first = serve()
    gc.collect()
    gc.disable()
    try:
        answers = {serve() for _ in range(count)}
        return answers | {first}, gc.collect()
    finally:
        gc.enable()


def asgi_garbage(serve: Callable[[], Awaitable[Any]], count: int = 10) -> tuple[set[Any], int]:
    """``wsgi_garbage`` for a coroutine function ``serve``, run on a new event loop."""

    async def serve_many() -> tuple[set[Any], int]:
        first = await serve()
        await asyncio.sleep(0)  # What the loop ends after a request, ended.
        gc.collect()
        gc.disable()
        try:
            answers = {await serve() for _ in range(count)}
            await asyncio.sleep(0)
            return answers | {first}, gc.collect()
        finally:
            gc.enable()

    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(serve_many())
    finally:
        loop.close()

"""One runner for user code: the kinds of callables and return values it recognises.

``kettle.runner`` decides for every view, hook, handler, signal receiver,
background task and lifespan handler whether it is async and whether what
it returned must be awaited; these tests show the cases beyond a plain
``async def`` under both adapters.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable, Generator
from typing import Any

from kettle import Kettle, request
from kettle.testing import KettleClient


class _Answer:
    """An awaitable that is not a coroutine (as an ``asyncio.Future`` or a Task is not)."""

    def __init__(self, value: str) -> None:
        self.value = value

    def __await__(self) -> Generator[Any, None, str]:
        yield from asyncio.sleep(0).__await__()
        return self.value


def test_view_and_hook_returning_an_awaitable_object(
    app: Kettle, make_client: Callable[..., KettleClient]
) -> None:
    @app.after_request
    def after(response: Any) -> Any:
        async def add() -> Any:
            response.headers["X-Hook"] = "awaited"
            return response

        return add()

    @app.route("/")
    def index() -> Any:
        return _Answer(f"awaited for {request.path}")

    response = make_client(app).get("/")
    assert response.status_code == 200
    assert response.text == "awaited for /"
    assert response.headers["X-Hook"] == "awaited"


def test_async_partial_view_runs_on_the_loop_under_asgi(app: Kettle) -> None:
    threads: list[int] = []

    async def greet(greeting: str, name: str) -> str:
        threads.append(threading.get_ident())
        await asyncio.sleep(0)
        return f"{greeting}, {name}"

    app.add_url_rule("/hi/<name>", "hi", functools.partial(greet, "hello"))
    client = app.test_client(protocol="asgi")
    assert client.get("/hi/ann").text == "hello, ann"
    # The test client drives the ASGI app on this thread's loop: no hop to the pool.
    assert threads == [threading.get_ident()]


def test_async_partial_view_under_wsgi(app: Kettle) -> None:
    async def greet(greeting: str, name: str) -> str:
        await asyncio.sleep(0)
        return f"{greeting}, {name}"

    app.add_url_rule("/hi/<name>", "hi", functools.partial(greet, "hello"))
    assert app.test_client(protocol="wsgi").get("/hi/bob").text == "hello, bob"


def test_callable_object_with_async_call_as_background_task(
    app: Kettle, make_client: Callable[..., KettleClient]
) -> None:
    done: list[str] = []

    class Notify:
        async def __call__(self, who: str) -> None:
            await asyncio.sleep(0)
            done.append(who)

    @app.route("/")
    def index() -> str:
        app.add_background_task(Notify(), "object")
        app.add_background_task(functools.partial(Notify(), "partial"))
        return "ok"

    assert make_client(app).get("/").text == "ok"
    assert done == ["object", "partial"]


def test_async_signal_receiver_from_a_sync_view_under_asgi(app: Kettle) -> None:
    from kettle.signals import request_finished

    seen: list[str] = []

    async def receiver(sender: Kettle, response: Any, **extra: Any) -> None:
        await asyncio.sleep(0)
        seen.append(response.status)

    @app.route("/")
    def index() -> str:
        return "ok"

    with request_finished.connected_to(receiver, app):
        assert app.test_client(protocol="asgi").get("/").text == "ok"
    assert seen == ["200 OK"]

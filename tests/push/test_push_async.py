"""Async views, hooks, handlers and teardown under both adapters; thread and loop use."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from kettle import Kettle, g, request
from kettle.testing import KettleClient


def test_async_everything(app: Kettle, client: KettleClient) -> None:
    seen: list[str] = []

    @app.before_request
    async def before() -> None:
        await asyncio.sleep(0)
        g.who = "async-hook"

    @app.after_request
    async def after(response: Any) -> Any:
        response.headers["X-After"] = "yes"
        return response

    @app.teardown_request
    async def teardown(exc: BaseException | None) -> None:
        seen.append(f"teardown:{request.path}")

    @app.errorhandler(ValueError)
    async def handle(e: ValueError) -> tuple[str, int]:
        return f"handled {e}", 418

    @app.route("/")
    async def index() -> str:
        await asyncio.sleep(0)
        return f"hello from {g.who}"

    @app.route("/boom")
    async def boom() -> str:
        raise ValueError("bad")

    response = client.get("/")
    assert response.status_code == 200
    assert response.text == "hello from async-hook"
    assert response.headers["X-After"] == "yes"
    response = client.get("/boom")
    assert (response.status_code, response.text) == (418, "handled bad")
    assert seen == ["teardown:/", "teardown:/boom"]


def test_asgi_async_view_runs_on_loop_sync_view_hops_once(app: Kettle) -> None:
    idents: dict[str, set[int]] = {"async": set(), "sync": set(), "sync_hook": set()}
    app.config["ASGI_THREADS"] = 2

    @app.before_request
    def hook() -> None:
        if request.path == "/sync":
            idents["sync_hook"].add(threading.get_ident())

    @app.route("/async")
    async def async_view() -> str:
        idents["async"].add(threading.get_ident())
        return "a"

    @app.route("/sync")
    def sync_view() -> str:
        idents["sync"].add(threading.get_ident())
        return "s"

    client = app.test_client(protocol="asgi")
    for _ in range(3):
        assert client.get("/async").text == "a"
        assert client.get("/sync").text == "s"
    assert idents["async"] == {threading.get_ident()}
    assert threading.get_ident() not in idents["sync"]
    assert idents["sync_hook"] == idents["sync"]  # The hook ran in the same hop as the view.
    assert len(idents["sync"]) <= 2


@pytest.mark.parametrize("inline", [False, True])
def test_asgi_observed_routing_error_runs_sync_code_in_the_pool(app: Kettle, inline: bool) -> None:
    """A 404 or 405 whose sync hook or handler may block is not answered on the loop.

    Unless the app asks for sync code on the loop (ASGI_INLINE_SYNC_VIEWS);
    an async handler still runs on the loop.
    """
    app.config["ASGI_INLINE_SYNC_VIEWS"] = inline
    idents: dict[str, set[int]] = {"hook": set(), "handler": set(), "async_handler": set()}

    @app.before_request
    def hook() -> None:
        idents["hook"].add(threading.get_ident())

    @app.errorhandler(404)
    def not_found(error: Exception) -> tuple[str, int]:
        idents["handler"].add(threading.get_ident())
        return "nothing here", 404

    @app.errorhandler(405)
    async def not_allowed(error: Exception) -> tuple[str, int]:
        idents["async_handler"].add(threading.get_ident())
        return "not that way", 405

    @app.post("/only-post")
    def only_post() -> str:
        return "posted"

    client = app.test_client(protocol="asgi")
    for _ in range(2):
        missing = client.get("/missing")
        assert (missing.status_code, missing.text) == (404, "nothing here")
        refused = client.get("/only-post")
        assert (refused.status_code, refused.text) == (405, "not that way")
    loop_thread = threading.get_ident()
    if inline:
        assert idents["hook"] == idents["handler"] == {loop_thread}
    else:
        assert loop_thread not in idents["hook"] | idents["handler"]
    assert idents["async_handler"] == {loop_thread}


def test_wsgi_async_view_reuses_the_thread_loop(app: Kettle) -> None:
    loops: list[asyncio.AbstractEventLoop] = []

    @app.route("/")
    async def index() -> str:
        loops.append(asyncio.get_running_loop())
        return "ok"

    client = app.test_client()
    results: list[list[asyncio.AbstractEventLoop]] = []

    def worker() -> None:
        start = len(loops)
        client_local = app.test_client()
        client_local.get("/")
        client_local.get("/")
        results.append(loops[start:])

    assert client.get("/").text == "ok"
    assert client.get("/").text == "ok"
    assert loops[0] is loops[1]
    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    other = results[0]
    assert other[0] is other[1]
    assert other[0] is not loops[0]


def test_async_view_with_uvicorn_style_lifespan(app: Kettle) -> None:
    events: list[str] = []

    @app.before_serving
    async def start() -> None:
        events.append("start")

    @app.after_serving
    def stop() -> None:
        events.append("stop")

    inbound: list[dict[str, Any]] = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[str] = []

    async def receive() -> dict[str, Any]:
        return inbound.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message["type"])

    asyncio.run(app.asgi({"type": "lifespan"}, receive, send))
    assert events == ["start", "stop"]
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


def test_wsgi_before_serving_runs_once_per_process(app: Kettle) -> None:
    events: list[str] = []

    @app.before_serving
    def start() -> None:
        events.append("start")

    @app.route("/")
    def index() -> str:
        return "ok"

    client = app.test_client()
    client.get("/")
    client.get("/")
    assert events == ["start"]
    import atexit

    from kettle.adapters.wsgi import _shutdown

    stops: list[str] = []
    app.after_serving(lambda: stops.append("stop"))
    other = Kettle("other")
    other.after_serving(lambda: stops.append("other-stop"))
    other.test_client().get("/missing")
    _shutdown(other)  # What atexit runs at process exit.
    atexit.unregister(_shutdown)
    assert stops == ["other-stop"]


def test_background_task_runs_after_response(app: Kettle, client: KettleClient) -> None:
    done: list[Any] = []

    async def notify(value: str) -> None:
        done.append(("async", value))

    def record(value: str, *, extra: int) -> None:
        done.append(("sync", value, extra))

    @app.route("/")
    def index() -> Any:
        app.add_background_task(record, "a", extra=1)
        app.add_background_task(notify, "b")

        def body() -> Any:
            yield "x"
            done.append("body-finished")

        return body()

    response = client.get("/")
    assert response.text == "x"
    assert done == ["body-finished", ("sync", "a", 1), ("async", "b")]


def test_background_task_added_by_a_streamed_body_runs_after_it(
    app: Kettle, client: KettleClient
) -> None:
    """The stream adds the request's first task: it still runs, once the body is sent."""
    from kettle import stream_with_context

    done: list[str] = []

    @app.route("/stream")
    def stream() -> Any:
        def body() -> Any:
            yield "a"
            app.add_background_task(done.append, "task")
            yield "b"
            done.append("body-finished")

        return stream_with_context(body())

    response = client.get("/stream")
    assert response.text == "ab"
    assert done == ["body-finished", "task"]

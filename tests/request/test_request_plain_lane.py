"""What the plain lane (a matched request whose view is its first user code) must keep.

Under WSGI such a request runs the lifecycle as plain calls
(``pipeline.respond_sync``); every check the coroutine makes after the view
is made at the same point, so what the view or a later hook registers is
seen by this request, and an error goes through the same handlers. Each
test runs under WSGI and ASGI and expects the same answer.
"""

from __future__ import annotations

import asyncio
import gc
import io
from typing import Any

from kettle import Kettle, after_this_request
from kettle.signals import appcontext_pushed, request_started, request_tearing_down
from kettle.testing import KettleClient


def test_a_teardown_receiver_connected_by_the_view_runs_for_its_request(
    app: Kettle, client: KettleClient
) -> None:
    seen: list[Any] = []

    def receiver(sender: Any, exc: BaseException | None = None, **_: Any) -> None:
        seen.append(exc)

    @app.get("/")
    def index() -> str:
        request_tearing_down.connect(receiver, app)
        return "ok"

    try:
        response = client.get("/")
    finally:
        request_tearing_down.disconnect(receiver, app)
    assert response.status_code == 200
    assert response.text == "ok"
    assert seen == [None]


def test_after_this_request_in_the_view_changes_the_response(
    app: Kettle, client: KettleClient
) -> None:
    @app.get("/")
    def index() -> str:
        @after_this_request
        def add_header(response: Any) -> Any:
            response.headers["X-After"] = "yes"
            return response

        return "ok"

    response = client.get("/")
    assert response.headers["X-After"] == "yes"
    assert response.text == "ok"


def test_an_error_in_the_view_reaches_an_async_handler(app: Kettle, client: KettleClient) -> None:
    @app.errorhandler(LookupError)
    async def handle(error: LookupError) -> tuple[str, int]:
        await asyncio.sleep(0)
        return f"handled {error}", 418

    @app.get("/")
    def index() -> str:
        raise LookupError("missing")

    response = client.get("/")
    assert response.status_code == 418
    assert response.text == "handled missing"


def test_an_unhandled_error_is_a_500_through_its_handler(app: Kettle, client: KettleClient) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    torn_down: list[str] = []

    @app.errorhandler(500)
    def server_error(error: Any) -> tuple[str, int]:
        return f"sorry: {type(error.original_exception).__name__}", 500

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        torn_down.append(type(exc).__name__)

    @app.get("/")
    def index() -> str:
        raise RuntimeError("boom")

    response = client.get("/")
    assert response.status_code == 500
    assert response.text == "sorry: RuntimeError"
    assert torn_down == ["RuntimeError"]


def test_hooks_and_receivers_added_to_the_registries_later_run(
    app: Kettle, client: KettleClient
) -> None:
    calls: list[str] = []

    @app.get("/")
    def index() -> str:
        calls.append("view")
        return "ok"

    assert client.get("/").text == "ok"
    # Straight into the registries, as extensions do (the decorators refuse by now).
    app.before_request_funcs.setdefault(None, []).append(lambda: calls.append("before"))

    def started(sender: Any, **_: Any) -> None:
        calls.append("started")

    request_started.connect(started, app)
    try:
        assert client.get("/").text == "ok"
    finally:
        request_started.disconnect(started, app)
    assert calls == ["view", "started", "before", "view"]


def test_a_hook_registered_while_the_context_is_pushed_runs_for_that_request(
    app: Kettle, client: KettleClient
) -> None:
    calls: list[str] = []

    def pushed(sender: Any, **_: Any) -> None:
        if not app.before_request_funcs:
            app.before_request_funcs.setdefault(None, []).append(lambda: calls.append("before"))

    @app.get("/")
    def index() -> str:
        calls.append("view")
        return "ok"

    appcontext_pushed.connect(pushed, app)
    try:
        assert client.get("/").text == "ok"
    finally:
        appcontext_pushed.disconnect(pushed, app)
    assert calls == ["before", "view"]


def test_an_async_view_that_waits_is_answered(app: Kettle, client: KettleClient) -> None:
    @app.get("/")
    async def index() -> str:
        task = asyncio.current_task()
        async with asyncio.timeout(5):
            await asyncio.sleep(0.001)  # Suspends: the kept loop runs it to the end.
        return f"waited in a task: {task is not None}"

    @app.get("/quick")
    async def quick() -> str:
        return "quick"

    for _ in range(2):
        assert client.get("/").text == "waited in a task: True"
        assert client.get("/quick").text == "quick"


def test_a_404_leaves_no_garbage_for_the_collector(app: Kettle) -> None:
    # The routing error is kept without its traceback: with it, the matching frame
    # (holding the request) and the request (holding the error) made a cycle.
    @app.get("/users/<int:id>")
    def user(id: int) -> str:
        return str(id)

    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/users/x",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "HTTP_HOST": "localhost",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
    }
    statuses: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        statuses.append(status)

    def serve() -> bytes:
        body = app(dict(environ), start_response)
        try:
            return b"".join(body)
        finally:
            getattr(body, "close", lambda: None)()

    serve()  # The first request sets up what is made once.
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        pages = {serve() for _ in range(20)}
        garbage = gc.collect()
    finally:
        if was_enabled:
            gc.enable()
    assert statuses == ["404 NOT FOUND"] * 21
    assert len(pages) == 1 and b"Not Found" in pages.pop()
    assert garbage == 0

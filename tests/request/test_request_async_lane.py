"""What the lane of an ``async def`` view (the view first, awaited from the pipeline's frame) keeps.

Under ASGI ``pipeline.respond_async`` awaits such a view itself and carries
on with the steps ``respond_sync`` runs under WSGI (``view_returned``,
``view_raised``); under WSGI the same view runs on the thread's kept loop.
Each test runs under both protocols and expects the same answer: the
hooks, signals, error handlers (sync and async), teardown, the context
locals, streaming, HEAD and background tasks of a request whose view is
``async def``.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from typing import Any

import pytest

from garbage import wsgi_call
from kettle import (
    Kettle,
    abort,
    after_this_request,
    copy_current_request_context,
    g,
    request,
    session,
    stream_with_context,
)
from kettle.signals import (
    appcontext_pushed,
    request_finished,
    request_started,
    request_tearing_down,
)
from kettle.testing import KettleClient
from kettle.wrappers import Response
from raw_wsgi import wsgi_environ


def test_the_context_locals_are_the_request_s_during_the_view(
    app: Kettle, client: KettleClient
) -> None:
    @app.get("/items/<int:id>")
    async def item(id: int) -> dict[str, Any]:
        g.seen = id
        await asyncio.sleep(0)
        session["last"] = id
        return {"id": id, "path": request.path, "g": g.seen, "q": request.args.get("q")}

    response = client.get("/items/7?q=x")
    assert response.status_code == 200
    assert response.get_json() == {"id": 7, "path": "/items/7", "g": 7, "q": "x"}
    assert "session=" in response.headers["Set-Cookie"]
    assert response.headers["Vary"] == "Cookie"


def test_signals_and_teardown_run_in_flask_s_order(app: Kettle, client: KettleClient) -> None:
    calls: list[str] = []

    def started(sender: Any, **_: Any) -> None:
        calls.append("started")

    def finished(sender: Any, response: Any = None, **_: Any) -> None:
        calls.append(f"finished {response.status_code}")

    def tearing_down(sender: Any, exc: BaseException | None = None, **_: Any) -> None:
        calls.append(f"tearing down {exc}")

    @app.get("/")
    async def index() -> str:
        calls.append("view")
        return "ok"

    @app.teardown_request
    async def teardown(exc: BaseException | None) -> None:
        await asyncio.sleep(0)
        calls.append("teardown")

    assert client.get("/").text == "ok"  # The lane: no receiver yet.
    request_started.connect(started, app)
    request_finished.connect(finished, app)
    request_tearing_down.connect(tearing_down, app)
    try:
        assert client.get("/").text == "ok"  # Through full_dispatch: a receiver first.
    finally:
        request_started.disconnect(started, app)
        request_finished.disconnect(finished, app)
        request_tearing_down.disconnect(tearing_down, app)
    assert calls == [
        "view",
        "teardown",
        "started",
        "view",
        "finished 200",
        "teardown",
        "tearing down None",
    ]


def test_after_this_request_and_an_async_after_request_hook_change_the_response(
    app: Kettle, client: KettleClient
) -> None:
    @app.after_request
    async def stamp(response: Response) -> Response:
        await asyncio.sleep(0)
        response.headers["X-Hook"] = "after"
        return response

    @app.get("/")
    async def index() -> str:
        @after_this_request
        def add_header(response: Response) -> Response:
            response.headers["X-This"] = "yes"
            return response

        await asyncio.sleep(0)
        return "ok"

    response = client.get("/")
    assert response.text == "ok"
    assert response.headers["X-This"] == "yes"
    assert response.headers["X-Hook"] == "after"


def test_an_error_in_the_view_reaches_sync_and_async_handlers(
    app: Kettle, client: KettleClient
) -> None:
    torn_down: list[Any] = []

    @app.errorhandler(LookupError)
    async def lookup(error: LookupError) -> tuple[str, int]:
        await asyncio.sleep(0)
        return f"async handled {error}", 418

    @app.errorhandler(ValueError)
    def value(error: ValueError) -> tuple[str, int]:
        return f"handled {error}", 422

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        torn_down.append(exc)

    @app.get("/lookup")
    async def raise_lookup() -> str:
        await asyncio.sleep(0)
        raise LookupError("missing")

    @app.get("/value")
    async def raise_value() -> str:
        raise ValueError("bad")

    @app.get("/abort")
    async def aborts() -> str:
        abort(404)

    response = client.get("/lookup")
    assert (response.status_code, response.text) == (418, "async handled missing")
    response = client.get("/value")
    assert (response.status_code, response.text) == (422, "handled bad")
    response = client.get("/abort")
    assert response.status_code == 404
    assert b"Not Found" in response.data
    assert torn_down == [None, None, None]  # Handled: the teardown sees no error.


def test_an_unhandled_error_is_a_500_and_the_teardown_sees_it(
    app: Kettle, client: KettleClient
) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    torn_down: list[str] = []

    @app.errorhandler(500)
    async def server_error(error: Any) -> tuple[str, int]:
        return f"sorry: {type(error.original_exception).__name__}", 500

    @app.teardown_appcontext
    def teardown(exc: BaseException | None) -> None:
        torn_down.append(type(exc).__name__)

    @app.get("/")
    async def index() -> str:
        await asyncio.sleep(0)
        raise RuntimeError("boom")

    @app.get("/none")
    async def returns_none() -> None:
        return None  # make_response refuses it: an error after the view.

    response = client.get("/")
    assert (response.status_code, response.text) == (500, "sorry: RuntimeError")
    response = client.get("/none")
    assert (response.status_code, response.text) == (500, "sorry: TypeError")
    assert torn_down == ["RuntimeError", "TypeError"]


def test_an_error_in_an_after_request_hook_is_a_500_as_in_flask(
    app: Kettle, client: KettleClient
) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    calls: list[str] = []

    @app.after_request
    def broken(response: Response) -> Response:
        calls.append("after")
        raise KeyError("hook")

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        calls.append(f"teardown {type(exc).__name__}")

    @app.get("/")
    async def index() -> str:
        calls.append("view")
        return "ok"

    response = client.get("/")
    assert response.status_code == 500
    # As Flask's: the hook runs again on the 500 (its error logged), then the teardown.
    assert calls == ["view", "after", "after", "teardown KeyError"]


def test_hooks_added_later_and_while_the_context_is_pushed_run(
    app: Kettle, client: KettleClient
) -> None:
    calls: list[str] = []

    @app.get("/")
    async def index() -> str:
        calls.append("view")
        return "ok"

    def pushed(sender: Any, **_: Any) -> None:
        if not app.before_request_funcs:
            app.before_request_funcs.setdefault(None, []).append(lambda: calls.append("before"))

    assert client.get("/").text == "ok"
    appcontext_pushed.connect(pushed, app)
    try:
        assert client.get("/").text == "ok"
    finally:
        appcontext_pushed.disconnect(pushed, app)
    assert calls == ["view", "before", "view"]


def test_a_before_request_hook_that_answers_skips_the_async_view(
    app: Kettle, client: KettleClient
) -> None:
    @app.before_request
    async def gate() -> Any:
        if request.args.get("deny"):
            return "denied", 403
        return None

    @app.get("/")
    async def index() -> str:
        return "ok"

    assert client.get("/").text == "ok"
    response = client.get("/?deny=1")
    assert (response.status_code, response.text) == (403, "denied")


def test_a_routing_error_with_a_handler_is_answered_by_it(
    app: Kettle, client: KettleClient
) -> None:
    @app.errorhandler(404)
    async def not_found(error: Any) -> tuple[str, int]:
        return "no such page", 404

    @app.get("/")
    async def index() -> str:
        return "ok"

    response = client.get("/missing")
    assert (response.status_code, response.text) == (404, "no such page")
    response = client.post("/")
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, HEAD, OPTIONS"


def test_head_streaming_and_background_tasks(app: Kettle, client: KettleClient) -> None:
    done: list[str] = []

    @app.get("/")
    async def index() -> str:
        app.add_background_task(done.append, f"task {request.path}")
        return "hello"

    @app.get("/stream")
    async def stream() -> Response:
        @stream_with_context
        def chunks() -> Any:
            yield "path "
            yield request.path

        return Response(chunks())

    @app.get("/copied")
    async def copied() -> str:
        @copy_current_request_context
        def read_path() -> str:
            return request.path

        return await asyncio.get_running_loop().run_in_executor(None, read_path)

    response = client.head("/")
    assert response.status_code == 200
    assert response.data == b""
    assert response.headers["Content-Length"] == "5"
    assert client.get("/").text == "hello"
    assert client.get("/stream").text == "path /stream"
    assert client.get("/copied").text == "/copied"
    assert done == ["task /", "task /"]


@pytest.mark.parametrize("waits", [False, True])
def test_ctrl_c_in_an_async_view_under_wsgi_goes_on_without_a_never_retrieved_log(
    caplog: pytest.LogCaptureFixture, waits: bool
) -> None:
    # A KeyboardInterrupt raised in the coroutine leaves the thread's loop itself: the
    # server sees it, and the finished task's error is retrieved, so asyncio does not
    # log "Task exception was never retrieved" when the task goes.
    app = Kettle(__name__)

    @app.get("/interrupted")
    async def interrupted() -> str:
        if waits:
            await asyncio.sleep(0)
        raise KeyboardInterrupt

    environ = wsgi_environ("/interrupted", **{"wsgi.input_terminated": True})
    with caplog.at_level(logging.ERROR, logger="asyncio"), pytest.raises(KeyboardInterrupt):
        app(environ, lambda status, headers, exc_info=None: None)
    gc.collect()
    assert [r.getMessage() for r in caplog.records if r.name == "asyncio"] == []
    assert wsgi_call(app, wsgi_environ("/missing"))[0] == "404 NOT FOUND"  # Still serving.


def test_ensure_sync_from_sync_code_on_the_loop(app: Kettle, client: KettleClient) -> None:
    # APIFlask's way: a sync error handler (and a sync hook of an async view) calls an async
    # function through app.ensure_sync. Under ASGI that sync code runs on the loop, which
    # cannot run the coroutine while it waits: it runs beside it, in the request's context.
    async def describe(code: int) -> dict[str, Any]:
        await asyncio.sleep(0)
        return {"code": code, "path": request.path}

    @app.errorhandler(404)
    def not_found(error: Exception) -> Any:
        return app.ensure_sync(describe)(404), 404

    @app.before_request
    def tag() -> None:
        g.tag = app.ensure_sync(describe)(0)["path"]

    @app.get("/view")
    async def view() -> Any:
        return {"tag": g.tag}

    missing = client.get("/missing")
    assert (missing.status_code, missing.json) == (404, {"code": 404, "path": "/missing"})
    assert client.get("/view").json == {"tag": "/view"}

"""Request hooks, sync and async, under WSGI and ASGI; before_first_request under concurrency."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from kettle import Blueprint, Kettle, after_this_request, g, request, url_for
from kettle.testing import KettleClient
from raw_asgi import asgi_request


@pytest.fixture(params=["sync", "async"])
def style(request: pytest.FixtureRequest) -> str:
    """Whether hooks are registered as ``def`` or ``async def``."""
    return str(request.param)


def _hook(style: str, body: Callable[..., Any]) -> Callable[..., Any]:
    if style == "sync":
        return body

    async def hook(*args: Any) -> Any:
        await asyncio.sleep(0)
        return body(*args)

    hook.__name__ = body.__name__
    return hook


def test_hook_order_and_arguments(app: Kettle, make_client: Callable[..., KettleClient], style: str) -> None:
    calls: list[Any] = []
    app.before_request(_hook(style, lambda: calls.append("before1")))
    app.before_request(_hook(style, lambda: calls.append("before2")))

    def after(label: str) -> Callable[[Any], Any]:
        def hook(response: Any) -> Any:
            calls.append(label)
            response.headers.add("X-After", label)
            return response

        return hook

    app.after_request(_hook(style, after("after1")))
    app.after_request(_hook(style, after("after2")))
    app.teardown_request(_hook(style, lambda exc: calls.append(("teardown", exc))))
    app.teardown_appcontext(_hook(style, lambda exc: calls.append(("appctx", exc))))

    @app.route("/")
    def index() -> str:
        calls.append("view")
        return "ok"

    response = make_client(app).get("/")
    assert response.text == "ok"
    assert response.headers.getlist("X-After") == ["after2", "after1"]
    assert calls == [
        "before1", "before2", "view", "after2", "after1", ("teardown", None), ("appctx", None),
    ]


def test_before_request_short_circuits(app: Kettle, make_client: Callable[..., KettleClient], style: str) -> None:
    calls: list[str] = []
    app.before_request(_hook(style, lambda: "stopped" if request.args.get("stop") else None))
    app.before_request(_hook(style, lambda: calls.append("second")))
    app.after_request(_hook(style, lambda r: (calls.append("after"), r)[1]))

    @app.route("/")
    def index() -> str:
        calls.append("view")
        return "view"

    client = make_client(app)
    assert client.get("/?stop=1").text == "stopped"
    assert calls == ["after"]
    assert client.get("/").text == "view"
    assert calls == ["after", "second", "view", "after"]


def test_after_request_skipped_when_error_propagates(
    app: Kettle, make_client: Callable[..., KettleClient], style: str
) -> None:
    calls: list[Any] = []
    app.after_request(_hook(style, lambda r: (calls.append("after"), r)[1]))
    app.teardown_request(_hook(style, lambda exc: calls.append(type(exc).__name__)))

    @app.route("/boom")
    def boom() -> str:
        raise KeyError("boom")

    with pytest.raises(KeyError):
        make_client(app).get("/boom")
    assert calls == ["KeyError"]


def test_unhandled_error_teardown_sees_exception(
    app: Kettle, make_client: Callable[..., KettleClient]
) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    app.logger.disabled = True
    seen: list[Any] = []
    app.teardown_request(lambda exc: seen.append(("request", type(exc))))
    app.teardown_appcontext(lambda exc: seen.append(("app", type(exc))))

    @app.errorhandler(ValueError)
    def handled(e: ValueError) -> tuple[str, int]:
        return "handled", 400

    @app.route("/handled")
    def handled_view() -> str:
        raise ValueError()

    @app.route("/unhandled")
    def unhandled_view() -> str:
        raise ZeroDivisionError()

    client = make_client(app)
    assert client.get("/handled").status_code == 400
    assert client.get("/unhandled").status_code == 500
    assert seen == [
        ("request", type(None)),
        ("app", type(None)),
        ("request", ZeroDivisionError),
        ("app", ZeroDivisionError),
    ]


def test_after_this_request(app: Kettle, make_client: Callable[..., KettleClient], style: str) -> None:
    @app.route("/")
    def index() -> str:
        @after_this_request
        def add_header(response: Any) -> Any:
            response.headers["X-This"] = "yes"
            return response

        return "ok"

    if style == "async":
        original = index

        async def index_async() -> str:
            return original()

        app.view_functions["index"] = index_async

    @app.route("/other")
    def other() -> str:
        return "other"

    client = make_client(app)
    assert client.get("/").headers.get("X-This") == "yes"
    assert client.get("/other").headers.get("X-This") is None
    with pytest.raises(RuntimeError, match="request context"):
        after_this_request(lambda r: r)


def test_url_value_preprocessor_and_url_defaults(app: Kettle, make_client: Callable[..., KettleClient], style: str) -> None:
    def pull(endpoint: str | None, values: dict[str, Any] | None) -> None:
        g.lang = values.pop("lang", "en") if values else "en"

    app.url_value_preprocessor(_hook(style, pull))

    @app.url_defaults
    def push(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint == "index":
            values.setdefault("lang", g.lang)

    @app.route("/<lang>/")
    def index() -> str:
        return f"{g.lang} {url_for('index')}"

    assert make_client(app).get("/de/").text == "de /de/"


def test_before_first_request_runs_once(app: Kettle, make_client: Callable[..., KettleClient], style: str) -> None:
    calls: list[str] = []
    app.before_first_request(_hook(style, lambda: calls.append(request.path)))

    @app.route("/<n>")
    def index(n: str) -> str:
        return n

    client = make_client(app)
    assert [client.get(f"/{n}").text for n in "abc"] == ["a", "b", "c"]
    assert calls == ["/a"]


def test_before_first_request_once_under_threads() -> None:
    app = Kettle("bfr_threads")
    count: list[int] = []
    ready = threading.Event()

    @app.before_first_request
    def first() -> None:
        count.append(1)
        time.sleep(0.05)  # widen the window in which other threads arrive
        ready.set()

    @app.route("/")
    def index() -> str:
        return str(ready.is_set())

    def call(_: int) -> str:
        return app.test_client(use_cookies=False).get("/").text

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(call, range(64)))
    assert count == [1]
    assert results == ["True"] * 64


def test_before_first_request_once_under_asyncio_tasks() -> None:
    app = Kettle("bfr_tasks")
    count: list[int] = []

    @app.before_first_request
    async def first() -> None:
        count.append(1)
        await asyncio.sleep(0.05)
        app.config["WARM"] = True

    @app.route("/")
    async def index() -> str:
        return str(app.config.get("WARM"))

    async def main() -> list[tuple[int, dict[str, str], bytes]]:
        return await asyncio.gather(*(asgi_request(app, "/") for _ in range(200)))

    results = asyncio.run(main())
    assert count == [1]
    assert {(status, body) for status, _, body in results} == {(200, b"True")}


@pytest.mark.parametrize(
    ("setup", "name"),
    [
        (lambda app: app.add_url_rule("/late", "late", lambda: ""), "add_url_rule"),
        (lambda app: app.route("/late")(lambda: ""), "route"),
        (lambda app: app.before_request(lambda: None), "before_request"),
        (lambda app: app.teardown_appcontext(lambda e: None), "teardown_appcontext"),
        (lambda app: app.register_blueprint(Blueprint("late", __name__)), "register_blueprint"),
    ],
    ids=["add_url_rule", "route", "before_request", "teardown_appcontext", "register_blueprint"],
)
def test_setup_after_first_request_is_refused(
    app: Kettle, client: KettleClient, setup: Callable[[Kettle], Any], name: str
) -> None:
    @app.route("/")
    def index() -> str:
        return "ok"

    setup(app)  # Fine before the first request.
    assert client.get("/").text == "ok"
    with pytest.raises(AssertionError, match=f"setup method '{name}' can no longer be called"):
        setup(app)

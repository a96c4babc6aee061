"""Contexts: current_app, g, request, session; errors outside; isolation under concurrency."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from kettle import (
    Kettle,
    copy_current_request_context,
    current_app,
    g,
    has_app_context,
    has_request_context,
    request,
    session,
)
from kettle.testing import KettleClient
from raw_asgi import asgi_request


def test_outside_context_errors_use_flask_wording() -> None:
    with pytest.raises(RuntimeError, match="Working outside of application context"):
        current_app.name  # noqa: B018
    with pytest.raises(RuntimeError, match="Working outside of application context"):
        g.x  # noqa: B018
    with pytest.raises(RuntimeError, match="Working outside of request context"):
        request.path  # noqa: B018
    with pytest.raises(RuntimeError, match="Working outside of request context"):
        session.get("x")
    assert not has_app_context()
    assert not has_request_context()


def test_request_proxy_in_an_app_context_and_in_a_request(app: Kettle) -> None:
    with app.app_context(), pytest.raises(RuntimeError, match="outside of request context"):
        request.args  # noqa: B018
    with app.test_request_context("/p?a=1&a=2"):
        current = request._get_current_object()  # type: ignore[attr-defined]
        assert request.args.getlist("a") == ["1", "2"]
        assert request.path == current.path == "/p"
        assert request.__class__ is type(current)


def test_app_context_with_and_push_pop(app: Kettle) -> None:
    torn: list[Any] = []
    app.teardown_appcontext(torn.append)
    with app.app_context():
        assert current_app._get_current_object() is app  # type: ignore[attr-defined]
        assert has_app_context() and not has_request_context()
        g.user = "ann"
        assert g.user == "ann"
        with pytest.raises(RuntimeError, match="request context"):
            request.path  # noqa: B018
    assert torn == [None]
    ctx = app.app_context()
    ctx.push()
    try:
        assert "user" not in g  # a new context has a new g
    finally:
        ctx.pop()
    assert torn == [None, None]
    assert not has_app_context()


def test_g_is_a_namespace(app: Kettle) -> None:
    with app.app_context():
        g.a = 1
        assert g.get("a") == 1
        assert g.get("missing") is None
        assert g.get("missing", 5) == 5
        assert g.setdefault("b", 2) == 2
        assert g.setdefault("b", 3) == 2
        assert "a" in g and "zz" not in g
        assert sorted(g) == ["a", "b"]
        assert g.pop("a") == 1
        assert g.pop("a", "gone") == "gone"
        with pytest.raises(KeyError):
            g.pop("a")
        with pytest.raises(AttributeError):
            g.nothing  # noqa: B018


def test_test_request_context(app: Kettle) -> None:
    with app.test_request_context(
        "/search?x=1", method="POST", data={"name": "ann"}, headers={"X-Test": "t"}
    ):
        assert has_request_context()
        assert request.method == "POST"
        assert request.args["x"] == "1"
        assert request.form["name"] == "ann"
        assert request.headers["X-Test"] == "t"
        assert current_app._get_current_object() is app  # type: ignore[attr-defined]
    with app.test_request_context("/j", method="PUT", json={"a": [1]}, query_string={"q": "z"}):
        assert request.get_json() == {"a": [1]}
        assert request.args["q"] == "z"
    assert not has_request_context()


def test_request_context_shares_g_with_app_context(app: Kettle) -> None:
    with app.app_context():
        g.outer = 1
        with app.test_request_context("/"):
            assert g.outer == 1
            g.inner = 2
        assert g.inner == 2


def test_copy_current_request_context(app: Kettle, make_client: Callable[..., KettleClient]) -> None:
    @app.route("/")
    def index() -> str:
        seen: list[str] = []

        @copy_current_request_context
        def work() -> None:
            seen.append(f"{request.path} {request.args['n']} {current_app.name}")

        thread = threading.Thread(target=work)
        thread.start()
        thread.join()
        return seen[0]

    assert make_client(app).get("/?n=7").text == "/ 7 kettle_test"
    with pytest.raises(RuntimeError, match="request context"):
        copy_current_request_context(lambda: None)


def test_session_in_request(app: Kettle, make_client: Callable[..., KettleClient]) -> None:
    @app.route("/set/<v>")
    def set_value(v: str) -> str:
        session["v"] = v
        return "set"

    @app.route("/get")
    def get_value() -> str:
        return str(session.get("v"))

    client = make_client(app)
    assert client.get("/get").text == "None"
    client.get("/set/tea")
    assert client.get("/get").text == "tea"


def _isolation_app() -> Kettle:
    app = Kettle("isolation")
    app.config["SECRET_KEY"] = "isolation key"

    @app.before_request
    def before() -> None:
        g.n = request.args["n"]

    @app.route("/sync")
    def sync_view() -> str:
        session["n"] = request.args["n"]
        time.sleep(0.001)  # let other threads run between the writes and the reads
        return f"{request.args['n']} {g.n} {session['n']} {request.headers['X-N']}"

    @app.route("/async")
    async def async_view() -> str:
        session["n"] = request.args["n"]
        await asyncio.sleep(0)
        g.after = request.args["n"]
        await asyncio.sleep(0)
        return f"{request.args['n']} {g.n} {session['n']} {g.after}"

    return app


def test_isolation_200_threads_wsgi() -> None:
    app = _isolation_app()

    def call(n: int) -> str:
        client = app.test_client(use_cookies=False)
        return client.get(f"/sync?n={n}", headers={"X-N": str(n)}).text

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(call, range(200)))
    assert results == [f"{n} {n} {n} {n}" for n in range(200)]


@pytest.mark.parametrize("path", ["/async", "/sync"])
def test_isolation_1000_asyncio_tasks(path: str) -> None:
    app = _isolation_app()
    count = 1000 if path == "/async" else 200  # sync views take a thread each

    async def main() -> list[tuple[int, dict[str, str], bytes]]:
        return await asyncio.gather(
            *(
                asgi_request(app, path, f"n={n}".encode(), [(b"x-n", str(n).encode())])
                for n in range(count)
            )
        )

    results = asyncio.run(main())
    expected = [f"{n} {n} {n} {n}".encode() for n in range(count)]
    assert [body for _, _, body in results] == expected
    assert all(status == 200 for status, _, _ in results)
    assert all("session=" in headers.get("set-cookie", "") for _, headers, _ in results)


def test_pipeline_steps_callable_in_a_request_context(app: Kettle) -> None:
    calls: list[str] = []

    @app.before_request
    def before() -> None:
        calls.append("before")

    @app.after_request
    def after(response: Any) -> Any:
        calls.append("after")
        response.headers["X-After"] = "1"
        return response

    @app.route("/hello/<name>")
    def hello(name: str) -> str:
        return f"hello {name}"

    with app.test_request_context("/hello/kettle"):
        response = app.full_dispatch_request()
        assert (response.status_code, response.get_data()) == (200, b"hello kettle")
        assert response.headers["X-After"] == "1"
        assert app.preprocess_request() is None
        assert app.dispatch_request() == "hello kettle"
        assert app.process_response(app.make_response("x")).headers["X-After"] == "1"
    assert calls == ["before", "after", "before", "after"]

    with app.test_request_context("/missing"):
        assert app.full_dispatch_request().status_code == 404
    with pytest.raises(RuntimeError, match="request context"):
        app.full_dispatch_request()

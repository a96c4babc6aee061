"""Sync views under ASGI: in the worker pool by default, on the event loop when asked.

``inline=True`` on a route (app, blueprint, class-based view) or the app's
``ASGI_INLINE_SYNC_VIEWS`` runs a ``def`` view's whole pipeline on the loop,
as an ``async def`` view's; ``inline=False`` keeps a route in the pool. The
ASGI test client drives the app on the test's own thread, so "on the loop"
is "on this thread, with a running loop". Under WSGI the option changes
nothing.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import pytest

from kettle import Blueprint, Kettle, abort, g, request, session
from kettle.testing import KettleClient
from kettle.views import MethodView


def _where() -> str:
    """Where the caller runs: "loop" (this test's thread, its loop running) or "pool"."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        running = False
    else:
        running = True
    if threading.get_ident() == _TEST_THREAD[0]:
        return "loop" if running else "thread"
    return "pool" if not running else "other loop"


_TEST_THREAD: list[int] = []


@pytest.fixture(autouse=True)
def _this_thread() -> None:
    _TEST_THREAD[:] = [threading.get_ident()]


def _asgi(app: Kettle) -> KettleClient:
    return app.test_client(protocol="asgi")


def test_a_sync_view_runs_in_the_pool_by_default(app: Kettle) -> None:
    @app.route("/")
    def index() -> str:
        return _where()

    assert _asgi(app).get("/").text == "pool"


def test_inline_route_runs_on_the_loop(app: Kettle) -> None:
    @app.route("/inline", inline=True)
    def inline_view() -> str:
        return _where()

    @app.get("/get", inline=True)
    def get_view() -> str:
        return _where()

    def added() -> str:
        return _where()

    app.add_url_rule("/added", "added", added, inline=True)

    @app.route("/default")
    def default_view() -> str:
        return _where()

    client = _asgi(app)
    assert client.get("/inline").text == "loop"
    assert client.get("/get").text == "loop"
    assert client.get("/added").text == "loop"
    assert client.get("/default").text == "pool"


def test_app_wide_setting_and_a_route_that_opts_out(app: Kettle) -> None:
    app.config["ASGI_INLINE_SYNC_VIEWS"] = True

    @app.route("/")
    def index() -> str:
        return _where()

    @app.route("/blocking", inline=False)
    def blocking() -> str:
        return _where()

    client = _asgi(app)
    assert client.get("/").text == "loop"
    assert client.get("/blocking").text == "pool"


def test_request_session_and_g_inline(app: Kettle) -> None:
    @app.before_request
    def load() -> None:
        g.user = request.args.get("user", "nobody")

    @app.post("/visit", inline=True)
    def visit() -> dict[str, Any]:
        session["visits"] = session.get("visits", 0) + 1
        return {
            "user": g.user,
            "visits": session["visits"],
            "form": request.form["note"],
            "where": _where(),
        }

    client = _asgi(app)
    first = client.post("/visit?user=ann", data={"note": "hi"})
    assert first.status_code == 200
    assert first.json == {"user": "ann", "visits": 1, "form": "hi", "where": "loop"}
    assert "session=" in first.headers["Set-Cookie"]
    assert first.headers["Vary"] == "Cookie"
    second = client.post("/visit?user=bob", data={"note": "again"})
    assert second.json == {"user": "bob", "visits": 2, "form": "again", "where": "loop"}


def _hooked_app(inline: bool) -> Kettle:
    """An app whose hooks log where they ran; the same app, inline or not."""
    app = Kettle("inline_hooks")
    app.config.update(SECRET_KEY="test key")
    log: list[str] = []
    app.config["LOG"] = log

    @app.before_request
    def first() -> Any:
        log.append(f"before1:{_where()}")
        if request.args.get("stop"):
            return "stopped by a hook", 403
        return None

    @app.before_request
    async def second() -> None:
        log.append("before2:async")

    @app.after_request
    def after_a(response: Any) -> Any:
        log.append(f"after_a:{_where()}")
        response.headers["X-Order"] = response.headers.get("X-Order", "") + "a"
        return response

    @app.after_request
    def after_b(response: Any) -> Any:
        log.append("after_b")
        response.headers["X-Order"] = response.headers.get("X-Order", "") + "b"
        return response

    @app.teardown_request
    def down(error: BaseException | None) -> None:
        log.append(f"teardown:{type(error).__name__ if error else None}")

    @app.errorhandler(LookupError)
    def lookup(error: LookupError) -> Any:
        log.append(f"handler:{_where()}")
        return f"handled {error}", 409

    @app.errorhandler(404)
    def not_found(error: Any) -> Any:
        return "no such thing", 404

    @app.route("/<what>", inline=inline)
    def view(what: str) -> str:
        log.append(f"view:{_where()}")
        if what == "missing":
            abort(404)
        if what == "lookup":
            raise LookupError("key")
        return f"view {what}"

    return app


@pytest.mark.parametrize(
    ("path", "status", "body"),
    [
        ("/ok", 200, "view ok"),
        ("/ok?stop=1", 403, "stopped by a hook"),
        ("/missing", 404, "no such thing"),
        ("/lookup", 409, "handled key"),
    ],
)
def test_hooks_and_errors_behave_the_same_inline(path: str, status: int, body: str) -> None:
    seen = []
    for inline in (False, True):
        app = _hooked_app(inline)
        response = _asgi(app).get(path)
        assert (response.status_code, response.text) == (status, body)
        assert response.headers["X-Order"] == "ba"  # after_request: last registered first.
        where = "loop" if inline else "pool"
        log = [entry.replace(where, "HERE") for entry in app.config["LOG"]]
        assert "loop" not in str(log) and "pool" not in str(log)  # All in one place.
        seen.append(log)
    pooled, inlined = seen
    assert pooled == inlined
    assert pooled[0] == "before1:HERE"
    assert pooled[-1].startswith("teardown:")


def test_blueprint_routes(app: Kettle) -> None:
    bp = Blueprint("bp", __name__, url_prefix="/bp")

    @bp.route("/inline", inline=True)
    def inline_view() -> str:
        return _where()

    @bp.post("/posted", inline=True)
    def posted() -> str:
        return _where()

    @bp.route("/default")
    def default_view() -> str:
        return _where()

    app.register_blueprint(bp)
    client = _asgi(app)
    assert client.get("/bp/inline").text == "loop"
    assert client.post("/bp/posted").text == "loop"
    assert client.get("/bp/default").text == "pool"


def test_app_wide_setting_covers_blueprint_routes(app: Kettle) -> None:
    app.config["ASGI_INLINE_SYNC_VIEWS"] = True
    bp = Blueprint("bp", __name__)

    @bp.route("/here")
    def here() -> str:
        return _where()

    app.register_blueprint(bp)
    assert _asgi(app).get("/here").text == "loop"


def test_class_based_views(app: Kettle) -> None:
    class Inline(MethodView):
        inline = True

        def get(self) -> str:
            return _where()

    class Plain(MethodView):
        def get(self) -> str:
            return _where()

    app.add_url_rule("/class", view_func=Inline.as_view("inline"))
    app.add_url_rule("/plain", view_func=Plain.as_view("plain"))
    app.add_url_rule("/plain-inline", view_func=Plain.as_view("plain_inline"), inline=True)
    app.add_url_rule("/class-pooled", view_func=Inline.as_view("pooled"), inline=False)
    client = _asgi(app)
    assert client.get("/class").text == "loop"
    assert client.get("/plain").text == "pool"
    assert client.get("/plain-inline").text == "loop"
    assert client.get("/class-pooled").text == "pool"


def test_a_streamed_body_route_cannot_be_inline(app: Kettle) -> None:
    with pytest.raises(ValueError, match="stream_body"):
        app.add_url_rule("/up", "up", lambda: "", methods=["POST"], stream_body=True, inline=True)


def test_app_wide_setting_leaves_streamed_body_routes_in_the_pool(app: Kettle) -> None:
    # Reading a streamed body waits on the loop: such a view can only run off it.
    app.config["ASGI_INLINE_SYNC_VIEWS"] = True

    @app.post("/up", stream_body=True)
    def upload() -> str:
        return f"{len(request.stream.read())} {_where()}"

    assert _asgi(app).post("/up", data=b"x" * 1000).text == "1000 pool"


def test_wsgi_ignores_the_option(app: Kettle) -> None:
    app.config["ASGI_INLINE_SYNC_VIEWS"] = True

    @app.route("/inline", inline=True)
    def inline_view() -> str:
        return _where()

    @app.route("/app-wide")
    def app_wide() -> str:
        return _where()

    client = app.test_client(protocol="wsgi")
    # Served in the calling thread, with no event loop, as every WSGI request is.
    assert client.get("/inline").text == "thread"
    assert client.get("/app-wide").text == "thread"


def test_same_answers_under_both_protocols(
    app: Kettle, make_client: Callable[..., KettleClient]
) -> None:
    @app.route("/hello/<name>", inline=True)
    def hello(name: str) -> tuple[str, int, dict[str, str]]:
        return f"hello {name}", 201, {"X-Name": name}

    response = make_client(app).get("/hello/ann")
    assert response.status_code == 201
    assert response.text == "hello ann"
    assert response.headers["X-Name"] == "ann"

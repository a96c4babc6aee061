"""The fixed path of a request in fewer frames (session 9), under WSGI and ASGI.

A static path's plain rule is looked up in ``Map.plain_static`` without
calling ``Map.match``: a rule added after the first request (straight into
the map, as an extension may), a rule with defaults or a redirect, and a
map class with its own ``match`` are still matched as ``Map.match`` would.
Whether the view is the first user code is read after the push; a
before_body function added later runs; a ``def`` view under ASGI (the
plain lane in the worker pool) runs its background task once and lets its
error go on, torn down once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from kettle import Kettle, abort, has_request_context, request
from kettle.routing import Map, Rule
from kettle.signals import appcontext_pushed
from kettle.testing import KettleClient


def test_a_static_rule_added_after_the_first_request_is_matched(
    app: Kettle, client: KettleClient
) -> None:
    @app.get("/a")
    def a() -> str:
        return "a"

    assert client.get("/a").text == "a"
    assert client.post("/a").status_code == 405
    assert client.get("/b").status_code == 404
    # Straight into the map and the view table, after the first request.
    app.url_map.add(Rule("/a", endpoint="a_post", methods=["POST"]))
    app.url_map.add(Rule("/b", endpoint="b"))
    app.view_functions["a_post"] = lambda: "posted"
    app.view_functions["b"] = lambda: "b"
    assert client.post("/a").text == "posted"
    assert client.get("/b").text == "b"
    assert client.get("/a").text == "a"


def test_rules_with_defaults_or_a_redirect_match_in_full(app: Kettle, client: KettleClient) -> None:
    @app.get("/page", defaults={"number": 1})
    @app.get("/page/<int:number>")
    def page(number: int) -> str:
        return f"page {number}"

    @app.get("/users/<int:id>/posts/<slug>")
    def post(id: int, slug: str) -> str:
        return f"user {id} post {slug}"

    app.add_url_rule("/old", endpoint="old", redirect_to="/page")
    app.add_url_rule("/old/<int:id>", endpoint="old_post", redirect_to="/users/<id>/posts/old")

    assert client.get("/page").text == "page 1"
    assert client.get("/page/2").text == "page 2"
    assert client.get("/page/1").headers["Location"].endswith("/page")  # (The defaults.)
    old = client.get("/old")
    assert old.status_code == 308
    assert old.headers["Location"].endswith("/page")
    old = client.get("/old/3")  # A dynamic path: ``Map.plain_resolve`` is off for this map.
    assert old.status_code == 308
    assert old.headers["Location"].endswith("/users/3/posts/old")
    assert client.get("/users/42/posts/hello").text == "user 42 post hello"
    assert app.url_map.plain_resolve is None


def test_a_map_class_with_its_own_match_is_asked_for_static_and_dynamic_paths(
    make_client: Callable[..., KettleClient],
) -> None:
    calls: list[str] = []

    class CountingMap(Map):
        def match(self, path: str, *args: Any, **kwargs: Any) -> Any:
            calls.append(path)
            return super().match(path, *args, **kwargs)

    class App(Kettle):
        url_map_class = CountingMap

    app = App(__name__)

    @app.get("/")
    def index() -> str:
        return "index"

    @app.get("/users/<int:id>/posts/<slug>")
    def post(id: int, slug: str) -> str:
        return f"user {id} post {slug}"

    client = make_client(app)
    assert client.get("/").text == "index"
    assert client.get("/").text == "index"
    assert client.get("/users/1/posts/a").text == "user 1 post a"
    assert client.get("/users/x/posts/a").status_code == 404
    assert calls == ["/", "/", "/users/1/posts/a", "/users/x/posts/a"]
    # Neither shortcut is taken for such a map (``plain_static``, ``plain_resolve``).
    assert app.url_map.plain_static == {}
    assert app.url_map.plain_resolve is None


def test_a_hook_an_appcontext_pushed_receiver_adds_runs_before_the_view(
    app: Kettle, client: KettleClient
) -> None:
    @app.get("/")
    def index() -> str:
        return "view"

    assert client.get("/").text == "view"

    def add_hook(sender: Kettle, **extra: Any) -> None:
        hooks = app.before_request_funcs.setdefault(None, [])
        if not hooks:
            hooks.append(lambda: "hook")

    with appcontext_pushed.connected_to(add_hook, app):
        assert client.get("/").text == "hook"


def test_a_before_body_function_added_after_the_first_request_runs(
    app: Kettle, client: KettleClient
) -> None:
    seen: list[str] = []

    @app.post("/")
    def index() -> str:
        return "ok"

    assert client.post("/", data=b"x").text == "ok"

    def refuse(checked: Any) -> None:
        seen.append(checked.path)
        abort(403)

    app.before_body_funcs.append(refuse)  # As an extension may, after the first request.
    assert client.post("/", data=b"x").status_code == 403
    assert seen == ["/"]


def test_a_def_view_runs_its_background_task_once(app: Kettle, client: KettleClient) -> None:
    done: list[str] = []

    @app.get("/")
    def index() -> str:
        app.add_background_task(done.append, request.path)
        return "queued"

    assert client.get("/").text == "queued"
    assert done == ["/"]


def test_an_error_of_a_def_view_goes_on_to_the_server(app: Kettle, client: KettleClient) -> None:
    torn: list[BaseException | None] = []

    @app.teardown_request
    def teardown(error: BaseException | None) -> None:
        torn.append(error)

    @app.get("/")
    def index() -> str:
        raise LookupError("the view failed")

    with pytest.raises(LookupError, match="the view failed"):
        client.get("/")
    assert len(torn) == 1
    assert isinstance(torn[0], LookupError)
    assert not has_request_context()

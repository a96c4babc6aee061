"""A dynamic path matched by the matcher without ``Map.match`` (session 9), under WSGI and ASGI.

When every rule is plain and the map's ``match`` is Map's own, the app asks
``Map.plain_resolve`` for a path that is not in ``Map.plain_static``. The
answers stay Werkzeug's: strict-slash and merged-slash redirects (with the
query string), 405 with ``Allow``, a converter's refusal as 404, a rule added
after the first request. (A map with a redirect rule, and a map class with its own
``match``, are matched in full: tests/request/test_request_fixed_path.py.)
"""

from __future__ import annotations

from typing import Any

from kettle import Kettle, abort, request
from kettle.routing import BaseConverter, Rule
from kettle.testing import KettleClient


def _posts(app: Kettle) -> None:
    @app.get("/users/<int:id>/posts/<slug>")
    def post(id: int, slug: str) -> str:
        return f"user {id} post {slug}"

    @app.get("/files/<path:name>/")
    def files(name: str) -> str:
        return f"file {name}"


def test_a_dynamic_path_is_matched_with_its_arguments(app: Kettle, client: KettleClient) -> None:
    _posts(app)
    assert app.url_map.plain_resolve is None  # (Not compiled yet.)
    response = client.get("/users/42/posts/hello")
    assert response.text == "user 42 post hello"
    assert app.url_map.plain_resolve is not None
    assert client.get("/users/x/posts/hello").status_code == 404  # int's refusal
    assert client.get("/users/42/posts").status_code == 404
    refused = client.post("/users/42/posts/hello")
    assert refused.status_code == 405
    assert refused.headers["Allow"] == "GET, HEAD, OPTIONS"


def test_slash_redirects_on_a_dynamic_path_keep_the_query(
    app: Kettle, client: KettleClient
) -> None:
    _posts(app)
    strict = client.get("/files/a/b?x=1")
    assert strict.status_code == 308
    assert strict.headers["Location"].endswith("/files/a/b/?x=1")
    merged = client.get("/users/42//posts/hello?y=2")
    assert merged.status_code == 308
    assert merged.headers["Location"].endswith("/users/42/posts/hello?y=2")


def test_a_dynamic_rule_added_after_the_first_request_is_matched(
    app: Kettle, client: KettleClient
) -> None:
    _posts(app)
    assert client.get("/tags/red").status_code == 404
    app.url_map.add(Rule("/tags/<name>", endpoint="tag"))
    app.view_functions["tag"] = lambda name: f"tag {name}"
    assert client.get("/tags/red").text == "tag red"
    assert client.get("/users/7/posts/x").text == "user 7 post x"


def test_an_alias_without_redirect_defaults_is_matched_on_its_own_path(
    app: Kettle, client: KettleClient
) -> None:
    # ``redirect_defaults=False``: an alias is a plain rule (no redirect), so the
    # map is matched by ``plain_resolve``, whose default for it is False too.
    app.url_map.redirect_defaults = False
    app.url_map.add(Rule("/old/<int:id>/<name>", endpoint="item", alias=True))
    app.url_map.add(Rule("/items/<int:id>/<name>", endpoint="item"))
    app.view_functions["item"] = lambda id, name: f"item {id + 1} {name}"
    assert client.get("/old/3/x").text == "item 4 x"
    assert app.url_map.plain_resolve is not None
    assert client.get("/items/3/x").text == "item 4 x"


def test_an_alias_under_redirect_defaults_redirects_from_a_dynamic_path(
    app: Kettle, client: KettleClient
) -> None:
    app.url_map.add(Rule("/old/<int:id>/<name>", endpoint="item", alias=True))
    app.url_map.add(Rule("/items/<int:id>/<name>", endpoint="item"))
    app.view_functions["item"] = lambda id, name: f"item {id} {name}"
    moved = client.get("/old/3/x?q=1")
    assert app.url_map.plain_resolve is None
    assert moved.status_code == 308
    assert moved.headers["Location"].endswith("/items/3/x?q=1")
    assert client.get("/items/3/x").text == "item 3 x"


def test_a_subdomain_rule_and_a_default_rule_on_the_same_dynamic_path(
    make_client: Any,
) -> None:
    # The matcher keeps the usual domain's state apart (``StateMachine.top``): a
    # subdomain's request is matched from its own.
    app = Kettle(__name__, subdomain_matching=True)
    app.config["SERVER_NAME"] = "example.com"

    @app.get("/users/<int:id>/posts/<slug>")
    def post(id: int, slug: str) -> str:
        return f"main {id} {slug}"

    @app.get("/users/<int:id>/posts/<slug>", subdomain="api")
    def api_post(id: int, slug: str) -> str:
        return f"api {id} {slug}"

    @app.get("/only/<int:id>", subdomain="api")
    def only(id: int) -> str:
        return f"only {id}"

    client = make_client(app)
    assert client.get("http://example.com/users/1/posts/a").text == "main 1 a"
    assert client.get("http://api.example.com/users/2/posts/b").text == "api 2 b"
    assert client.get("http://api.example.com/only/3").text == "only 3"
    assert client.get("http://example.com/only/3").status_code == 404
    assert client.get("http://api.example.com/users/x/posts/b").status_code == 404


def test_a_shape_takes_whole_segments_only(app: Kettle, client: KettleClient) -> None:
    # Each step of a shape's regex is possessive: what follows it ("/" or the end)
    # is never in its class, so it matches exactly what the walk would.
    _posts(app)
    assert client.get("/users/12/posts/a-b.c").text == "user 12 post a-b.c"
    assert client.get("/users/0012/posts/x").text == "user 12 post x"
    assert client.get("/users/12x/posts/x").status_code == 404
    assert client.get("/users/12/postsx/x").status_code == 404
    assert client.get("/users/12/posts/x/y").status_code == 404
    assert client.get("/users/12/posts/x/").status_code == 404
    assert client.get("/users//posts/x").status_code == 404


def test_a_converter_error_on_a_later_request_is_the_routing_error(
    app: Kettle, client: KettleClient
) -> None:
    # Once compiled, a plain map answers a dynamic path by ``plain_resolve``: an
    # HTTP error its converter raises is kept as the routing error, as on the
    # first request (matched by ``Map.match``), and the before_request hooks see it.
    class Strict(BaseConverter):
        def to_python(self, value: str) -> str:
            if value == "bad":
                abort(400)
            return value

    app.url_map.converters["strict"] = Strict
    seen: list[int | None] = []

    @app.before_request
    def before() -> None:
        error = request.routing_exception
        seen.append(None if error is None else error.code)

    @app.get("/items/<strict:name>/x")
    def item(name: str) -> str:
        return f"item {name}"

    assert client.get("/items/bad/x").status_code == 400
    assert app.url_map.plain_resolve is not None
    assert client.get("/items/ok/x").text == "item ok"
    assert client.get("/items/bad/x").status_code == 400
    assert seen == [400, None, 400]


def test_view_arguments_of_one_two_and_three_values(app: Kettle, client: KettleClient) -> None:
    # One or two values without defaults are decoded in place (``Rule._arity``); a
    # default, a third value, go through ``decoded_arguments``: the same arguments.
    @app.get("/one/<int:n>")
    def one(n: int) -> str:
        return f"one {n!r}"

    @app.get("/two/<int:n>/<name>", defaults={"page": 1})
    def two(n: int, name: str, page: int) -> str:
        return f"two {n!r} {name!r} {page!r}"

    @app.get("/three/<int:a>/<b>/<int:c>")
    def three(a: int, b: str, c: int) -> str:
        return f"three {a!r} {b!r} {c!r}"

    for _ in range(2):  # (The first request compiles the map and makes the shapes.)
        assert client.get("/one/7").text == "one 7"
        assert client.get("/two/7/x").text == "two 7 'x' 1"
        assert client.get("/three/1/b/3").text == "three 1 'b' 3"
        assert client.get("/three/1/b/c").status_code == 404


def test_a_shape_matches_its_first_segment_literally(app: Kettle, client: KettleClient) -> None:
    # A shape's regex covers the whole path, its first segment escaped.
    @app.get("/a+b/<int:n>")
    def plus(n: int) -> str:
        return f"plus {n}"

    for _ in range(2):
        assert client.get("/a+b/1").text == "plus 1"
        assert client.get("/aab/1").status_code == 404


def test_the_view_is_called_with_view_args_as_a_before_body_function_left_them(
    app: Kettle, client: KettleClient
) -> None:
    _posts(app)

    @app.before_body
    def renumber(incoming: Any) -> None:
        incoming.view_args["id"] += 1

    assert client.get("/users/42/posts/hello").text == "user 43 post hello"


def test_automatic_options_on_a_dynamic_path(app: Kettle, client: KettleClient) -> None:
    _posts(app)
    response = client.options("/users/42/posts/hello")
    assert response.status_code == 200
    assert response.headers["Allow"] == "GET, HEAD, OPTIONS"
    assert client.options("/users/x/posts/hello").status_code == 404

"""A dynamic path matched by the matcher without ``Map.match`` (session 9), under WSGI and ASGI.

When every rule is plain and the map's ``match`` is Map's own, the app asks
``Map.plain_resolve`` for a path that is not in ``Map.plain_static``. The
answers stay Werkzeug's: strict-slash and merged-slash redirects (with the
query string), 405 with ``Allow``, a converter's refusal as 404, a rule added
after the first request. (A map with a redirect rule, and a map class with its own
``match``, are matched in full: tests/request/test_request_fixed_path.py.)
"""

from __future__ import annotations

from kettle import Kettle
from kettle.routing import Rule
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

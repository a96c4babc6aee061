"""url_for and rule registration through the app, under both adapters."""

from __future__ import annotations

from typing import Any

import pytest

from kettle import Kettle, url_for
from kettle.routing import BuildError
from kettle.testing import KettleClient


def test_url_for_options_in_a_request(app: Kettle, client: KettleClient) -> None:
    @app.route("/post/<int:post_id>")
    def post(post_id: int) -> str:
        return "post"

    @app.route("/links")
    def links() -> dict[str, Any]:
        return {
            "plain": url_for("post", post_id=3),
            "query": url_for("post", post_id=3, tag=["a", "b"], empty=None),
            "anchor": url_for("post", post_id=3, _anchor="top part"),
            "external": url_for("post", post_id=3, _external=True),
            "scheme": url_for("post", post_id=3, _scheme="https", _external=True),
            "method": url_for("post", post_id=3, _method="GET"),
        }

    data = client.get("/links").json
    assert data == {
        "plain": "/post/3",
        "query": "/post/3?tag=a&tag=b",
        "anchor": "/post/3#top%20part",
        "external": "http://localhost/post/3",
        "scheme": "https://localhost/post/3",
        "method": "/post/3",
    }


def test_url_for_outside_a_request_uses_server_name() -> None:
    app = Kettle(__name__)
    app.config.update(
        SERVER_NAME="example.com", APPLICATION_ROOT="/app", PREFERRED_URL_SCHEME="https"
    )

    @app.route("/user/<name>")
    def user(name: str) -> str:
        return name

    with app.app_context():
        assert url_for("user", name="ann") == "https://example.com/app/user/ann"


def test_url_for_outside_a_request_without_server_name_is_a_clear_error() -> None:
    app = Kettle(__name__)

    @app.route("/")
    def index() -> str:
        return ""

    with app.app_context(), pytest.raises(RuntimeError, match="SERVER_NAME"):
        url_for("index")


def test_build_error_names_the_missing_values(app: Kettle) -> None:
    @app.route("/post/<int:post_id>")
    def post(post_id: int) -> str:
        return "post"

    with app.test_request_context("/"), pytest.raises(BuildError) as info:
        url_for("post")
    assert "post_id" in str(info.value)


def test_url_build_error_handlers_can_supply_a_url(app: Kettle, client: KettleClient) -> None:
    def fallback(error: Exception, endpoint: str, values: dict[str, Any]) -> str:
        return f"/fallback/{endpoint}"

    app.url_build_error_handlers.append(fallback)

    @app.route("/")
    def index() -> str:
        return url_for("missing")

    assert client.get("/").text == "/fallback/missing"


def test_url_for_static(app: Kettle, client: KettleClient) -> None:
    @app.route("/")
    def index() -> str:
        return url_for("static", filename="css/site.css")

    assert client.get("/").text == "/static/css/site.css"


def test_methods_are_case_insensitive(app: Kettle, client: KettleClient) -> None:
    @app.route("/form", methods=["get", "post"])
    def form() -> str:
        return "ok"

    assert client.post("/form").status_code == 200
    response = client.put("/form")
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, HEAD, OPTIONS, POST"


def test_a_second_function_on_one_endpoint_is_an_error(app: Kettle) -> None:
    @app.route("/a")
    def view() -> str:
        return "a"

    def other() -> str:
        return "b"

    with pytest.raises(AssertionError, match="overwriting an existing endpoint function: view"):
        app.add_url_rule("/b", "view", other)


def test_several_rules_and_defaults(app: Kettle, client: KettleClient) -> None:
    @app.route("/users/", defaults={"page": 1})
    @app.route("/users/page/<int:page>")
    def users(page: int) -> str:
        return f"page {page}"

    assert client.get("/users/").text == "page 1"
    assert client.get("/users/page/2").text == "page 2"
    redirect = client.get("/users/page/1")
    assert redirect.status_code == 308
    assert redirect.headers["Location"] == "http://localhost/users/"


def test_host_matching_with_server_name(make_client: Any) -> None:
    app = Kettle(__name__, host_matching=True, static_host="static.example.com")
    app.config["TESTING"] = True

    @app.route("/", host="example.com")
    def main() -> str:
        return "main"

    @app.route("/", host="<user>.example.com")
    def user_home(user: str) -> str:
        return f"home of {user}"

    client = make_client(app)
    assert client.get("/", base_url="http://example.com").text == "main"
    assert client.get("/", base_url="http://ann.example.com").text == "home of ann"
    assert client.get("/", base_url="http://other.org").status_code == 404


def test_url_map_introspection(app: Kettle) -> None:
    @app.route("/x/<int:n>", methods=["POST"])
    def x(n: int) -> str:
        return ""

    rules = {rule.endpoint: rule for rule in app.url_map.iter_rules()}
    assert rules["x"].rule == "/x/<int:n>"
    assert rules["x"].methods == {"POST", "OPTIONS"}
    assert "x" in app.view_functions
    assert "<Rule '/x/<n>' (OPTIONS, POST) -> x>" in repr(app.url_map)  # Werkzeug's form

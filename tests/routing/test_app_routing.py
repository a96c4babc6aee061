"""Routing through the app, under WSGI and ASGI (the ``client`` fixture runs both)."""

from __future__ import annotations

import uuid
from typing import Any

import flask
import pytest

from kettle import Kettle, request, url_for
from kettle.routing import BaseConverter
from kettle.testing import KettleClient


class RegexConverter(BaseConverter):
    def __init__(self, url_map: Any, *items: str) -> None:
        super().__init__(url_map)
        self.regex = items[0]


def test_converters(app: Kettle, client: KettleClient) -> None:
    app.url_map.converters["re"] = RegexConverter

    @app.route(r"/phone/<re('1[3-9]\d{9}'):mobile>")
    def phone(mobile: str) -> str:
        return f"phone {mobile}"

    @app.route("/user/<int:id>")
    def user(id: int) -> str:
        return f"user {id + 1}"

    @app.route("/files/<path:name>")
    def files(name: str) -> str:
        return f"file {name}"

    @app.route("/obj/<uuid:key>")
    def obj(key: uuid.UUID) -> str:
        return f"{type(key).__name__} {key}"

    @app.route("/color/<any('blue', 'white', 'red'):color>")
    def color(color: str) -> str:
        return color

    assert client.get("/phone/13812345678").text == "phone 13812345678"
    assert client.get("/phone/1381234567").status_code == 404
    assert client.get("/user/41").text == "user 42"
    assert client.get("/user/+41").status_code == 404
    assert client.get("/files/a/b/c.txt").text == "file a/b/c.txt"
    key = uuid.uuid4()
    assert client.get(f"/obj/{key}").text == f"UUID {key}"
    assert client.get("/color/red").text == "red"
    assert client.get("/color/green").status_code == 404
    assert client.get("/files/été x").text == "file été x"


def test_percent_encoded_path_is_decoded_before_routing(app: Kettle, client: KettleClient) -> None:
    @app.route("/files/<path:name>")
    def files(name: str) -> str:
        return f"file {name}"

    assert client.get("/files/%C3%A9t%C3%A9%20x").text == "file été x"


def test_request_rule_attributes(app: Kettle, client: KettleClient) -> None:
    @app.route("/post/<int:post_id>/<slug>")
    def post(post_id: int, slug: str) -> dict[str, Any]:
        return {
            "endpoint": request.endpoint,
            "rule": request.url_rule.rule if request.url_rule else None,
            "view_args": request.view_args,
        }

    assert client.get("/post/7/hello").get_json() == {
        "endpoint": "post",
        "rule": "/post/<int:post_id>/<slug>",
        "view_args": {"post_id": 7, "slug": "hello"},
    }


def test_405_with_allow_header(app: Kettle, client: KettleClient) -> None:
    @app.route("/item", methods=["GET", "POST"])
    def item() -> str:
        return request.method

    @app.route("/item", methods=["DELETE"], endpoint="delete_item")
    def delete_item() -> str:
        return "deleted"

    response = client.put("/item")
    assert response.status_code == 405
    assert response.headers["Allow"] == "DELETE, GET, HEAD, OPTIONS, POST"
    assert client.post("/item").text == "POST"
    assert client.delete("/item").text == "deleted"


def test_automatic_options_and_head(app: Kettle, client: KettleClient) -> None:
    @app.route("/thing/<int:id>", methods=["GET", "PUT"])
    def thing(id: int) -> str:
        return "thing body"

    response = client.options("/thing/1")
    assert response.status_code == 200
    assert response.headers["Allow"] == "GET, HEAD, OPTIONS, PUT"
    assert response.data == b""
    response = client.head("/thing/1")
    assert response.status_code == 200
    assert response.data == b""
    assert response.headers["Content-Length"] == str(len("thing body"))


def test_strict_slashes_redirect(app: Kettle, client: KettleClient) -> None:
    @app.route("/projects/")
    def projects() -> str:
        return "projects"

    @app.route("/about")
    def about() -> str:
        return "about"

    response = client.get("/projects?page=2")
    assert response.status_code == 308
    assert response.headers["Location"] == "http://localhost/projects/?page=2"
    assert client.get("/projects/").text == "projects"
    assert client.get("/about/").status_code == 404
    response = client.get("/about//", follow_redirects=False)
    assert response.status_code in (308, 404)


def test_merge_slashes_and_defaults_redirect(app: Kettle, client: KettleClient) -> None:
    @app.route("/users/", defaults={"page": 1})
    @app.route("/users/page/<int:page>")
    def users(page: int) -> str:
        return f"page {page}"

    assert client.get("/users/").text == "page 1"
    assert client.get("/users/page/3").text == "page 3"
    response = client.get("/users/page/1")
    assert response.status_code == 308
    assert response.headers["Location"] == "http://localhost/users/"
    response = client.get("/users//page/3")
    assert response.status_code == 308
    assert response.headers["Location"] == "http://localhost/users/page/3"


def test_url_for(app: Kettle, client: KettleClient) -> None:
    @app.route("/")
    def index() -> dict[str, str]:
        return {
            "user": url_for("user", id=5),
            "query": url_for("user", id=5, tab="posts", tags=["a", "b"]),
            "external": url_for("user", id=5, _external=True),
            "anchor": url_for("user", id=5, _anchor="top"),
            "files": url_for("files", name="a b/c"),
        }

    @app.route("/user/<int:id>")
    def user(id: int) -> str:
        return ""

    @app.route("/files/<path:name>")
    def files(name: str) -> str:
        return ""

    assert client.get("/").get_json() == {
        "user": "/user/5",
        "query": "/user/5?tab=posts&tags=a&tags=b",
        "external": "http://localhost/user/5",
        "anchor": "/user/5#top",
        "files": "/files/a%20b/c",
    }


def test_url_for_outside_a_request(app: Kettle) -> None:
    app.config.update(SERVER_NAME="example.com", PREFERRED_URL_SCHEME="https")

    @app.route("/user/<int:id>")
    def user(id: int) -> str:
        return ""

    with app.app_context():
        assert url_for("user", id=1) == "https://example.com/user/1"


def test_subdomain_routes(make_client: Any) -> None:
    app = Kettle(__name__, subdomain_matching=True)
    app.config["SERVER_NAME"] = "example.com"

    @app.route("/")
    def index() -> str:
        return "main " + url_for("api_index") + " " + url_for("user_home", user="ann")

    @app.route("/", subdomain="api")
    def api_index() -> str:
        return "api " + url_for("api_index") + " " + url_for("index")

    @app.route("/", subdomain="<user>")
    def user_home(user: str) -> str:
        return f"user {user}"

    client = make_client(app)
    assert client.get("http://example.com/").text == (
        "main http://api.example.com/ http://ann.example.com/"
    )
    assert client.get("http://api.example.com/").text == "api / http://example.com/"
    assert client.get("http://bob.example.com/").text == "user bob"
    # A host outside SERVER_NAME: the subdomain is "<invalid>", with Werkzeug's (and so
    # Flask's) warning.
    with pytest.warns(UserWarning, match="doesn't match configured server name 'example.com'"):
        assert client.get("http://10.0.0.1/").text == "user <invalid>"
    # A SERVER_NAME with the scheme's default port matches the host without it.
    app.config["SERVER_NAME"] = "example.com:443"
    assert client.get("https://api.example.com/").text == "api / https://example.com/"


def test_same_statuses_as_flask(app: Kettle, client: KettleClient) -> None:
    """A few routing outcomes side by side with a Flask app of the same routes."""
    flask_app = flask.Flask(__name__)

    for target in (app, flask_app):
        target.add_url_rule("/a/", "a", lambda: "a")
        target.add_url_rule("/b/<int:n>", "b", lambda n: str(n), methods=["POST"])
        target.add_url_rule("/c/<path:p>/edit", "c", lambda p: p)

    flask_client = flask_app.test_client()
    for method, path in [
        ("GET", "/a"),
        ("GET", "/a/"),
        ("GET", "/b/1"),
        ("POST", "/b/1"),
        ("POST", "/b/x"),
        ("OPTIONS", "/b/1"),
        ("GET", "/c/x/y/edit"),
        ("GET", "/c//edit"),
        ("GET", "/nope"),
    ]:
        ours = client.open(path, method=method)
        theirs = flask_client.open(path, method=method)
        assert ours.status_code == theirs.status_code, (method, path)
        assert ours.headers.get("Location") == theirs.headers.get("Location"), (method, path)
        # Flask's Allow order is a set's; kettle sorts it.
        allow = ours.headers.get("Allow")
        assert allow == ", ".join(sorted((theirs.headers.get("Allow") or "").split(", "))) or (
            allow is None and theirs.headers.get("Allow") is None
        ), (method, path)
        if ours.status_code == 200:
            assert ours.data == theirs.data


@pytest.mark.parametrize("path", ["/%FF%FE", "/%ED%A0%80", "/" + "a" * 10000, "/%00"])
def test_bad_paths_are_404(app: Kettle, client: KettleClient, path: str) -> None:
    @app.route("/<slug>/")
    def slug(slug: str) -> str:
        return slug

    assert client.get(path).status_code in (404, 308)

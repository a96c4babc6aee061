"""redirect_back / is_safe_url: only this site's URLs, whatever the encoding tricks."""

from __future__ import annotations

from typing import Any

import pytest

from kettle import Kettle, is_safe_url, redirect_back
from kettle.testing import KettleClient

UNSAFE = [
    "http://evil.com/",
    "https://evil.com",
    "//evil.com",
    "///evil.com",
    "/\\evil.com",
    "\\\\evil.com",
    "\\/evil.com",
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "ftp://localhost/x",
    "http:evil.com",
    "http:/evil.com",
    " //evil.com",
    "\t//evil.com",
    "/\t/evil.com",
    "\x00//evil.com",
    "%09//evil.com",
    "/%09/evil.com",
    "/%2F/evil.com",
    "/%5Cevil.com",
    "java%0d%0ascript:alert(1)",
    "http://localhost@evil.com/",
    "http://evil.com\\@localhost/",
    "https://localhost.evil.com/",
    "",
]
SAFE = [
    "/",
    "/account?tab=1",
    "profile",
    "http://localhost/x",
    "https://localhost/y#z",
    "http://trusted.example/ok",
]


@pytest.fixture
def routes(app: Kettle) -> Kettle:
    app.config["REDIRECT_ALLOWED_HOSTS"] = ["trusted.example"]

    @app.route("/")
    def index() -> Any:
        return "home"

    @app.route("/user/<name>")
    def user(name: str) -> Any:
        return name

    @app.route("/back", methods=["GET", "POST"])
    def back() -> Any:
        return redirect_back()

    @app.route("/back-user")
    def back_user() -> Any:
        return redirect_back("user", name="ann")

    @app.route("/check")
    def check() -> Any:
        from kettle import request

        return str(is_safe_url(request.args.get("target")))

    return app


@pytest.mark.parametrize("target", UNSAFE)
def test_unsafe_next_falls_back(routes: Kettle, client: KettleClient, target: str) -> None:
    rv = client.get("/back", query_string={"next": target})
    assert rv.status_code == 302
    assert rv.headers["Location"] == "/"
    assert client.get("/check", query_string={"target": target}).data == b"False"


@pytest.mark.parametrize("target", UNSAFE[:8])
def test_unsafe_referrer_and_form(routes: Kettle, client: KettleClient, target: str) -> None:
    assert client.get("/back", headers={"Referer": target}).headers["Location"] == "/"
    assert client.post("/back", data={"next": target}).headers["Location"] == "/"


@pytest.mark.parametrize("target", SAFE)
def test_safe_next_is_followed(routes: Kettle, client: KettleClient, target: str) -> None:
    rv = client.get("/back", query_string={"next": target})
    assert rv.headers["Location"] == target
    assert client.get("/check", query_string={"target": target}).data == b"True"


def test_order_next_then_form_then_referrer(routes: Kettle, client: KettleClient) -> None:
    rv = client.post(
        "/back?next=/from-args", data={"next": "/from-form"}, headers={"Referer": "/ref"}
    )
    assert rv.headers["Location"] == "/from-args"
    rv = client.post("/back", data={"next": "/from-form"}, headers={"Referer": "/ref"})
    assert rv.headers["Location"] == "/from-form"
    rv = client.get("/back", headers={"Referer": "http://localhost/ref"})
    assert rv.headers["Location"] == "http://localhost/ref"


def test_default_endpoint_with_values(routes: Kettle, client: KettleClient) -> None:
    assert client.get("/back-user").headers["Location"] == "/user/ann"


def test_is_safe_url_outside_a_request() -> None:
    assert is_safe_url("/local")
    assert not is_safe_url("http://example.com/")
    assert is_safe_url("http://example.com/", allowed_hosts=["example.com"])

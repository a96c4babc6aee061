"""Issue 13 items 6 and 7: no scheme-relative url_for, no 500 from a redirect target.

url_for never emits a path starting with ``//``; redirect() percent-encodes
whatever cannot appear in a header; is_safe_url compares the parsed,
normalised scheme, host and port. Under WSGI and ASGI.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kettle import Kettle, is_safe_url, redirect, redirect_back, url_for
from kettle.testing import KettleClient


@pytest.fixture
def pages(app: Kettle) -> Kettle:
    @app.route("/")
    def index() -> Any:
        return "home"

    @app.route("/<path:slug>")
    def page(slug: str) -> Any:
        return slug

    @app.route("/build")
    def build() -> Any:
        from kettle import request

        return redirect(url_for("page", slug=request.args["slug"]))

    @app.route("/back")
    def back() -> Any:
        return redirect_back()

    @app.route("/to")
    def to() -> Any:
        from kettle import request

        return redirect(request.args["target"])

    return app


# -- item 6 ---------------------------------------------------------------------


@pytest.mark.parametrize("slug", ["/evil.test", "//evil.test", "///evil.test/x", "/\\evil.test"])
def test_url_for_never_builds_a_scheme_relative_url(
    pages: Kettle, client: KettleClient, slug: str
) -> None:
    response = client.get("/build", query_string={"slug": slug})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/") and not location.startswith("//"), location
    assert location.lstrip("/").startswith(("evil.test", "%5Cevil.test"))
    # The built path is this site's page, not another host.
    assert client.get(location).status_code == 200


def test_url_for_keeps_inner_slashes(pages: Kettle) -> None:
    with pages.test_request_context("/"):
        assert url_for("page", slug="a//b") == "/a//b"
        assert url_for("page", slug="/evil.test", _external=True) == "http://localhost/evil.test"
    with pages.test_request_context("/", base_url="http://localhost/app"):
        assert url_for("page", slug="/evil.test") == "/app/evil.test"


# -- item 7 ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "http://localhost:%E3%80%82/",
        "http://localhost:\u3002/",
        "http://localhost:%EF%BC%98%EF%BC%90/",
        "http://local%00host/",
        "http://localhost\x0b/",
        "http://[::1/",
        "http://localhost:99999/",
    ],
)
def test_redirect_back_with_a_hostile_next_is_never_a_500(
    pages: Kettle, client: KettleClient, target: str
) -> None:
    response = client.get("/back", query_string={"next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize(
    ("target", "location"),
    [
        ("http://a\x00b/", "http://a%00b/"),
        ("http://a\x0bb/x", "http://a%0Bb/x"),
        ("http://good.test:\u3002/", "http://good.test:%E3%80%82/"),
        ("http://bücher.example/ä", "http://xn--bcher-kva.example/%C3%A4"),
        # The URL parser drops tab, CR and LF, as browsers and Werkzeug do.
        ("/p?q=a b\r\nSet-Cookie: x=1", "/p?q=a%20bSet-Cookie:%20x=1"),
        ("http://u\x7f@h/", "http://u%7F@h/"),
    ],
)
def test_redirect_percent_encodes_what_a_header_cannot_carry(
    pages: Kettle, client: KettleClient, target: str, location: str
) -> None:
    response = client.get("/to", query_string={"target": target})
    assert response.status_code == 302
    assert response.headers["Location"] == location
    assert "Set-Cookie" not in response.headers


def test_redirect_outside_a_request() -> None:
    assert redirect("http://a\x00b/").headers["Location"] == "http://a%00b/"


@pytest.mark.parametrize(
    ("target", "safe"),
    [
        ("http://localhost/x", True),
        ("http://LOCALHOST:80/x", True),
        ("https://localhost/x", True),  # an upgrade to https on the default port
        ("http://localhost:8080/x", False),  # another port is another origin
        ("http://localhost:%E3%80%82/", False),
        ("http://localhost:\u3002/", False),
        ("http://localhost:0080/", False),
        ("http://user@localhost/", False),
        ("http://trusted.example:8443/", True),  # listed without a port: any port
        ("http://pinned.example:8443/", True),
        ("http://pinned.example/", False),
        ("http://xn--bcher-kva.example/", True),
        ("http://bücher.example/", True),
        ("http://evil.test/", False),
    ],
)
def test_is_safe_url_compares_scheme_host_and_port(pages: Kettle, target: str, safe: bool) -> None:
    pages.config["REDIRECT_ALLOWED_HOSTS"] = [
        "trusted.example",
        "pinned.example:8443",
        "bücher.example",
    ]
    with pages.test_request_context("/"):
        assert is_safe_url(target) is safe


def test_https_request_refuses_an_http_target(pages: Kettle) -> None:
    with pages.test_request_context("/", base_url="https://localhost"):
        assert is_safe_url("https://localhost/x")
        assert not is_safe_url("http://localhost/x")


def _back_app() -> Kettle:
    app = Kettle("back")
    app.config["TESTING"] = True

    @app.route("/")
    def index() -> Any:
        return "home"

    @app.route("/back")
    def back() -> Any:
        return redirect_back()

    @app.route("/to")
    def to() -> Any:
        from kettle import request

        return redirect(request.args["target"])

    return app


@pytest.mark.parametrize("protocol", ["wsgi", "asgi"])
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    target=st.text(st.sampled_from(list("http:/\\@.:%?#[]éİ\u3002\x00\x0b\r\n \tab1")), max_size=30)
)
def test_any_target_redirects_with_a_printable_ascii_location(protocol: str, target: str) -> None:
    client = _back_app().test_client(protocol=protocol)
    for path, key in (("/back", "next"), ("/to", "target")):
        response = client.get(path, query_string={key: target})
        assert response.status_code == 302
        location = response.headers["Location"]
        assert location.isascii() and location.isprintable(), location

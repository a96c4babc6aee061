"""Set-Cookie: Werkzeug's exact format, safe quoting of hostile values, size warning."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from werkzeug.http import dump_cookie as werkzeug_dump_cookie
from werkzeug.http import parse_cookie as werkzeug_parse_cookie

from kettle import Kettle, Response
from kettle.http.cookies import dump_cookie, parse_cookie
from kettle.testing import KettleClient

CASES: list[tuple[tuple[Any, ...], dict[str, Any]]] = [
    (("a", "b"), {}),
    (("a", 'x y;z,"\\é\r\nSet-Cookie: evil=1'), {}),
    (("k", "v"), {"expires": datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)}),
    (("k", "v"), {"expires": 0, "max_age": 0}),
    (("k", "v"), {"path": "/a b", "domain": ".Example.com:80", "samesite": "strict"}),
    (("k", "v"), {"secure": True, "httponly": True, "samesite": "None", "partitioned": True}),
    (("k", "v"), {"path": None}),
]


@pytest.mark.parametrize(("args", "kwargs"), CASES)
def test_dump_cookie_matches_werkzeug(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    assert dump_cookie(*args, **kwargs) == werkzeug_dump_cookie(*args, **kwargs)


def test_hostile_value_round_trips_and_stays_in_one_header() -> None:
    value = 'a;b,c "d"\r\nSet-Cookie: x=1\x00ü'
    header = dump_cookie("k", value)
    assert "\r" not in header and "\n" not in header and "\x00" not in header
    assert header.count(";") == 1  # only the "; Path=/" separator
    assert werkzeug_parse_cookie(header.split("; Path")[0])["k"] == value
    ascii_value = 'a;b,c "d"\r\nSet-Cookie: x=1'
    assert parse_cookie(dump_cookie("k", ascii_value).split("; Path")[0])["k"] == ascii_value


def test_bad_samesite_and_key() -> None:
    with pytest.raises(ValueError, match="SameSite"):
        dump_cookie("k", "v", samesite="sometimes")
    with pytest.raises(ValueError):
        dump_cookie("a;b", "v")
    with pytest.raises(ValueError):
        dump_cookie("k", "v", domain="evil.com; Secure")


def test_set_and_delete_cookie_over_http(app: Kettle, client: KettleClient) -> None:
    @app.route("/set")
    def set_() -> Any:
        response = Response("ok")
        response.set_cookie("plain", "1")
        response.set_cookie(
            "timed", "2", max_age=timedelta(seconds=60), httponly=True, samesite="Lax"
        )
        response.set_cookie("unsafe", "a b;c\r\n")
        return response

    @app.route("/read")
    def read() -> Any:
        from kettle import request

        return f"{request.cookies.get('plain')}|{request.cookies.get('unsafe')!r}"

    @app.route("/delete")
    def delete() -> Any:
        response = Response("gone")
        response.delete_cookie("plain")
        return response

    rv = client.get("/set")
    cookies = rv.headers.getlist("Set-Cookie")
    assert cookies[0] == "plain=1; Path=/"
    assert cookies[1].startswith("timed=2; Expires=")
    assert cookies[1].endswith("; Max-Age=60; HttpOnly; Path=/; SameSite=Lax")
    assert cookies[2] == 'unsafe="a b\\073c\\015\\012"; Path=/'
    assert client.get("/read").get_data(as_text=True) == "1|'a b;c\\r\\n'"
    rv = client.get("/delete")
    assert (
        rv.headers["Set-Cookie"]
        == "plain=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/"
    )
    assert client.get_cookie("plain") is None


def test_large_cookie_warns(app: Kettle, client: KettleClient) -> None:
    @app.route("/")
    def index() -> Any:
        response = Response("big")
        response.set_cookie("big", "x" * 5000)
        return response

    with pytest.warns(UserWarning, match="cookie is too large"):
        client.get("/")


def test_vary_cache_control_and_etag_helpers() -> None:
    response = Response("body")
    response.vary.add("Cookie")
    response.vary.add("accept-encoding")
    response.vary.add("cookie")
    assert response.headers["Vary"] == "Cookie, accept-encoding"
    response.allow.update(["GET", "HEAD"])
    assert response.headers["Allow"] == "GET, HEAD"
    response.cache_control.public = True
    response.cache_control.max_age = 60
    assert response.headers["Cache-Control"] == "public, max-age=60"
    assert response.cache_control.max_age == 60
    response.cache_control.public = None
    assert response.headers["Cache-Control"] == "max-age=60"
    response.add_etag()
    etag, weak = response.get_etag()
    assert etag is not None and len(etag) == 40 and not weak
    response.set_etag("abc", weak=True)
    assert response.headers["ETag"] == 'W/"abc"'

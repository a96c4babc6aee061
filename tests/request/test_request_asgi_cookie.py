"""``request.cookie_header`` under ASGI: the Cookie fields the adapter read, as sent."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from kettle import Kettle, request, session
from kettle.http.headers import Headers
from kettle.testing import KettleClient
from kettle.wrappers import Request
from raw_asgi import asgi_request


def _cookie_app() -> Kettle:
    app = Kettle(__name__)
    app.config["SECRET_KEY"] = "test"

    @app.get("/raw")
    async def raw() -> Any:
        return {"raw": request.cookie_header, "cookies": dict(request.cookies)}

    @app.get("/headers")
    async def headers() -> Any:
        return {"header": request.headers.get("Cookie"), "raw": request.cookie_header}

    return app


def _get(app: Kettle, path: str, *cookies: bytes) -> Any:
    status, _, body = asyncio.run(
        asgi_request(app, path, headers=[(b"cookie", c) for c in cookies])
    )
    assert status == 200
    return json.loads(body)


def test_no_cookie_field_is_none() -> None:
    assert _get(_cookie_app(), "/raw") == {"raw": None, "cookies": {}}


def test_one_cookie_field_as_sent() -> None:
    assert _get(_cookie_app(), "/raw", b"a=1; b=2") == {
        "raw": "a=1; b=2",
        "cookies": {"a": "1", "b": "2"},
    }


def test_repeated_cookie_fields_are_joined_in_order() -> None:
    # HTTP/2 sends each cookie-pair as its own field (RFC 9113 8.2.3): joined by "; ".
    assert _get(_cookie_app(), "/raw", b"a=1", b"b=2", b"c=3")["raw"] == "a=1; b=2; c=3"


def test_an_empty_cookie_field_is_an_empty_header() -> None:
    assert _get(_cookie_app(), "/raw", b"") == {"raw": "", "cookies": {}}


def test_latin1_bytes_are_kept() -> None:
    assert _get(_cookie_app(), "/raw", "a=\xe9".encode("latin-1"))["raw"] == "a=\xe9"


def test_once_the_headers_are_built_they_answer() -> None:
    assert _get(_cookie_app(), "/headers", b"a=1") == {"header": "a=1", "raw": "a=1"}


def test_a_scope_set_by_hand_is_read() -> None:
    built = Request("GET", "/")
    built.scope = {"type": "http", "headers": [(b"cookie", b"x=1"), (b"cookie", b"y=2")]}
    assert built.cookie_header == "x=1; y=2"
    assert Request("GET", "/").cookie_header is None


def test_the_session_cookie_in_a_later_field_is_read(
    make_client: Callable[..., KettleClient],
) -> None:
    app = _cookie_app()

    @app.get("/set")
    async def set_value() -> Any:
        session["n"] = 7
        return "ok"

    @app.get("/read")
    async def read_value() -> Any:
        return {"n": session.get("n")}

    client = make_client(app)
    client.get("/set")
    name = app.config["SESSION_COOKIE_NAME"]
    value = client.get_cookie(name)
    assert value is not None
    saved = value.value.encode("latin-1")
    assert _get(app, "/read", b"other=1", b"%s=%s" % (name.encode(), saved)) == {"n": 7}
    assert client.get("/read").json == {"n": 7}


def test_repeated_cookie_fields_all_reach_request_cookies() -> None:
    # ``request.cookies`` reads the same joined header as the session, before and
    # after the headers are built.
    app = _cookie_app()

    @app.get("/both")
    async def both() -> Any:
        before = dict(request.cookies)
        return {
            "cookies": before,
            "header": request.headers.get("cookie"),
            "raw": request.cookie_header,
        }

    assert _get(app, "/raw", b"a=1", b"b=2")["cookies"] == {"a": "1", "b": "2"}
    assert _get(app, "/both", b"a=1", b"b=2") == {
        "cookies": {"a": "1", "b": "2"},
        "header": "a=1",
        "raw": "a=1; b=2",
    }
    built = Request("GET", "/", headers=Headers([("Cookie", "x=1"), ("Cookie", "y=2")]))
    assert built.cookie_header == "x=1; y=2"
    assert dict(built.cookies) == {"x": "1", "y": "2"}


def test_one_cookie_under_wsgi_and_asgi(make_client: Callable[..., KettleClient]) -> None:
    client = make_client(_cookie_app())
    answer = client.get("/raw", headers={"Cookie": "a=1; b=2"}).json
    assert answer == {"raw": "a=1; b=2", "cookies": {"a": "1", "b": "2"}}

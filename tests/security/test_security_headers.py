"""Issue 13 items 5 and 13: every header write goes through one validator.

CR, LF, NUL and the other control characters raise ValueError where the app
sets them, whatever the entry point; non-latin-1 text is RFC 8187-encoded
where the header defines that (Content-Disposition ``filename*``), else a
ValueError that says so. Nothing of it reaches the server: the client sees
the app's own 500, never a split response or a dropped connection.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest

from kettle import Kettle, Response, make_response, request, send_file
from kettle.http.headers import Headers
from kettle.testing import KettleClient

BAD_VALUES = [
    "text/html\r\nSet-Cookie: pwned=1",
    "text/html\nSet-Cookie: pwned=1",
    "text/html\rX: y",
    "a\x00b",
    "a\x0bb",
    "a\x1bb",
    "a\x7fb",
    "a\x1fb",
]
NON_LATIN1 = ["İ\u2028", "\u2028", "☃", "\U0001f600"]


def _writes() -> dict[str, Callable[[str], Any]]:
    def with_headers(action: Callable[[Headers, str], Any]) -> Callable[[str], Any]:
        return lambda value: action(Headers(), value)

    def cookie(value: str) -> Any:
        Response("x").set_cookie("k", "v", expires=value)

    return {
        "Response(mimetype=)": lambda value: Response("x", mimetype=value),
        "Response(content_type=)": lambda value: Response("x", content_type=value),
        "Response(headers=dict)": lambda value: Response("x", headers={"X-A": value}),
        "Response(headers=list)": lambda value: Response("x", headers=[("X-A", value)]),
        "response.mimetype =": lambda value: setattr(Response("x"), "mimetype", value),
        "response.content_type =": lambda value: setattr(Response("x"), "content_type", value),
        "response.location =": lambda value: setattr(Response("x"), "location", value),
        "set_cookie(expires=)": cookie,
        "Headers.set": with_headers(lambda h, v: h.set("X-A", v)),
        "Headers.add": with_headers(lambda h, v: h.add("X-A", v)),
        "Headers.add_header": with_headers(lambda h, v: h.add_header("X-A", v)),
        "Headers.__setitem__": with_headers(lambda h, v: h.__setitem__("X-A", v)),
        "Headers.setdefault": with_headers(lambda h, v: h.setdefault("X-A", v)),
        "Headers.setlist": with_headers(lambda h, v: h.setlist("X-A", ["ok", v])),
        "Headers.extend": with_headers(lambda h, v: h.extend({"X-A": v})),
        "Headers.update": with_headers(lambda h, v: h.update([("X-A", v)])),
        "Headers(...)": lambda value: Headers([("X-A", value)]),
        "Headers.set option": with_headers(lambda h, v: h.set("X-A", "x", opt=v)),
    }


@pytest.mark.parametrize("value", BAD_VALUES)
@pytest.mark.parametrize("entry", sorted(_writes()))
def test_control_characters_raise_where_the_app_sets_them(entry: str, value: str) -> None:
    if entry == "set_cookie(expires=)" or entry == "Headers.set option":
        value = value.replace("text/html", "Sun, 06 Nov 1994")
    with pytest.raises(ValueError, match="control character"):
        _writes()[entry](value)


@pytest.mark.parametrize("value", NON_LATIN1)
@pytest.mark.parametrize(
    "entry",
    sorted(
        name for name in _writes() if name not in ("Headers.set option", "set_cookie(expires=)")
    ),
)
def test_non_latin1_raises_a_clear_error(entry: str, value: str) -> None:
    with pytest.raises(ValueError, match="not latin-1"):
        _writes()[entry]("x" + value)


def test_cookie_expires_string_cannot_add_attributes() -> None:
    with pytest.raises(ValueError):
        Response("x").set_cookie("k", "v", expires="Sun; Domain=evil.test")
    with pytest.raises(ValueError):
        Response("x").set_cookie("k", "v", expires="İ\u2028")


@pytest.mark.parametrize("name", ["X A", "X:A", "", "X\r\nA", "X-İ", "X\x00"])
def test_bad_header_names_raise(name: str) -> None:
    with pytest.raises(ValueError, match="header name"):
        Headers().set(name, "v")


@pytest.mark.parametrize("status", ["200 OK\r\nSet-Cookie: a=b", "200 OK\x00", "200 İ", "²00 OK"])
def test_status_line_refuses_what_would_split_it(status: str) -> None:
    with pytest.raises(ValueError):
        Response("x", status=status)


def test_tab_and_latin1_text_are_allowed() -> None:
    headers = Headers([("X-A", "a\tb"), ("X-B", "café")])
    assert headers["X-A"] == "a\tb"
    assert headers["X-B"] == "café"


def test_non_ascii_parameter_gets_rfc_8187_encoding() -> None:
    headers = Headers()
    headers.set("Content-Disposition", "attachment", filename="İ\u2028 report.txt")
    assert headers["Content-Disposition"] == (
        "attachment; filename*=UTF-8''%C4%B0%E2%80%A8%20report.txt"
    )


# -- through the client: what the server sees -----------------------------------


@pytest.fixture
def echo_app(app: Kettle) -> Kettle:
    @app.get("/mimetype")
    def mimetype() -> Any:
        return Response("x", mimetype=request.args["m"])

    @app.get("/content-type")
    def content_type() -> Any:
        return Response("x", content_type=request.args["m"])

    @app.get("/send")
    def send() -> Any:
        return send_file(io.BytesIO(b"data"), mimetype=request.args["m"])

    @app.get("/cookie")
    def cookie() -> Any:
        response = make_response("x")
        response.set_cookie("k", "v", expires=request.args["m"])
        return response

    @app.get("/echo")
    def echo() -> Any:
        return "x", {"X-Echo": request.args["m"]}

    @app.get("/download")
    def download() -> Any:
        return send_file(io.BytesIO(b"data"), as_attachment=True, download_name=request.args["m"])

    return app


SPLIT = "text/html\r\nSet-Cookie: pwned=1"


@pytest.mark.parametrize("path", ["/mimetype", "/content-type", "/send", "/cookie", "/echo"])
@pytest.mark.parametrize("value", [SPLIT, "a\x00b", "a\x0bb", "İ\u2028"])
def test_injected_value_is_the_apps_500_not_a_split_response(
    echo_app: Kettle, client: KettleClient, path: str, value: str
) -> None:
    echo_app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.get(path, query_string={"m": value})
    assert response.status_code == 500
    assert "pwned" not in str(response.headers)
    assert all(v.isprintable() for _, v in response.headers)
    assert "Set-Cookie" not in response.headers


def test_non_latin1_download_name_is_encoded(echo_app: Kettle, client: KettleClient) -> None:
    response = client.get("/download", query_string={"m": "İ\u2028.txt"})
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=I.txt; filename*=UTF-8''%C4%B0%E2%80%A8.txt"
    )
    assert response.data == b"data"

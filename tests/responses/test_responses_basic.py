"""Responses: make_response forms, statuses, HEAD, streaming, JSON and redirects."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import uuid
from typing import Any

import pytest
import werkzeug.utils
from markupsafe import Markup

from kettle import Kettle, Response, jsonify, make_response, redirect
from kettle.testing import KettleClient


def test_make_response_forms(app: Kettle, client: KettleClient) -> None:
    @app.route("/str")
    def text() -> Any:
        return "hello"

    @app.route("/tuple3")
    def three() -> Any:
        return "made", 201, {"X-A": "1"}

    @app.route("/status-str")
    def status_str() -> Any:
        return "made", "201 CREATED"

    @app.route("/odd")
    def odd() -> Any:
        return "devil", 666

    @app.route("/headers")
    def headers() -> Any:
        return "h", [("X-B", "2")]

    @app.route("/helper")
    def helper() -> Any:
        response = make_response("body", 202)
        response.headers["X-C"] = "3"
        return response

    @app.route("/empty")
    def empty() -> Any:
        return make_response()

    rv = client.get("/str")
    assert rv.status_code == 200
    assert rv.headers["Content-Type"] == "text/html; charset=utf-8"
    assert rv.headers["Content-Length"] == "5"
    rv = client.get("/tuple3")
    assert (rv.status, rv.headers["X-A"], rv.data) == ("201 CREATED", "1", b"made")
    assert client.get("/status-str").status_code == 201
    rv = client.get("/odd")
    assert rv.status == "666 UNKNOWN"
    assert client.get("/headers").headers["X-B"] == "2"
    rv = client.get("/helper")
    assert (rv.status_code, rv.headers["X-C"], rv.data) == (202, "3", b"body")
    assert client.get("/empty").data == b""


def test_response_class_and_mimetype(app: Kettle, client: KettleClient) -> None:
    class MyResponse(Response):
        default_mimetype = "text/plain"

    app.response_class = MyResponse

    @app.route("/")
    def index() -> Any:
        return "plain"

    @app.route("/xml")
    def xml() -> Any:
        return Response("<a/>", mimetype="application/xml")

    assert client.get("/").headers["Content-Type"] == "text/plain; charset=utf-8"
    assert client.get("/xml").headers["Content-Type"] == "application/xml; charset=utf-8"


def test_response_class_default_status_applies_to_a_str_body(
    app: Kettle, client: KettleClient
) -> None:
    class Created(Response):
        default_status = 201

    app.response_class = Created

    @app.route("/")
    def index() -> Any:
        return "made"

    response = client.get("/")
    assert (response.status, response.data) == ("201 CREATED", b"made")
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"


def test_data_helpers() -> None:
    response = Response("abc")
    assert response.get_data() == b"abc"
    assert response.get_data(as_text=True) == "abc"
    response.set_data("héllo")
    assert response.data == "héllo".encode()
    assert response.content_length == 6
    response.data = b"x"
    assert response.headers["Content-Length"] == "1"


def test_generator_streams_and_head_has_no_body(app: Kettle, client: KettleClient) -> None:
    @app.route("/stream")
    def stream() -> Any:
        def generate() -> Any:
            yield "one,"
            yield "two"

        return generate()

    @app.route("/page")
    def page() -> Any:
        return "a page", {"X-Kept": "yes"}

    rv = client.get("/stream")
    assert rv.data == b"one,two"
    assert "Content-Length" not in rv.headers
    rv = client.head("/page")
    assert rv.data == b""
    assert rv.headers["X-Kept"] == "yes"
    assert rv.headers["Content-Length"] == "6"


@dataclasses.dataclass
class Point:
    """A dataclass for the JSON test."""

    x: int
    y: int


def test_json_responses(app: Kettle, client: KettleClient) -> None:
    @app.route("/dict")
    def as_dict() -> Any:
        return {"b": 1, "a": [1, 2]}

    @app.route("/list")
    def as_list() -> Any:
        return [1, "two"]

    @app.route("/args")
    def args() -> Any:
        return jsonify(1, 2)

    @app.route("/kwargs")
    def kwargs() -> Any:
        return jsonify(name="kettle")

    @app.route("/types")
    def types() -> Any:
        return jsonify(
            when=datetime.datetime(2024, 1, 2, 3, 4, 5),
            day=datetime.date(2024, 1, 2),
            id=uuid.UUID(int=1),
            price=decimal.Decimal("1.50"),
            point=Point(1, 2),
            html=Markup("<b>x</b>"),
            text="é",
        )

    rv = client.get("/dict")
    assert rv.headers["Content-Type"] == "application/json"
    assert rv.data == b'{"a":[1,2],"b":1}\n'
    assert client.get("/list").json == [1, "two"]
    assert client.get("/args").json == [1, 2]
    assert client.get("/kwargs").json == {"name": "kettle"}
    data = client.get("/types").get_data(as_text=True)
    assert '"when":"Tue, 02 Jan 2024 03:04:05 GMT"' in data
    assert '"day":"Tue, 02 Jan 2024 00:00:00 GMT"' in data
    assert '"id":"00000000-0000-0000-0000-000000000001"' in data
    assert '"price":"1.50"' in data
    assert '"point":{"x":1,"y":2}' in data
    assert '"html":"<b>x</b>"' in data
    assert '"text":"\\u00e9"' in data


def test_json_settings_and_errors(app: Kettle, client: KettleClient) -> None:
    @app.route("/circular")
    def circular() -> Any:
        loop: dict[str, Any] = {}
        loop["self"] = loop
        return loop

    @app.route("/unknown")
    def unknown() -> Any:
        return {"value": object()}

    @app.route("/deep")
    def deep() -> Any:
        return {"a": [[[{"b": None, "c": 1.5, "d": "ü"}]]], "2": "int key"}

    app.config["PROPAGATE_EXCEPTIONS"] = True
    with pytest.raises(ValueError, match="Circular reference detected"):
        client.get("/circular")
    with pytest.raises(TypeError, match="not JSON serializable"):
        client.get("/unknown")
    assert (
        client.get("/deep").data == b'{"2":"int key","a":[[[{"b":null,"c":1.5,"d":"\\u00fc"}]]]}\n'
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    assert (
        client.get("/deep").get_data(as_text=True)
        == '{"a":[[[{"b":null,"c":1.5,"d":"ü"}]]],"2":"int key"}\n'
    )
    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert client.get("/circular").status_code == 500
    assert client.get("/deep").status_code == 200  # The process keeps serving.


def test_json_is_indented_in_debug(app: Kettle, client: KettleClient) -> None:
    app.debug = True

    @app.route("/")
    def index() -> Any:
        return {"a": 1}

    assert client.get("/").data == b'{\n  "a": 1\n}\n'


def test_orjson_provider(app: Kettle, client: KettleClient) -> None:
    from kettle.json import OrjsonProvider

    app.json = OrjsonProvider(app)

    @app.route("/")
    def index() -> Any:
        return {"b": datetime.datetime(2024, 1, 2), "a": uuid.UUID(int=2)}

    rv = client.get("/")
    assert (
        rv.data
        == b'{"a":"00000000-0000-0000-0000-000000000002","b":"Tue, 02 Jan 2024 00:00:00 GMT"}\n'
    )


@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
def test_redirect_matches_werkzeug(app: Kettle, client: KettleClient, code: int) -> None:
    @app.route("/")
    def index() -> Any:
        return redirect("/target?a=1&b=<2>", code)

    rv = client.get("/")
    expected = werkzeug.utils.redirect("/target?a=1&b=<2>", code)
    assert rv.status_code == code
    assert rv.data == expected.get_data()
    assert rv.headers["Location"] == "/target?a=1&b=%3C2%3E"


def test_redirect_iri_and_control_characters(app: Kettle, client: KettleClient) -> None:
    @app.route("/iri")
    def iri() -> Any:
        return redirect("http://bücher.example/straße")

    @app.route("/crlf")
    def crlf() -> Any:
        return redirect("/next\r\nSet-Cookie: evil=1\x00")

    assert client.get("/iri").headers["Location"] == "http://xn--bcher-kva.example/stra%C3%9Fe"
    rv = client.get("/crlf")
    location = rv.headers["Location"]
    # The URL parser drops CR/LF (as browsers do); NUL is percent-encoded.
    assert location == "/nextSet-Cookie:%20evil=1%00"
    assert rv.headers.getlist("Set-Cookie") == []


def test_headers_refuse_crlf() -> None:
    response = Response("x")
    with pytest.raises(ValueError, match="CR, LF or NUL"):
        response.headers["X-Evil"] = "a\r\nSet-Cookie: b=c"
    with pytest.raises(ValueError):
        response.location = "/a\nb"

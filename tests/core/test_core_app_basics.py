"""The pipeline end to end under both adapters: URLs, return values, errors, bad input."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kettle import Kettle, Response, abort, make_response, request
from kettle.testing import KettleClient


def test_seed_example_url_attributes(app: Kettle, client: KettleClient) -> None:
    @app.route("/buy")
    def buy() -> dict[str, Any]:
        return {
            "name": request.args.get("name"),
            "path": request.path,
            "full_path": request.full_path,
            "host": request.host,
            "host_url": request.host_url,
            "base_url": request.base_url,
            "url": request.url,
            "url_root": request.url_root,
        }

    response = client.get("http://127.0.0.1:5000/buy?name=apple")
    assert response.status_code == 200
    assert response.get_json() == {
        "name": "apple",
        "path": "/buy",
        "full_path": "/buy?name=apple",
        "host": "127.0.0.1:5000",
        "host_url": "http://127.0.0.1:5000/",
        "base_url": "http://127.0.0.1:5000/buy",
        "url": "http://127.0.0.1:5000/buy?name=apple",
        "url_root": "http://127.0.0.1:5000/",
    }


@pytest.mark.parametrize(
    ("value", "status", "body", "content_type", "extra"),
    [
        ("text", 200, b"text", "text/html; charset=utf-8", {}),
        (b"raw", 200, b"raw", "text/html; charset=utf-8", {}),
        ({"a": 1}, 200, None, "application/json", {}),
        ([1, 2], 200, None, "application/json", {}),
        (("made", 201), 201, b"made", "text/html; charset=utf-8", {}),
        (("custom", "666 EVIL"), 666, b"custom", "text/html; charset=utf-8", {}),
        (("h", {"X-A": "1"}), 200, b"h", "text/html; charset=utf-8", {"X-A": "1"}),
        (("h", [("X-B", "2")]), 200, b"h", "text/html; charset=utf-8", {"X-B": "2"}),
        (("t", 202, {"X-C": "3"}), 202, b"t", "text/html; charset=utf-8", {"X-C": "3"}),
        (("t", 203, [("X-D", "4")]), 203, b"t", "text/html; charset=utf-8", {"X-D": "4"}),
        ((Response("r", mimetype="text/plain"), 418), 418, b"r", "text/plain; charset=utf-8", {}),
    ],
)
def test_view_return_values(
    app: Kettle,
    client: KettleClient,
    value: Any,
    status: int,
    body: bytes | None,
    content_type: str,
    extra: dict[str, str],
) -> None:
    @app.route("/")
    def index() -> Any:
        return value

    response = client.get("/")
    assert response.status_code == status
    assert response.headers["Content-Type"] == content_type
    if body is None:
        assert response.get_json() == value
    else:
        assert response.data == body
    for name, header in extra.items():
        assert response.headers[name] == header


def test_returned_response_object_and_make_response(app: Kettle, client: KettleClient) -> None:
    @app.route("/obj")
    def obj() -> Response:
        return Response("made by hand", status=201, headers={"X-Obj": "yes"})

    @app.route("/make")
    def make() -> Response:
        response = make_response("body", 202)
        response.headers["X-Made"] = "1"
        return response

    @app.route("/make-dict")
    def make_dict() -> Response:
        return make_response({"k": "v"})

    first = client.get("/obj")
    assert (first.status_code, first.data, first.headers["X-Obj"]) == (201, b"made by hand", "yes")
    second = client.get("/make")
    assert (second.status_code, second.data, second.headers["X-Made"]) == (202, b"body", "1")
    third = client.get("/make-dict")
    assert third.get_json() == {"k": "v"}
    assert third.mimetype == "application/json"


def test_streamed_generator_body(app: Kettle, client: KettleClient) -> None:
    @app.route("/stream")
    def stream() -> Any:
        def generate() -> Any:
            yield "one,"
            yield b"two"

        return generate()

    response = client.get("/stream")
    assert response.status_code == 200
    assert response.data == b"one,two"


def test_not_found_and_method_not_allowed(app: Kettle, client: KettleClient) -> None:
    @app.route("/only-post", methods=["POST"])
    def only_post() -> str:
        return "posted"

    missing = client.get("/nowhere")
    assert missing.status_code == 404
    assert b"Not Found" in missing.data
    assert missing.headers["Content-Type"] == "text/html; charset=utf-8"
    wrong = client.get("/only-post")
    assert wrong.status_code == 405
    assert set(wrong.headers["Allow"].split(", ")) == {"OPTIONS", "POST"}
    assert client.post("/only-post").data == b"posted"


def test_abort_in_a_view(app: Kettle, client: KettleClient) -> None:
    @app.route("/secret")
    def secret() -> str:
        abort(403, "members only")

    @app.route("/teapot")
    def teapot() -> str:
        abort(418)

    response = client.get("/secret")
    assert response.status_code == 403
    assert b"members only" in response.data
    assert client.get("/teapot").status_code == 418


def test_raising_view_gives_500_without_traceback(app: Kettle, client: KettleClient) -> None:
    app.config["TESTING"] = False
    app.logger.disabled = True  # The error is logged; keep the test output clean.

    @app.route("/boom")
    def boom() -> str:
        raise RuntimeError("secret internals")

    @app.route("/fine")
    def fine() -> str:
        return "fine"

    response = client.get("/boom")
    assert response.status_code == 500
    assert b"Internal Server Error" in response.data
    assert b"secret internals" not in response.data
    assert b"Traceback" not in response.data
    assert client.get("/fine").data == b"fine"


def test_header_injection_from_a_view_is_a_clean_500(app: Kettle, client: KettleClient) -> None:
    app.config["TESTING"] = False
    app.logger.disabled = True

    @app.route("/inject")
    def inject() -> Response:
        response = make_response("x")
        response.headers["X-Evil"] = "a\r\nSet-Cookie: pwned=1"
        return response

    @app.route("/inject-tuple")
    def inject_tuple() -> Any:
        return "x", {"X-Evil": "a\nb"}

    @app.route("/ok")
    def ok() -> str:
        return "ok"

    for url in ("/inject", "/inject-tuple"):
        response = client.get(url)
        assert response.status_code == 500
        assert b"Traceback" not in response.data
        assert "pwned" not in str(response.headers)
        assert "X-Evil" not in response.headers
    assert client.get("/ok").data == b"ok"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("a=1&&b=&=c&d", {"a": ["1"], "b": [""], "": ["c"], "d": [""]}),
        ("bad=%zz&half=%4&pct=%", {"bad": ["%zz"], "half": ["%4"], "pct": ["%"]}),
        ("inv=%ff%fe&ok=%E4%BD%A0", {"inv": ["%FF%FE"], "ok": ["你"]}),
        ("a=1;b=2", {"a": ["1;b=2"]}),
    ],
)
def test_malformed_query_strings_give_values(
    app: Kettle, client: KettleClient, query: str, expected: dict[str, list[str]]
) -> None:
    @app.route("/q")
    def q() -> dict[str, Any]:
        return request.args.to_dict(flat=False)

    response = client.get(f"/q?{query}")
    assert response.status_code == 200
    assert response.get_json() == expected


def test_invalid_percent_encoding_and_utf8_in_path(app: Kettle, client: KettleClient) -> None:
    @app.route("/p/<name>")
    def p(name: str) -> dict[str, str]:
        return {"name": name, "path": request.path}

    # PATH_INFO carries the raw path bytes as latin-1 characters (PEP 3333):
    # "\xff\xfe" is two bytes that are not UTF-8, "%zz" a bad escape a
    # server passes through undecoded.
    for raw, name in (("/p/\xff\xfe", "\ufffd\ufffd"), ("/p/%zz", "%zz"), ("/p/%", "%")):
        response = client.get("/", environ_overrides={"PATH_INFO": raw})
        assert response.status_code == 200, raw
        assert response.get_json()["name"] == name
    good = client.get("/p/你")
    assert good.status_code == 200
    assert good.get_json() == {"name": "你", "path": "/p/你"}


def test_missing_arg_is_a_400(app: Kettle, client: KettleClient) -> None:
    @app.route("/need")
    def need() -> str:
        return request.args["page"]

    response = client.get("/need")
    assert response.status_code == 400
    assert b"Bad Request" in response.data


def test_malformed_json_body_is_a_400(app: Kettle, client: KettleClient) -> None:
    @app.route("/j", methods=["POST"])
    def j() -> Any:
        return request.get_json()

    bad = client.post("/j", data=b"{not json", content_type="application/json")
    assert bad.status_code == 400
    good = client.post("/j", data=json.dumps({"a": 1}), content_type="application/json")
    assert good.get_json() == {"a": 1}

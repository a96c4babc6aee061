"""The WSGI adapter passes ``wsgiref.validate``: PEP 3333 to the letter."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any
from wsgiref.util import setup_testing_defaults
from wsgiref.validate import validator

import pytest

from kettle import Kettle, request


@pytest.fixture
def validated(app: Kettle) -> Any:
    @app.route("/")
    def index() -> str:
        return "hello"

    @app.route("/echo", methods=["POST"])
    def echo() -> dict[str, Any]:
        return {"form": request.form.to_dict(), "length": request.content_length}

    @app.route("/raw", methods=["PUT"])
    def raw() -> bytes:
        return request.get_data()

    @app.route("/stream")
    def stream() -> Any:
        def generate() -> Iterator[str]:
            for index in range(3):
                yield f"chunk{index};"

        return generate()

    return validator(app)


def call(wsgi: Any, method: str = "GET", path: str = "/", body: bytes = b"", **extra: str) -> tuple[str, dict[str, str], bytes]:
    environ: dict[str, Any] = {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": "", "SCRIPT_NAME": ""}
    if body:
        environ["CONTENT_LENGTH"] = str(len(body))
    environ.update(extra)
    environ["wsgi.input"] = io.BytesIO(body)
    setup_testing_defaults(environ)
    captured: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        captured["status"], captured["headers"] = status, dict(headers)
        return lambda data: None

    result = wsgi(environ, start_response)
    try:
        body_out = b"".join(result)
    finally:
        result.close()
    return captured["status"], captured["headers"], body_out


def test_get(validated: Any) -> None:
    status, headers, body = call(validated)
    assert status == "200 OK"
    assert body == b"hello"
    assert headers["Content-Length"] == "5"


def test_post_form_body(validated: Any) -> None:
    status, headers, body = call(
        validated, "POST", "/echo", b"a=1&b=two", CONTENT_TYPE="application/x-www-form-urlencoded"
    )
    assert status == "200 OK"
    assert headers["Content-Type"] == "application/json"
    assert b'"a":"1"' in body.replace(b" ", b"")
    assert b'"length":9' in body.replace(b" ", b"")


def test_put_raw_body(validated: Any) -> None:
    status, _, body = call(validated, "PUT", "/raw", b"\x00\x01binary")
    assert status == "200 OK"
    assert body == b"\x00\x01binary"


def test_head(validated: Any) -> None:
    status, headers, body = call(validated, "HEAD")
    assert status == "200 OK"
    assert body == b""
    assert headers["Content-Length"] == "5"


def test_not_found(validated: Any) -> None:
    status, _, body = call(validated, path="/missing")
    assert status == "404 NOT FOUND"
    assert b"Not Found" in body


def test_method_not_allowed(validated: Any) -> None:
    status, headers, _ = call(validated, "DELETE", "/echo")
    assert status == "405 METHOD NOT ALLOWED"
    assert "POST" in headers["Allow"]


def test_streaming_generator(validated: Any) -> None:
    status, headers, body = call(validated, path="/stream")
    assert status == "200 OK"
    assert body == b"chunk0;chunk1;chunk2;"
    assert "Content-Length" not in headers

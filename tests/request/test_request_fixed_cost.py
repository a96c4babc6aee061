"""What the fixed-cost cuts of the WSGI lane must not change (session 6).

The WSGI adapter no longer makes a headers function per request: an app's
request builds its headers from the environ it keeps, on first read. A
request closes the files of a form it parsed, and reads nothing else to
know that none were parsed.
"""

from __future__ import annotations

import io
from typing import Any

from kettle import Kettle, request
from kettle.http.files import FileStorage
from kettle.http.headers import Headers
from kettle.http.request import Request as CoreRequest
from kettle.testing import KettleClient
from kettle.wrappers import Request


class KeywordRequest(Request):
    """A request class with its own constructor (the adapter passes keywords)."""

    def __init__(self, method: str, path: str, **fields: Any) -> None:
        super().__init__(method, path, **fields)


def _headers_view(app: Kettle) -> None:
    @app.post("/headers")
    def headers() -> Any:
        return {
            "thing": request.headers.get("X-Thing"),
            "both": request.headers.getlist("X-Both"),
            "type": request.headers.get("Content-Type"),
            "length": request.headers.get("Content-Length"),
            "cookie": request.headers.get("Cookie"),
            "body": request.get_data(as_text=True),
        }


_EXPECTED = {
    "thing": "one",
    "both": ["a, b"],
    "type": "text/plain",
    "length": "5",
    "cookie": "k=v",
    "body": "hello",
}


def test_headers_are_read_on_first_use(app: Kettle, client: KettleClient) -> None:
    _headers_view(app)
    response = client.post(
        "/headers",
        data=b"hello",
        headers={"X-Thing": "one", "X-Both": "a, b", "Content-Type": "text/plain", "Cookie": "k=v"},
    )
    assert response.status_code == 200
    assert response.json == _EXPECTED


def test_a_request_class_with_its_own_init_reads_its_headers(
    app: Kettle, client: KettleClient
) -> None:
    app.request_class = KeywordRequest
    _headers_view(app)
    response = client.post(
        "/headers",
        data=b"hello",
        headers={"X-Thing": "one", "X-Both": "a, b", "Content-Type": "text/plain", "Cookie": "k=v"},
    )
    assert response.json == _EXPECTED


def test_a_request_context_from_an_environ_keeps_it_and_reads_its_headers(app: Kettle) -> None:
    with app.test_request_context("/p", headers={"X-Thing": "one"}) as ctx:
        environ = ctx.request.environ
        assert environ["HTTP_X_THING"] == "one"
        # Headers are built when first read, from the environ the request keeps.
        environ["HTTP_X_LATE"] = "two"
        assert request.headers["X-Thing"] == "one"
        assert request.headers["X-Late"] == "two"
        assert request.environ is environ


def test_a_werkzeug_style_environ_reaches_make_conditional(app: Kettle) -> None:
    with app.test_request_context("/", headers={"If-None-Match": '"abc"'}) as ctx:
        response = app.response_class("body")
        response.set_etag("abc")
        response.make_conditional(ctx.request.environ)
        assert response.status_code == 304


def test_a_core_request_without_headers_has_empty_ones() -> None:
    assert list(CoreRequest("GET", "/").headers.items()) == []
    assert list(CoreRequest("GET", "/", headers=None).headers.items()) == []
    calls: list[int] = []

    def factory() -> Headers:
        calls.append(1)
        return Headers([("X-A", "1")])

    built = CoreRequest("GET", "/", headers=factory)
    assert calls == []
    assert built.headers["X-A"] == "1"
    assert built.headers["X-A"] == "1"
    assert calls == [1]
    given = Headers([("X-B", "2")])
    assert CoreRequest("GET", "/", headers=given).headers is given


def test_close_closes_the_files_of_a_parsed_form_only() -> None:
    parsed = Request.from_values(
        "/up", method="POST", data={"doc": (io.BytesIO(b"hello"), "a.txt"), "name": "x"}
    )
    doc: FileStorage = parsed.files["doc"]
    assert parsed.form["name"] == "x"
    assert not doc.closed
    parsed.close()
    assert doc.closed

    untouched = Request.from_values("/up", method="POST", data=b"raw")
    untouched.close()  # Nothing parsed, nothing to close; the body is still there.
    assert untouched.get_data() == b"raw"


def test_a_stream_the_request_owns_is_closed_and_one_it_does_not_is_left_open() -> None:
    owned = io.BytesIO(b"x")
    CoreRequest("POST", "/", stream=owned, owns_stream=True).close()
    assert owned.closed
    borrowed = io.BytesIO(b"x")
    CoreRequest("POST", "/", stream=borrowed).close()
    assert not borrowed.closed


def test_uploaded_files_read_in_a_hook_are_closed_after_the_response(
    app: Kettle, client: KettleClient
) -> None:
    kept: list[FileStorage] = []

    @app.before_request
    def grab() -> None:
        if request.files:
            kept.append(request.files["doc"])

    @app.post("/up")
    def up() -> str:
        return "ok"

    response = client.post("/up", data={"doc": (io.BytesIO(b"hello"), "a.txt")})
    assert response.text == "ok"
    assert kept and kept[0].closed


class SettingRequest(Request):
    """A request class that watches its attribute writes."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "args":
            raise AssertionError("a cached value went through __setattr__")
        super().__setattr__(name, value)


def test_lazy_attributes_are_computed_once_and_kept_on_the_request(app: Kettle) -> None:
    for request_class in (Request, SettingRequest):
        app.request_class = request_class
        with app.test_request_context("/p?tag=a&tag=b") as ctx:
            built = ctx.request
            first = built.args
            assert first.getlist("tag") == ["a", "b"]
            assert built.args is first
            assert built.__dict__["args"] is first  # Stored on the instance, as before.
            del built.args  # Forgetting it computes it again on the next read.
            assert built.args is not first
            assert built.args.getlist("tag") == ["a", "b"]

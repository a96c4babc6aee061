"""What the adapters send for list bodies: bytes, and one right Content-Length, whatever was added.

A view's text gets its Content-Length when the response is made; headers
added after it (a hook's, the session's Set-Cookie and Vary) must not
hide it or make a second one, and chunks given as text go out as bytes.
Driven through the raw WSGI call and the raw ASGI call, not the test client.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from kettle import Kettle, Response, session
from raw_asgi import asgi_exchange, asgi_scope
from raw_wsgi import wsgi_environ

Sent = tuple[int, list[tuple[str, str]], bytes]


def send_wsgi(app: Kettle, path: str, method: str) -> Sent:
    started: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        started.append((int(status.split()[0]), list(headers)))

    chunks = list(app(wsgi_environ(path, method), start_response))
    assert all(type(chunk) is bytes for chunk in chunks)
    return started[0][0], started[0][1], b"".join(chunks)


def send_asgi(app: Kettle, path: str, method: str) -> Sent:
    scope = asgi_scope(path, method, headers=[(b"host", b"localhost")])
    status, pairs, body = asyncio.run(asgi_exchange(app, scope))
    return status, [(name.decode(), value.decode()) for name, value in pairs], body


@pytest.fixture
def send(protocol: str) -> Any:
    """``send(app, path, method="GET")``: status, header pairs and body as sent on the wire."""

    def sender(app: Kettle, path: str, method: str = "GET") -> Sent:
        return (send_wsgi if protocol == "wsgi" else send_asgi)(app, path, method)

    return sender


def lengths(headers: list[tuple[str, str]]) -> list[str]:
    return [value for name, value in headers if name.lower() == "content-length"]


def test_text_with_a_header_added_by_a_hook(app: Kettle, send: Any) -> None:
    app.add_url_rule("/", "index", lambda: "hé!")
    app.after_request(lambda response: (response.headers.add("X-Added", "1"), response)[1])
    status, headers, body = send(app, "/")
    assert status == 200
    assert body == "hé!".encode()
    assert lengths(headers) == ["4"]
    assert ("X-Added", "1") in headers
    assert headers[0] == ("Content-Type", "text/html; charset=utf-8")


def test_session_cookie_and_vary_after_the_length(app: Kettle, send: Any) -> None:
    def counter() -> str:
        session["n"] = session.get("n", 0) + 1
        return "counted"

    app.add_url_rule("/", "counter", counter)
    status, headers, body = send(app, "/")
    assert status == 200
    assert body == b"counted"
    assert lengths(headers) == ["7"]
    names = [name for name, _ in headers]
    assert "Set-Cookie" in names and ("Vary", "Cookie") in headers


def test_text_chunks_are_encoded_and_counted(app: Kettle, send: Any) -> None:
    app.add_url_rule("/", "index", lambda: Response(["hé", b"-", "x"]))
    app.after_request(lambda response: (response.headers.add("X-Added", "1"), response)[1])
    status, headers, body = send(app, "/")
    assert (status, body) == (200, "hé-x".encode())
    assert lengths(headers) == ["5"]


def test_one_text_chunk_with_a_length_at_the_second_place(app: Kettle, send: Any) -> None:
    # The length sits where a view's text puts it, but the one chunk is text: encoded.
    def view() -> Response:
        response = Response(["hé"], headers=[("Content-Type", "text/plain")])
        response.headers.add("Content-Length", "3")
        response.headers.add("X-After", "1")
        return response

    app.add_url_rule("/", "index", view)
    status, headers, body = send(app, "/")
    assert (status, body) == (200, "hé".encode())
    assert lengths(headers) == ["3"]


def test_byte_chunks_get_a_length(app: Kettle, send: Any) -> None:
    app.add_url_rule("/", "index", lambda: Response([b"ab", b"cd"]))
    status, headers, body = send(app, "/")
    assert (status, body, lengths(headers)) == (200, b"abcd", ["4"])


def test_data_replaced_by_a_hook_after_other_headers(app: Kettle, send: Any) -> None:
    def hook(response: Response) -> Response:
        response.headers.add("X-Added", "1")
        response.set_data("a longer body")
        return response

    app.add_url_rule("/", "index", lambda: "short")
    app.after_request(hook)
    status, headers, body = send(app, "/")
    assert (status, body, lengths(headers)) == (200, b"a longer body", ["13"])


def test_head_keeps_the_length_and_sends_no_body(app: Kettle, send: Any) -> None:
    app.add_url_rule("/", "index", lambda: "hello")
    app.after_request(lambda response: (response.headers.add("X-Added", "1"), response)[1])
    status, headers, body = send(app, "/", "HEAD")
    assert (status, body, lengths(headers)) == (200, b"", ["5"])


def test_a_304_sends_no_representation_metadata(app: Kettle, send: Any) -> None:
    # As Werkzeug sends it: ETag, Vary, Cache-Control, Expires and Content-Location stay;
    # Content-Type, Content-Encoding, Content-Length and Last-Modified describe no body here.
    @app.get("/")
    def index() -> Any:
        response = Response("a representation", mimetype="text/plain")
        response.headers.update(
            {"Content-Encoding": "gzip", "Last-Modified": "Wed, 21 Oct 2015 07:28:00 GMT",
             "Vary": "Accept-Encoding", "Cache-Control": "max-age=60",
             "Expires": "Wed, 21 Oct 2015 07:28:00 GMT", "Content-Location": "/a"}
        )  # fmt: skip
        response.status_code = 304
        return response

    status, headers, body = send(app, "/")
    assert (status, body) == (304, b"")
    assert sorted(name for name, _ in headers) == [
        "Cache-Control", "Content-Location", "Expires", "Vary",
    ]  # fmt: skip


def test_a_204_sends_no_content_length(app: Kettle, send: Any) -> None:
    # RFC 9110 8.6: a server MUST NOT send Content-Length in a 1xx or 204 response.
    app.add_url_rule("/", "index", lambda: ("", 204, {"X-Kept": "1"}))
    status, headers, body = send(app, "/")
    assert (status, body, lengths(headers)) == (204, b"", [])
    assert ("X-Kept", "1") in headers


def test_the_response_keeps_its_headers_after_a_304_is_sent(app: Kettle, send: Any) -> None:
    kept: list[list[tuple[str, str]]] = []

    @app.get("/")
    def index() -> Any:
        response = Response("x", status=304, mimetype="text/plain")
        kept.append(response.headers._list)
        return response

    send(app, "/")
    assert [name for name, _ in kept[0]] == ["Content-Type", "Content-Length"]

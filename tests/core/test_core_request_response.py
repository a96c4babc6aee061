"""Request and Response built from plain values: no app, no environ, no server."""

from __future__ import annotations

import io

import pytest
from flask import Response as FResponse
from werkzeug.test import EnvironBuilder as WEnvironBuilder
from werkzeug.wrappers import Request as WRequest

from kettle.http.headers import Headers
from kettle.http.request import Request
from kettle.http.response import Response

URL_ATTRIBUTES = ["path", "full_path", "host", "host_url", "base_url", "url", "url_root"]


def make_request(
    method: str = "GET",
    path: str = "/buy",
    query: bytes = b"name=apple",
    *,
    scheme: str = "http",
    server: tuple[str, int | None] | None = ("127.0.0.1", 5000),
    root_path: str = "",
    headers: list[tuple[str, str]] | None = None,
    body: bytes | None = None,
) -> Request:
    header_list = list(headers or [])
    if body is not None:
        header_list.append(("Content-Length", str(len(body))))
    return Request(
        method,
        path,
        scheme=scheme,
        server=server,
        root_path=root_path,
        query_string=query,
        headers=Headers(header_list),
        remote_addr="10.1.2.3",
        stream=io.BytesIO(body) if body is not None else None,
    )


def test_seed_example_urls() -> None:
    request = make_request()
    assert request.method == "GET"
    assert request.path == "/buy"
    assert request.full_path == "/buy?name=apple"
    assert request.host == "127.0.0.1:5000"
    assert request.host_url == "http://127.0.0.1:5000/"
    assert request.base_url == "http://127.0.0.1:5000/buy"
    assert request.url == "http://127.0.0.1:5000/buy?name=apple"
    assert request.url_root == "http://127.0.0.1:5000/"
    assert request.args["name"] == "apple"
    assert request.query_string == b"name=apple"
    assert request.remote_addr == "10.1.2.3"


@pytest.mark.parametrize(
    ("scheme", "server", "host_header", "root", "path", "query"),
    [
        ("http", ("127.0.0.1", 5000), None, "", "/buy", b"name=apple"),
        ("https", ("example.com", 443), None, "", "/", b""),
        ("http", ("example.com", 80), "example.com:80", "/app", "/x/y", b"a=1&b=%20"),
        ("http", ("localhost", 8000), "api.example.com", "/root", "/cafe", b"q=%26&r=a+b"),
        ("https", ("h", 8443), "h:8443", "", "/a b", b"x=1"),
    ],
)
def test_url_attributes_match_werkzeug(
    scheme: str,
    server: tuple[str, int],
    host_header: str | None,
    root: str,
    path: str,
    query: bytes,
) -> None:
    headers = [("Host", host_header)] if host_header else []
    ours = Request(
        "GET", path, scheme=scheme, server=server, root_path=root, query_string=query,
        host_header=host_header, headers=Headers(headers),
    )
    environ = WEnvironBuilder(
        path=path, base_url=f"{scheme}://{host_header or f'{server[0]}:{server[1]}'}{root}",
        query_string=query.decode("latin-1"),
    ).get_environ()
    if not host_header:
        environ.pop("HTTP_HOST", None)
        environ["SERVER_NAME"], environ["SERVER_PORT"] = server[0], str(server[1])
    theirs = WRequest(environ)
    for name in URL_ATTRIBUTES:
        assert getattr(ours, name) == getattr(theirs, name), name


def test_header_derived_attributes() -> None:
    request = make_request(
        "post",
        headers=[
            ("Host", "shop.example"),
            ("User-Agent", "Mozilla/5.0 test"),
            ("Referer", "http://ref.example/page"),
            ("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8"),
        ],
        body=b"a=1&b=2",
    )
    assert request.method == "POST"
    assert request.host == "shop.example"
    assert request.headers["user-agent"] == "Mozilla/5.0 test"
    assert request.user_agent.string == "Mozilla/5.0 test"
    assert request.referrer == "http://ref.example/page"
    assert request.content_type == "application/x-www-form-urlencoded; charset=UTF-8"
    assert request.mimetype == "application/x-www-form-urlencoded"
    assert request.mimetype_params == {"charset": "UTF-8"}
    assert request.content_length == 7
    assert request.get_data() == b"a=1&b=2"
    assert request.get_data() == b"a=1&b=2"  # Cached: the stream is read once.
    assert request.data == b"a=1&b=2"
    assert request.get_data(as_text=True) == "a=1&b=2"


def test_missing_headers_give_none_and_empty() -> None:
    request = make_request(headers=[])
    assert request.user_agent.string == ""
    assert request.referrer is None
    assert request.content_type is None
    assert request.mimetype == ""
    assert request.content_length is None
    assert request.get_data() == b""
    with pytest.raises(KeyError):
        request.headers["X-Nope"]


def test_invalid_content_length_is_none() -> None:
    request = make_request(headers=[("Content-Length", "abc")])
    assert request.content_length is None


def test_multi_valued_args_and_bad_encoding() -> None:
    request = make_request(query=b"tag=a&tag=b&bad=%zz&utf=%E4%BD%A0&inv=%ff")
    assert request.args.getlist("tag") == ["a", "b"]
    assert request.args["bad"] == "%zz"
    assert request.args["utf"] == "你"
    assert request.args["inv"] == "%FF"
    with pytest.raises(KeyError):
        request.args["missing"]


def test_json_body() -> None:
    request = make_request(
        "POST", headers=[("Content-Type", "application/json")], body=b'{"a": [1, 2]}'
    )
    assert request.is_json
    assert request.get_json() == {"a": [1, 2]}
    assert request.json == {"a": [1, 2]}


def test_response_defaults_match_flask() -> None:
    ours, theirs = Response("hello"), FResponse("hello")
    assert ours.status == theirs.status == "200 OK"
    assert ours.status_code == theirs.status_code == 200
    assert ours.mimetype == theirs.mimetype == "text/html"
    assert ours.content_type == theirs.content_type == "text/html; charset=utf-8"
    assert ours.data == theirs.data == b"hello"
    assert ours.get_data(as_text=True) == "hello"
    assert ours.headers["Content-Length"] == theirs.headers["Content-Length"] == "5"


def test_response_arguments() -> None:
    response = Response(b"{}", status=201, headers={"X-A": "1"}, mimetype="application/json")
    assert response.status == "201 CREATED"
    assert response.mimetype == "application/json"
    assert response.content_type == "application/json"
    assert response.headers["x-a"] == "1"
    text = Response("é", mimetype="text/plain")
    assert text.content_type == "text/plain; charset=utf-8"
    assert text.data == "é".encode()
    explicit = Response("x", content_type="text/csv; charset=latin-1")
    assert explicit.content_type == "text/csv; charset=latin-1"
    response.status_code = 404
    assert response.status == "404 NOT FOUND"
    response.set_data("changed")
    assert response.data == b"changed"
    assert response.headers["Content-Length"] == "7"


def test_iterable_body_streams() -> None:
    def generate() -> object:
        yield "a"
        yield b"b"
        yield "c"

    response = Response(generate())  # type: ignore[arg-type]
    assert response.is_streamed
    assert "Content-Length" not in response.headers
    assert response.get_data() == b"abc"
    assert response.get_data(as_text=True) == "abc"


def test_iter_encoded_reads_the_body_it_has_when_called() -> None:
    # Flask-Compress streams by ``response.response = wrap(response.iter_encoded())``: the
    # wrapper must read the old body, not itself ("generator already executing").
    def generate() -> object:
        yield "a"
        yield b"b"

    response = Response(generate())  # type: ignore[arg-type]
    chunks = response.iter_encoded()
    response.response = (chunk.upper() for chunk in chunks)
    assert response.get_data() == b"AB"


@pytest.mark.parametrize("protocol", ["wsgi", "asgi"])
def test_a_test_response_is_streamed_until_read_unless_buffered(protocol: str) -> None:
    # As Werkzeug's client: an unbuffered response's body is an iterator until read.
    from kettle import Kettle

    app = Kettle(__name__)
    app.add_url_rule("/", "index", lambda: "hi")
    client = app.test_client(protocol=protocol)
    response = client.get("/")
    assert response.is_streamed
    assert response.data == b"hi"
    assert not response.is_streamed and response.data == b"hi"
    buffered = client.get("/", buffered=True)
    assert not buffered.is_streamed and buffered.data == b"hi"


def test_core_request_takes_no_protocol_object() -> None:
    with pytest.raises(TypeError):
        Request("GET", "/", environ={})  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Request("GET", "/", scope={})  # type: ignore[call-arg]


def test_close_closes_only_a_stream_the_request_owns() -> None:
    server_owned, request_owned = io.BytesIO(b"a"), io.BytesIO(b"b")
    Request("POST", "/", stream=server_owned).close()
    Request("POST", "/", stream=request_owned, owns_stream=True).close()
    assert not server_owned.closed
    assert request_owned.closed

"""The C request builder (``kettle.adapters._builders``) makes what Python makes.

When built, each adapter builds its requests with a C ``Builder``: the usual
environ (scope) made into the request ``build_request`` (``scope_request``) and
``Request.__init__`` make, any other handed to the function itself. Here the C
and Python builds are given the same generated environs and scopes and must give
the same request (its whole ``__dict__``, in order), the same error, or the same
stores seen by a class's own ``__setattr__``; then a view reads the request
under WSGI and ASGI.
"""

from __future__ import annotations

import io
import os
from functools import partial
from types import FunctionType, SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kettle import Kettle, request
from kettle.adapters import asgi_request as asgi
from kettle.adapters import wsgi
from kettle.http.request import INIT_CONSTANTS
from kettle.http.request import Request as HTTPRequest
from kettle.testing import KettleClient
from kettle.wrappers import Request as AppRequest
from raw_wsgi import wsgi_environ

BUILT = wsgi._Builder is not None
needs_built = pytest.mark.skipif(
    not BUILT and not os.environ.get("CI"), reason="the C accelerators are not built here"
)

ABSENT = object()
STREAM = io.BytesIO(b"")
#: Each environ key's values: absent, usual, unusual, wrong in type.
VALUES: dict[str, list[Any]] = {
    "HTTP_HOST": [ABSENT, "", "example.com", "EXAMPLE.com:8080", "bad host", "é.com", None, 5],
    "SCRIPT_NAME": [ABSENT, "", "/app", "/app/", "///", "/cafÃ©", None, 3],
    "PATH_INFO": [ABSENT, "", "/", "/a/b", "//a", "a", "/cafÃ©", "/\u0100", 7],
    "QUERY_STRING": [ABSENT, "", "a=1&b=2", "é=1", "\u0100=x", None, b"a=1"],
    "REQUEST_METHOD": [ABSENT, "", "GET", "POST", "get", "PROPFIND", None, 3],
    "wsgi.url_scheme": [ABSENT, "http", "https", None],
    "REMOTE_ADDR": [ABSENT, "192.0.2.1", None],
    "wsgi.input": [ABSENT, STREAM, None],
    "wsgi.input_terminated": [ABSENT, True, False, 0, "yes"],
    "SERVER_NAME": [ABSENT, "localhost"],
    "SERVER_PORT": [ABSENT, "80", "x"],
}
ENVIRONS = st.fixed_dictionaries({key: st.sampled_from(values) for key, values in VALUES.items()})
PATH_INFOS = st.sampled_from([None, "", "/x", "//y", "/é", 9])


class Logged(AppRequest):
    """A request class that sees each store (its own ``__setattr__``)."""

    log: list[tuple[str, Any]] = []

    def __setattr__(self, name: str, value: Any) -> None:
        Logged.log.append((name, shown(value)))
        super().__setattr__(name, value)


class ReadOnlyMethod(HTTPRequest):
    """A request class whose ``method`` cannot be stored."""

    @property
    def method(self) -> str:  # type: ignore[override]
        return "GET"


class OwnInit(AppRequest):
    """A request class with an ``__init__`` of its own: never built in C."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.mine = True


CLASSES = st.sampled_from([HTTPRequest, AppRequest, Logged, ReadOnlyMethod, OwnInit])


def shown(value: Any) -> Any:
    """A value as compared: a headers factory (new each time) by its code or its arguments."""
    if isinstance(value, FunctionType):
        return ("function", value.__code__)
    if isinstance(value, partial):
        return ("partial", value.func, value.args)
    return value


def environ_of(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not ABSENT}


def outcome(build: Any, cls: type, environ: dict[str, Any], *args: Any) -> Any:
    """What a build gives: the request's type and fields in order, or the error."""
    Logged.log = []
    try:
        made = build(cls, environ, *args)
    except Exception as error:
        return ("raised", type(error).__name__, str(error), Logged.log)
    fields = [(name, shown(value)) for name, value in vars(made).items()]
    return ("made", type(made), fields, Logged.log)


@needs_built
@settings(max_examples=800, deadline=None)
@given(values=ENVIRONS, cls=CLASSES, keep=st.sampled_from([True, False, 1]), path=PATH_INFOS)
def test_c_builds_what_python_builds(
    values: dict[str, Any], cls: type, keep: Any, path: Any
) -> None:
    environ = environ_of(values)
    for args in ((keep, path), (keep,), ()):
        assert outcome(wsgi._build_request, cls, environ, *args) == outcome(
            wsgi.build_request, cls, environ, *args
        )


@needs_built
def test_the_usual_environ_is_built_in_c() -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("handed to the fallback")

    from kettle.adapters._builders import Builder

    build = Builder("wsgi", refuse, *INIT_CONSTANTS, wsgi._headers_factory)
    environ = wsgi_environ("/a/b", QUERY_STRING="x=1", SCRIPT_NAME="/app/")
    made = build(AppRequest, environ, True, "/a/b")
    assert (made.method, made.path, made.root_path, made.query_string) == (
        "GET", "/a/b", "/app", b"x=1",
    )  # fmt: skip
    assert made.environ is environ
    assert made.url == "http://localhost/app/a/b?x=1"
    with pytest.raises(AssertionError, match="fallback"):
        build(AppRequest, wsgi_environ("/cafÃ©"), True)  # A path to decode.
    with pytest.raises(AssertionError, match="fallback"):
        build(AppRequest, environ, True, "/a", keep=True)  # Keywords.


def test_the_builders_are_bound_when_built() -> None:
    assert (wsgi._build_request is wsgi.build_request) is not BUILT
    assert (asgi._scope_request is asgi.scope_request) is not (asgi._Builder is not None)


HEADER_NAMES = st.sampled_from(
    [b"host", b"content-length", b"transfer-encoding", b"cookie", b"content-type", b"accept",
     b"x-long-header-name", b"Host", "host"]
)  # fmt: skip
HEADER_VALUES = st.sampled_from([b"example.com", b"", b"12", b"a=1", b"caf\xc3\xa9", b"x y", "s"])
HEADER_LISTS = st.lists(
    st.tuples(HEADER_NAMES, HEADER_VALUES).map(
        lambda pair: pair if pair[0] != b"accept" else list(pair)
    ),
    max_size=6,
).map(lambda pairs: pairs if len(pairs) != 5 else tuple(pairs))
SCOPES = st.fixed_dictionaries(
    {
        "headers": st.one_of(HEADER_LISTS, st.just(ABSENT), st.just(None)),
        "root_path": st.sampled_from([ABSENT, "", "/app", "/app/", "/é", None, 1]),
        "scheme": st.sampled_from([ABSENT, "http", "https", "ws", "wss", None]),
        "query_string": st.sampled_from([ABSENT, b"", b"a=1", "a=1", None]),
        "client": st.sampled_from([ABSENT, ("192.0.2.1", 5000), ["192.0.2.2", 1], (), None, 7]),
    }
)
SCOPE_PATHS = st.sampled_from(["/", "/app/x", "/app", "/appx", "", "//x", "x", "/é", b"/x"])
SCOPE_METHODS = st.sampled_from(["GET", "get", "PROPFIND", "", b"GET"])


def scope_outcome(build: Any, cls: type, scope: dict[str, Any], method: Any, path: Any) -> Any:
    """What a scope build gives: the request's fields in order and the scan, or the error."""
    Logged.log = []
    try:
        made, *scanned = build(SimpleNamespace(request_class=cls), scope, method, path)
    except Exception as error:
        return ("raised", type(error).__name__, str(error), Logged.log)
    fields = [(name, shown(value)) for name, value in vars(made).items()]
    return ("made", type(made), fields, scanned, Logged.log)


@needs_built
@settings(max_examples=800, deadline=None)
@given(values=SCOPES, cls=CLASSES, method=SCOPE_METHODS, path=SCOPE_PATHS)
def test_c_builds_what_python_builds_from_a_scope(
    values: dict[str, Any], cls: type, method: Any, path: Any
) -> None:
    scope = environ_of(values)
    assert scope_outcome(asgi._scope_request, cls, scope, method, path) == scope_outcome(
        asgi.scope_request, cls, scope, method, path
    )


@needs_built
def test_the_usual_scope_is_built_in_c() -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("handed to the fallback")

    from kettle.adapters._builders import Builder

    build = Builder(
        "asgi", refuse, *INIT_CONSTANTS, partial(partial, asgi.headers_from_scope), asgi._HTTP_SCHEMES
    )
    headers = [
        (b"host", b"example.com"), (b"cookie", b"a=1"), (b"content-length", b"3"),
        (b"cookie", b"b=2"), (b"host", b"other"), (b"content-type", b"text/plain"),
    ]  # fmt: skip
    scope = {"type": "http", "headers": headers, "root_path": "/app", "query_string": b"q=1"}
    made, length, chunked, cookie = build(
        SimpleNamespace(request_class=AppRequest), scope, "GET", "/app/x"
    )
    assert (made.path, made.root_path, made.query_string, made.scope) == (
        "/x",
        "/app",
        b"q=1",
        scope,
    )
    assert (length, chunked, cookie) == ("3", False, "a=1; b=2")
    assert made._host_header == "\x00"  # Two Host fields: a 400 when the host is read.
    assert made.scope_content_type == b"text/plain"
    with pytest.raises(AssertionError, match="fallback"):
        build(SimpleNamespace(request_class=AppRequest), scope, "GET", "//x")  # To normalise.


def app_reading_the_request() -> Kettle:
    app = Kettle(__name__)

    @app.route("/<path:rest>", methods=["GET", "POST", "PROPFIND"])
    def show(rest: str) -> dict[str, Any]:
        return {
            "rest": rest,
            "method": request.method,
            "path": request.path,
            "root_path": request.root_path,
            "url": request.url,
            "host": request.host,
            "args": request.args.to_dict(),
            "remote_addr": request.remote_addr,
        }

    return app


def called(app: Kettle, environ: dict[str, Any]) -> tuple[str, bytes]:
    started: list[str] = []
    body = b"".join(app(environ, lambda status, headers, *_: started.append(status)))
    return started[0], body


@pytest.mark.parametrize("protocol", ["wsgi", "asgi"])
def test_a_view_reads_what_the_client_sent(protocol: str) -> None:
    client = KettleClient(app_reading_the_request(), protocol=protocol)
    response = client.get("/caf%C3%A9/x?q=1&q=2&z=", headers={"Host": "Example.com:8080"})
    assert response.status_code == 200
    assert response.json == {
        "rest": "café/x",
        "method": "GET",
        "path": "/café/x",
        "root_path": "",
        "url": "http://example.com:8080/caf%C3%A9/x?q=1&q=2&z=",
        "host": "example.com:8080",
        "args": {"q": "1", "z": ""},
        "remote_addr": "127.0.0.1",
    }
    propfind = client.open("/a", method="PROPFIND", base_url="https://localhost")
    assert propfind.json["method"] == "PROPFIND"
    assert propfind.json["url"] == "https://localhost/a"


def test_wsgi_environs_of_every_kind_are_served() -> None:
    app = app_reading_the_request()
    status, body = called(app, wsgi_environ("/a", SCRIPT_NAME="/mount/", QUERY_STRING="k=v"))
    assert status == "200 OK"
    assert b'"root_path":"/mount"' in body and b'"url":"http://localhost/mount/a?k=v"' in body
    lower = wsgi_environ("/a", "propfind")  # Upper-cased, as Werkzeug does.
    assert b'"method":"PROPFIND"' in called(app, lower)[1]
    no_host = wsgi_environ("/a", SERVER_NAME="example.org", SERVER_PORT="8000")
    del no_host["HTTP_HOST"]  # HTTP/1.0: the server's name and port.
    assert b'"host":"example.org:8000"' in called(app, no_host)[1]
    assert called(app, wsgi_environ("/a", HTTP_HOST="bad host"))[0] == "400 BAD REQUEST"
    assert b'"path":"/caf\\u00e9"' in called(app, wsgi_environ("/cafÃ©"))[1]
    assert b'"path":"/a"' in called(app, wsgi_environ("//a"))[1]


@pytest.mark.parametrize("built", [True, False])
def test_repeated_fields_are_joined_once(built: bool) -> None:
    if built and asgi._Builder is None and not os.environ.get("CI"):
        pytest.skip("the C accelerators are not built here")
    build = asgi._scope_request if built else asgi.scope_request
    headers = [(b"cookie", b"k%d=v" % i) for i in range(5000)]
    headers += [(b"content-length", b"7")] * 3
    scope = {"type": "http", "headers": headers}
    made, length, chunked, cookie = build(
        SimpleNamespace(request_class=AppRequest), scope, "GET", "/"
    )
    assert cookie == "; ".join(f"k{i}=v" for i in range(5000))
    assert made.scope_cookie_header == cookie
    assert (length, chunked) == ("7, 7, 7", False)

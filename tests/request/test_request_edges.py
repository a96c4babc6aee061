"""The edges of a request (session 9): what the shorter ways in and out must not change.

``app(environ, start_response)`` serves at once unless ``app.wsgi_app`` was
wrapped (WSGI middleware, before or after the first request) or a subclass
overrides it: then it goes through it, as Flask's ``__call__`` does.
``host_is_valid`` is stored when the request is built for a Host seen before,
and is the same answer as for a new one. ``Response.status`` and
``status_code`` keep their setters and their docs, and a class's own status
property is what the adapters send.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pytest

from kettle import Kettle, request
from kettle.http.request import Request as HTTPRequest
from kettle.testing import KettleClient
from kettle.typing import StartResponse, WSGIEnvironment
from kettle.wrappers import Response


def _environ(path: str = "/", host: str = "localhost") -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "HTTP_HOST": host,
        "wsgi.url_scheme": "http",
        "wsgi.input": None,
        "SERVER_NAME": "localhost",
    }


def _call(application: Callable[..., Iterable[bytes]], path: str = "/") -> tuple[str, bytes]:
    seen: list[str] = []

    def start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
        seen.append(status)

    body = b"".join(application(_environ(path), start_response))
    return seen[0], body


class Counting:
    """A WSGI middleware that counts the requests it sees and tags the response."""

    def __init__(self, wrapped: Callable[..., Iterable[bytes]]) -> None:
        self.wrapped = wrapped
        self.calls = 0

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        self.calls += 1
        return [b"<", *self.wrapped(environ, start_response), b">"]


def test_middleware_on_wsgi_app_is_called_before_and_after_the_first_request(app: Kettle) -> None:
    @app.get("/")
    def index() -> str:
        return "hi"

    early = Counting(app.wsgi_app)
    app.wsgi_app = early  # type: ignore[method-assign]
    assert _call(app) == ("200 OK", b"<hi>")
    assert early.calls == 1
    del app.wsgi_app  # Unwrapped: served at once again.
    assert _call(app) == ("200 OK", b"hi")
    late = Counting(app.wsgi_app)
    app.wsgi_app = late  # type: ignore[method-assign]  # After the first request.
    assert _call(app) == ("200 OK", b"<hi>")
    assert _call(app) == ("200 OK", b"<hi>")
    assert (early.calls, late.calls) == (1, 2)


def test_a_subclass_wsgi_app_is_called_for_every_request() -> None:
    calls: list[str] = []

    class Logged(Kettle):
        def wsgi_app(self, environ: WSGIEnvironment, start_response: StartResponse) -> Any:
            calls.append(environ["PATH_INFO"])
            return super().wsgi_app(environ, start_response)

    app = Logged(__name__)

    @app.get("/<name>")
    def hello(name: str) -> str:
        return f"hi {name}"

    assert _call(app, "/a") == ("200 OK", b"hi a")
    assert _call(app, "/b") == ("200 OK", b"hi b")
    assert calls == ["/a", "/b"]


def test_wsgi_app_served_directly_starts_serving_once(app: Kettle) -> None:
    started: list[str] = []

    @app.before_serving
    def start() -> None:
        started.append("up")

    @app.get("/")
    def index() -> str:
        return "hi"

    assert _call(app.wsgi_app) == ("200 OK", b"hi")  # A server given ``app.wsgi_app``.
    assert _call(app) == ("200 OK", b"hi")
    assert _call(app.wsgi_app) == ("200 OK", b"hi")
    assert started == ["up"]


def test_a_middleware_wrapping_the_app_itself_still_works(app: Kettle) -> None:
    @app.get("/")
    def index() -> str:
        return "hi"

    wrapped = Counting(app)
    assert _call(wrapped) == ("200 OK", b"<hi>")
    assert wrapped.calls == 1


@pytest.mark.parametrize("host", ["good.test:@evil.test", "localhost:99999"])
def test_a_bad_host_seen_again_is_refused_again(
    app: Kettle, client: KettleClient, host: str
) -> None:
    @app.get("/")
    def index() -> str:
        return request.host

    for _ in range(3):  # The first time parsed on first read, then from the checked cache.
        assert client.get("/", environ_overrides={"HTTP_HOST": host}).status_code == 400
    for _ in range(2):
        response = client.get("/", environ_overrides={"HTTP_HOST": "Good.Test:80"})
        assert (response.status_code, response.text) == (200, "good.test")


def test_host_is_valid_is_the_same_answer_from_the_cache_and_parsed() -> None:
    for host in ("edge9-new.test:8080", "edge9 bad.test"):
        first = HTTPRequest("GET", "/", host_header=host)  # Maybe parsed on first read.
        second = HTTPRequest("GET", "/", host_header=host)  # Known by now: stored.
        assert first.host_is_valid == second.host_is_valid == (" " not in host)
        assert first.host == second.host
    without = HTTPRequest("GET", "/", server=("example.test", 8000))
    assert without.host_is_valid and without.host == "example.test:8000"


def test_status_and_status_code_keep_their_setters_and_docs() -> None:
    response = Response("x")
    response.status = 404
    assert (response.status_code, response.status) == (404, "404 NOT FOUND")
    response.status = "299 Fine"
    assert (response.status_code, response.status) == (299, "299 FINE")
    response.status_code = 201
    assert response.status == "201 CREATED"
    with pytest.raises(TypeError):
        response.status = 1.5  # type: ignore[assignment]
    assert Response.status.__doc__ and Response.status_code.__doc__


def test_a_response_class_with_its_own_status_code_is_sent_as_it_says(
    app: Kettle, client: KettleClient, protocol: str
) -> None:
    class Upgraded(Response):
        @property
        def status_code(self) -> int:
            return 299 if self._status_code == 200 else self._status_code

        @status_code.setter
        def status_code(self, code: int) -> None:
            Response.status_code.fset(self, code)  # type: ignore[attr-defined]

        @property
        def status(self) -> str:
            return f"{self.status_code} UPGRADED"

        @status.setter
        def status(self, value: int | str) -> None:
            Response.status.fset(self, value)  # type: ignore[attr-defined]

    app.response_class = Upgraded

    @app.get("/")
    def index() -> str:
        return "hi"

    response = client.get("/")
    assert (response.status_code, response.text) == (299, "hi")
    if protocol == "wsgi":
        assert response.status == "299 UPGRADED"

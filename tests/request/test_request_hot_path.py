"""What the hot-path shortcuts must not change, under WSGI and ASGI.

A request class that keeps ``Request.__init__`` is built from positional
fields; one with its own ``__init__`` still gets them by keyword. The
proxies forward every attribute (a missing one is still the object's
AttributeError). ``g`` is made on first use but shared with an outer app
context of the same app. A 404 or 405 is answered by the app's handler
and after_request hooks when it has them.
"""

from __future__ import annotations

from typing import Any

import pytest

from kettle import Kettle, after_this_request, current_app, g, request
from kettle.testing import KettleClient
from kettle.wrappers import Request


class KeywordRequest(Request):
    """A request class with its own constructor, as an extension may write one."""

    def __init__(self, method: str, path: str, **fields: Any) -> None:
        super().__init__(method, path, **fields)
        self.seen_fields = sorted(fields)


def test_request_class_with_its_own_init_gets_keywords(app: Kettle, client: KettleClient) -> None:
    app.request_class = KeywordRequest

    @app.get("/fields")
    def fields() -> Any:
        assert isinstance(request._get_current_object(), KeywordRequest)
        return {
            "seen": request.seen_fields,
            "args": request.args.getlist("tag"),
            "host": request.host,
            "path": request.path,
            "remote_addr": request.remote_addr,
        }

    response = client.get("/fields?tag=a&tag=b")
    assert response.status_code == 200
    data = response.json
    assert data["args"] == ["a", "b"]
    assert data["host"] == "localhost"
    assert data["path"] == "/fields"
    assert data["remote_addr"] == "127.0.0.1"
    assert {"host_header", "headers", "query_string", "scheme"} <= set(data["seen"])


class NewRequest(Request):
    """A request class with its own ``__new__`` (it must still be called)."""

    def __new__(cls, *args: Any, **kwargs: Any) -> NewRequest:
        made = super().__new__(cls)
        made.made_by = "__new__"
        return made


class CountingMeta(type):
    """A metaclass whose ``__call__`` marks each instance it makes."""

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        made = super().__call__(*args, **kwargs)
        made.made_by = "metaclass"
        return made


class MetaRequest(Request, metaclass=CountingMeta):
    """A request class made through a metaclass's ``__call__``."""


@pytest.mark.parametrize("request_class", [NewRequest, MetaRequest])
def test_request_class_with_its_own_new_or_metaclass_is_called(
    app: Kettle, client: KettleClient, request_class: type[Request]
) -> None:
    app.request_class = request_class
    expected = "__new__" if request_class is NewRequest else "metaclass"

    @app.get("/made")
    def made() -> Any:
        return {"made_by": request.made_by, "path": request.path, "args": request.args["a"]}

    response = client.get("/made?a=1")
    assert response.json == {"made_by": expected, "path": "/made", "args": "1"}


def test_request_defaults_read_as_before(app: Kettle, client: KettleClient) -> None:
    @app.post("/plain")
    def plain() -> Any:
        return {
            "scheme": request.scheme,
            "root": request.root_path,
            "query": request.query_string.decode(),
            "body": request.get_data(as_text=True),
            "full_path": request.full_path,
        }

    response = client.post("/plain", data=b"hello")
    assert response.json == {
        "scheme": "http",
        "root": "",
        "query": "",
        "body": "hello",
        "full_path": "/plain?",
    }


def test_proxies_forward_attributes_and_missing_ones_raise(
    app: Kettle, client: KettleClient
) -> None:
    @app.get("/proxy")
    def proxy() -> Any:
        g.answer = 42
        with pytest.raises(AttributeError):
            _ = request.no_such_attribute
        with pytest.raises(AttributeError):
            _ = g.not_set
        return {
            "class": request.__class__.__name__,
            "is_request": isinstance(request, Request),
            "g": g.answer,
            "g_get": g.get("answer"),
            "app": current_app.name,
            "args": request.args.get("x"),
        }

    assert client.get("/proxy?x=1").json == {
        "class": "Request",
        "is_request": True,
        "g": 42,
        "g_get": 42,
        "app": app.name,
        "args": "1",
    }


def test_g_is_shared_with_an_outer_app_context(app: Kettle) -> None:
    seen: list[Any] = []

    @app.get("/g")
    def read_g() -> str:
        seen.append(g.get("outer"))
        g.inner = "set in the view"
        return "ok"

    with app.app_context():
        g.outer = "from the app context"
        with app.test_request_context("/g"):
            app.full_dispatch_request()
            assert g.inner == "set in the view"
        assert g.inner == "set in the view"  # The same g, as in Flask.
    assert seen == ["from the app context"]


def test_g_set_in_before_request_is_seen_in_teardown(app: Kettle, client: KettleClient) -> None:
    seen: list[Any] = []

    @app.before_request
    def remember() -> None:
        g.user = "ada"

    @app.teardown_request
    def teardown(error: BaseException | None) -> None:
        seen.append((g.get("user"), request.path))

    @app.get("/who")
    def who() -> str:
        return g.user

    assert client.get("/who").get_data(as_text=True) == "ada"
    assert seen == [("ada", "/who")]


@pytest.mark.parametrize(
    ("path", "method", "status"), [("/missing", "GET", 404), ("/only-post", "GET", 405)]
)
def test_routing_errors_reach_handlers_and_hooks(
    app: Kettle, client: KettleClient, path: str, method: str, status: int
) -> None:
    order: list[str] = []

    @app.post("/only-post")
    def only_post() -> str:
        return "posted"

    @app.errorhandler(status)
    def handle(error: Exception) -> Any:
        order.append("handler")
        return f"handled {status}", status

    @app.after_request
    def stamp(response: Any) -> Any:
        order.append("after")
        response.headers["X-After"] = "yes"
        return response

    response = client.open(path, method=method)
    assert response.status_code == status
    assert response.get_data(as_text=True) == f"handled {status}"
    assert response.headers["X-After"] == "yes"
    assert order == ["handler", "after"]


def test_hooks_added_after_a_first_request_run(app: Kettle, client: KettleClient) -> None:
    @app.get("/late")
    def late() -> str:
        @after_this_request
        def mark(response: Any) -> Any:
            response.headers["X-This"] = "1"
            return response

        return "late"

    assert client.get("/late").headers["X-This"] == "1"
    assert client.get("/missing").status_code == 404
    calls: list[str] = []
    # Flask refuses a decorator after the first request; the registries can still be
    # filled directly (extensions do), and what is in them runs.
    app.before_request_funcs.setdefault(None, []).append(lambda: calls.append("before"))
    app.teardown_request_funcs.setdefault(None, []).append(lambda e: calls.append("teardown"))
    response = client.get("/missing")
    assert response.status_code == 404
    assert calls == ["before", "teardown"]


# -- the 404/405 answered without the lifecycle when nothing observes it -----------
def test_unobserved_404_and_405_answers(app: Kettle, client: KettleClient) -> None:
    @app.post("/only-post")
    def only_post() -> str:
        return "posted"

    missing = client.get("/missing/path")
    assert missing.status_code == 404
    assert missing.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "<title>404 Not Found</title>" in missing.get_data(as_text=True)
    assert missing.headers["Content-Length"] == str(len(missing.get_data()))
    refused = client.get("/only-post")
    assert refused.status_code == 405
    assert refused.headers["Allow"] == "OPTIONS, POST"
    assert client.head("/missing/path").get_data() == b""


def test_signal_receivers_see_a_404_after_a_first_one(app: Kettle, client: KettleClient) -> None:
    from kettle.signals import (
        appcontext_popped,
        appcontext_pushed,
        request_finished,
        request_started,
        request_tearing_down,
    )

    assert client.get("/missing").status_code == 404
    for signal in (
        request_started,
        request_finished,
        request_tearing_down,
        appcontext_pushed,
        appcontext_popped,
    ):
        seen: list[str] = []

        def receiver(sender: Any, seen: list[str] = seen, **extra: Any) -> None:
            seen.append("signal")

        with signal.connected_to(receiver, app):
            assert client.get("/missing").status_code == 404
        assert seen == ["signal"], signal.name


def test_permanent_session_is_refreshed_on_a_404(app: Kettle, client: KettleClient) -> None:
    from kettle import session

    @app.get("/login")
    def login() -> str:
        session["user"] = 1
        session.permanent = True
        return ""

    client.get("/login")
    response = client.get("/missing")
    assert response.status_code == 404
    assert "session=" in response.headers["Set-Cookie"]
    assert response.headers["Vary"] == "Cookie"


def test_context_kept_by_the_test_client_on_a_404(app: Kettle, make_client: Any) -> None:
    with make_client(app) as client:
        assert client.get("/missing?x=1").status_code == 404
        assert request.path == "/missing"
        assert request.args["x"] == "1"


def test_debug_and_trapped_404s_take_the_lifecycle(app: Kettle, client: KettleClient) -> None:
    app.config["TRAP_HTTP_EXCEPTIONS"] = True
    app.testing = True
    from kettle.http.exceptions import NotFound

    with pytest.raises(NotFound):
        client.get("/missing")


def test_custom_converter_matches_inside_the_context_under_wsgi(app: Kettle) -> None:
    # WSGI matches inside the pushed context unless only Kettle's converters run in a
    # match (ASGI matches before it, to refuse a request before receiving its body).
    from kettle.routing.converters import BaseConverter

    class Upper(BaseConverter):
        def to_python(self, value: str) -> str:
            return f"{current_app.name}:{value.upper()}"

    app.url_map.converters["upper"] = Upper

    @app.get("/shout/<upper:word>")
    def shout(word: str) -> str:
        return word

    client = app.test_client(protocol="wsgi")
    assert client.get("/shout/hi").get_data(as_text=True) == f"{app.name}:HI"
    assert client.get("/nothing").status_code == 404


@pytest.mark.parametrize(
    ("server", "expected"),
    [(["10.0.0.5", 8080], "10.0.0.5:8080"), (("example.test", 443), "example.test:443")],
)
def test_asgi_request_without_host_uses_the_scope_server(
    app: Kettle, server: Any, expected: str
) -> None:
    import asyncio

    @app.get("/where")
    def where() -> Any:
        return {"host": request.host, "server": list(request.server or ())}

    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "method": "GET", "path": "/where", "query_string": b"", "scheme": "http",
        "headers": [], "server": server, "client": ("127.0.0.1", 1),
    }  # fmt: skip
    asyncio.run(app.asgi(scope, receive, send))
    assert sent[0]["status"] == 200
    import json

    assert json.loads(sent[1]["body"]) == {"host": expected, "server": list(server)}


def test_an_error_in_the_early_wsgi_match_is_answered_in_the_lifecycle(app: Kettle) -> None:
    # WSGI only: the early match (before the push) leaves an unexpected error to the
    # lifecycle, which matches again inside the context and answers it as before.
    app.testing = False
    seen: list[Any] = []

    @app.teardown_request
    def teardown(error: BaseException | None) -> None:
        seen.append(type(error).__name__ if error is not None else None)

    @app.errorhandler(500)
    def server_error(error: Any) -> Any:
        return f"handled {type(error.original_exception).__name__}", 500

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the map broke")

    app.url_map.match = broken  # type: ignore[method-assign]
    response = app.test_client(protocol="wsgi").get("/anything")
    assert response.status_code == 500
    assert response.get_data(as_text=True) == "handled RuntimeError"
    assert seen == ["RuntimeError"]


def test_hook_decorators_refuse_after_the_first_request_as_flask(
    app: Kettle, client: KettleClient
) -> None:
    assert client.get("/missing").status_code == 404
    with pytest.raises(AssertionError, match="first request"):
        app.before_request(lambda: None)
    with pytest.raises(AssertionError, match="first request"):
        app.errorhandler(404)(lambda error: ("mine", 404))
    assert client.get("/missing").status_code == 404


def test_a_404_handler_registered_before_the_first_request_answers(
    app: Kettle, client: KettleClient
) -> None:
    @app.errorhandler(404)
    def not_found(error: Any) -> Any:
        return "not here", 404

    for _ in range(2):
        response = client.get("/missing")
        assert response.status_code == 404
        assert response.get_data(as_text=True) == "not here"


def test_a_response_class_with_its_own_status_is_sent_as_it_says(app: Kettle) -> None:
    # WSGI sends the status line it reads from the class's ``status`` (a shortcut
    # reads the stored one only while the class keeps Kettle's property).
    from kettle.wrappers import Response

    class Shouting(Response):
        @property
        def status(self) -> str:
            return f"{self.status_code} SHOUTED"

        @status.setter
        def status(self, value: int | str) -> None:
            Response.status.fset(self, value)  # type: ignore[attr-defined]

    app.response_class = Shouting
    seen: list[str] = []

    @app.get("/")
    def index() -> str:
        return "hi"

    def start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
        seen.append(status)

    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "HTTP_HOST": "localhost"}
    environ |= {"wsgi.url_scheme": "http", "wsgi.input": None, "SERVER_NAME": "localhost"}
    assert b"".join(app(environ, start_response)) == b"hi"
    app.response_class = Response
    assert b"".join(app(environ, start_response)) == b"hi"
    assert seen == ["200 SHOUTED", "200 OK"]

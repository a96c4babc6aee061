"""The steps the pipeline runs as plain functions when nothing awaits, under WSGI and ASGI.

With no after-request function the response is finished without the
``finalize`` coroutine, with no teardown function without the ``teardown``
one, and the session is left alone when nothing opened it and no cookie
came. Hooks and receivers added straight into the registries after the
first request (as extensions do) are seen by the next request; a session
cookie is still refreshed; the ASGI adapter's cached header encodings give
each response its own Content-Length and Set-Cookie.
"""

from __future__ import annotations

from typing import Any

from kettle import Kettle, after_this_request, request, session
from kettle.signals import request_finished
from kettle.testing import KettleClient


def test_hooks_appended_after_the_first_request_run(app: Kettle, client: KettleClient) -> None:
    @app.get("/")
    def index() -> str:
        return "hello"

    assert client.get("/").headers.get("X-After") is None  # No hook yet: the plain steps.
    seen: list[Any] = []

    def after(response: Any) -> Any:
        response.headers["X-After"] = "yes"
        return response

    def teardown_request(error: BaseException | None) -> None:
        seen.append(("teardown_request", request.path, error))

    def teardown_appcontext(error: BaseException | None) -> None:
        seen.append(("teardown_appcontext", error))

    def finished(sender: Kettle, response: Any, **extra: Any) -> None:
        seen.append(("finished", response.status_code))

    app.after_request_funcs.setdefault(None, []).append(after)
    app.teardown_request_funcs.setdefault(None, []).append(teardown_request)
    app.teardown_appcontext_funcs.append(teardown_appcontext)
    with request_finished.connected_to(finished, app):
        response = client.get("/")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "hello"
    assert response.headers["X-After"] == "yes"
    assert seen == [
        ("finished", 200),
        ("teardown_request", "/", None),
        ("teardown_appcontext", None),
    ]


def test_after_this_request_runs_without_app_hooks(app: Kettle, client: KettleClient) -> None:
    @app.get("/")
    def index() -> str:
        @after_this_request
        def mark(response: Any) -> Any:
            response.headers["X-This"] = "1"
            return response

        return "hello"

    response = client.get("/")
    assert response.headers["X-This"] == "1"
    assert response.headers["Content-Length"] == "5"


def test_a_cookie_that_is_not_the_session_leaves_the_response_alone(
    app: Kettle, client: KettleClient
) -> None:
    @app.get("/")
    def index() -> str:
        return "hello"

    client.set_cookie("other", "1")
    response = client.get("/")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert "Vary" not in response.headers


def test_a_permanent_session_cookie_is_refreshed_by_a_view_that_ignores_it(
    app: Kettle, client: KettleClient
) -> None:
    @app.get("/login")
    def login() -> str:
        session.permanent = True
        session["user"] = "ada"
        return "in"

    @app.get("/plain")
    def plain() -> str:
        return "plain"

    assert "session=" in client.get("/login").headers["Set-Cookie"]
    response = client.get("/plain")
    assert "session=" in response.headers["Set-Cookie"]
    assert response.headers["Vary"] == "Cookie"
    app.config["SESSION_REFRESH_EACH_REQUEST"] = False
    assert "Set-Cookie" not in client.get("/plain").headers


def test_each_response_gets_its_own_length_and_cookie(app: Kettle, client: KettleClient) -> None:
    @app.get("/<int:size>")
    def sized(size: int) -> Any:
        response = app.make_response("x" * size)
        response.set_cookie("n", str(size))
        return response

    for size in (3, 12, 3, 250, 12):
        response = client.get(f"/{size}")
        assert response.headers["Content-Length"] == str(size)
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"
        assert response.headers["Set-Cookie"].startswith(f"n={size};")
        assert response.get_data() == b"x" * size


def test_after_this_request_from_make_response_runs(make_client: Any) -> None:
    class App(Kettle):
        def make_response(self, rv: Any) -> Any:
            response = super().make_response(rv)

            @after_this_request
            def mark(response: Any) -> Any:
                response.headers["X-From-Make-Response"] = "1"
                return response

            return response

    app = App(__name__)
    app.config["TESTING"] = True

    @app.get("/")
    def index() -> str:
        return "hello"

    response = make_client(app).get("/")
    assert response.get_data(as_text=True) == "hello"
    assert response.headers["X-From-Make-Response"] == "1"

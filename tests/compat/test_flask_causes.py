"""The causes that kept Flask extensions from running on Kettle, each fixed in Kettle itself.

Every test goes through the public API under WSGI and ASGI (the ``client``
fixture). Compatibility-mode behaviour (``import flask``, Werkzeug identity)
is tested in test_compat_mode.py, in child interpreters.
"""

from __future__ import annotations

import gc
import weakref
from pathlib import Path
from typing import Any

import pytest

from kettle import Kettle, Request, g, render_template, request, session
from kettle.globals import _cv_app, _cv_request, app_ctx, request_ctx
from kettle.http.datastructures import MultiDict
from kettle.sessions import SecureCookieSession
from kettle.testing import KettleClient


def test_imported_macro_sees_request_session_and_g(tmp_path: Path, protocol: str) -> None:
    # A macro imported without context (Bootstrap-Flask's render_nav_item) sees only the
    # environment's globals: request, session and g must be there, as in Flask.
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "macros.html").write_text(
        "{% macro where() %}{{ request.path }}|{{ session.get('user') }}|{{ g.theme }}"
        "{% endmacro %}"
    )
    (tmp_path / "templates" / "page.html").write_text(
        '{% import "macros.html" as m %}[{{ m.where() }}]'
    )
    app = Kettle("macros", root_path=str(tmp_path))
    app.config.update(SECRET_KEY="k")

    @app.route("/login")
    def login() -> str:
        session["user"] = "ann"
        return "ok"

    @app.route("/nav")
    def nav() -> str:
        g.theme = "dark"
        return render_template("page.html")

    client = app.test_client(protocol=protocol)
    client.get("/login")
    assert client.get("/nav").text == "[/nav|ann|dark]"


def test_default_context_processor_comes_first(app: Kettle, client: KettleClient) -> None:
    @app.context_processor
    def extra() -> dict[str, Any]:
        return {"who": "extension"}

    @app.route("/")
    def index() -> str:
        from kettle import render_template_string

        return render_template_string("{{ request.method }} {{ who }}")

    # As Flask: the default processor is first, an extension's own comes after it.
    assert app.template_context_processors[None][1] is extra
    assert client.get("/").text == "GET extension"


def test_extension_replacing_response_headers_with_a_multidict(
    app: Kettle, client: KettleClient
) -> None:
    @app.route("/")
    def index() -> str:
        session["seen"] = True
        return "body"

    @app.after_request
    def cors_like(response: Any) -> Any:
        # What Flask-Cors does when the headers are not Werkzeug's Headers class.
        response.headers = MultiDict(list(response.headers))
        response.headers.add("Access-Control-Allow-Origin", "*")
        response.headers.add("Vary", "Origin")
        return response

    rv = client.get("/")
    assert rv.status_code == 200
    assert rv.text == "body"
    assert rv.headers["Access-Control-Allow-Origin"] == "*"
    assert rv.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "Origin" in rv.headers["Vary"]
    assert "session=" in rv.headers["Set-Cookie"]  # the session is saved after the hook


def test_request_reuses_the_outer_app_context_of_the_same_app(
    app: Kettle, client: KettleClient
) -> None:
    seen: dict[str, Any] = {}

    @app.route("/")
    def index() -> str:
        seen["app_ctx"] = app_ctx._get_current_object()
        seen["cv_app"] = _cv_app.get(None)
        seen["g"] = g.marker
        return "ok"

    with app.app_context() as outer:
        g.marker = "outer"
        assert client.get("/").text == "ok"
    # Flask-SQLAlchemy keys its scoped session on this object: it must be the outer one.
    assert seen["app_ctx"] is outer
    assert seen["cv_app"] is outer
    assert seen["g"] == "outer"


def test_request_without_outer_context_has_its_own_app_context(
    app: Kettle, client: KettleClient
) -> None:
    seen: list[Any] = []

    @app.route("/")
    def index() -> str:
        seen.append(app_ctx._get_current_object())
        return "ok"

    client.get("/")
    client.get("/")
    assert seen[0] is not seen[1]


def test_cv_request_view(app: Kettle) -> None:
    assert _cv_request.get(None) is None
    with pytest.raises(LookupError):
        _cv_request.get()
    with app.test_request_context("/x") as ctx:
        assert _cv_request.get(None) is ctx
        assert _cv_app.get() is ctx
    with app.app_context() as actx:
        assert _cv_request.get(None) is None
        assert _cv_app.get(None) is actx


def test_proxies_forward_class_for_isinstance(app: Kettle, client: KettleClient) -> None:
    @app.route("/")
    def index() -> str:
        return (
            f"{isinstance(session, SecureCookieSession)} {isinstance(request, app.request_class)}"
        )

    assert client.get("/").text == "True True"
    # Outside a context the proxy is itself, and says so.
    assert isinstance(session, SecureCookieSession) is False
    assert repr(session) == "<LocalProxy unbound>"


def test_app_context_proxy_is_a_context_manager(app: Kettle) -> None:
    with app.app_context() as outer:
        inner = app_ctx.__enter__()  # Flask's tests push the current context again this way
        assert inner is outer
        app_ctx.__exit__(None, None, None)
        assert _cv_app.get() is outer


def test_session_pop_of_a_missing_key_changes_nothing(app: Kettle, client: KettleClient) -> None:
    @app.route("/login")
    def login() -> str:
        session["user"] = "ann"
        return "in"

    @app.route("/")
    def index() -> str:
        # Flask-Login does this on every request.
        session.pop("_remember", None)
        session.setdefault("user", "other")
        return str(session.modified)

    @app.route("/logout")
    def logout() -> str:
        session.pop("user", None)
        return str(session.modified)

    first = client.get("/login")
    assert "session=" in first.headers["Set-Cookie"]
    rv = client.get("/")
    assert rv.text == "False"
    assert "Set-Cookie" not in rv.headers  # the cookie is not re-sent
    rv = client.get("/logout")
    assert rv.text == "True"
    assert "session=;" in rv.headers["Set-Cookie"]


def test_request_server(app: Kettle, client: KettleClient) -> None:
    @app.route("/")
    def index() -> str:
        return repr(request.server)

    assert client.get("/").text == "('localhost', 80)"
    assert client.get("/", base_url="https://example.com:8443").text == "('example.com', 8443)"


def test_test_client_cookie_objects(app: Kettle, client: KettleClient) -> None:
    from datetime import UTC, datetime, timedelta

    @app.route("/set")
    def set_() -> Any:
        rv = app.make_response("set")
        rv.set_cookie(
            "remember", "ann|sig", max_age=60, secure=True, httponly=True, samesite="Strict"
        )
        rv.set_cookie("plain", "1")
        rv.set_cookie("chip", "p", partitioned=True)  # an attribute SimpleCookie rejects
        return rv

    @app.route("/forget")
    def forget() -> Any:
        rv = app.make_response("gone")
        rv.delete_cookie("remember")
        return rv

    @app.route("/echo/<path:rest>")
    def echo(rest: str) -> str:
        return ",".join(f"{k}={v}" for k, v in sorted(request.cookies.items()))

    client.get("/set")
    cookie = client.get_cookie("remember")
    assert cookie is not None
    assert (cookie.key, cookie.decoded_value, cookie.domain, cookie.path) == (
        "remember",
        "ann|sig",
        "localhost",
        "/",
    )
    assert cookie.max_age == 60
    assert cookie.expires is not None
    assert timedelta(seconds=50) < cookie.expires - datetime.now(UTC) <= timedelta(seconds=61)
    assert (cookie.secure, cookie.http_only, cookie.same_site) == (True, True, "Strict")
    plain = client.get_cookie("plain")
    assert plain is not None
    assert (plain.expires, plain.max_age, plain.secure, plain.http_only) == (
        None,
        None,
        False,
        False,
    )

    chip = client.get_cookie("chip")
    assert chip is not None and chip.secure  # Partitioned implies Secure

    client.get("/forget")
    assert client.get_cookie("remember") is None

    # set_cookie takes response.set_cookie's keywords, as Werkzeug's test client does.
    client.set_cookie(
        "k",
        "v",
        path="/echo/sub",
        secure=True,
        httponly=True,
        samesite="Lax",
        max_age=timedelta(minutes=5),
    )
    stored = client.get_cookie("k", path="/echo/sub")
    assert stored is not None
    assert (stored.secure, stored.http_only, stored.same_site, stored.max_age) == (
        True,
        True,
        "Lax",
        300,
    )
    assert client.get("/echo/sub/x").text == "chip=p,k=v,plain=1"
    assert client.get("/echo/other").text == "chip=p,plain=1"
    client.set_cookie("old", "x", expires=datetime(2000, 1, 1, tzinfo=UTC))
    assert client.get_cookie("old") is None


def test_error_handlers_replaced_by_an_extension(app: Kettle, client: KettleClient) -> None:
    # Flask-RESTful wraps both methods by assignment and answers errors of its own routes.
    from functools import partial

    from kettle import abort, jsonify

    def router(original: Any, e: Exception) -> Any:
        if request.path.startswith("/api/"):
            code = getattr(e, "code", 500)
            return jsonify(error=type(e).__name__, code=code), code
        return original(e)

    app.config["PROPAGATE_EXCEPTIONS"] = False
    app.handle_user_exception = partial(router, app.handle_user_exception)  # type: ignore[method-assign]
    app.handle_exception = partial(router, app.handle_exception)  # type: ignore[method-assign]

    @app.route("/api/item")
    def api_item() -> str:
        abort(404)

    @app.route("/api/boom")
    def api_boom() -> str:
        raise KeyError("x")

    @app.route("/page")
    def page() -> str:
        abort(403)

    @app.errorhandler(403)
    def forbidden(e: Exception) -> Any:
        return "no entry", 403

    rv = client.get("/api/item")
    assert (rv.status_code, rv.get_json()) == (404, {"error": "NotFound", "code": 404})
    rv = client.get("/api/boom")
    assert rv.status_code == 500
    assert rv.get_json() == {"error": "KeyError", "code": 500}
    rv = client.get("/page")
    assert (rv.status_code, rv.text) == (403, "no entry")  # the original handler still runs
    assert client.get("/api/missing").status_code == 404  # a routing 404 goes through it too
    assert client.get("/api/missing").get_json() == {"error": "NotFound", "code": 404}


def test_error_class_derived_from_a_werkzeug_error_elsewhere(make_client: Any) -> None:
    # Flask-WTF's CSRFError(BadRequest), with real Werkzeug's BadRequest (the mode off).
    # Werkzeug comes with Flask in the dev extra: this runs wherever the suite does.
    import werkzeug.exceptions as werkzeug_exceptions

    class CSRFError(werkzeug_exceptions.BadRequest):  # type: ignore[misc, name-defined]
        description = "The CSRF token is missing."

    class OtherError(werkzeug_exceptions.Forbidden):  # type: ignore[misc, name-defined]
        pass

    def make_app(with_handler: bool) -> Kettle:
        app = Kettle("csrf")

        @app.route("/csrf", methods=["POST"])
        def csrf() -> str:
            raise CSRFError()

        @app.route("/other")
        def other() -> str:
            raise OtherError("not yours")

        if with_handler:

            @app.errorhandler(CSRFError)
            def on_csrf(e: Exception) -> Any:
                return f"handled {type(e).__name__}", 400

        return app

    client = make_client(make_app(False))
    rv = client.post("/csrf")
    assert rv.status_code == 400
    assert "The CSRF token is missing." in rv.text
    rv = client.get("/other")
    assert rv.status_code == 403
    assert "not yours" in rv.text

    client = make_client(make_app(True))
    assert client.post("/csrf").text == "handled CSRFError"
    assert client.get("/other").status_code == 403  # not every 4xx went to that handler


def test_debughelpers_form_data_routing_redirect(
    app: Kettle, client: KettleClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kettle.debughelpers import DebugFilesKeyError, FormDataRoutingRedirect
    from kettle.routing import RequestRedirect

    app.debug = True

    @app.route("/user/", methods=["GET", "POST"])
    def user() -> str:
        return request.form["status"]

    @app.route("/upload", methods=["POST"])
    def upload() -> str:
        return request.files["f"].filename or ""

    # Kettle's routing redirect is a 308: the body is kept, nothing to explain.
    rv = client.post("/user", data={"status": "ok"}, follow_redirects=True)
    assert rv.text == "ok"
    monkeypatch.setattr(RequestRedirect, "code", 301)
    with pytest.raises(FormDataRoutingRedirect) as info:
        client.post("/user", data={"status": "lost"})
    assert "canonical URL 'http://localhost/user/'" in str(info.value)
    assert "trailing slash" in str(info.value) or "slash" in str(info.value)
    assert client.get("/user").status_code == 301  # GET is redirected as usual
    # A file field sent without multipart: the debug-mode KeyError says why.
    with pytest.raises(DebugFilesKeyError) as files_info:
        client.post("/upload", data={"f": "report.pdf"})
    assert "multipart/form-data" in str(files_info.value)
    assert "'report.pdf'" in str(files_info.value)


def test_create_url_adapter(app: Kettle, client: KettleClient) -> None:
    from kettle.http.exceptions import MethodNotAllowed, NotFound

    @app.route("/items/<int:item_id>", methods=["PUT"])
    def item(item_id: int) -> str:
        return "put"

    @app.route("/probe/<path:target>")
    def probe(target: str) -> str:
        # What Flask-RESTful's error router does: does this URL belong to a known route?
        adapter = app.create_url_adapter(request)
        assert adapter is not None
        try:
            endpoint, args = adapter.match("/" + target)
        except MethodNotAllowed as e:
            rule, args = adapter.match("/" + target, method=e.valid_methods[0], return_rule=True)
            return f"405 {rule.endpoint} {args}"
        except NotFound:
            return "404"
        return f"{endpoint} {args}"

    assert client.get("/probe/items/3").text == "405 item {'item_id': 3}"
    assert client.get("/probe/nothing").text == "404"
    assert client.get("/probe/probe/x").text == "probe {'target': 'x'}"
    with app.app_context():
        assert app.create_url_adapter(None) is None
    app.config.update(SERVER_NAME="example.com", APPLICATION_ROOT="/app")
    adapter = app.create_url_adapter(None)
    assert adapter is not None
    assert adapter.build("item", {"item_id": 5}, force_external=True) == (
        "http://example.com/app/items/5"
    )


def test_static_host_misuse_is_a_value_error_and_an_assertion_error() -> None:
    # Flask's check is an assert; Kettle's error satisfies code expecting either.
    for kwargs in ({"static_host": "static.test"}, {"host_matching": True}):
        with pytest.raises(ValueError, match="static_host") as info:
            Kettle("hosts", **kwargs)
        assert isinstance(info.value, AssertionError)


def test_fresh_app_is_freed_by_reference_counting(protocol: str) -> None:
    gc.disable()
    try:
        app = Kettle("freed")
        assert app.view_functions["static"]
        ref = weakref.ref(app)
        del app
        assert ref() is None
    finally:
        gc.enable()
    # The static view and the JSON provider still reach their app while it lives.
    app = Kettle("freed", static_folder=str(Path(__file__).parent), static_url_path="/static")
    client = app.test_client(protocol=protocol)
    rv = client.get("/static/test_flask_causes.py")
    assert rv.status_code == 200
    assert b"def test_fresh_app_is_freed_by_reference_counting" in rv.data
    with app.app_context():
        assert app.json.response({"a": 1}).get_json() == {"a": 1}


def test_reentering_the_request_contexts_in_a_view_keeps_the_teardowns(
    app: Kettle, client: KettleClient
) -> None:
    # Flask's test_context_refcounts: `with app_ctx: with request_ctx:` inside the view
    # must not make the request forget that it owns its app context.
    called = []
    app.teardown_request(lambda exc=None: called.append("request"))
    app.teardown_appcontext(lambda exc=None: called.append("app"))

    @app.route("/reenter")
    def reenter() -> str:
        with app_ctx, request_ctx:
            pass
        return "ok"

    assert client.get("/reenter").text == "ok"
    assert called == ["request", "app"]


def test_form_limits_outside_an_app_context_are_werkzeugs(app: Kettle) -> None:
    # Flask: outside an app context the request uses Werkzeug's defaults; inside, the config.
    app.config.update(MAX_FORM_MEMORY_SIZE=50, MAX_FORM_PARTS=3)
    req = Request.from_values("/", method="POST", data={"a": "b"})
    assert (req.max_form_memory_size, req.max_form_parts) == (500_000, 1_000)
    with app.app_context():
        assert (req.max_form_memory_size, req.max_form_parts) == (50, 3)


def test_request_ctx_session_reads_without_marking_access(app: Kettle, client: KettleClient) -> None:
    """``request_ctx._session`` (Flask's private name, read by tests) opens without access."""
    @app.post("/")
    def store() -> str:
        session["value"] = request.form["value"]
        return "set"

    @app.get("/nothing")
    def nothing() -> str:
        return ""

    with client:
        rv = client.get("/nothing")
        assert "cookie" not in rv.headers.get("Vary", "").lower()
        assert not request_ctx._session.accessed
        assert not request_ctx._session.modified
    with client:
        rv = client.post("/", data={"value": "42"})
        assert "cookie" in rv.headers["Vary"].lower()
        assert request_ctx._session.accessed
        assert request_ctx._session.modified
    with client:
        rv = client.get("/nothing")
        assert "cookie" not in rv.headers.get("Vary", "").lower()
        assert not request_ctx._session.accessed  # opened from the cookie, not used
        assert not request_ctx._session.modified


def test_status_code_given_as_text(app: Kettle, client: KettleClient) -> None:
    # flask-openapi3 sets response.status_code = "422" (a str): Werkzeug reads it as a status.
    @app.get("/invalid")
    def invalid() -> Any:
        response = app.make_response("bad")
        response.status_code = "422"  # type: ignore[assignment]
        assert (response.status_code, response.status) == (422, "422 UNPROCESSABLE ENTITY")
        return response

    assert client.get("/invalid").status_code == 422


def test_session_replaced_through_the_contexts_private_attribute(
    app: Kettle, client: KettleClient
) -> None:
    # Flask-SocketIO gives each connection its own session: request_ctx._session = its own.
    @app.get("/own")
    def own() -> Any:
        request_ctx._session = SecureCookieSession({"user": "managed"})
        return {"user": session.get("user")}

    assert client.get("/own").json == {"user": "managed"}


def test_client_private_helpers_flask_socketio_calls(app: Kettle, client: KettleClient) -> None:
    # Flask-SocketIO's test client builds its environ through these (Werkzeug's and Flask's).
    @app.get("/login")
    def login() -> Any:
        session["user"] = "ada"
        return ""

    client.get("/login")
    made = client._request_from_builder_args((), {"path": "/socket.io", "headers": {"X-A": "1"}})
    environ = made.environ
    assert (environ["PATH_INFO"], environ["HTTP_X_A"]) == ("/socket.io", "1")
    assert environ["HTTP_USER_AGENT"] == client.environ_base["HTTP_USER_AGENT"]
    client._add_cookies_to_wsgi(environ)
    assert environ["HTTP_COOKIE"].startswith("session=")
    client.delete_cookie("session")
    client._add_cookies_to_wsgi(environ)
    assert "HTTP_COOKIE" not in environ

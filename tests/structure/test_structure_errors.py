"""Error handlers, abort, the 500 page, and Flask's propagation/trap settings."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

from kettle import Kettle, Response, abort, request
from kettle.http.exceptions import (
    BadRequestKeyError,
    Forbidden,
    HTTPException,
    InternalServerError,
    NotFound,
    default_exceptions,
)
from kettle.testing import KettleClient


@pytest.fixture
def live_app(app: Kettle) -> Kettle:
    """An app that renders errors as in production (TESTING off)."""
    app.config["TESTING"] = False
    return app


def test_errorhandler_by_code(live_app: Kettle, make_client: Callable[..., KettleClient]) -> None:
    @live_app.errorhandler(404)
    def not_found(e: NotFound) -> tuple[str, int]:
        return f"custom {e.code}", 404

    response = make_client(live_app).get("/missing")
    assert (response.status_code, response.text) == (404, "custom 404")


@pytest.mark.parametrize("code", sorted(default_exceptions))
def test_abort_every_code(live_app: Kettle, make_client: Callable[..., KettleClient], code: int) -> None:
    @live_app.route("/")
    def index() -> str:
        abort(code, description=f"described {code}")

    response = make_client(live_app).get("/")
    assert response.status_code == code
    assert f"<p>described {code}</p>" in response.text
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    import flask
    import werkzeug.exceptions

    if code in werkzeug.exceptions.default_exceptions:  # the same page as Flask's
        reference = flask.Flask("reference")

        @reference.route("/")
        def reference_index() -> str:
            flask.abort(code, description=f"described {code}")

        expected = reference.test_client().get("/")
        assert (response.status_code, response.data) == (expected.status_code, expected.data)


def test_abort_418_and_response(live_app: Kettle, make_client: Callable[..., KettleClient]) -> None:
    @live_app.route("/tea")
    def tea() -> str:
        abort(418)

    @live_app.route("/custom")
    def custom() -> str:
        abort(Response("made by hand", status=409, headers={"X-Why": "conflict"}))

    client = make_client(live_app)
    response = client.get("/tea")
    assert response.status_code == 418
    assert "I&#39;m a teapot" in response.text
    response = client.get("/custom")
    assert (response.status_code, response.text, response.headers["X-Why"]) == (
        409, "made by hand", "conflict",
    )
    with pytest.raises(LookupError):
        abort(299)


def test_most_specific_class_wins(live_app: Kettle, make_client: Callable[..., KettleClient]) -> None:
    class AppError(Exception):
        pass

    class DbError(AppError):
        pass

    class LockError(DbError):
        pass

    live_app.register_error_handler(AppError, lambda e: ("app error", 500))

    @live_app.errorhandler(DbError)
    def db_error(e: DbError) -> tuple[str, int]:
        return f"db error {type(e).__name__}", 503

    @live_app.route("/<kind>")
    def fail(kind: str) -> str:
        raise {"app": AppError, "db": DbError, "lock": LockError}[kind]()

    client = make_client(live_app)
    assert client.get("/app").text == "app error"
    assert (client.get("/db").status_code, client.get("/db").text) == (503, "db error DbError")
    assert client.get("/lock").text == "db error LockError"


def test_code_handler_beats_class_handler_and_exception_catches_http(
    live_app: Kettle, make_client: Callable[..., KettleClient]
) -> None:
    @live_app.errorhandler(Exception)
    def everything(e: Exception) -> tuple[str, int]:
        code = e.code if isinstance(e, HTTPException) else 500
        return f"generic {code}", code or 500

    @live_app.errorhandler(403)
    def forbidden(e: Forbidden) -> tuple[str, int]:
        return "forbidden handler", 403

    @live_app.route("/<int:code>")
    def fail(code: int) -> str:
        abort(code)

    client = make_client(live_app)
    assert client.get("/403").text == "forbidden handler"
    assert client.get("/401").text == "generic 401"
    assert client.get("/nope").text == "generic 404"


def test_register_error_handler_misuse(app: Kettle) -> None:
    with pytest.raises(ValueError, match="not a recognized HTTP error code"):
        app.register_error_handler(299, lambda e: "")
    with pytest.raises(TypeError, match="is an instance, not a class"):
        app.register_error_handler(ValueError(), lambda e: "")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not a subclass of Exception"):
        app.register_error_handler(str, lambda e: "")  # type: ignore[arg-type]


def test_unhandled_error_is_a_plain_500_and_logged(
    live_app: Kettle, make_client: Callable[..., KettleClient]
) -> None:
    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Collect()
    live_app.logger.addHandler(handler)
    live_app.logger.propagate = False

    @live_app.route("/boom")
    def boom() -> str:
        raise RuntimeError("secret internals")

    try:
        response = make_client(live_app).get("/boom")
    finally:
        live_app.logger.removeHandler(handler)
    assert response.status_code == 500
    assert "Internal Server Error" in response.text
    assert "secret internals" not in response.text
    assert "Traceback" not in response.text
    assert [r.getMessage() for r in records] == ["Exception on /boom [GET]"]
    assert records[0].exc_info is not None and records[0].exc_info[0] is RuntimeError


def test_500_handler_gets_original_exception(
    live_app: Kettle, make_client: Callable[..., KettleClient]
) -> None:
    live_app.logger.disabled = True

    @live_app.errorhandler(500)
    def server_error(e: InternalServerError) -> tuple[str, int]:
        return f"500 from {type(e.original_exception).__name__}", 500

    @live_app.route("/")
    def index() -> str:
        raise ZeroDivisionError()

    response = make_client(live_app).get("/")
    assert (response.status_code, response.text) == (500, "500 from ZeroDivisionError")


def test_testing_and_propagate_exceptions(app: Kettle, make_client: Callable[..., KettleClient]) -> None:
    @app.route("/")
    def index() -> str:
        raise ZeroDivisionError()

    client = make_client(app)
    with pytest.raises(ZeroDivisionError):  # TESTING=True propagates, as Flask
        client.get("/")
    app.config.update(TESTING=False, PROPAGATE_EXCEPTIONS=True)
    with pytest.raises(ZeroDivisionError):
        client.get("/")
    app.config["PROPAGATE_EXCEPTIONS"] = False
    app.config["TESTING"] = True
    app.logger.disabled = True
    assert client.get("/").status_code == 500


def test_trap_http_exceptions(live_app: Kettle, make_client: Callable[..., KettleClient]) -> None:
    live_app.config["PROPAGATE_EXCEPTIONS"] = True

    @live_app.route("/")
    def index() -> str:
        abort(403)

    client = make_client(live_app)
    assert client.get("/").status_code == 403
    live_app.config["TRAP_HTTP_EXCEPTIONS"] = True
    with pytest.raises(Forbidden):
        client.get("/")


def test_trap_bad_request_errors(live_app: Kettle, make_client: Callable[..., KettleClient]) -> None:
    @live_app.route("/", methods=["POST"])
    def index() -> str:
        return str(request.form["missing"])

    client = make_client(live_app)
    response = client.post("/", data={"other": "1"})
    assert response.status_code == 400
    assert "missing" not in response.text  # the key is only shown in debug
    live_app.config.update(TRAP_BAD_REQUEST_ERRORS=True, PROPAGATE_EXCEPTIONS=True)
    with pytest.raises(BadRequestKeyError):
        client.post("/", data={"other": "1"})


def test_handler_that_raises_gives_500(live_app: Kettle, make_client: Callable[..., KettleClient]) -> None:
    live_app.logger.disabled = True

    @live_app.errorhandler(KeyError)
    def broken(e: Any) -> str:
        raise RuntimeError("handler broke")

    @live_app.route("/")
    def index() -> str:
        raise KeyError()

    response = make_client(live_app).get("/")
    assert response.status_code == 500
    assert "handler broke" not in response.text


def test_async_error_handler(live_app: Kettle, make_client: Callable[..., KettleClient]) -> None:
    @live_app.errorhandler(404)
    async def not_found(e: NotFound) -> tuple[str, int]:
        return "async 404", 404

    assert make_client(live_app).get("/x").text == "async 404"


def test_log_exception_override_takes_exc_info(
    live_app: Kettle, make_client: Callable[..., KettleClient]
) -> None:
    seen: list[Any] = []

    class Quiet(Kettle):
        def log_exception(self, exc_info: Any) -> None:
            seen.append((exc_info[0], request.path))

    app = Quiet("quiet")

    @app.route("/boom")
    def boom() -> str:
        raise RuntimeError("boom")

    response = make_client(app).get("/boom")
    assert response.status_code == 500
    assert seen == [(RuntimeError, "/boom")]

"""A ported app that keeps Werkzeug imports: its errors and responses work on Kettle."""

from __future__ import annotations

from typing import Any

import werkzeug.exceptions
import werkzeug.utils
import werkzeug.wrappers

from kettle import Kettle, request
from kettle.http.exceptions import HTTPException
from kettle.testing import KettleClient


def test_werkzeug_errors_raised_in_views(app: Kettle, client: KettleClient) -> None:
    app.config["TESTING"] = False  # Errors are answered, not propagated.

    @app.route("/teapot")
    def teapot() -> Any:
        werkzeug.exceptions.abort(418)

    @app.route("/missing")
    def missing() -> Any:
        raise werkzeug.exceptions.NotFound("No such <thing>.")

    @app.route("/only-get", methods=["GET", "POST"])
    def only_get() -> Any:
        raise werkzeug.exceptions.MethodNotAllowed(valid_methods=["GET", "HEAD"])

    @app.route("/conflict")
    def conflict() -> Any:
        werkzeug.exceptions.abort(werkzeug.wrappers.Response("taken", 409, {"X-Why": "dup"}))

    rv = client.get("/teapot")
    assert rv.status_code == 418
    assert "<title>418 I&#39;m a teapot</title>" in rv.text
    rv = client.get("/missing")
    assert rv.status_code == 404
    assert "<p>No such &lt;thing&gt;.</p>" in rv.text
    rv = client.post("/only-get")
    assert rv.status_code == 405
    assert rv.headers["Allow"] == "GET, HEAD"
    rv = client.get("/conflict")
    assert (rv.status_code, rv.text, rv.headers["X-Why"]) == (409, "taken", "dup")


def test_handlers_registered_for_werkzeug_classes(app: Kettle, client: KettleClient) -> None:
    seen: list[type[Exception]] = []

    @app.errorhandler(werkzeug.exceptions.HTTPException)
    def as_json(e: Any) -> Any:
        seen.append(type(e))
        response = e.get_response()
        response.set_data(f'{{"code": {e.code}, "name": "{e.name}"}}')
        response.content_type = "application/json"
        return response

    @app.errorhandler(werkzeug.exceptions.Forbidden)
    def forbidden(e: Any) -> Any:
        return "go away", 403

    @app.route("/raise")
    def raise_werkzeug() -> Any:
        raise werkzeug.exceptions.BadRequest()

    @app.route("/forbidden")
    def forbid() -> Any:
        werkzeug.exceptions.abort(403)

    rv = client.get("/nowhere")  # Kettle's own 404 reaches the Werkzeug-class handler.
    assert (rv.status_code, rv.json) == (404, {"code": 404, "name": "Not Found"})
    assert rv.mimetype == "application/json"
    rv = client.get("/raise")
    assert (rv.status_code, rv.json) == (400, {"code": 400, "name": "Bad Request"})
    assert all(issubclass(cls, HTTPException) for cls in seen)
    assert (client.get("/forbidden").status_code, client.get("/forbidden").text) == (403, "go away")


def test_werkzeug_responses_returned_by_views(app: Kettle, client: KettleClient) -> None:
    @app.route("/old")
    def old() -> Any:
        return werkzeug.utils.redirect("/new?x=1", 301)

    @app.route("/plain")
    def plain() -> Any:
        response = werkzeug.wrappers.Response("made by werkzeug", 201, mimetype="text/plain")
        response.set_cookie("flavour", "oat")
        return response

    @app.route("/streamed")
    def streamed() -> Any:
        return werkzeug.wrappers.Response(iter([b"a", b"b"]), headers={"X-Path": request.path})

    rv = client.get("/old")
    assert (rv.status_code, rv.headers["Location"]) == (301, "/new?x=1")
    rv = client.get("/plain")
    assert (rv.status_code, rv.text, rv.mimetype) == (201, "made by werkzeug", "text/plain")
    assert rv.headers["Set-Cookie"].startswith("flavour=oat;")
    rv = client.get("/streamed")
    assert (rv.text, rv.headers["X-Path"]) == ("ab", "/streamed")

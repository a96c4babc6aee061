"""The test client and test request context as Flask's: sessions, builders, matching."""

from __future__ import annotations

import io
from typing import Any

import pytest

from kettle import Blueprint, Kettle, g, request, session
from kettle.json import DefaultJSONProvider
from kettle.testing import EnvironBuilder, KettleClient


def test_session_transaction_reads_and_writes(app: Kettle, client: KettleClient) -> None:
    @app.route("/")
    def index() -> str:
        return str(session.get("items"))

    with client.session_transaction() as sess:
        assert len(sess) == 0
        sess["items"] = [42]
    assert client.get("/").text == "[42]"
    with client.session_transaction() as sess:
        assert sess["items"] == [42]
        sess["items"].append(43)
        sess.modified = True
    assert client.get("/").text == "[42, 43]"


def test_session_transaction_errors(app: Kettle) -> None:
    no_cookies = app.test_client(use_cookies=False)
    with pytest.raises(TypeError, match="Cookies are disabled"), no_cookies.session_transaction():
        pass
    no_key = Kettle("no_key")  # no SECRET_KEY: the interface opens no session
    no_session = no_key.test_client()
    with pytest.raises(RuntimeError, match="did not open a session"), no_session.session_transaction():
        pass


def test_session_transaction_keeps_the_current_request(app: Kettle, client: KettleClient) -> None:
    with app.test_request_context("/outer"):
        with client.session_transaction():
            pass
        assert request.path == "/outer"


def test_test_request_context_matches_the_url(app: Kettle) -> None:
    app.config["SERVER_NAME"] = "example.com:1234"
    app.subdomain_matching = True
    bp = Blueprint("company", __name__, subdomain="xxx")

    @bp.route("/<int:n>")
    def index(n: int) -> str:
        return ""

    app.register_blueprint(bp)
    with app.test_request_context("/7", subdomain="xxx"):
        assert request.endpoint == "company.index"
        assert request.view_args == {"n": 7}
        assert request.blueprint == "company"
    with app.test_request_context("/nowhere"):
        assert request.endpoint is None
        assert request.routing_exception is not None
        assert request.routing_exception.code == 404


def test_environ_builder_as_werkzeug(app: Kettle) -> None:
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    builder = EnvironBuilder(app, json="\u20ac")
    assert builder.input_stream is not None
    assert builder.input_stream.read().decode() == '"\u20ac"'
    assert builder.json_dumps({"b": 1, "a": 2}) == '{"a": 2, "b": 1}'
    upload = io.BytesIO(b"data")
    with_file = EnvironBuilder(app, method="POST", data={"f": (upload, "f.txt")})
    with_file.close()
    assert upload.closed
    environ = EnvironBuilder(app, "/p%20q?x=1", method="PUT", headers={"X-A": "b"}).get_environ()
    again = EnvironBuilder.from_environ(environ).get_environ()
    for key in ("PATH_INFO", "QUERY_STRING", "REQUEST_METHOD", "HTTP_X_A", "HTTP_HOST"):
        assert again[key] == environ[key]


def test_client_open_takes_builder_or_environ(app: Kettle, client: KettleClient) -> None:
    @app.route("/addr")
    def addr() -> str:
        return request.remote_addr or ""

    builder = EnvironBuilder(app, path="/addr")
    assert client.open(builder).text == "127.0.0.1"
    client.environ_base["REMOTE_ADDR"] = "127.0.0.2"
    assert client.open(builder.get_environ()).text == "127.0.0.2"


def test_client_closes_uploaded_files(app: Kettle, client: KettleClient) -> None:
    @app.post("/up")
    def up() -> str:
        return request.files["f"].read().decode()

    upload = io.BytesIO(b"content")
    assert client.post("/up", data={"f": (upload, "a.txt")}).text == "content"
    assert upload.closed


def test_propagated_error_inside_with_client(app: Kettle) -> None:
    @app.route("/boom")
    def boom() -> str:
        g.seen = True
        raise LookupError("boom")

    @app.route("/ok")
    def ok() -> str:
        g.seen = "ok"
        return "ok"

    client = app.test_client()
    # The view's error propagates (testing mode), not an error from leaving the block.
    with pytest.raises(LookupError, match="boom"), client:
        client.get("/boom")
    with client:
        assert client.get("/ok").text == "ok"
        assert g.seen == "ok"


def test_response_is_json_and_app_json_decodes_requests(app: Kettle, client: KettleClient) -> None:
    class Tagged(DefaultJSONProvider):
        def loads(self, s: str | bytes, **kwargs: Any) -> Any:
            kwargs.setdefault("object_hook", lambda obj: obj.get("_v", obj))
            return super().loads(s, **kwargs)

    app.json = Tagged(app)

    @app.post("/echo")
    def echo() -> Any:
        return {"got": request.get_json()}

    response = client.post("/echo", json={"x": {"_v": 42}})
    assert response.is_json
    assert response.json == {"got": {"x": 42}}
    assert not client.post("/echo", data="x", content_type="text/plain").is_json

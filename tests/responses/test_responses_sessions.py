"""Signed-cookie sessions: Flask interoperability, rotation, expiry, tampering, cookie attributes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import flask
import pytest
from itsdangerous import URLSafeTimedSerializer
from markupsafe import Markup

from kettle import Kettle, session
from kettle.json.tag import TaggedJSONSerializer
from kettle.testing import KettleClient

RICH = {
    "t": (1, 2),
    "b": b"\x00\xff",
    "u": uuid.UUID(int=7),
    "d": datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC),
    "m": Markup("<b>x</b>"),
    "tagged": {" t": "not a tuple"},
    "nested": [{"a": (3,)}],
}


def _flask_app() -> flask.Flask:
    app = flask.Flask("flask_interop")
    app.config.update(SECRET_KEY="shared key", TESTING=True)

    @app.route("/write")
    def write() -> Any:
        flask.session.update(RICH)
        return "ok"

    @app.route("/read")
    def read() -> Any:
        return repr(sorted(flask.session.items()))

    return app


def _kettle_routes(app: Kettle) -> None:
    @app.route("/write")
    def write() -> Any:
        session.update(RICH)
        return "ok"

    @app.route("/read")
    def read() -> Any:
        return repr(sorted(session.items()))


def test_tagged_serializer_matches_flask() -> None:
    from flask.json.tag import TaggedJSONSerializer as FlaskTagged

    ours, theirs = TaggedJSONSerializer(), FlaskTagged()
    with flask.Flask("x").app_context():
        assert theirs.loads(ours.dumps(RICH)) == RICH
        assert ours.loads(theirs.dumps(RICH)) == RICH


def test_cookie_from_flask_is_read_by_kettle(app: Kettle, client: KettleClient) -> None:
    app.secret_key = "shared key"
    _kettle_routes(app)
    flask_client = _flask_app().test_client()
    flask_client.get("/write")
    cookie = flask_client.get_cookie("session")
    assert cookie is not None
    client.set_cookie("session", cookie.value)
    assert client.get("/read").get_data(as_text=True) == repr(sorted(RICH.items()))


def test_cookie_from_kettle_is_read_by_flask(app: Kettle, client: KettleClient) -> None:
    app.secret_key = "shared key"
    _kettle_routes(app)
    client.get("/write")
    cookie = client.get_cookie("session")
    assert cookie is not None
    flask_client = _flask_app().test_client()
    flask_client.set_cookie("session", cookie.value)
    assert flask_client.get("/read").get_data(as_text=True) == repr(sorted(RICH.items()))


def _counter(app: Kettle) -> None:
    @app.route("/")
    def index() -> Any:
        session["n"] = session.get("n", 0) + 1
        return str(session["n"])

    @app.route("/peek")
    def peek() -> Any:
        return str(session.get("n"))

    @app.route("/clear")
    def clear() -> Any:
        session.clear()
        return "cleared"

    @app.route("/nothing")
    def nothing() -> Any:
        return "untouched"

    @app.route("/permanent")
    def permanent() -> Any:
        session.permanent = True
        session["n"] = 1
        return "p"


def test_session_round_trip_and_attributes(app: Kettle, client: KettleClient) -> None:
    _counter(app)
    rv = client.get("/")
    header = rv.headers["Set-Cookie"]
    assert header.startswith("session=")
    assert header.endswith("; HttpOnly; Path=/; SameSite=Lax")
    assert "Expires" not in header
    assert rv.headers["Vary"] == "Cookie"
    assert client.get("/").data == b"2"
    rv = client.get("/peek")
    assert rv.data == b"2"
    assert rv.headers["Vary"] == "Cookie"
    assert "Set-Cookie" not in rv.headers
    rv = client.get("/nothing")
    assert "Vary" not in rv.headers and "Set-Cookie" not in rv.headers
    rv = client.get("/clear")
    assert rv.headers["Set-Cookie"].startswith(
        "session=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0;"
    )
    assert client.get("/peek").data == b"None"


def test_session_cookie_config(app: Kettle, client: KettleClient) -> None:
    _counter(app)
    app.config.update(
        SESSION_COOKIE_NAME="sid",
        SESSION_COOKIE_DOMAIN="example.com",
        SESSION_COOKIE_PATH="/app",
        SESSION_COOKIE_HTTPONLY=False,
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_PARTITIONED=True,
        PERMANENT_SESSION_LIFETIME=120,
    )
    header = client.get("/permanent").headers["Set-Cookie"]
    assert header.startswith("sid=")
    assert "; Domain=example.com; Expires=" in header
    assert header.endswith("; Secure; Path=/app; SameSite=Strict; Partitioned")


def test_secure_is_automatic_over_https(app: Kettle, client: KettleClient) -> None:
    _counter(app)
    assert "Secure" not in client.get("/").headers["Set-Cookie"]
    assert "; Secure;" in client.get("/", base_url="https://localhost").headers["Set-Cookie"]


def test_refresh_each_request(app: Kettle, client: KettleClient) -> None:
    _counter(app)
    client.get("/permanent")
    assert "Set-Cookie" in client.get("/peek").headers
    app.config["SESSION_REFRESH_EACH_REQUEST"] = False
    assert "Set-Cookie" not in client.get("/peek").headers


def test_untouched_permanent_session_is_refreshed(app: Kettle, client: KettleClient) -> None:
    @app.route("/login")
    def login() -> str:
        session["user"] = 1
        session.permanent = True
        return ""

    @app.route("/untouched")
    def untouched() -> str:
        return ""

    client.get("/login")
    response = client.get("/untouched")
    assert "session=" in response.headers["Set-Cookie"]
    assert response.headers["Vary"] == "Cookie"
    app.config["SESSION_REFRESH_EACH_REQUEST"] = False
    response = client.get("/untouched")
    assert "Set-Cookie" not in response.headers
    assert "Vary" not in response.headers


def test_untouched_session_cookie_kept_as_is(app: Kettle, client: KettleClient) -> None:
    @app.route("/login")
    def login() -> str:
        session["user"] = 1
        return ""

    @app.route("/untouched")
    def untouched() -> str:
        return ""

    client.get("/login")
    response = client.get("/untouched")
    assert "Set-Cookie" not in response.headers
    assert "Vary" not in response.headers


@pytest.mark.parametrize(
    "use",
    [len, list, bool, lambda s: s.keys(), lambda s: s.accessed],
    ids=["len", "list", "bool", "keys", "accessed"],
)
def test_any_session_access_adds_vary_cookie(
    app: Kettle, client: KettleClient, use: Any
) -> None:
    @app.route("/")
    def index() -> str:
        use(session)
        return ""

    assert client.get("/").headers["Vary"] == "Cookie"


def test_template_adds_vary_only_when_it_reads_the_session(
    app: Kettle, client: KettleClient
) -> None:
    from kettle import render_template_string

    @app.route("/plain")
    def plain() -> str:
        return render_template_string("{{ request.path }}")

    @app.route("/reads")
    def reads() -> str:
        return render_template_string("{{ session.get('user', 'anon') }}")

    assert "Vary" not in client.get("/plain").headers
    response = client.get("/reads")
    assert (response.text, response.headers["Vary"]) == ("anon", "Cookie")


def _signed(secret: str, data: Any, when: float | None = None) -> str:
    serializer = URLSafeTimedSerializer(
        secret,
        salt="cookie-session",
        serializer=TaggedJSONSerializer(),
        signer_kwargs={"key_derivation": "hmac", "digest_method": __import__("hashlib").sha1},
    )
    if when is None:
        return serializer.dumps(data)
    import time
    from unittest import mock

    with mock.patch.object(time, "time", return_value=when):
        return serializer.dumps(data)


@pytest.mark.parametrize(
    "value",
    [
        "garbage",
        "eyJuIjo1fQ.AAAAAA.forgedsignature",
        _signed("wrong key", {"n": 5}),
        "." + _signed("wrong key", {"n": 5}),
        _signed("test key", {"n": 5}, when=datetime(2000, 1, 1, tzinfo=UTC).timestamp()),
        _signed("test key", [1, 2]),
        "ü\t.x.y",
        "..",
    ],
    ids=[
        "garbage",
        "forged",
        "wrong-key",
        "wrong-key-zlib",
        "expired",
        "not-a-dict",
        "non-ascii",
        "dots",
    ],
)
def test_bad_cookies_give_an_empty_session(app: Kettle, client: KettleClient, value: str) -> None:
    _counter(app)
    client.set_cookie("session", value)
    rv = client.get("/peek")
    assert rv.status_code == 200
    assert rv.data == b"None"


def test_tampered_payload_is_rejected(app: Kettle, client: KettleClient) -> None:
    _counter(app)
    client.get("/")
    cookie = client.get_cookie("session")
    assert cookie is not None
    payload, rest = cookie.value.split(".", 1)
    client.set_cookie("session", payload[:-2] + "AA." + rest)
    assert client.get("/peek").data == b"None"


def test_compressed_payload_checked_before_decompression(app: Kettle, client: KettleClient) -> None:
    _counter(app)
    # A zlib bomb with a forged signature must never be inflated.
    import base64
    import zlib

    bomb = base64.urlsafe_b64encode(zlib.compress(b"[" * 10_000_000)).decode().rstrip("=")
    client.set_cookie("session", f".{bomb}.AAAAAA.bad")
    assert client.get("/peek").data == b"None"


def test_secret_key_fallbacks(app: Kettle, client: KettleClient) -> None:
    _counter(app)
    client.set_cookie("session", _signed("old key", {"n": 41}))
    app.config.update(SECRET_KEY="new key", SECRET_KEY_FALLBACKS=["old key"])
    assert client.get("/").data == b"42"
    cookie = client.get_cookie("session")
    assert cookie is not None
    # Re-signed with the current key: readable without the fallback.
    app.config["SECRET_KEY_FALLBACKS"] = None
    assert client.get("/peek").data == b"42"


def test_expired_permanent_session(app: Kettle, client: KettleClient) -> None:
    _counter(app)
    app.permanent_session_lifetime = timedelta(seconds=60)  # type: ignore[misc]
    old = datetime.now(UTC).timestamp() - 3600
    client.set_cookie("session", _signed("test key", {"n": 3, "_permanent": True}, when=old))
    assert client.get("/peek").data == b"None"


def test_missing_secret_key_explains(app: Kettle, client: KettleClient) -> None:
    _counter(app)
    app.secret_key = None
    assert client.get("/peek").data == b"None"
    with pytest.raises(RuntimeError, match="secret_key"):
        client.get("/")

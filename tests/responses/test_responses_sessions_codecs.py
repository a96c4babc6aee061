"""The signed cookie's text steps (UTF-8, base64 without padding or newline), as Flask's.

Each cookie Kettle writes is compared with the one Flask's interface makes for
the same data at the same second, and each is read by the other, for data
that takes every path: plain ASCII, non-ASCII text, tagged types, a
compressed payload. Under WSGI and ASGI (the ``client`` fixture).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import flask
import pytest
from flask.sessions import SecureCookieSessionInterface as FlaskInterface

from kettle import Kettle, session
from kettle.sessions import SecureCookieSessionInterface, SessionMixin
from kettle.testing import KettleClient

NOW = 1_760_000_000.0

DATA: dict[str, dict[str, Any]] = {
    "ascii": {"n": 2},
    "unicode": {"name": "thé ☕ \U0001f600", "n": 1},
    "tagged": {"pair": (1, "b"), "raw": b"\x00\xff", "n": 3},
    "compressed": {"blob": "é" * 300, "n": 4},
}


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> Iterator[float]:
    """Freeze time.time: Flask and Kettle stamp with it."""
    monkeypatch.setattr(time, "time", lambda: NOW)
    yield NOW


def _flask_app() -> flask.Flask:
    app = flask.Flask("flask_codecs")
    app.config.update(SECRET_KEY="codec key", TESTING=True)

    @app.route("/read")
    def read() -> Any:
        return repr(sorted(flask.session.items()))

    return app


def _flask_cookie(data: dict[str, Any]) -> str:
    app = _flask_app()
    serializer = FlaskInterface().get_signing_serializer(app)
    assert serializer is not None
    with app.app_context():
        return serializer.dumps(data)


def _routes(app: Kettle) -> None:
    app.secret_key = "codec key"

    @app.route("/write/<kind>")
    def write(kind: str) -> str:
        session.update(DATA[kind])
        return "ok"

    @app.route("/read")
    def read() -> str:
        return repr(sorted(session.items()))

    @app.route("/permanent/<int:value>")
    def permanent(value: int) -> str:
        session["_permanent"] = value  # a truthy or falsy value, not a bool
        return "ok"

    @app.route("/nothing")
    def nothing() -> str:
        return "nothing"


@pytest.mark.parametrize("kind", sorted(DATA))
def test_cookie_bytes_and_reading_match_flask(
    app: Kettle, client: KettleClient, frozen: float, kind: str
) -> None:
    _routes(app)
    header = client.get(f"/write/{kind}").headers["Set-Cookie"]
    value = header.split(";", 1)[0].removeprefix("session=")
    assert value == _flask_cookie(DATA[kind])
    assert value.isascii() and "=" not in value and "\n" not in value
    assert value.startswith(".") == (kind == "compressed")
    expected = repr(sorted(DATA[kind].items()))
    # Kettle reads its own cookie and Flask's; Flask reads Kettle's.
    assert client.get("/read").text == expected
    client.set_cookie("session", _flask_cookie(DATA[kind]))
    assert client.get("/read").text == expected
    flask_client = _flask_app().test_client()
    flask_client.set_cookie("session", value)
    assert flask_client.get("/read").text == expected


@pytest.mark.parametrize(("value", "permanent"), [(1, True), (0, False), (7, True)])
def test_a_permanent_flag_that_is_not_a_bool_is_judged_by_its_truth(
    app: Kettle, client: KettleClient, value: int, permanent: bool
) -> None:
    _routes(app)
    written = client.get(f"/permanent/{value}").headers["Set-Cookie"]
    assert ("; Expires=" in written) == permanent
    # Untouched: a permanent session is refreshed (SESSION_REFRESH_EACH_REQUEST), another is not.
    refreshed = client.get("/nothing").headers.get("Set-Cookie")
    assert (refreshed is not None and "; Expires=" in refreshed) == permanent
    assert client.get("/read").text == repr([("_permanent", value)])


class PlainSession(dict[str, Any], SessionMixin):
    """A session class of its own that is not a ``SecureCookieSession``."""

    modified = True
    accessed = True


def test_a_session_class_that_is_not_a_secure_cookie_session_opens(
    app: Kettle, client: KettleClient
) -> None:
    class Interface(SecureCookieSessionInterface):
        session_class = PlainSession  # type: ignore[assignment]

    app.session_interface = Interface()

    @app.route("/count")
    def count() -> str:
        current = session._get_current_object()  # type: ignore[attr-defined]
        assert type(current) is PlainSession and "_signed_payload" not in vars(current)
        session["n"] = session.get("n", 0) + 1
        return str(session["n"])

    app.secret_key = "codec key"
    assert [client.get("/count").text for _ in range(3)] == ["1", "2", "3"]

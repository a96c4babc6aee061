"""A session cookie signed or verified before is read without checking its signature again.

What a user sees must not change: the cookie's age is judged on every
request, each request gets a session of its own (never an object shared
with an earlier request), an altered cookie or a retired key is refused, and
a cookie that fell out of the bounded set of known cookies is verified in
full. Under WSGI and ASGI (the ``client`` fixture).
"""

from __future__ import annotations

import json
from datetime import timedelta

from kettle import Kettle, session
from kettle._signing import _KNOWN_COOKIES, SignedSerializer
from kettle.testing import KettleClient
from session_clock import NOW, Clock


def _routes(app: Kettle) -> None:
    app.secret_key = "known key"

    @app.route("/write/<int:n>")
    def write(n: int) -> str:
        session["n"] = n
        session["items"] = [1, 2]
        session.permanent = True
        return "ok"

    @app.route("/read")
    def read() -> str:
        return repr(sorted(session.items()))

    @app.route("/append")
    def append() -> str:
        # Changed in place: not marked modified, so no new cookie is written.
        session["items"].append(99)
        return repr(session["items"])


def _cookie(client: KettleClient) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def _written(app: Kettle, client: KettleClient, n: int) -> str:
    """The routes added, a session holding ``n`` written: its cookie."""
    _routes(app)
    client.get(f"/write/{n}")
    return _cookie(client)


def test_a_known_cookie_is_judged_by_its_age_each_time(
    app: Kettle, client: KettleClient, clock: Clock
) -> None:
    _routes(app)
    app.permanent_session_lifetime = timedelta(seconds=30)  # type: ignore[misc]
    client.get("/write/5")
    cookie = _cookie(client)
    expected = "[('_permanent', True), ('items', [1, 2]), ('n', 5)]"
    clock.now = NOW + 10
    assert client.get("/read").text == expected
    clock.now = NOW + 31  # Past PERMANENT_SESSION_LIFETIME: an empty session.
    client.set_cookie("session", cookie)
    assert client.get("/read").text == "[]"
    clock.now = NOW - 5  # Stamped in the future (the clock went back): refused too.
    client.set_cookie("session", cookie)
    assert client.get("/read").text == "[]"
    clock.now = NOW + 1
    client.set_cookie("session", cookie)
    assert client.get("/read").text == expected


def test_each_request_gets_a_session_of_its_own(
    app: Kettle, client: KettleClient, clock: Clock
) -> None:
    _routes(app)
    app.config["SESSION_REFRESH_EACH_REQUEST"] = False
    client.get("/write/1")
    cookie = _cookie(client)
    assert client.get("/append").text == "[1, 2, 99]"
    assert _cookie(client) == cookie  # Nothing written back.
    # The same cookie again: the list the last request changed is not the one read now.
    assert client.get("/append").text == "[1, 2, 99]"
    assert client.get("/read").text == "[('_permanent', True), ('items', [1, 2]), ('n', 1)]"


def test_an_altered_known_cookie_is_refused(
    app: Kettle, client: KettleClient, clock: Clock
) -> None:
    cookie = _written(app, client, 3)
    payload, stamp, signature = cookie.split(".")
    for altered in (
        f"{payload}.{stamp}.{signature[:-1]}{'A' if signature[-1] != 'A' else 'B'}",
        f"{payload}x.{stamp}.{signature}",
        f"{payload}.{stamp}",
        cookie + ".",
    ):
        client.set_cookie("session", altered)
        assert client.get("/read").text == "[]", altered
    client.set_cookie("session", cookie)
    assert "('n', 3)" in client.get("/read").text


def test_a_retired_key_retires_its_known_cookies(
    app: Kettle, client: KettleClient, clock: Clock
) -> None:
    cookie = _written(app, client, 4)
    app.secret_key = "new key"
    assert client.get("/read").text == "[]"
    app.config["SECRET_KEY_FALLBACKS"] = ["known key"]
    client.set_cookie("session", cookie)
    assert "('n', 4)" in client.get("/read").text
    app.config["SECRET_KEY_FALLBACKS"] = []
    client.set_cookie("session", cookie)
    assert client.get("/read").text == "[]"


def test_an_old_cookie_past_the_known_ones_is_verified_in_full(
    app: Kettle, client: KettleClient, clock: Clock
) -> None:
    first = _written(app, client, 0)
    for n in range(1, _KNOWN_COOKIES + 20):
        client.get(f"/write/{n}")
    client.set_cookie("session", first)
    assert "('n', 0)" in client.get("/read").text


# -- the piece ------------------------------------------------------------------


def test_known_cookies_are_bounded_in_number_and_size(clock: Clock) -> None:
    signer = SignedSerializer(["k"], "salt", json)
    cookies = [signer.dumps({"n": n}) for n in range(_KNOWN_COOKIES * 2)]
    assert len(signer._known) == _KNOWN_COOKIES
    assert cookies[-1] in signer._known and cookies[0] not in signer._known
    # Every cookie still reads back, known or not, and a verified one becomes known.
    assert [signer.loads(value, max_age=60) for value in cookies] == [
        {"n": n} for n in range(_KNOWN_COOKIES * 2)
    ]
    assert cookies[-1] in signer._known
    big = signer.dumps({"blob": "x" * 5000})  # Longer than any kept: verified each time.
    assert big not in signer._known
    assert signer.loads(big, max_age=60) == {"blob": "x" * 5000}
    assert big not in signer._known

"""A cookie signed again in the same second is the one signed before.

A session cookie is a function of its payload, its second and the key, so
``SignedSerializer`` keeps the cookies it signed in the current second and
gives the same one for the same payload. What a user sees must not change:
each cookie is what itsdangerous makes for that data and that second, a new
second carries the new timestamp (a refreshed permanent session lives on),
different data gets a cookie of its own, and a new key signs anew. Under
WSGI and ASGI (the ``client`` fixture).
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

import pytest
from itsdangerous import URLSafeTimedSerializer

from kettle import Kettle, session
from kettle._signing import _KNOWN_COOKIES, _KNOWN_SIZE, SignedSerializer
from kettle.json.tag import TaggedJSONSerializer
from kettle.testing import KettleClient
from session_clock import NOW, Clock


def _routes(app: Kettle) -> None:
    app.secret_key = "same second key"

    @app.route("/write/<int:n>")
    def write(n: int) -> str:
        session["n"] = n
        session.permanent = True
        return "ok"

    @app.route("/noop")
    def noop() -> str:
        return "ok"

    @app.route("/read")
    def read() -> str:
        return repr(sorted(session.items()))


def _itsdangerous(key: str) -> URLSafeTimedSerializer:
    """Flask's own session signer for ``key`` (what the cookie must verify with)."""
    return URLSafeTimedSerializer(
        key,
        salt="cookie-session",
        serializer=TaggedJSONSerializer(),
        signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1},
    )


def _set_cookie(client: KettleClient, path: str) -> str:
    """Request ``path``; return the session cookie its response set."""
    response = client.get(path)
    headers = [
        value for value in response.headers.getlist("Set-Cookie") if value.startswith("session=")
    ]
    assert len(headers) == 1, headers
    return headers[0].split(";", 1)[0].removeprefix("session=")


def _read(cookie: str, key: str = "same second key") -> tuple[Any, int]:
    data, stamp = _itsdangerous(key).loads(cookie, return_timestamp=True)
    return data, int(stamp.timestamp())


def test_the_same_data_in_the_same_second_is_the_same_cookie(
    app: Kettle, client: KettleClient, clock: Clock
) -> None:
    _routes(app)
    first = _set_cookie(client, "/write/5")
    clock.now += 0.9  # the same second
    second = _set_cookie(client, "/write/5")
    assert second == first
    assert _read(second) == ({"n": 5, "_permanent": True}, int(NOW))
    assert client.get("/read").text == "[('_permanent', True), ('n', 5)]"


def test_a_new_second_carries_its_own_timestamp(
    app: Kettle, client: KettleClient, clock: Clock
) -> None:
    _routes(app)
    first = _set_cookie(client, "/write/5")
    clock.now += 1
    second = _set_cookie(client, "/write/5")
    clock.now += 30
    third = _set_cookie(client, "/write/5")
    assert len({first, second, third}) == 3
    assert [_read(cookie)[1] for cookie in (first, second, third)] == [
        int(NOW),
        int(NOW) + 1,
        int(NOW) + 31,
    ]


def test_a_refreshed_permanent_session_lives_on(
    app: Kettle, client: KettleClient, clock: Clock
) -> None:
    _routes(app)
    app.permanent_session_lifetime = timedelta(seconds=10)
    written = _set_cookie(client, "/write/7")
    # Refreshed (nothing read or changed): the same cookie within the second ...
    assert _set_cookie(client, "/noop") == written
    # ... and a new timestamp five seconds on.
    clock.now += 5
    refreshed = _set_cookie(client, "/noop")
    assert _read(refreshed) == ({"n": 7, "_permanent": True}, int(NOW) + 5)
    clock.now += 7  # 12 s after the write, 7 after the refresh: still alive
    assert client.get("/read").text == "[('_permanent', True), ('n', 7)]"
    client.set_cookie("session", written)
    assert client.get("/read").text == "[]"  # the first cookie is past its 10 s


def test_different_data_in_one_second_gets_cookies_of_its_own(
    app: Kettle, client: KettleClient, clock: Clock
) -> None:
    _routes(app)
    one = _set_cookie(client, "/write/1")
    two = _set_cookie(client, "/write/2")
    again = _set_cookie(client, "/write/1")
    assert one != two and again == one
    assert _read(one)[0] == {"n": 1, "_permanent": True}
    assert _read(two)[0] == {"n": 2, "_permanent": True}


def test_a_new_key_in_the_same_second_signs_anew(
    app: Kettle, client: KettleClient, clock: Clock
) -> None:
    _routes(app)
    old = _set_cookie(client, "/write/5")
    app.secret_key = "a newer key"
    new = _set_cookie(client, "/write/5")
    assert new != old
    assert _read(new, "a newer key") == ({"n": 5, "_permanent": True}, int(NOW))
    with pytest.raises(Exception, match="Signature"):
        _read(new)


# -- the piece ------------------------------------------------------------------


def test_the_cookies_of_a_second_are_bounded(clock: Clock) -> None:
    signer = SignedSerializer(["k"], "salt", json)
    reference = URLSafeTimedSerializer(
        "k", salt="salt", serializer=json, signer_kwargs={"key_derivation": "hmac"}
    )
    cookies = [signer.dumps({"n": n}) for n in range(_KNOWN_COOKIES * 2)]
    assert len(signer._stamp[2]) == _KNOWN_COOKIES
    # Past the bound, each is still signed, and signed again to the same cookie.
    assert [signer.dumps({"n": n}) for n in range(_KNOWN_COOKIES * 2)] == cookies
    assert [reference.loads(cookie) for cookie in cookies[-3:]] == [
        {"n": n} for n in range(_KNOWN_COOKIES * 2 - 3, _KNOWN_COOKIES * 2)
    ]
    big = {"blob": "x" * _KNOWN_SIZE}
    assert signer.dumps(big) == signer.dumps(big)
    assert all(len(payload) <= _KNOWN_SIZE for payload in signer._stamp[2])
    clock.now += 1
    signer.dumps({"n": 0})
    assert len(signer._stamp[2]) == 1  # a new second starts with none

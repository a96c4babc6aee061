"""Server-side sessions in a real Redis server (``redis_url`` in tests/conftest.py)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from kettle import Kettle, session
from kettle.sessions import RedisSessionInterface
from kettle.testing import KettleClient


@pytest.fixture
def rapp(app: Kettle, redis_url: str) -> Iterator[Kettle]:
    interface = RedisSessionInterface(redis_url, key_prefix=f"test:{os.getpid()}:{id(app)}:")
    app.session_interface = interface

    @app.route("/set/<value>")
    def set_(value: str) -> Any:
        session["value"] = value
        session["pair"] = (1, 2)
        return "set"

    @app.route("/get")
    def get() -> Any:
        return f"{session.get('value')}|{session.get('pair')}"

    @app.route("/login")
    def login() -> Any:
        session.regenerate()  # type: ignore[attr-defined]
        session["user"] = "ann"
        return "in"

    @app.route("/logout")
    def logout() -> Any:
        session.clear()
        return "out"

    yield app
    interface.redis.close()


@pytest.fixture
def rclient(rapp: Kettle, make_client: Callable[..., KettleClient]) -> KettleClient:
    return make_client(rapp)


def _sid(client: KettleClient) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return str(cookie.value)


def test_data_lives_in_redis(rapp: Kettle, rclient: KettleClient) -> None:
    rv = rclient.get("/set/hello")
    assert rv.headers["Set-Cookie"].endswith("; HttpOnly; Path=/; SameSite=Lax")
    assert rv.headers["Vary"] == "Cookie"
    sid = _sid(rclient)
    interface: Any = rapp.session_interface
    stored = interface.redis.get(interface.key_prefix + sid)
    assert b"hello" in stored
    assert 0 < interface.redis.ttl(interface.key_prefix + sid) <= 31 * 86400
    assert rclient.get("/get").data == b"hello|(1, 2)"


def test_regenerate_defeats_fixation(rapp: Kettle, rclient: KettleClient) -> None:
    rclient.get("/set/x")
    before = _sid(rclient)
    rclient.get("/login")
    after = _sid(rclient)
    assert after != before
    interface: Any = rapp.session_interface
    assert interface.redis.get(interface.key_prefix + before) is None
    assert rclient.get("/get").data == b"x|(1, 2)"
    rclient.set_cookie("session", before)
    assert rclient.get("/get").data == b"None|None"


def test_unknown_and_hostile_ids_start_empty(rclient: KettleClient) -> None:
    for value in ["nope", "a" * 500, "../../etc", "x*y", "", "%00"]:
        rclient.set_cookie("session", value)
        rv = rclient.get("/get")
        assert (rv.status_code, rv.data) == (200, b"None|None")


def test_clear_deletes_data_and_cookie(rapp: Kettle, rclient: KettleClient) -> None:
    rclient.get("/set/x")
    sid = _sid(rclient)
    rv = rclient.get("/logout")
    assert rv.headers["Set-Cookie"].startswith(
        "session=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0"
    )
    interface: Any = rapp.session_interface
    assert interface.redis.get(interface.key_prefix + sid) is None

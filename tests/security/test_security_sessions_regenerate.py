"""Server-side sessions change id at login (``regenerate``) and on ``clear()`` (real Redis)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from kettle import Kettle, flash, get_flashed_messages, request, session
from kettle.sessions import RedisSessionInterface
from kettle.testing import KettleClient


@pytest.fixture
def rapp(app: Kettle, redis_url: str) -> Iterator[Kettle]:
    interface = RedisSessionInterface(redis_url, key_prefix=f"sec:{os.getpid()}:{id(app)}:")
    app.session_interface = interface

    @app.route("/visit")
    def visit() -> Any:
        session["cart"] = ["tea"]
        return "ok"

    @app.route("/login", methods=["POST"])
    def login() -> Any:
        session.regenerate()  # the documented login recipe (docs/security.md)
        session["user"] = request.form["user"]
        return "in"

    @app.route("/logout")
    def logout() -> Any:
        session.clear()
        flash("bye")
        return "out"

    @app.route("/whoami")
    def whoami() -> Any:
        return {"user": session.get("user"), "cart": session.get("cart"), "flashes": get_flashed_messages()}

    yield app
    interface.redis.close()


def sid(client: KettleClient) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return str(cookie.value)


def stored(app: Kettle, session_id: str) -> Any:
    interface: Any = app.session_interface
    return interface.redis.get(interface.key_prefix + session_id)


def test_login_regenerates_and_clear_regenerates(rapp: Kettle, make_client: Any) -> None:
    client = make_client(rapp)
    client.get("/visit")
    planted = sid(client)  # What an attacker could have fixed in the victim's browser.
    assert client.post("/login", data={"user": "ann"}).text == "in"
    logged_in = sid(client)
    assert logged_in != planted
    assert stored(rapp, planted) is None
    assert client.get("/whoami").json == {"user": "ann", "cart": ["tea"], "flashes": []}

    # Logout: clear() empties the session AND gives it a new id, so the flash
    # message stored after it does not live under the logged-in id.
    assert client.get("/logout").text == "out"
    after_logout = sid(client)
    assert after_logout not in (logged_in, planted)
    assert stored(rapp, logged_in) is None
    assert client.get("/whoami").json == {"user": None, "cart": None, "flashes": ["bye"]}

    # A copy of the logged-in cookie is worth nothing now.
    thief = make_client(rapp)
    thief.set_cookie("session", logged_in)
    assert thief.get("/whoami").json == {"user": None, "cart": None, "flashes": []}


def test_clear_on_a_new_session_needs_no_new_id(rapp: Kettle, make_client: Any) -> None:
    client = make_client(rapp)
    assert client.get("/logout").text == "out"
    first = sid(client)
    assert stored(rapp, first) is not None
    assert client.get("/whoami").json["flashes"] == ["bye"]

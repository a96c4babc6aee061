"""Server-side sessions in a real Redis server started on a free loopback port."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis

from kettle import Kettle, session
from kettle.sessions import RedisSessionInterface
from kettle.testing import KettleClient


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI") == "true":
            pytest.fail("redis-server is required under CI (make test installs it).")
        pytest.skip("redis-server is not installed")
    port = _free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    try:
        for _ in range(200):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.025)
        else:
            pytest.fail("redis-server did not start")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        client.close()
        process.terminate()
        process.wait(timeout=10)


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

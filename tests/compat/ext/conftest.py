"""Fixtures for our extension tests: the protocol under test and a real Redis server.

The tests are written as a Flask user writes them (``import flask``). In
Kettle's compatibility mode every test runs under WSGI and under ASGI
(``app.test_client(protocol=...)``); on real Flask (``--on flask``) only
under WSGI, which is all Flask has.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from typing import Any

import flask
import pytest
import redis

ON_KETTLE = flask.Flask.__module__.startswith("kettle")
PROTOCOLS = ["wsgi", "asgi"] if ON_KETTLE else ["wsgi"]


@pytest.fixture(params=PROTOCOLS)
def protocol(request: pytest.FixtureRequest) -> str:
    """The protocol a test drives the app with."""
    return str(request.param)


@pytest.fixture
def make_client(protocol: str) -> Callable[[flask.Flask], Any]:
    """``factory(app)``: a test client of ``app`` for the current protocol."""

    def factory(app: flask.Flask) -> Any:
        if ON_KETTLE:
            return app.test_client(protocol=protocol)  # type: ignore[call-arg]
        return app.test_client()

    return factory


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def redis_port() -> Iterator[int]:
    """A real redis-server on a free loopback port, for this test run only."""
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI") == "true":
            pytest.fail("redis-server is required under CI (make test installs it).")
        pytest.skip("redis-server is not installed")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    try:
        for _ in range(400):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.025)
        else:
            pytest.fail("redis-server did not start")
        yield port
    finally:
        client.close()
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def redis_client(redis_port: int) -> Iterator[redis.Redis]:
    """A client of that server; the database is emptied after each test."""
    client = redis.Redis(port=redis_port)
    yield client
    client.flushdb()
    client.close()

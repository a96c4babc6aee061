"""Shared fixtures: every HTTP behaviour test runs under WSGI and under ASGI."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from kettle import Kettle
from kettle.testing import KettleClient


@pytest.fixture(params=["wsgi", "asgi"])
def protocol(request: pytest.FixtureRequest) -> str:
    """The adapter a test drives: "wsgi" or "asgi"."""
    return str(request.param)


@pytest.fixture
def make_client(protocol: str) -> Callable[..., KettleClient]:
    """Return ``factory(app, **kwargs)`` making a test client for the current protocol."""

    def factory(app: Kettle, **kwargs: Any) -> KettleClient:
        return app.test_client(protocol=protocol, **kwargs)

    return factory


@pytest.fixture
def app() -> Kettle:
    """A fresh app in testing mode with a secret key (as Flask's own test suite uses)."""
    app = Kettle("kettle_test", root_path=os.path.dirname(__file__))
    app.config.update(TESTING=True, SECRET_KEY="test key")
    return app


@pytest.fixture
def client(app: Kettle, make_client: Callable[..., KettleClient]) -> KettleClient:
    """A test client for ``app`` under the current protocol."""
    return make_client(app)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    """A real redis-server on a free loopback port, for the module (required under CI)."""
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
    import redis

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

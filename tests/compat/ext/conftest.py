"""Fixtures for our extension tests: the protocol under test and a real Redis server.

The tests are written as a Flask user writes them (``import flask``). In
Kettle's compatibility mode every test runs under WSGI and under ASGI
(``app.test_client(protocol=...)``); on real Flask (``--on flask``) only
under WSGI, which is all Flask has.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import flask
import pytest
import redis

from redis_server import running_redis

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


@pytest.fixture(scope="session")
def redis_port() -> Iterator[int]:
    """A real redis-server on a free loopback port, for this test run only."""
    with running_redis() as port:
        yield port


@pytest.fixture
def redis_client(redis_port: int) -> Iterator[redis.Redis]:
    """A client of that server; the database is emptied after each test."""
    client = redis.Redis(port=redis_port)
    yield client
    client.flushdb()
    client.close()

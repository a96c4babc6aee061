"""Shared fixtures: every HTTP behaviour test runs under WSGI and under ASGI."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from kettle import Kettle
from kettle.testing import KettleClient
from redis_server import running_redis


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


@pytest.fixture(autouse=True)
def _restore_app_logger() -> Iterator[None]:
    """Loggers are global by name: undo what a test did to the ``kettle_test`` app's logger.

    A test that disables it (or stops it propagating) would otherwise hide the
    records of later tests in the same worker from ``caplog``.
    """
    logger = logging.getLogger("kettle_test")
    saved = (logger.disabled, logger.propagate, list(logger.handlers))
    logger.disabled = False
    yield
    logger.disabled, logger.propagate, logger.handlers[:] = saved[0], saved[1], saved[2]


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


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    """A real redis-server on a free loopback port, for the module (required under CI)."""
    with running_redis() as port:
        yield f"redis://127.0.0.1:{port}/0"

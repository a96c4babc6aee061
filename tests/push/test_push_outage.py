"""Redis unreachable: publishing answers 503 naming BROKER_URL; streams stay open."""

from __future__ import annotations

import logging
import socket
from typing import Any

import pytest

from kettle import Kettle, request
from kettle.push import BrokerUnavailable, publish, publish_sync, stream_channel
from kettle.testing import KettleClient


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # Nothing listens once the socket closes.


@pytest.fixture
def down_app(app: Kettle) -> Kettle:
    app.config["BROKER_URL"] = f"redis://:hunter2@127.0.0.1:{_closed_port()}/0"

    @app.route("/async", methods=["POST"])
    async def say_async() -> Any:
        return {"receivers": await publish("room", request.get_json())}

    @app.route("/sync", methods=["POST"])
    def say_sync() -> Any:
        return {"receivers": publish_sync("room", request.get_json())}

    @app.route("/events")
    async def events() -> Any:
        return stream_channel("room", keep_alive=0.05)

    return app


def test_publish_while_redis_is_down_is_503(
    down_app: Kettle, client: KettleClient, caplog: pytest.LogCaptureFixture
) -> None:
    url = down_app.config["BROKER_URL"].replace("hunter2", "***")
    for path in ("/async", "/sync", "/async"):
        response = client.post(path, json={"text": "hi"})
        assert response.status_code == 503
        assert "BROKER_URL" in response.text
        assert url in response.text
        assert "hunter2" not in response.text
    warnings = [r for r in caplog.records if r.name == "kettle.push"]
    assert len(warnings) == 1  # One line per outage, not one per attempt.
    assert warnings[0].levelno == logging.WARNING
    assert warnings[0].exc_info is None
    assert url in warnings[0].getMessage()
    assert issubclass(BrokerUnavailable, Exception)


def test_subscribing_while_redis_is_down_keeps_the_stream_open(down_app: Kettle) -> None:
    response = down_app.test_client(protocol="asgi").get("/events")
    assert response.status_code == 200
    events = response.events(comments=True)
    assert next(events).retry == 2000  # The browser reconnects after 2 s if it must.
    assert next(events).comment == "subscribed"
    assert next(events).comment == "keep-alive"  # Still open, still alive.
    assert next(events).comment == "keep-alive"
    response.close()

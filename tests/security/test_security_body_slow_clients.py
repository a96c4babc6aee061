"""Slow clients on a sync stream_body route hold a bounded share of the ASGI pool.

In-process: ASGI_THREADS = 4 (share: 1), six clients that never finish
their body, and a plain sync route that must still answer. The live
version under uvicorn is in tests/live/test_live_security.py.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgi_scopes import http_scope

from kettle import Kettle, request


def scope(method: str, path: str, length: int | None) -> dict[str, Any]:
    headers = [(b"host", b"localhost")]
    if length is not None:
        headers.append((b"content-length", str(length).encode()))
    return http_scope(method, path, headers)


@pytest.fixture
def slow_app(app: Kettle) -> Kettle:
    app.config["ASGI_THREADS"] = 4

    @app.route("/upload", methods=["POST"], stream_body=True)
    def upload() -> Any:
        size = 0
        for chunk in iter(lambda: request.stream.read(1024), b""):
            size += len(chunk)
        return {"size": size}

    @app.route("/ping")
    def ping() -> str:
        return "pong"

    return app


def test_slow_uploads_leave_threads_for_other_routes(slow_app: Kettle) -> None:
    async def run() -> tuple[list[int], list[int]]:
        release = asyncio.Event()
        statuses: list[int] = []

        async def slow_client() -> None:
            sent_first = False

            async def receive() -> dict[str, Any]:
                nonlocal sent_first
                if not sent_first:
                    sent_first = True
                    return {"type": "http.request", "body": b"a", "more_body": True}
                await release.wait()  # Trickling: the rest comes much later.
                return {"type": "http.request", "body": b"b", "more_body": False}

            async def send(message: dict[str, Any]) -> None:
                if message["type"] == "http.response.start":
                    statuses.append(message["status"])

            await slow_app.asgi(scope("POST", "/upload", 2), receive, send)

        slow = [asyncio.ensure_future(slow_client()) for _ in range(6)]
        for _ in range(50):
            await asyncio.sleep(0.01)  # Let every slow request reach its view or its queue.
        pings: list[int] = []
        for _ in range(8):  # More than the whole pool, one after the other.

            async def receive() -> dict[str, Any]:
                return {"type": "http.request", "body": b"", "more_body": False}

            async def send(message: dict[str, Any]) -> None:
                if message["type"] == "http.response.start":
                    pings.append(message["status"])

            await asyncio.wait_for(slow_app.asgi(scope("GET", "/ping", None), receive, send), 10)
        assert statuses == []  # The uploads are all still waiting for their bodies.
        release.set()
        await asyncio.wait_for(asyncio.gather(*slow), 10)
        return pings, statuses

    pings, statuses = asyncio.run(run())
    assert pings == [200] * 8
    assert statuses == [200] * 6


def test_share_size_is_configurable(slow_app: Kettle) -> None:
    # A share as large as the pool gives the old behaviour back: the uploads
    # take every thread and the ping waits (here: until the bodies arrive).
    slow_app.config["ASGI_STREAM_BODY_THREADS"] = 4

    async def run() -> list[str]:
        release = asyncio.Event()
        order: list[str] = []

        async def slow_client() -> None:
            async def receive() -> dict[str, Any]:
                await release.wait()
                return {"type": "http.request", "body": b"ab", "more_body": False}

            async def send(message: dict[str, Any]) -> None:
                if message["type"] == "http.response.start":
                    order.append("upload")

            await slow_app.asgi(scope("POST", "/upload", 2), receive, send)

        async def ping() -> None:
            async def receive() -> dict[str, Any]:
                return {"type": "http.request", "body": b"", "more_body": False}

            async def send(message: dict[str, Any]) -> None:
                if message["type"] == "http.response.start":
                    order.append("ping")

            await slow_app.asgi(scope("GET", "/ping", None), receive, send)

        slow = [asyncio.ensure_future(slow_client()) for _ in range(4)]
        for _ in range(50):
            await asyncio.sleep(0.01)
        pinger = asyncio.ensure_future(ping())
        done, _ = await asyncio.wait({pinger}, timeout=0.5)
        assert not done  # Every thread is held by an upload.
        release.set()
        await asyncio.wait_for(asyncio.gather(pinger, *slow), 10)
        return order

    order = asyncio.run(run())
    assert sorted(order) == ["ping", "upload", "upload", "upload", "upload"]
